package dbiface_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/flowrun"
	"github.com/prefectdb/prefectdb/ent/flowrunstate"
	"github.com/prefectdb/prefectdb/ent/logentry"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// groupingDB opens a database whose dialect groups transitions (SQLite),
// and a second interface on the same file that can hold the write lock, as
// another process would, so that transitions queue up behind it.
func groupingDB(t *testing.T) (db *dbiface.Interface, hold func() (release func())) {
	t.Helper()
	url := testutil.MigratedSQLite(t)
	db = open(t, url)
	if _, _, ok := dbiface.WriteGroupStats(db); !ok {
		t.Fatal("SQLite's dialect does not group transitions")
	}
	other := open(t, url)
	hold = func() func() {
		locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- other.Transaction(context.Background(), dbiface.ForUpdate, func(ctx context.Context, s *dbiface.Session) error {
				close(locked)
				<-release
				return nil
			})
		}()
		select {
		case <-locked:
		case err := <-done:
			t.Fatalf("hold the write lock: %v", err)
		}
		return func() {
			close(release)
			if err := <-done; err != nil {
				t.Fatalf("release the write lock: %v", err)
			}
		}
	}
	return db, hold
}

// waitForWaiting waits until n transitions wait for a group.
func waitForWaiting(t *testing.T, db *dbiface.Interface, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, waiting, _ := dbiface.WriteGroupStats(db)
		if waiting == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d transitions wait for a group; want %d", waiting, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// writeQueued runs n writes at once while hold keeps the write lock, waits
// until all n wait for a group, releases the lock and returns each write's
// error and the number of groups written meanwhile.
func writeQueued(t *testing.T, db *dbiface.Interface, hold func() func(), n int, write func(k int) error) (errs []error, groups int64) {
	t.Helper()
	before, _, _ := dbiface.WriteGroupStats(db)
	release := hold()
	errs = make([]error, n)
	var wg sync.WaitGroup
	for k := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = write(k)
		}()
	}
	waitForWaiting(t, db, n)
	release()
	wg.Wait()
	after, _, _ := dbiface.WriteGroupStats(db)
	return errs, after - before
}

// scheduledRuns makes n flow runs in SCHEDULED.
func scheduledRuns(t *testing.T, ctx context.Context, db *dbiface.Interface, n int) []uuid.UUID {
	t.Helper()
	flow := db.Flow.Create().SetName("group-" + uuid.NewString()).SaveX(ctx)
	ids := make([]uuid.UUID, n)
	for k := range ids {
		r := db.FlowRun.Create().SetName("r").SetFlow(flow).SaveX(ctx)
		if _, err := db.SetFlowRunState(ctx, r.ID, dbiface.StateTransition{Type: types.StateScheduled}); err != nil {
			t.Fatal(err)
		}
		ids[k] = r.ID
	}
	return ids
}

// TestGroupedTransitionsKeepTheirOwnOutcomes queues transitions of every
// outcome behind another connection's write lock, so that they are written
// in one group when it is released: applied ones, a rejected one (From), one
// for an unknown run, one that fails by itself (a trigger aborts its
// statement) and one that rolls the whole transaction back (a trigger
// raising ROLLBACK). Each caller gets its own outcome; the failing ones
// change nothing and the others are all applied.
func TestGroupedTransitionsKeepTheirOwnOutcomes(t *testing.T) {
	t.Parallel()
	db, hold := groupingDB(t)
	ctx := testutil.Context(t)
	runs := scheduledRuns(t, ctx, db, 6)
	// SQLite's own triggers: a state named "abort" fails its statement,
	// one named "rollback" rolls back the transaction it is in.
	for _, stmt := range []string{
		`CREATE TRIGGER test_abort BEFORE INSERT ON flow_run_state WHEN NEW.name = 'abort'
		 BEGIN SELECT RAISE(ABORT, 'aborted by the test trigger'); END`,
		`CREATE TRIGGER test_rollback BEFORE INSERT ON flow_run_state WHEN NEW.name = 'rollback'
		 BEGIN SELECT RAISE(ROLLBACK, 'rolled back by the test trigger'); END`,
	} {
		if _, err := db.Engine().ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	type call struct {
		name  string
		run   uuid.UUID
		tr    dbiface.StateTransition
		check func(err error) bool
	}
	pending := dbiface.StateTransition{Type: types.StatePending, From: []types.StateType{types.StateScheduled}}
	applied := func(err error) bool { return err == nil }
	calls := []call{
		{"applied 1", runs[0], pending, applied},
		{"aborted", runs[1], dbiface.StateTransition{Type: types.StatePending, Name: "abort"}, func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "aborted by the test trigger")
		}},
		{"applied 2", runs[2], pending, applied},
		{"rejected", runs[3], dbiface.StateTransition{Type: types.StateCompleted, From: []types.StateType{types.StateRunning}}, func(err error) bool {
			var rej *dbiface.TransitionRejectedError
			return errors.As(err, &rej) && rej.Current != nil && *rej.Current == types.StateScheduled
		}},
		{"unknown run", uuid.New(), pending, ent.IsNotFound},
		{"rolled back", runs[4], dbiface.StateTransition{Type: types.StatePending, Name: "rollback"}, func(err error) bool {
			return err != nil && strings.Contains(err.Error(), "rolled back by the test trigger")
		}},
		{"applied 3", runs[5], pending, applied},
	}
	errs, groups := writeQueued(t, db, hold, len(calls), func(k int) error {
		_, err := db.SetFlowRunState(ctx, calls[k].run, calls[k].tr)
		return err
	})
	for k, c := range calls {
		if !c.check(errs[k]) {
			t.Errorf("%s: SetFlowRunState = %v", c.name, errs[k])
		}
	}
	// One group for all, and one more for those the rollback took with it.
	if groups != 2 {
		t.Errorf("%d groups written; want 2 (all seven, then the six the rollback undid)", groups)
	}
	for k, id := range runs {
		run := db.FlowRun.GetX(ctx, id)
		n := db.FlowRunState.Query().Where(flowrunstate.FlowRunID(id)).CountX(ctx)
		want, wantStates := types.StatePending, 2
		if k == 1 || k == 3 || k == 4 {
			want, wantStates = types.StateScheduled, 1
		}
		if run.StateType == nil || *run.StateType != want || n != wantStates {
			t.Errorf("run %d: state %v with %d states; want %s with %d", k, run.StateType, n, want, wantStates)
		}
	}
}

// TestGroupedTransitionLeavesWhenItsContextEnds: a caller whose context
// ends while its transition waits for a group returns the context's error
// at once and changes nothing, even when it was the one waiting for the
// write lock on the group's behalf; the transitions waiting with it are
// written when the lock is free.
func TestGroupedTransitionLeavesWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	db, hold := groupingDB(t)
	ctx := testutil.Context(t)
	runs := scheduledRuns(t, ctx, db, 2)
	release := hold()
	leaderCtx, cancel := context.WithCancel(ctx)
	leader := make(chan error, 1)
	go func() {
		_, err := db.SetFlowRunState(leaderCtx, runs[0], dbiface.StateTransition{Type: types.StatePending})
		leader <- err
	}()
	waitForWaiting(t, db, 1)
	follower := make(chan error, 1)
	go func() {
		_, err := db.SetFlowRunState(ctx, runs[1], dbiface.StateTransition{Type: types.StatePending})
		follower <- err
	}()
	waitForWaiting(t, db, 2)
	cancel()
	// The write lock is still held: the leader's return proves that its
	// wait for the lock ended with its context.
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v; want context.Canceled", err)
	}
	waitForWaiting(t, db, 1)
	release()
	if err := <-follower; err != nil {
		t.Fatalf("the caller waiting with it: %v", err)
	}
	for k, want := range []types.StateType{types.StateScheduled, types.StatePending} {
		if run := db.FlowRun.GetX(ctx, runs[k]); run.StateType == nil || *run.StateType != want {
			t.Errorf("run %d is in %v; want %s", k, run.StateType, want)
		}
	}
}

// TestGroupedLogBatchesKeepTheirOwnOutcomes: log batches queued behind
// another connection's write lock are written in one group with a
// transition; a batch with a row that fails (a trigger aborts it) stores
// none of its rows and returns its own error, and the other batches and the
// transition are stored whole.
func TestGroupedLogBatchesKeepTheirOwnOutcomes(t *testing.T) {
	t.Parallel()
	db, hold := groupingDB(t)
	ctx := testutil.Context(t)
	runs := scheduledRuns(t, ctx, db, 1)
	if _, err := db.Engine().ExecContext(ctx, `CREATE TRIGGER test_abort_log BEFORE INSERT ON log WHEN NEW.message = 'abort'
		BEGIN SELECT RAISE(ABORT, 'log aborted by the test trigger'); END`); err != nil {
		t.Fatal(err)
	}
	batch := func(name string, bad bool) []dialects.LogRow {
		rows := make([]dialects.LogRow, 3)
		for k := range rows {
			rows[k] = dialects.LogRow{Name: name, Level: 20, FlowRunID: &runs[0], Message: "line", Timestamp: time.Now()}
		}
		if bad {
			rows[1].Message = "abort"
		}
		return rows
	}
	names := []string{"good-1", "bad", "good-2", "good-3"}
	// The last write is a transition, written in the same group.
	errs, groups := writeQueued(t, db, hold, len(names)+1, func(k int) error {
		if k == len(names) {
			_, err := db.SetFlowRunState(ctx, runs[0], dbiface.StateTransition{Type: types.StatePending})
			return err
		}
		return db.InsertLogs(ctx, batch(names[k], names[k] == "bad"))
	})
	for k, name := range names {
		n := db.LogEntry.Query().Where(logentry.Name(name)).CountX(ctx)
		switch {
		case name == "bad" && (errs[k] == nil || !strings.Contains(errs[k].Error(), "log aborted by the test trigger")):
			t.Errorf("the failing batch: %v; want its own error", errs[k])
		case name == "bad" && n != 0:
			t.Errorf("the failing batch stored %d of its rows; want none", n)
		case name != "bad" && (errs[k] != nil || n != 3):
			t.Errorf("batch %s: %v, %d rows stored; want 3", name, errs[k], n)
		}
	}
	if err := errs[len(names)]; err != nil {
		t.Errorf("the transition written with them: %v", err)
	}
	if groups != 1 {
		t.Errorf("%d groups written; want 1", groups)
	}
}

// TestGroupedSchedulingKeepsEachBatchWhole queues scheduling batches behind
// another connection's write lock, so that they are written in one group:
// the failing batch fails in its second statement (a trigger aborts the
// insert of its states, after its runs were inserted) and none of its runs
// stays; the other batches are stored whole, each run pointing at its one
// SCHEDULED state.
func TestGroupedSchedulingKeepsEachBatchWhole(t *testing.T) {
	t.Parallel()
	db, hold := groupingDB(t)
	ctx := testutil.Context(t)
	f, err := testutil.Seed(ctx, db.Client, "grouped-schedule")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Engine().ExecContext(ctx, `CREATE TRIGGER test_abort_state BEFORE INSERT ON flow_run_state
		WHEN NEW.message = 'abort' BEGIN SELECT RAISE(ABORT, 'state aborted by the test trigger'); END`); err != nil {
		t.Fatal(err)
	}
	batch := func(name string) []dialects.ScheduledFlowRunInsert {
		msg := "scheduled"
		if name == "bad" {
			msg = "abort"
		}
		runs := make([]dialects.ScheduledFlowRunInsert, 20)
		at := time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC)
		for k := range runs {
			key := name + " " + strconv.Itoa(k)
			runs[k] = dialects.ScheduledFlowRunInsert{FlowID: f.Flow.ID, Name: name, IdempotencyKey: &key,
				NextScheduledStartTime: at.Add(time.Duration(k) * time.Minute), StateMessage: &msg}
		}
		return runs
	}
	names := []string{"good-1", "bad", "good-2"}
	errs, groups := writeQueued(t, db, hold, len(names), func(k int) error {
		_, err := db.InsertScheduledFlowRuns(ctx, batch(names[k]))
		return err
	})
	for k, name := range names {
		runs := db.FlowRun.Query().Where(flowrun.Name(name)).WithStates().AllX(ctx)
		if name == "bad" {
			if errs[k] == nil || !strings.Contains(errs[k].Error(), "state aborted by the test trigger") {
				t.Errorf("the failing batch: %v; want its own error", errs[k])
			}
			if len(runs) != 0 {
				t.Errorf("the failing batch left %d of its runs; want none", len(runs))
			}
			continue
		}
		if errs[k] != nil || len(runs) != 20 {
			t.Errorf("batch %s: %v, %d runs stored; want 20", name, errs[k], len(runs))
		}
		for _, r := range runs {
			if len(r.Edges.States) != 1 || r.StateID == nil || *r.StateID != r.Edges.States[0].ID {
				t.Errorf("batch %s: run %s has %d states, pointer %v", name, r.ID, len(r.Edges.States), r.StateID)
			}
		}
	}
	if groups != 1 {
		t.Errorf("%d groups written; want 1", groups)
	}
}
