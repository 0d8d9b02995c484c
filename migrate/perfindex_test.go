package migrate_test

import (
	"testing"

	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
)

// TestPerformanceIndexes: the opt-in indexes are off after migrating, go on
// and off on request (idempotently), and the drift check does not count
// them: a database with them still matches Prefect's schema.
func TestPerformanceIndexes(t *testing.T) {
	testutil.ForEachEmptyDialect(t, func(t *testing.T, url string) {
		ctx := testutil.Context(t)
		db := openURL(t, url)
		m := migrate.New(db.DB, db.Dialect, migrate.Options{})
		if _, err := m.UpTo(ctx, migrate.Head); err != nil {
			t.Fatal(err)
		}
		state := func() (on int) {
			t.Helper()
			have, err := m.PerformanceIndexesOn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range have {
				if v {
					on++
				}
			}
			return on
		}
		all := len(migrate.PerformanceIndexes())
		if n := state(); n != 0 {
			t.Fatalf("%d performance indexes after migrating; want none (parity with Prefect)", n)
		}
		for _, step := range []struct {
			on          bool
			wantChanged int
			wantOn      int
		}{{true, all, all}, {true, 0, all}, {false, all, 0}, {false, 0, 0}, {true, all, all}} {
			changed, err := m.SetPerformanceIndexes(ctx, step.on)
			if err != nil || len(changed) != step.wantChanged {
				t.Fatalf("SetPerformanceIndexes(%v): %v, %v; want %d changed", step.on, changed, err, step.wantChanged)
			}
			if n := state(); n != step.wantOn {
				t.Fatalf("after SetPerformanceIndexes(%v): %d on, want %d", step.on, n, step.wantOn)
			}
			if drift, err := m.Drift(ctx); err != nil || len(drift) != 0 {
				t.Fatalf("drift with performance indexes %v: %v, %v", step.on, drift, err)
			}
		}
	})
}
