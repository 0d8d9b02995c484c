package sqlite_test

import (
	"testing"

	"github.com/prefectdb/prefectdb/internal/testutil"
)

// TestJSONIsStoredAsText: JSON written through the Ent client is stored as
// TEXT, as Prefect stores it, so SQLite's JSON functions read it (a BLOB
// would be taken for binary JSONB and fail).
func TestJSONIsStoredAsText(t *testing.T) {
	t.Parallel()
	ctx := testutil.Context(t)
	db := testutil.Open(t, testutil.MigratedSQLite(t))
	f, err := db.Client.Flow.Create().SetName("json").SetTags([]string{"a", "b"}).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Client.FlowRun.Create().SetName("r").SetFlow(f).SetParameters(map[string]any{"k": "v"}).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	var typ, k string
	var tags int
	err = db.SQL.QueryRowContext(ctx, `SELECT typeof(fr.parameters), json_extract(fr.parameters, '$.k'),
		(SELECT count(*) FROM json_each(flow.tags)) FROM flow_run fr JOIN flow ON flow.id = fr.flow_id`).Scan(&typ, &k, &tags)
	if err != nil {
		t.Fatal(err)
	}
	if typ != "text" || k != "v" || tags != 2 {
		t.Fatalf("typeof = %s, $.k = %q, tags = %d; want text, v, 2", typ, k, tags)
	}
}
