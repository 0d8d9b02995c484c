package migrate_test

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectdb/prefectdb/dialects/connect"
	"github.com/prefectdb/prefectdb/internal/catalog"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
)

// referencePoints are the points of Prefect's history whose schema, as
// Prefect's own migrations build it, is kept in
// internal/catalog/reference/releases/<dir>/ (pg_dump --schema-only and
// sqlite3 .schema).
var referencePoints = []struct{ dir, target string }{
	{"3.1.0", "3.1.0"},
	{"3.2.0", "3.2.0"},
	{"3.3.0", "3.3.0"},
	{"3.4.0", "3.4.0"},
	{"3.5.0", "3.5.0"},
	{"3.6.0", "3.6.0"},
	{"3.7.0", "3.7.0"},
	{"3.8.3", "3.8.3"},
	{"main-ce79dd3d6c", migrate.Head},
}

// loadReferenceDump creates Prefect's schema from one of the reference dumps
// in a new empty database and returns its catalog.
func loadReferenceDump(t *testing.T, d testutil.Dialect, dir string) *catalog.Schema {
	t.Helper()
	db := openURL(t, d.Empty(t))
	loadDump(t, db, dir)
	return liveSchema(t, db)
}

// loadDump runs one of the reference dumps in db.
func loadDump(t *testing.T, db *connect.Database, dir string) {
	t.Helper()
	kind := string(db.Dialect.Kind())
	f, err := os.Open(filepath.Join("..", "internal", "catalog", "reference", "releases", dir, kind+".sql"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// psql meta-commands (\restrict) are not SQL; everything else is run as
	// it is, in one script.
	var script strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), `\`) {
			script.WriteString(sc.Text())
			script.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	ctx := testutil.Context(t)
	text := script.String()
	if kind == "postgres" {
		// pg_dump empties search_path; the test's catalog reader reads the
		// current schema.
		text += "\nSELECT pg_catalog.set_config('search_path', 'public', false);\n"
	}
	if _, err := db.DB.ExecContext(ctx, text); err != nil {
		t.Fatalf("load reference %s/%s.sql: %v", dir, kind, err)
	}
}

// TestReleaseHeadsMatchPrefect migrates one database release by release and
// compares it, at every release's head, with the schema Prefect's own
// migrations build at that release.
func TestReleaseHeadsMatchPrefect(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			ctx := testutil.Context(t)
			db := openURL(t, d.Empty(t))
			m := migrate.New(db.DB, db.Dialect, migrate.Options{})
			chain, err := migrate.ChainOf(db.Dialect)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range referencePoints {
				if _, err := m.UpTo(ctx, p.target); err != nil {
					t.Fatalf("up to %s: %v", p.target, err)
				}
				want := loadReferenceDump(t, d, p.dir)
				requireNoDiff(t, "at "+p.dir, catalog.Compare(want, liveSchema(t, db)))
				i, err := chain.Resolve(p.target)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := alembicOf(t, db.DB), chain.Links[i].Alembic; got != want {
					t.Errorf("at %s: alembic_version = %q, want %q", p.dir, got, want)
				}
			}
		})
	}
}

// alembicOf reads the database's alembic_version ("" when it has none).
func alembicOf(t *testing.T, q querier) string {
	t.Helper()
	var rev string
	err := q.QueryRowContext(testutil.Context(t), "SELECT version_num FROM alembic_version").Scan(&rev)
	if err != nil && !strings.Contains(err.Error(), "no rows") {
		t.Fatalf("read alembic_version: %v", err)
	}
	return rev
}

var updateReference = flag.Bool("update-reference", false, "rewrite internal/catalog/reference/prefect_head.json from the newest reference dumps")

// headDump is the folder of the newest reference dumps: the schema of the
// chain's head.
const headDump = "main-ce79dd3d6c"

// TestHeadReference checks the embedded head reference
// (catalog.HeadReference) against the newest schema dumps, loaded into real
// databases; with -update-reference it rewrites it from them.
func TestHeadReference(t *testing.T) {
	file := catalog.ReferenceFile{
		Source:   "Prefect's schema at main " + headDump + " as its own migrations build it (internal/catalog/reference/releases/" + headDump + "), read back from real databases",
		Dialects: map[string]catalog.ReferenceDialect{},
	}
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			loaded := loadReferenceDump(t, d, headDump)
			db := openURL(t, d.Empty(t))
			chain, err := migrate.ChainOf(db.Dialect)
			if err != nil {
				t.Fatal(err)
			}
			head := chain.Links[len(chain.Links)-1].Alembic
			file.Dialects[string(db.Dialect.Kind())] = catalog.ReferenceDialect{AlembicHead: head, Schema: loaded}
			if *updateReference {
				return
			}
			embedded, rev, err := catalog.HeadReference(string(db.Dialect.Kind()))
			if err != nil {
				t.Fatal(err)
			}
			if rev != head {
				t.Errorf("head reference is at %s, the chain's head is %s", rev, head)
			}
			requireNoDiff(t, "embedded head reference vs the dump", catalog.Compare(loaded, embedded))
		})
	}
	if *updateReference && !t.Failed() {
		b, err := json.MarshalIndent(file, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "internal", "catalog", "reference", "prefect_head.json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
