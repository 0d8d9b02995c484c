package dialecttest

import (
	"strings"
	"testing"

	"github.com/prefectdb/prefectdb/internal/catalog"
	"github.com/prefectdb/prefectdb/internal/testutil"
)

// testCatalogRoundTrip: the dialect renders Prefect's reference schema (3.0
// and the newest head) into an empty database and reads back exactly that
// schema; dropping it leaves nothing of it; it can be created again. This
// is what the drift check and the adoption of Prefect-made databases stand
// on, so every dialect must pass it. (Each dialect's own package also tests
// the details only it has: enums and operator classes on PostgreSQL, table
// rebuilds on SQLite.)
func testCatalogRoundTrip(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	kind := string(db.Dialect.Kind())
	head, _, err := catalog.HeadReference(kind)
	if err != nil {
		t.Fatal(err)
	}
	v30, err := catalog.Reference(kind)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []struct {
		name   string
		schema *catalog.Schema
	}{{"3.0", v30}, {"head", head}} {
		exec := func(stmts []string) {
			t.Helper()
			for _, s := range stmts {
				if _, err := db.SQL.ExecContext(ctx, s); err != nil {
					t.Fatalf("%s: %s: %v", ref.name, s, err)
				}
			}
		}
		exec(db.Dialect.RenderSchema(ref.schema))
		got, err := db.Dialect.ReadCatalog(ctx, db.SQL)
		if err != nil {
			t.Fatal(err)
		}
		if diffs := catalog.Compare(ref.schema, got); len(diffs) != 0 {
			t.Fatalf("%s: the schema read back differs from the one rendered (%d differences):\n%s",
				ref.name, len(diffs), strings.Join(diffs, "\n"))
		}
		exec(db.Dialect.RenderDropSchema(ref.schema))
		left, err := db.Dialect.ReadCatalog(ctx, db.SQL)
		if err != nil {
			t.Fatal(err)
		}
		if len(left.Tables) != 0 || len(left.Enums) != 0 {
			t.Fatalf("%s: left after dropping: %d tables, %d enums", ref.name, len(left.Tables), len(left.Enums))
		}
	}
}
