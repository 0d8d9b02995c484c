package migrate_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/connect"
	"github.com/prefectdb/prefectdb/internal/catalog"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
)

var long = flag.Bool("long", false, "run the long versions of the stress tests")

// Environment of the child process that TestMain turns into a migrator.
const (
	childURLVariable = "PREFECTDB_TEST_MIGRATE_CHILD_URL"
	childDirVariable = "PREFECTDB_TEST_MIGRATE_CHILD_DIR"
)

// TestMain lets the test binary act as a separate migrating process, so that
// tests can kill a migration with SIGKILL at any point.
func TestMain(m *testing.M) {
	if url := os.Getenv(childURLVariable); url != "" {
		os.Exit(migrateChild(url, os.Getenv(childDirVariable)))
	}
	os.Exit(m.Run())
}

func migrateChild(url, dir string) int {
	ctx := context.Background()
	db, err := connect.Open(ctx, url, config.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer db.Close()
	opts := migrate.Options{}
	if dir != "" {
		local, err := atlasmigrate.NewLocalDir(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		opts.Dir = local
	}
	if _, err := migrate.New(db.DB, db.Dialect, opts).Up(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startChild starts a migrating child process.
func startChild(t *testing.T, url, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childURLVariable+"="+url, childDirVariable+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// slowMigration is an extra migration that changes a populated table and
// takes long enough to be killed in the middle.
func slowMigration(d dialects.Dialect) string {
	busy := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c;\n"
	if d.RowLocks() { // PostgreSQL
		busy = "SELECT pg_sleep(0.3);\n"
	}
	return "ALTER TABLE flow_run ADD COLUMN prefectdb_probe INTEGER;\n" +
		"UPDATE flow_run SET prefectdb_probe = run_count + 1;\n" +
		busy +
		"CREATE INDEX ix_flow_run__prefectdb_probe ON flow_run (prefectdb_probe);\n" +
		"DELETE FROM log;\n" + // undone unless the whole file commits
		busy
}

// TestKilledMigrationsLeaveNoTrace kills migrating processes with SIGKILL at
// random points. After every kill the database is either before or after
// the migration, never in between, no row is lost, and foreign keys resolve;
// a final migrate up completes.
func TestKilledMigrationsLeaveNoTrace(t *testing.T) {
	kills := 6
	if *long {
		kills = 25
	}
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) { killedMigrations(t, d, kills) })
	}
}

// schemaAt returns the schema that the embedded migrations build up to
// version, on a new database of the dialect.
func schemaAt(t *testing.T, d testutil.Dialect, version string) *catalog.Schema {
	t.Helper()
	db := openURL(t, d.Empty(t))
	if _, err := migrate.New(db.DB, db.Dialect, migrate.Options{}).UpTo(testutil.Context(t), version); err != nil {
		t.Fatalf("up to %s: %v", version, err)
	}
	return liveSchema(t, db)
}

func killedMigrations(t *testing.T, d testutil.Dialect, kills int) {
	{
		url := d.Empty(t)
		ctx := testutil.Context(t)
		seed := rand.Uint64()
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		t.Logf("random seed %d", seed)
		db := testutil.Open(t, url)
		ref := head(t, db.Dialect)
		chain, err := migrate.ChainOf(db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		schemas := map[string]*catalog.Schema{}

		// Phase 1: the whole chain from an empty database, killed at random
		// points of a window as long as one whole run (process start
		// included); a run that completed is reverted, so that every kill
		// meets a migration. Each kill must leave the database exactly at
		// one of the chain's versions, with alembic_version in step.
		start := time.Now()
		if err := startChild(t, url, "").Wait(); err != nil {
			t.Fatalf("calibration run: %v", err)
		}
		window := time.Since(start)
		t.Logf("one migrating process takes %v", window)
		outcomes := map[string]int{}
		for i := 0; i < kills; i++ {
			if _, err := db.Migrator().Down(ctx, migrate.Base); err != nil {
				t.Fatal(err)
			}
			cmd := startChild(t, url, "")
			time.Sleep(time.Duration(rng.Int64N(int64(window))))
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			live, err := db.Dialect.ReadCatalog(ctx, db.SQL, migrate.AlembicTable, migrate.RevisionTable)
			if err != nil {
				t.Fatal(err)
			}
			st, err := db.Migrator().Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case len(live.Tables) == 0 && len(live.Enums) == 0:
				if st.Current != "" || st.AlembicRevision != "" {
					t.Fatalf("kill %d: empty schema but revision %s (Alembic %s) recorded", i, st.Current, st.AlembicRevision)
				}
				outcomes["before the baseline"]++
			default:
				at := chain.IndexOfVersion(st.Current)
				if at < 0 {
					t.Fatalf("kill %d: schema present but current revision %q", i, st.Current)
				}
				if want := chain.AlembicAt(at); st.AlembicRevision != want {
					t.Fatalf("kill %d: at %s but alembic_version is %q, want %q", i, st.Current, st.AlembicRevision, want)
				}
				if schemas[st.Current] == nil {
					schemas[st.Current] = schemaAt(t, d, st.Current)
				}
				requireNoDiff(t, fmt.Sprintf("kill %d: schema at %s", i, st.Current), catalog.Compare(schemas[st.Current], live))
				outcomes["after "+st.Current]++
			}
		}
		t.Logf("the chain killed %d times: %v", kills, outcomes)
		if _, err := db.Migrator().Up(ctx); err != nil {
			t.Fatal(err)
		}
		requireNoDiff(t, "after the killed runs", catalog.Compare(ref, liveSchema(t, openURL(t, url))))

		// Phase 2: a migration that changes populated tables, killed at
		// random points.
		if _, err := testutil.Seed(ctx, db.Client, "kill"); err != nil {
			t.Fatal(err)
		}
		tables := tableNames(t, db.Dialect)
		before := countRows(t, db.SQL, tables)
		dir := t.TempDir()
		mem := withFiles(t, db.Dialect, map[string]string{"20990101000000_slow_change.sql": slowMigration(db.Dialect)})
		files, err := mem.Files()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f.Name()), f.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		sum, err := mem.Open(atlasmigrate.HashFileName)
		if err != nil {
			t.Fatal(err)
		}
		sumBytes, err := io.ReadAll(sum)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, atlasmigrate.HashFileName), sumBytes, 0o644); err != nil {
			t.Fatal(err)
		}
		applied := false
		for i := 0; i < kills && !applied; i++ {
			cmd := startChild(t, url, dir)
			time.Sleep(time.Duration(rng.IntN(1200)) * time.Millisecond)
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			st, err := db.Migrator().Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			after := countRows(t, db.SQL, tables)
			applied = st.Current == "20990101000000"
			t.Logf("kill %d of the slow migration: applied=%v", i, applied)
			if applied {
				after["log"] = before["log"] // the migration deletes the logs
			}
			if diff := countChanges(before, after); len(diff) > 0 {
				t.Fatalf("kill %d (applied=%v): rows changed: %v", i, applied, diff)
			}
			if !db.Dialect.RowLocks() {
				if v := foreignKeyCheck(t, db.SQL); len(v) > 0 {
					t.Fatalf("kill %d: broken foreign keys: %v", i, v)
				}
			}
		}
		cmd := startChild(t, url, dir)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("final migrate up: %v: %s", err, cmd.Stderr)
		}
		after := countRows(t, db.SQL, tables)
		after["log"] = before["log"]
		if diff := countChanges(before, after); len(diff) > 0 {
			t.Fatalf("after the final migration: rows changed: %v", diff)
		}
		var probes int
		if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM flow_run WHERE prefectdb_probe = run_count + 1").Scan(&probes); err != nil || probes != before["flow_run"] {
			t.Fatalf("backfilled rows = %d, %v; want %d", probes, err, before["flow_run"])
		}
	}
}
