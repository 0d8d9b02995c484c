package migrate_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/prefectdb/prefectdb/dialects/connect"
	"github.com/prefectdb/prefectdb/internal/catalog"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
)

// TestEmbeddedChainNamesRevisions: every embedded migration after the
// baseline names the Prefect Alembic revision it stands for, and every
// release tag from 3.0.0 to 3.8.3 is mapped onto the chain.
func TestEmbeddedChainNamesRevisions(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			db := openURL(t, d.Empty(t))
			chain := chainOf(t, db)
			for i, l := range chain.Links {
				if l.Alembic == "" {
					t.Errorf("%s names no Alembic revision", l.Name)
				}
				if i > 0 && !strings.Contains(l.Name, "_"+l.Alembic+"_") {
					t.Errorf("%s: revision %s is not in the file name", l.Name, l.Alembic)
				}
			}
			if got := chain.Links[0].Alembic; got != db.Dialect.AlembicHead() {
				t.Errorf("baseline stands for %s, want Prefect 3.0's head %s", got, db.Dialect.AlembicHead())
			}
			releases := chain.Releases()
			if len(releases) == 0 || releases[0] != "3.0.0" || releases[len(releases)-1] != "3.8.3" {
				t.Fatalf("releases = %v, want 3.0.0 … 3.8.3", releases)
			}
			for _, tc := range []struct{ target, alembic string }{
				{"3.0.0", db.Dialect.AlembicHead()},
				{"3.1.0", map[string]string{"postgres": "eaec5004771f", "sqlite": "4ad4658cbefe"}[d.Name]},
				{"3.4.0", map[string]string{"postgres": "4160a4841eed", "sqlite": "7655f31c5157"}[d.Name]},
				{"3.5.0", "9e83011d1f2a"},
				{"3.8.3", map[string]string{"postgres": "50737cdaee36", "sqlite": "14806cb26270"}[d.Name]},
				{"head", map[string]string{"postgres": "9e9dadc36797", "sqlite": "f416ea180ae1"}[d.Name]},
			} {
				i, err := chain.Resolve(tc.target)
				if err != nil || chain.Links[i].Alembic != tc.alembic {
					t.Errorf("Resolve(%s) = %d (%v), want Alembic %s", tc.target, i, err, tc.alembic)
				}
			}
		})
	}
}

// TestAlembicInStepEveryStep migrates one step at a time to head and back to
// base: after every step alembic_version holds the revision of the schema,
// and the way down ends at Prefect 3.0's schema before the baseline goes.
func TestAlembicInStepEveryStep(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			ctx := testutil.Context(t)
			db := openURL(t, d.Empty(t))
			chain := chainOf(t, db)
			m := migrate.New(db.DB, db.Dialect, migrate.Options{})
			for i, l := range chain.Links {
				steps, err := m.UpTo(ctx, l.Version)
				if err != nil || len(steps) != 1 || steps[0].Version != l.Version {
					t.Fatalf("up to %s: %+v, %v", l.Name, steps, err)
				}
				if got := alembicOf(t, db.DB); got != chain.AlembicAt(i) {
					t.Fatalf("after %s: alembic_version %q, want %q", l.Name, got, chain.AlembicAt(i))
				}
			}
			if _, err := m.UpTo(ctx, chain.Links[0].Version); !errors.As(err, new(*migrate.TargetBehindError)) {
				t.Fatalf("up to an older version: %v, want TargetBehindError", err)
			}
			for i := len(chain.Links) - 1; i > 0; i-- {
				steps, err := m.Down(ctx, migrate.OneStep)
				if err != nil || len(steps) != 1 || steps[0].Version != chain.Links[i].Version {
					t.Fatalf("down from %s: %+v, %v", chain.Links[i].Name, steps, err)
				}
				if got := alembicOf(t, db.DB); got != chain.AlembicAt(i-1) {
					t.Fatalf("after reverting %s: alembic_version %q, want %q", chain.Links[i].Name, got, chain.AlembicAt(i-1))
				}
			}
			requireNoDiff(t, "down to 3.0", catalog.Compare(reference(t, db.Dialect), liveSchema(t, db)))
			if _, err := m.Down(ctx, migrate.OneStep); err != nil {
				t.Fatal(err)
			}
			all, err := db.Dialect.ReadCatalog(ctx, db.DB)
			if err != nil {
				t.Fatal(err)
			}
			if len(all.Tables) != 0 {
				t.Fatalf("after the baseline was reverted: %d tables left (alembic_version included)", len(all.Tables))
			}
		})
	}
}

// prefectAt makes the database that Prefect's own migrations build at a
// reference point, with alembic_version at that point's head.
func prefectAt(t *testing.T, d testutil.Dialect, dir, revision string) *connect.Database {
	t.Helper()
	db := openURL(t, d.Empty(t))
	loadDump(t, db, dir)
	if _, err := db.DB.ExecContext(testutil.Context(t), "INSERT INTO alembic_version (version_num) VALUES ('"+revision+"')"); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestAdoptEveryReleaseHead: a database that Prefect's own migrations built
// at each release is adopted at that release without a change, reports the
// release, and then migrates to head.
func TestAdoptEveryReleaseHead(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			ctx := testutil.Context(t)
			chain := chainOf(t, openURL(t, d.Empty(t)))
			for _, p := range referencePoints {
				i, err := chain.Resolve(p.target)
				if err != nil {
					t.Fatal(err)
				}
				db := prefectAt(t, d, p.dir, chain.Links[i].Alembic)
				before := liveSchema(t, db)
				m := migrate.New(db.DB, db.Dialect, migrate.Options{})
				steps, err := m.UpTo(ctx, p.target)
				if err != nil {
					t.Fatalf("adopt %s: %v", p.dir, err)
				}
				if len(steps) != 1 || steps[0].Direction != migrate.Adopt || steps[0].Version != chain.Links[i].Version {
					t.Fatalf("adopt %s: steps %+v, want one adopt step at %s", p.dir, steps, chain.Links[i].Name)
				}
				requireNoDiff(t, "schema changed by adopting "+p.dir, catalog.Compare(before, liveSchema(t, db)))
				st, err := m.Status(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if st.Current != chain.Links[i].Version || st.Release != chain.Describe(i) || st.AlembicRevision != chain.Links[i].Alembic {
					t.Fatalf("status after adopting %s = %+v", p.dir, st)
				}
				if again, err := m.Up(ctx); err != nil || len(again) != 0 {
					t.Fatalf("up after adopting %s: %+v, %v; want it to stay at Prefect's release", p.dir, again, err)
				}
				if _, err := m.UpTo(ctx, migrate.Head); err != nil {
					t.Fatalf("up from %s: %v", p.dir, err)
				}
				requireNoDiff(t, "head after adopting "+p.dir, catalog.Compare(head(t, db.Dialect), liveSchema(t, db)))
			}
		})
	}
}

// TestAdoptEveryRevision: at every revision of the chain, a database with
// that schema and Prefect's alembic_version but no prefectdb history (as
// Prefect leaves it) is adopted there, and migrates on to head.
func TestAdoptEveryRevision(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			ctx := testutil.Context(t)
			chain := chainOf(t, openURL(t, d.Empty(t)))
			for i, l := range chain.Links {
				db := openURL(t, d.Empty(t))
				m := migrate.New(db.DB, db.Dialect, migrate.Options{})
				if _, err := m.UpTo(ctx, l.Version); err != nil {
					t.Fatal(err)
				}
				if _, err := db.DB.ExecContext(ctx, "DROP TABLE "+migrate.RevisionTable); err != nil {
					t.Fatal(err)
				}
				steps, err := m.Up(ctx)
				if err != nil {
					t.Fatalf("adopt at %s: %v", l.Name, err)
				}
				if len(steps) != 1 || steps[0].Direction != migrate.Adopt || steps[0].Version != l.Version {
					t.Fatalf("adopt at %s: steps %+v", l.Name, steps)
				}
				if steps, err = m.UpTo(ctx, migrate.Head); err != nil || len(steps) != len(chain.Links)-1-i {
					t.Fatalf("up to head from %s: %+v, %v", l.Name, steps, err)
				}
				requireNoDiff(t, "head after adopting "+l.Name, catalog.Compare(head(t, db.Dialect), liveSchema(t, db)))
			}
		})
	}
}

// TestPrefectMovesTheDatabase: Prefect upgrades (or downgrades) a database
// that prefectdb migrated; prefectdb follows alembic_version and neither
// re-runs nor skips a migration.
func TestPrefectMovesTheDatabase(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := testutil.Context(t)
			db := openURL(t, d.Empty(t))
			chain := chainOf(t, db)
			m := migrate.New(db.DB, db.Dialect, migrate.Options{})
			from, err := chain.Resolve("3.1.0")
			if err != nil {
				t.Fatal(err)
			}
			to, err := chain.Resolve("3.4.0")
			if err != nil {
				t.Fatal(err)
			}
			// What Prefect 3.4.0's migrations do after prefectdb's 3.1.0:
			// the schema moves and alembic_version with it, prefectdb's
			// records stay behind.
			if _, err := m.UpTo(ctx, "3.4.0"); err != nil {
				t.Fatal(err)
			}
			for _, l := range chain.Links[from+1 : to+1] {
				if _, err := db.DB.ExecContext(ctx, "DELETE FROM "+migrate.RevisionTable+" WHERE version = '"+l.Version+"'"); err != nil {
					t.Fatal(err)
				}
			}
			steps, err := m.UpTo(ctx, "3.4.0")
			if err != nil || len(steps) != 1 || steps[0].Direction != migrate.Adopt || steps[0].Version != chain.Links[to].Version {
				t.Fatalf("after Prefect's upgrade: %+v, %v; want one adopt step at %s", steps, err, chain.Links[to].Name)
			}
			st, err := m.Status(ctx)
			if err != nil || st.Current != chain.Links[to].Version || len(st.Applied) != to+1 {
				t.Fatalf("status = %+v, %v", st, err)
			}
			// Prefect downgrades it back to 3.1.0: prefectdb forgets the
			// reverted revisions and applies them again.
			if _, err := m.Down(ctx, "3.1.0"); err != nil {
				t.Fatal(err)
			}
			for _, l := range chain.Links[from+1 : to+1] {
				if _, err := db.DB.ExecContext(ctx, "INSERT INTO "+migrate.RevisionTable+
					" (version, description, type, applied, total, executed_at, execution_time, hash, operator_version)"+
					" VALUES ('"+l.Version+"', 'x', 2, 1, 1, '2026-01-01T00:00:00Z', 0, 'x', 'prefectdb')"); err != nil {
					t.Fatal(err)
				}
			}
			steps, err = m.Up(ctx)
			if err != nil || steps[0].Direction != migrate.Adopt || steps[1].Version != chain.Links[from+1].Version {
				t.Fatalf("after Prefect's downgrade: %+v, %v", steps, err)
			}
			requireNoDiff(t, "head", catalog.Compare(head(t, db.Dialect), liveSchema(t, db)))
		})
	}
}

// TestDownLossesChangesNothing: DownLosses lists what a downgrade would
// delete (tables with rows, columns with values, rows deleted from tables
// that stay) and leaves the database exactly as it was.
func TestDownLossesChangesNothing(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := testutil.Context(t)
			db := testutil.Open(t, d.Migrated(t))
			if _, err := testutil.Seed(ctx, db.Client, "loss"); err != nil {
				t.Fatal(err)
			}
			m := db.Migrator()
			schemaBefore := liveSchema(t, &connect.Database{Dialect: db.Dialect, DB: db.SQL})
			rowsBefore := countRows(t, db.SQL, tableNames(t, db.Dialect))
			alembicBefore := alembicOf(t, db.SQL)

			losses, err := m.DownLosses(ctx, "3.0.2")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, l := range losses {
				got[l.String()] = true
			}
			for _, want := range []string{"table deployment_version (1 rows)", "column flow.labels (1 values)",
				"column deployment.concurrency_limit_id (1 values)", "column automation.tags (1 values)"} {
				if !got[want] {
					t.Errorf("losses %v do not include %q", losses, want)
				}
			}
			if _, err := m.DownLosses(ctx, ""); err == nil {
				t.Error("DownLosses without a target succeeded")
			}
			if losses, err := m.DownLosses(ctx, migrate.Head); err != nil || len(losses) != 0 {
				t.Errorf("losses of a downgrade to head: %v, %v; want none", losses, err)
			}
			requireNoDiff(t, "schema after DownLosses", catalog.Compare(schemaBefore, liveSchema(t, &connect.Database{Dialect: db.Dialect, DB: db.SQL})))
			if rows := countRows(t, db.SQL, tableNames(t, db.Dialect)); !maps.Equal(rows, rowsBefore) {
				t.Errorf("rows after DownLosses = %v, want %v", rows, rowsBefore)
			}
			if got := alembicOf(t, db.SQL); got != alembicBefore {
				t.Errorf("alembic_version after DownLosses = %s, want %s", got, alembicBefore)
			}
		})
	}
}
