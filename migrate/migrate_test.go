package migrate_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/connect"
	"github.com/prefectdb/prefectdb/internal/catalog"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
)

// openURL opens url for the test, with its own connection pool.
func openURL(t *testing.T, url string) *connect.Database {
	t.Helper()
	db, err := connect.Open(testutil.Context(t), url, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// head is Prefect's schema at the newest revision prefectdb knows.
func head(t *testing.T, d dialects.Dialect) *catalog.Schema {
	t.Helper()
	s, err := migrate.Desired(d)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func chainOf(t *testing.T, db *connect.Database) *migrate.Chain {
	t.Helper()
	c, err := migrate.ChainOf(db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func reference(t *testing.T, d dialects.Dialect) *catalog.Schema {
	t.Helper()
	ref, err := catalog.Reference(string(d.Kind()))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// liveSchema reads the catalog, leaving out the bookkeeping tables.
func liveSchema(t *testing.T, db *connect.Database) *catalog.Schema {
	t.Helper()
	s, err := db.Dialect.ReadCatalog(testutil.Context(t), db.DB, migrate.AlembicTable, migrate.RevisionTable)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func requireNoDiff(t *testing.T, what string, diff []string) {
	t.Helper()
	if len(diff) > 0 {
		t.Fatalf("%s: %d differences:\n  %s", what, len(diff), strings.Join(diff, "\n  "))
	}
}

// TestUpBuildsPrefectSchema migrates an empty database and compares the live
// catalog with Prefect 3.0's own schema, table by table and index by index.
func TestUpBuildsPrefectSchema(t *testing.T) {
	testutil.ForEachEmptyDialect(t, func(t *testing.T, url string) {
		ctx := testutil.Context(t)
		db := openURL(t, url)
		var printed []migrate.Step
		m := migrate.New(db.DB, db.Dialect, migrate.Options{OnStep: func(s migrate.Step) { printed = append(printed, s) }})
		steps, err := m.Up(ctx)
		if err != nil {
			t.Fatal(err)
		}
		chain := chainOf(t, db)
		if len(steps) != len(chain.Links) || steps[0].Version != "20240913000000" {
			t.Fatalf("steps = %+v, want the %d migrations of the chain, the baseline first", steps, len(chain.Links))
		}
		for i, s := range steps {
			if s.Direction != migrate.Up || s.Version != chain.Links[i].Version || s.Statements == 0 {
				t.Fatalf("step %d = %+v, want %s applied", i, s, chain.Links[i].Name)
			}
		}
		if len(printed) != len(steps) {
			t.Fatalf("OnStep saw %d steps, Up returned %d", len(printed), len(steps))
		}
		requireNoDiff(t, "live schema vs Prefect's newest schema", catalog.Compare(head(t, db.Dialect), liveSchema(t, db)))
		drift, err := m.Drift(ctx)
		if err != nil {
			t.Fatal(err)
		}
		requireNoDiff(t, "drift after up", drift)

		again, err := m.Up(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("second up: steps %+v, err %v; want nothing to do", again, err)
		}
		st, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		last := chain.Links[len(chain.Links)-1]
		if st.Current != last.Version || len(st.Pending) != 0 || st.AlembicRevision != last.Alembic {
			t.Fatalf("status = %+v", st)
		}
	})
}

// TestDownToBaseLeavesEmptyDatabase reverts every migration and migrates up
// again.
func TestDownToBaseLeavesEmptyDatabase(t *testing.T) {
	testutil.ForEachEmptyDialect(t, func(t *testing.T, url string) {
		ctx := testutil.Context(t)
		db := openURL(t, url)
		m := migrate.New(db.DB, db.Dialect, migrate.Options{})
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		steps, err := m.Down(ctx, migrate.Base)
		if err != nil {
			t.Fatal(err)
		}
		if len(steps) != len(chainOf(t, db).Links) || steps[len(steps)-1].Direction != migrate.Down ||
			steps[len(steps)-1].Version != "20240913000000" {
			t.Fatalf("down steps = %+v, want every migration reverted, the baseline last", steps)
		}
		all, err := db.Dialect.ReadCatalog(ctx, db.DB)
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Tables) != 0 || len(all.Enums) != 0 {
			t.Fatalf("after down to base: %d tables, %d enums left", len(all.Tables), len(all.Enums))
		}
		if steps, err := m.Down(ctx, migrate.OneStep); err != nil || len(steps) != 0 {
			t.Fatalf("down on an empty database: %+v, %v", steps, err)
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		requireNoDiff(t, "after down and up", catalog.Compare(head(t, db.Dialect), liveSchema(t, db)))
	})
}

func TestDownRejectsUnknownRevision(t *testing.T) {
	testutil.ForEachDialect(t, func(t *testing.T, db *testutil.DB) {
		_, err := db.Migrator().Down(testutil.Context(t), "20990101000000")
		var unknown *migrate.UnknownRevisionError
		if !errors.As(err, &unknown) || unknown.Revision != "20990101000000" {
			t.Fatalf("err = %v, want UnknownRevisionError", err)
		}
		if !strings.Contains(err.Error(), "20240913000000") {
			t.Fatalf("error %q does not list the known revisions", err)
		}
	})
}

// TestConcurrentUp runs four migrators on separate connection pools at once:
// every migration is applied exactly once and all of them succeed.
func TestConcurrentUp(t *testing.T) {
	testutil.ForEachEmptyDialect(t, func(t *testing.T, url string) {
		ctx := testutil.Context(t)
		var wg sync.WaitGroup
		results := make([][]migrate.Step, 4)
		errs := make([]error, 4)
		for i := range results {
			db := openURL(t, url)
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = migrate.New(db.DB, db.Dialect, migrate.Options{}).Up(ctx)
			}()
		}
		wg.Wait()
		applied := map[string]int{}
		for i := range results {
			if errs[i] != nil {
				t.Fatalf("migrator %d: %v", i, errs[i])
			}
			for _, s := range results[i] {
				applied[s.Version]++
			}
		}
		db := openURL(t, url)
		for _, l := range chainOf(t, db).Links {
			if applied[l.Version] != 1 {
				t.Errorf("%s applied %d times, want once", l.Name, applied[l.Version])
			}
		}
		requireNoDiff(t, "after concurrent up", catalog.Compare(head(t, db.Dialect), liveSchema(t, db)))
	})
}

// alembicDDL is Prefect's alembic_version table as alembic creates it; the
// statement is the same on both databases.
const alembicDDL = `CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))`

// prefectMade builds, in an empty database, the schema that Prefect 3.0's own
// migrations build (rendered from the reference, not from prefectdb's
// schema) with alembic_version at the given revision.
func prefectMade(t *testing.T, db *connect.Database, revision string) {
	t.Helper()
	ctx := testutil.Context(t)
	stmts := append(db.Dialect.RenderSchema(reference(t, db.Dialect)), alembicDDL)
	for _, s := range stmts {
		if _, err := db.DB.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if _, err := db.DB.ExecContext(ctx, "INSERT INTO alembic_version (version_num) VALUES ('"+revision+"')"); err != nil {
		t.Fatal(err)
	}
}

func TestAdoptPrefectDatabase(t *testing.T) {
	testutil.ForEachEmptyDialect(t, func(t *testing.T, url string) {
		ctx := testutil.Context(t)
		db := openURL(t, url)
		prefectMade(t, db, db.Dialect.AlembicHead())
		flowID := "0b2b3b44-1c5e-4d6f-8a9b-0c1d2e3f4a5b"
		if _, err := db.DB.ExecContext(ctx, "INSERT INTO flow (id, name) VALUES ('"+flowID+"', 'kept')"); err != nil {
			t.Fatal(err)
		}
		before := liveSchema(t, db)
		m := migrate.New(db.DB, db.Dialect, migrate.Options{})
		steps, err := m.Up(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Up adopts the database and leaves it at Prefect's release, so that
		// the Prefect server that made it still starts.
		if len(steps) != 1 || steps[0].Direction != migrate.Adopt || steps[0].Version != "20240913000000" {
			t.Fatalf("steps = %+v, want one adopt step", steps)
		}
		requireNoDiff(t, "schema changed by adoption", catalog.Compare(before, liveSchema(t, db)))
		st, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Current != "20240913000000" || st.AlembicRevision != db.Dialect.AlembicHead() || len(st.Pending) != len(chainOf(t, db).Links)-1 {
			t.Fatalf("status after adoption = %+v", st)
		}
		if again, err := m.Up(ctx); err != nil || len(again) != 0 {
			t.Fatalf("up after adoption: %+v, %v; want it to stay at Prefect's release", again, err)
		}
		// Asked for, it upgrades.
		steps, err = m.UpTo(ctx, migrate.Head)
		if err != nil || len(steps) != len(chainOf(t, db).Links)-1 {
			t.Fatalf("up to head after adoption: %+v, %v", steps, err)
		}
		requireNoDiff(t, "schema after adoption and up to head", catalog.Compare(head(t, db.Dialect), liveSchema(t, db)))
		var name string
		if err := db.DB.QueryRowContext(ctx, "SELECT name FROM flow WHERE id = '"+flowID+"'").Scan(&name); err != nil || name != "kept" {
			t.Fatalf("flow row after adoption: %q, %v", name, err)
		}
		if again, err := m.Up(ctx); err != nil || len(again) != 0 {
			t.Fatalf("up after adoption: %+v, %v", again, err)
		}
	})
}

func TestAdoptRefusesOtherAlembicRevision(t *testing.T) {
	testutil.ForEachEmptyDialect(t, func(t *testing.T, url string) {
		ctx := testutil.Context(t)
		db := openURL(t, url)
		prefectMade(t, db, "3ae9a8ba0f66")
		before, err := db.Dialect.ReadCatalog(ctx, db.DB)
		if err != nil {
			t.Fatal(err)
		}
		_, err = migrate.New(db.DB, db.Dialect, migrate.Options{}).Up(ctx)
		var adopt *migrate.AdoptError
		if !errors.As(err, &adopt) || adopt.Revision != "3ae9a8ba0f66" {
			t.Fatalf("err = %v, want AdoptError for 3ae9a8ba0f66", err)
		}
		for _, want := range []string{"3ae9a8ba0f66", "Prefect 3.0.0 to 3.8.3", "Nothing was changed"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
		after, err := db.Dialect.ReadCatalog(ctx, db.DB)
		if err != nil {
			t.Fatal(err)
		}
		requireNoDiff(t, "schema changed by a refused adoption", catalog.Compare(before, after))
	})
}

func TestUpRefusesForeignTables(t *testing.T) {
	testutil.ForEachEmptyDialect(t, func(t *testing.T, url string) {
		ctx := testutil.Context(t)
		db := openURL(t, url)
		if _, err := db.DB.ExecContext(ctx, "CREATE TABLE flow (id VARCHAR(36) PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		_, err := migrate.New(db.DB, db.Dialect, migrate.Options{}).Up(ctx)
		var mismatch *migrate.SchemaMismatchError
		if !errors.As(err, &mismatch) || !strings.Contains(err.Error(), "table flow exists") {
			t.Fatalf("err = %v, want SchemaMismatchError naming table flow", err)
		}
		var n int
		if err := db.DB.QueryRowContext(ctx, "SELECT count(*) FROM flow").Scan(&n); err != nil {
			t.Fatalf("foreign table touched: %v", err)
		}
	})
}
