package dbiface_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/internal/testutil"
)

// TestEventFollowsIsOneWay: events.follows names the event this one
// follows. Creating a follower through Ent leaves the followed event as it
// was (a bidirectional O2O edge would set its follows too), several events
// may follow one, and both directions are traversable.
func TestEventFollowsIsOneWay(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		at := time.Date(2024, 9, 13, 12, 0, 0, 0, time.UTC)
		create := func(name string, follows *uuid.UUID) uuid.UUID {
			t.Helper()
			e, err := db.Event.Create().SetOccurred(at).SetEvent(name).SetResourceID("prefect.flow-run.x").
				SetResource(map[string]any{"prefect.resource.id": "prefect.flow-run.x"}).SetPayload(map[string]any{}).
				SetReceived(at).SetRecorded(at).SetNillableFollows(follows).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return e.ID
		}
		first := create("prefect.flow-run.Pending", nil)
		second := create("prefect.flow-run.Running", &first)
		third := create("prefect.flow-run.Running", &first)

		got, err := db.Event.Get(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		if got.Follows != nil {
			t.Fatalf("the followed event now follows %s", *got.Follows)
		}
		followers, err := got.QueryFollowers().IDs(ctx)
		if err != nil || len(followers) != 2 {
			t.Fatalf("followers of the first event: %v, %v; want %s and %s", followers, err, second, third)
		}
		for _, id := range []uuid.UUID{second, third} {
			e, err := db.Event.Get(ctx, id)
			if err != nil || e.Follows == nil || *e.Follows != first {
				t.Fatalf("event %s follows %v (%v), want %s", id, e.Follows, err, first)
			}
			p, err := e.QueryFollowsEvent().Only(ctx)
			if err != nil || p.ID != first {
				t.Fatalf("event %s: followed event %v, %v", id, p, err)
			}
		}
	})
}
