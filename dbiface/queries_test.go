package dbiface_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent/flowrun"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// TestConcurrentPollersNeverShareARun: 8 workers poll one work pool at once,
// each in a WithForUpdate transaction that moves the runs it receives to
// PENDING. Every scheduled run is handed out, and none twice.
func TestConcurrentPollersNeverShareARun(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		f, err := testutil.Seed(ctx, db.Client, "poll")
		if err != nil {
			t.Fatal(err)
		}
		queues := []uuid.UUID{f.WorkQueue.ID}
		for k := 0; k < 2; k++ {
			q, err := db.WorkQueue.Create().SetName("q" + string(rune('a'+k))).SetWorkPool(f.WorkPool).SetPriority(k + 2).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			queues = append(queues, q.ID)
		}
		const runs = 300
		now := time.Now().UTC()
		var inserts []dialects.ScheduledFlowRunInsert
		for k := 0; k < runs; k++ {
			at := now.Add(time.Duration(k-runs) * time.Second)
			key := uuid.NewString()
			inserts = append(inserts, dialects.ScheduledFlowRunInsert{
				FlowID: f.Flow.ID, DeploymentID: &f.Deployment.ID, WorkQueueID: &queues[k%len(queues)],
				Name: "poll", IdempotencyKey: &key, NextScheduledStartTime: at, ExpectedStartTime: at,
			})
		}
		var inserted []uuid.UUID
		if err := db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
			inserted, err = s.InsertScheduledFlowRuns(ctx, inserts)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(inserted) != runs {
			t.Fatalf("inserted %d runs, want %d", len(inserted), runs)
		}

		var mu sync.Mutex
		handed := map[uuid.UUID]int{}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				five := 5
				for {
					var got []dbiface.WorkerFlowRun
					err := db.Transaction(ctx, dbiface.ForUpdate, func(ctx context.Context, s *dbiface.Session) error {
						var err error
						got, err = s.GetScheduledFlowRunsFromWorkPool(ctx, dialects.WorkPoolRunsQuery{
							WorkPoolIDs: []uuid.UUID{f.WorkPool.ID}, Limit: &five, RespectQueuePriorities: true,
						})
						if err != nil || len(got) == 0 {
							return err
						}
						ids := make([]uuid.UUID, len(got))
						for k, r := range got {
							ids[k] = r.FlowRun.ID
						}
						return s.FlowRun.Update().Where(flowrun.IDIn(ids...)).SetStateType(types.StatePending).Exec(ctx)
					})
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, r := range got {
						handed[r.FlowRun.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("poller: %v", err)
		}
		for _, id := range inserted {
			if handed[id] != 1 {
				t.Fatalf("run %s handed out %d times", id, handed[id])
			}
		}
		if len(handed) != runs {
			t.Fatalf("%d distinct runs handed out, want %d", len(handed), runs)
		}
	})
}

// TestSessionQueryComponents exercises the query components through the
// interface: scheduled-run idempotency, the graph, the configuration cache.
func TestSessionQueryComponents(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		f, err := testutil.Seed(ctx, db.Client, "components")
		if err != nil {
			t.Fatal(err)
		}
		key := "k1"
		at := time.Now().UTC()
		run := []dialects.ScheduledFlowRunInsert{{FlowID: f.Flow.ID, Name: "once", IdempotencyKey: &key,
			NextScheduledStartTime: at, ExpectedStartTime: at}}
		err = db.SessionContext(ctx, dbiface.SessionOptions{BeginTransaction: true}, func(ctx context.Context, s *dbiface.Session) error {
			for round := 0; round < 2; round++ {
				ids, err := s.InsertScheduledFlowRuns(ctx, run)
				if err != nil {
					return err
				}
				if want := 1 - round; len(ids) != want {
					t.Errorf("round %d inserted %d runs, want %d", round, len(ids), want)
				}
			}
			g, err := s.FlowRunGraph(ctx, dialects.GraphQuery{FlowRunID: f.FlowRun.ID, MaxNodes: 100, MaxArtifacts: 100})
			if err != nil {
				return err
			}
			if len(g.States) != 3 {
				t.Errorf("graph states = %d, want 3", len(g.States))
			}
			v, ok, err := s.ReadConfigurationValue(ctx, f.Configuration.Key)
			if err != nil || !ok {
				t.Errorf("configuration value: ok=%v err=%v", ok, err)
			}
			var decoded any
			if err := json.Unmarshal(v, &decoded); err != nil {
				t.Errorf("configuration value %s: %v", v, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A cached value survives the row's deletion until the key is cleared.
		if err := db.Configuration.DeleteOneID(f.Configuration.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		err = db.SessionContext(ctx, dbiface.SessionOptions{}, func(ctx context.Context, s *dbiface.Session) error {
			if _, ok, err := s.ReadConfigurationValue(ctx, f.Configuration.Key); err != nil || !ok {
				t.Errorf("cached value after the row was deleted: ok=%v err=%v", ok, err)
			}
			db.ClearConfigurationValueCacheForKey(f.Configuration.Key)
			if _, ok, err := s.ReadConfigurationValue(ctx, f.Configuration.Key); err != nil || ok {
				t.Errorf("value after clearing the cache: ok=%v err=%v", ok, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestConcurrentSchedulingIsIdempotent: four schedulers insert the same
// deployment window at once (the same idempotency keys), in transactions of
// their own or outside any (Interface.InsertScheduledFlowRuns): every slot
// gets exactly one run, with exactly one SCHEDULED state that its pointer
// names.
func TestConcurrentSchedulingIsIdempotent(t *testing.T) {
	for _, how := range []string{"transaction", "no transaction"} {
		t.Run(how, func(t *testing.T) { testConcurrentScheduling(t, how == "transaction") })
	}
}

func testConcurrentScheduling(t *testing.T, inTransaction bool) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		f, err := testutil.Seed(ctx, db.Client, "sched")
		if err != nil {
			t.Fatal(err)
		}
		base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		window := func() []dialects.ScheduledFlowRunInsert {
			var out []dialects.ScheduledFlowRunInsert
			for k := 0; k < 600; k++ {
				at := base.Add(time.Duration(k) * time.Hour)
				key := "scheduled " + f.Deployment.ID.String() + " " + at.Format(time.RFC3339)
				out = append(out, dialects.ScheduledFlowRunInsert{FlowID: f.Flow.ID, DeploymentID: &f.Deployment.ID,
					WorkQueueID: &f.WorkQueue.ID, Name: "slot", IdempotencyKey: &key, AutoScheduled: true,
					NextScheduledStartTime: at, ExpectedStartTime: at})
			}
			return out
		}
		inserted := make([]int, 4)
		var wg sync.WaitGroup
		for k := range inserted {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if inTransaction {
					err = db.TransactionWithRetry(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
						ids, err := s.InsertScheduledFlowRuns(ctx, window())
						inserted[k] = len(ids)
						return err
					})
				} else {
					var ids []uuid.UUID
					ids, err = db.InsertScheduledFlowRuns(ctx, window())
					inserted[k] = len(ids)
				}
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		total := 0
		for _, n := range inserted {
			total += n
		}
		if total != 600 {
			t.Fatalf("schedulers inserted %v runs, %d in all; want 600 in all", inserted, total)
		}
		runs, err := db.FlowRun.Query().Where(flowrun.Name("slot")).WithStates().All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		keys := map[string]bool{}
		for _, r := range runs {
			if keys[*r.IdempotencyKey] {
				t.Fatalf("duplicate run for %s", *r.IdempotencyKey)
			}
			keys[*r.IdempotencyKey] = true
			if len(r.Edges.States) != 1 || r.StateID == nil || *r.StateID != r.Edges.States[0].ID ||
				r.Edges.States[0].Type != types.StateScheduled {
				t.Fatalf("run %s: %d states, pointer %v", r.ID, len(r.Edges.States), r.StateID)
			}
		}
		if len(runs) != 600 {
			t.Fatalf("%d runs stored, want 600", len(runs))
		}
	})
}

// TestSchedulingOutsideATransactionIsAllOrNothing: outside a caller's
// transaction a batch of scheduled runs is written whole or not at all,
// through the interface and through a session without a transaction, with a
// batch on either side of each size where the path changes (PostgreSQL: one
// autocommitted statement up to ScheduledRunsPerStatement runs, a
// transaction of its own above; SQLite: the write group up to
// GroupedScheduleRuns, a transaction of its own above) and one of several
// statements: a run of an unknown flow at the end of the batch (in its last
// statement) fails it, and none of its runs or states is stored; the valid
// batch is stored with one SCHEDULED state per run that its pointer names,
// and repeated inserts nothing.
func TestSchedulingOutsideATransactionIsAllOrNothing(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		f, err := testutil.Seed(ctx, db.Client, "atomic")
		if err != nil {
			t.Fatal(err)
		}
		// 2,500 runs take several statements on both databases (PostgreSQL:
		// 1,000 runs a statement; SQLite: its parameter limit).
		const several = 2500
		if per := db.Queries().ScheduledRunsPerStatement(); per != 0 && (per < 10 || per >= several) {
			t.Fatalf("ScheduledRunsPerStatement = %d, want 0 or 10 to %d", per, several-1)
		}
		paths := map[string]func([]dialects.ScheduledFlowRunInsert) ([]uuid.UUID, error){
			"interface": func(runs []dialects.ScheduledFlowRunInsert) ([]uuid.UUID, error) {
				return db.InsertScheduledFlowRuns(ctx, runs)
			},
			"session": func(runs []dialects.ScheduledFlowRunInsert) (ids []uuid.UUID, err error) {
				err = db.SessionContext(ctx, dbiface.SessionOptions{}, func(ctx context.Context, s *dbiface.Session) error {
					ids, err = s.InsertScheduledFlowRuns(ctx, runs)
					return err
				})
				return ids, err
			},
		}
		sizes := []int{10, dbiface.GroupedScheduleRuns, dbiface.GroupedScheduleRuns + 1, several}
		if per := db.Queries().ScheduledRunsPerStatement(); per != 0 {
			sizes = append(sizes, per, per+1)
		}
		slices.Sort(sizes)
		sizes = slices.Compact(sizes)
		for path, insert := range paths {
			for _, n := range sizes {
				name := fmt.Sprintf("%s %d", path, n)
				batch := func(flow uuid.UUID) []dialects.ScheduledFlowRunInsert {
					out := make([]dialects.ScheduledFlowRunInsert, n)
					at := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
					for k := range out {
						key := fmt.Sprintf("%s %d", name, k)
						out[k] = dialects.ScheduledFlowRunInsert{FlowID: f.Flow.ID, WorkQueueID: &f.WorkQueue.ID,
							Name: name, IdempotencyKey: &key, NextScheduledStartTime: at.Add(time.Duration(k) * time.Minute)}
					}
					out[n-1].FlowID = flow
					return out
				}
				if _, err := insert(batch(uuid.New())); err == nil {
					t.Fatalf("%s: a run of an unknown flow was accepted", name)
				}
				if got := db.FlowRun.Query().Where(flowrun.Name(name)).CountX(ctx); got != 0 {
					t.Fatalf("%s: the failed batch left %d of its runs", name, got)
				}
				ids, err := insert(batch(f.Flow.ID))
				if err != nil || len(ids) != n {
					t.Fatalf("%s: inserted %d runs (%v), want %d", name, len(ids), err, n)
				}
				if ids, err := insert(batch(f.Flow.ID)); err != nil || len(ids) != 0 {
					t.Fatalf("%s: repeated, inserted %d runs (%v), want 0", name, len(ids), err)
				}
				runs := db.FlowRun.Query().Where(flowrun.Name(name)).WithStates().AllX(ctx)
				if len(runs) != n {
					t.Fatalf("%s: %d runs stored, want %d", name, len(runs), n)
				}
				for _, r := range runs {
					if len(r.Edges.States) != 1 || r.StateID == nil || *r.StateID != r.Edges.States[0].ID ||
						r.Edges.States[0].Type != types.StateScheduled {
						t.Fatalf("%s: run %s has %d states, pointer %v", name, r.ID, len(r.Edges.States), r.StateID)
					}
				}
			}
		}
	})
}

// TestWorkPoolPollReturnsWholeRuns: the poll reads the runs in the same
// statement that selects them. Each returned run equals the row Ent reads,
// in the order and with the pool and queue of the dialect's id-only query,
// with and without queue priorities.
func TestWorkPoolPollReturnsWholeRuns(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		f, err := testutil.Seed(ctx, db.Client, "whole")
		if err != nil {
			t.Fatal(err)
		}
		low, err := db.WorkQueue.Create().SetName("low").SetWorkPool(f.WorkPool).SetPriority(50).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		queues := []uuid.UUID{f.WorkQueue.ID, low.ID}
		base := time.Date(2024, 9, 13, 12, 0, 0, 0, time.UTC)
		var inserts []dialects.ScheduledFlowRunInsert
		for k := 0; k < 12; k++ {
			at := base.Add(time.Duration(k) * time.Minute)
			key := uuid.NewString()
			inserts = append(inserts, dialects.ScheduledFlowRunInsert{
				FlowID: f.Flow.ID, DeploymentID: &f.Deployment.ID, WorkQueueID: &queues[k%2],
				Name: "whole", IdempotencyKey: &key, NextScheduledStartTime: at, ExpectedStartTime: at,
				Parameters: map[string]any{"k": float64(k)}, Tags: []string{"t"},
			})
		}
		if err := db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
			_, err := s.InsertScheduledFlowRuns(ctx, inserts)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, priorities := range []bool{false, true} {
			limit := 7
			q := dialects.WorkPoolRunsQuery{WorkPoolIDs: []uuid.UUID{f.WorkPool.ID}, Limit: &limit, RespectQueuePriorities: priorities}
			var got []dbiface.WorkerFlowRun
			var want []dialects.ScheduledRun
			if err := db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
				if got, err = s.GetScheduledFlowRunsFromWorkPool(ctx, q); err != nil {
					return err
				}
				want, err = db.Dialect().ScheduledFlowRunsFromWorkPool(ctx, s.Client, q)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != limit || len(want) != limit {
				t.Fatalf("priorities %v: %d runs and %d ids, want %d", priorities, len(got), len(want), limit)
			}
			for k, r := range got {
				if r.FlowRun.ID != want[k].FlowRunID || r.WorkPoolID != want[k].WorkPoolID || r.WorkQueueID != want[k].WorkQueueID {
					t.Fatalf("priorities %v, row %d: %s/%s/%s, want %+v", priorities, k, r.WorkPoolID, r.WorkQueueID, r.FlowRun.ID, want[k])
				}
				read, err := db.FlowRun.Get(ctx, r.FlowRun.ID)
				if err != nil {
					t.Fatal(err)
				}
				a, _ := json.Marshal(r.FlowRun)
				b, _ := json.Marshal(read)
				if string(a) != string(b) {
					t.Fatalf("priorities %v, row %d:\n poll %s\n read %s", priorities, k, a, b)
				}
				if flow, err := r.FlowRun.Unwrap().QueryFlow().Only(ctx); err != nil || flow.ID != f.Flow.ID {
					t.Fatalf("the polled run's flow edge: %v, %v", flow, err)
				}
			}
			if priorities && *got[0].FlowRun.WorkQueueID != f.WorkQueue.ID {
				t.Fatalf("with priorities the first run comes from queue %s, want the priority-1 queue %s",
					*got[0].FlowRun.WorkQueueID, f.WorkQueue.ID)
			}
		}
	})
}
