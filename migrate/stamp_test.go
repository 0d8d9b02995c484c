package migrate_test

import (
	"errors"
	"testing"

	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
)

// TestStamp: stamping moves only the bookkeeping (alembic_version and
// prefectdb's history), in both directions, and runs no migration: the
// tables stay as they were, and Drift shows that the stamp does not match
// them until the database is stamped back.
func TestStamp(t *testing.T) {
	testutil.ForEachEmptyDialect(t, func(t *testing.T, url string) {
		ctx := testutil.Context(t)
		db := openURL(t, url)
		m := migrate.New(db.DB, db.Dialect, migrate.Options{})
		if _, err := m.UpTo(ctx, migrate.Head); err != nil {
			t.Fatal(err)
		}
		headStatus, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Stamp(ctx, ""); err == nil {
			t.Fatal("Stamp without a target succeeded")
		}
		var unknown *migrate.UnknownRevisionError
		if _, err := m.Stamp(ctx, "deadbeef0000"); !errors.As(err, &unknown) {
			t.Fatalf("Stamp at an unknown revision: %v, want *UnknownRevisionError", err)
		}

		step, err := m.Stamp(ctx, "3.0.0")
		if err != nil {
			t.Fatal(err)
		}
		if step.Direction != migrate.Adopt {
			t.Errorf("stamp step: %+v", step)
		}
		st, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Applied) != 1 || len(st.Pending) != len(headStatus.Applied)-1 {
			t.Errorf("after stamp 3.0.0: %d applied, %d pending; want 1 and %d", len(st.Applied), len(st.Pending), len(headStatus.Applied)-1)
		}
		if rev, want := alembicOf(t, db.DB), chainOf(t, db).AlembicAt(0); rev != want {
			t.Errorf("alembic_version after stamp 3.0.0: %q, want 3.0's head %s", rev, want)
		}
		// No migration ran: the head's tables are still there, and the
		// drift check says so.
		if drift, err := m.Drift(ctx); err != nil || len(drift) == 0 {
			t.Errorf("drift of a head schema stamped 3.0.0: %d differences, %v; want some", len(drift), err)
		}

		if _, err := m.Stamp(ctx, migrate.Head); err != nil {
			t.Fatal(err)
		}
		st, err = m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Applied) != len(headStatus.Applied) || len(st.Pending) != 0 {
			t.Errorf("after stamp head: %d applied, %d pending; want %d and 0", len(st.Applied), len(st.Pending), len(headStatus.Applied))
		}
		if drift, err := m.Drift(ctx); err != nil || len(drift) != 0 {
			t.Errorf("drift after stamping back to head: %v, %v", drift, err)
		}
		if steps, err := m.Up(ctx); err != nil || len(steps) != 0 {
			t.Errorf("migrate up after stamp head: %d steps, %v; want nothing to do", len(steps), err)
		}
	})
}
