package dialecttest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/internal/testutil"
)

// testWriteGrouperSavepoints: where a dialect groups writes
// (dialects.WriteGrouper), InSavepoint keeps the writes of a function
// that succeeds and undoes, alone, those of one that fails, returning its
// error unchanged; the transaction goes on and commits the rest.
func testWriteGrouperSavepoints(t *testing.T, db *testutil.DB) {
	g, ok := db.Dialect.(dialects.WriteGrouper)
	if !ok {
		// Not a missing database: the behaviour does not apply.
		t.Logf("%s does not group writes", db.Dialect.Kind())
		return
	}
	ctx := testutil.Context(t)
	q, end := biBeginWrite(t, ctx, db)
	insert := func(name string) func() error {
		return func() error {
			_, err := q.ExecContext(ctx, "INSERT INTO flow (id, created, updated, name, tags) VALUES ("+
				biPlaceholder(t, db, 1)+", "+biPlaceholder(t, db, 2)+", "+biPlaceholder(t, db, 2)+", "+
				biPlaceholder(t, db, 3)+", '[]')", uuid.New(), time.Now(), name)
			return err
		}
	}
	mine := errors.New("the function's own failure")
	steps := []struct {
		name string
		fail bool
	}{{"kept-1", false}, {"undone", true}, {"kept-2", false}}
	for _, s := range steps {
		fn := insert(s.name)
		if s.fail {
			fn = func() error {
				if err := insert(s.name)(); err != nil {
					return err
				}
				return mine
			}
		}
		err := g.InSavepoint(ctx, q, fn)
		var sp *dialects.SavepointError
		switch {
		case errors.As(err, &sp):
			t.Fatalf("%s: the savepoint failed: %v", s.name, err)
		case s.fail && err != mine:
			t.Fatalf("%s: InSavepoint = %v; want the function's own error, unchanged", s.name, err)
		case !s.fail && err != nil:
			t.Fatalf("%s: InSavepoint = %v", s.name, err)
		}
	}
	end(true)
	var names []string
	rows, err := db.SQL.QueryContext(ctx, "SELECT name FROM flow ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || names[0] != "kept-1" || names[1] != "kept-2" {
		t.Fatalf("flows after commit: %v; want [kept-1 kept-2]", names)
	}
}
