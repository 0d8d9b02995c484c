package dbiface_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/flowrunstate"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// TestSetFlowRunStateBookkeeping moves a run through its life and checks
// every column a transition maintains.
func TestSetFlowRunStateBookkeeping(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		flow, err := db.Flow.Create().SetName("life").Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		run, err := db.FlowRun.Create().SetName("r").SetFlow(flow).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		base := time.Date(2024, 9, 13, 12, 0, 0, 0, time.UTC)
		steps := []struct {
			typ types.StateType
			at  time.Time
		}{
			{types.StateScheduled, base},
			{types.StatePending, base.Add(time.Second)},
			{types.StateRunning, base.Add(2 * time.Second)},
			{types.StatePaused, base.Add(5*time.Second + 250*time.Millisecond)},
			{types.StateRunning, base.Add(10 * time.Second)},
			{types.StateCompleted, base.Add(13*time.Second + 1500*time.Microsecond)},
		}
		var last *ent.FlowRunState
		for _, st := range steps {
			if last, err = db.SetFlowRunState(ctx, run.ID, dbiface.StateTransition{Type: st.typ, Timestamp: st.at}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.FlowRun.Get(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantTotal := 3*time.Second + 250*time.Millisecond + 3*time.Second + 1500*time.Microsecond
		switch {
		case got.StateID == nil || *got.StateID != last.ID:
			t.Fatalf("state pointer %v, want the last state %s", got.StateID, last.ID)
		case *got.StateType != types.StateCompleted || *got.StateName != "Completed" || !got.StateTimestamp.Equal(steps[5].at):
			t.Fatalf("state columns %v %v %v", *got.StateType, *got.StateName, got.StateTimestamp)
		case got.RunCount != 2:
			t.Fatalf("run count %d, want 2", got.RunCount)
		case got.StartTime == nil || !got.StartTime.Equal(steps[2].at):
			t.Fatalf("start time %v, want the first RUNNING %v", got.StartTime, steps[2].at)
		case got.EndTime == nil || !got.EndTime.Equal(steps[5].at):
			t.Fatalf("end time %v", got.EndTime)
		case time.Duration(got.TotalRunTime) != wantTotal:
			t.Fatalf("total run time %v, want %v", time.Duration(got.TotalRunTime), wantTotal)
		}
		// A timestamp that is not later than the current state's is moved
		// just after it: the history stays ordered.
		st, err := db.SetFlowRunState(ctx, run.ID, dbiface.StateTransition{Type: types.StateScheduled, Timestamp: base})
		if err != nil || !st.Timestamp.Equal(steps[5].at.Add(time.Microsecond)) {
			t.Fatalf("early timestamp: %v, %v", st, err)
		}
	})
}

// TestSetFlowRunStateReturnsStoredState checks that the state SetFlowRunState
// returns is the row it stored (it is built from the written values, not
// read back), that JSON is stored as Ent stores it (non-finite numbers as
// null, state_details {} by default, data NULL when absent), that the
// returned entity's edges are queryable, and that an unknown run is
// ent.IsNotFound.
func TestSetFlowRunStateReturnsStoredState(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		flow, err := db.Flow.Create().SetName("stored").Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		run, err := db.FlowRun.Create().SetName("r").SetFlow(flow).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		msg := "it's \"quoted\"; DROP TABLE flow_run; --"
		cases := []struct {
			name        string
			in          dbiface.StateTransition
			wantDetails map[string]any
			wantData    string
		}{
			{"defaults", dbiface.StateTransition{Type: types.StateScheduled}, map[string]any{}, ""},
			{"details, data, message", dbiface.StateTransition{Type: types.StatePending, Name: "Queued", Message: &msg,
				StateDetails: map[string]any{"cache_key": "k", "n": 2.5, "bad": math.NaN()},
				Data:         json.RawMessage(`{"type": "reference", "v": [1, 2]}`)},
				map[string]any{"cache_key": "k", "n": 2.5, "bad": nil}, `{"type":"reference","v":[1,2]}`},
		}
		for _, tc := range cases {
			st, err := db.SetFlowRunState(ctx, run.ID, tc.in)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			got, err := db.FlowRunState.Get(ctx, st.ID)
			if err != nil {
				t.Fatalf("%s: read back: %v", tc.name, err)
			}
			switch {
			case got.Type != st.Type || got.Name != st.Name || !got.Timestamp.Equal(st.Timestamp) ||
				!got.Created.Equal(st.Created) || !got.Updated.Equal(st.Updated) || got.FlowRunID != run.ID:
				t.Fatalf("%s: returned %+v, stored %+v", tc.name, st, got)
			case (got.Message == nil) != (tc.in.Message == nil) || (got.Message != nil && *got.Message != msg):
				t.Fatalf("%s: message %v", tc.name, got.Message)
			case !reflect.DeepEqual(got.StateDetails, tc.wantDetails):
				t.Fatalf("%s: state details %#v, want %#v", tc.name, got.StateDetails, tc.wantDetails)
			case tc.wantData == "" && got.Data != nil:
				t.Fatalf("%s: data %s, want NULL", tc.name, got.Data)
			}
			if tc.wantData != "" {
				var gotV, wantV any
				if err := errors.Join(json.Unmarshal(got.Data, &gotV), json.Unmarshal([]byte(tc.wantData), &wantV)); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(gotV, wantV) {
					t.Fatalf("%s: data %s, want %s", tc.name, got.Data, tc.wantData)
				}
			}
			owner, err := st.QueryFlowRun().Only(ctx)
			if err != nil || owner.ID != run.ID {
				t.Fatalf("%s: the returned state's flow run edge: %v, %v", tc.name, owner, err)
			}
			if wantName := tc.in.Name; wantName != "" && st.Name != wantName {
				t.Fatalf("%s: name %q", tc.name, st.Name)
			}
		}
		_, err = db.SetFlowRunState(ctx, uuid.New(), dbiface.StateTransition{Type: types.StateRunning})
		if !ent.IsNotFound(err) {
			t.Fatalf("unknown run: %v, want a not-found error", err)
		}
	})
}

// TestConcurrentProposalsExactlyOneWins: eight workers propose SCHEDULED →
// PENDING for the same run at once; exactly one is accepted.
func TestConcurrentProposalsExactlyOneWins(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		flow, _ := db.Flow.Create().SetName("race").Save(ctx)
		run, _ := db.FlowRun.Create().SetName("r").SetFlow(flow).Save(ctx)
		if _, err := db.SetFlowRunState(ctx, run.ID, dbiface.StateTransition{Type: types.StateScheduled}); err != nil {
			t.Fatal(err)
		}
		var won, rejected atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := db.SetFlowRunState(ctx, run.ID, dbiface.StateTransition{
					Type: types.StatePending, From: []types.StateType{types.StateScheduled}})
				var rej *dbiface.TransitionRejectedError
				switch {
				case err == nil:
					won.Add(1)
				case errors.As(err, &rej) && *rej.Current == types.StatePending:
					rejected.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if won.Load() != 1 || rejected.Load() != 7 {
			t.Fatalf("won %d, rejected %d; want 1 and 7", won.Load(), rejected.Load())
		}
		if n, _ := db.FlowRunState.Query().Where(flowrunstate.FlowRunID(run.ID)).Count(ctx); n != 2 {
			t.Fatalf("%d states, want 2 (SCHEDULED, PENDING)", n)
		}
	})
}

// cycle is the life the stress test's runs go round: each state's
// predecessor is the only state a transition to it is accepted from.
var cycle = []types.StateType{types.StateScheduled, types.StatePending, types.StateRunning, types.StateCompleted}

func predecessor(t types.StateType) types.StateType {
	for i, s := range cycle {
		if s == t {
			return cycle[(i+len(cycle)-1)%len(cycle)]
		}
	}
	panic("not in the cycle: " + string(t))
}

// TestConcurrentTransitionsKeepValidChains: 8 workers make many concurrent
// transition attempts on 50 runs, each proposing a random next state that is
// accepted only from its predecessor. Afterwards every run's history is a
// valid chain (each state follows its predecessor), nothing is lost or
// duplicated (accepted transitions = stored states), the pointer is the
// newest state, and no error but a rejection reached a worker. 8 × 1,000
// attempts by default, 8 × 5,000 with -long.
func TestConcurrentTransitionsKeepValidChains(t *testing.T) {
	attempts := 1000
	if *long {
		attempts = 5000
	}
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		flow, _ := db.Flow.Create().SetName("chains").Save(ctx)
		runs := make([]uuid.UUID, 50)
		for k := range runs {
			r, err := db.FlowRun.Create().SetName("r").SetFlow(flow).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.SetFlowRunState(ctx, r.ID, dbiface.StateTransition{Type: types.StateScheduled}); err != nil {
				t.Fatal(err)
			}
			runs[k] = r.ID
		}
		var accepted, rejected, failed atomic.Int64
		var firstErr atomic.Value
		started := time.Now()
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 42))
				for range attempts {
					to := cycle[rng.IntN(len(cycle))]
					_, err := db.SetFlowRunState(ctx, runs[rng.IntN(len(runs))],
						dbiface.StateTransition{Type: to, From: []types.StateType{predecessor(to)}})
					var rej *dbiface.TransitionRejectedError
					switch {
					case err == nil:
						accepted.Add(1)
					case errors.As(err, &rej):
						rejected.Add(1)
					default:
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err)
					}
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(started)
		t.Logf("%d attempts in %v: %d accepted (%.0f/s), %d rejected, %d failed",
			8*attempts, elapsed, accepted.Load(), float64(accepted.Load())/elapsed.Seconds(), rejected.Load(), failed.Load())
		if failed.Load() > 0 {
			t.Fatalf("%d transitions failed; first: %v", failed.Load(), firstErr.Load())
		}
		stored := 0
		for _, id := range runs {
			history, err := db.FlowRunState.Query().Where(flowrunstate.FlowRunID(id)).
				Order(ent.Asc(flowrunstate.FieldTimestamp)).All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			stored += len(history) - 1 // the initial SCHEDULED
			running := 0
			for k, s := range history {
				if k > 0 && history[k-1].Type != predecessor(s.Type) {
					t.Fatalf("run %s: %s followed by %s", id, history[k-1].Type, s.Type)
				}
				if s.Type == types.StateRunning {
					running++
				}
			}
			run, err := db.FlowRun.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			newest := history[len(history)-1]
			if run.StateID == nil || *run.StateID != newest.ID || *run.StateType != newest.Type || run.RunCount != running {
				t.Fatalf("run %s: pointer %v type %v run count %d; newest state %s %s, %d RUNNING states",
					id, run.StateID, run.StateType, run.RunCount, newest.ID, newest.Type, running)
			}
		}
		if int64(stored) != accepted.Load() {
			t.Fatalf("%d states stored, %d transitions accepted", stored, accepted.Load())
		}
	})
}

// TestRetryableErrorsAreTyped: a lock timeout inside a transaction (a
// refusal that a retry may cure) reaches the caller as *RetryableError.
func TestRetryableErrorsAreTyped(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		if !db.Dialect().RowLocks() {
			t.Skip("SQLite: this process's writers queue on one connection and are never refused; " +
				"the busy case is covered by TestConcurrentReadThenWriteTransactions")
		}
		ctx := testutil.Context(t)
		flow, _ := db.Flow.Create().SetName("locked").Save(ctx)
		held := make(chan struct{})
		release := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- db.Transaction(ctx, dbiface.ForUpdate, func(ctx context.Context, s *dbiface.Session) error {
				if err := s.Flow.UpdateOneID(flow.ID).SetName("held").Exec(ctx); err != nil {
					return err
				}
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		err := db.Transaction(ctx, dbiface.ForUpdate, func(ctx context.Context, s *dbiface.Session) error {
			if _, err := s.ExecContext(ctx, "SET LOCAL lock_timeout = '100ms'"); err != nil {
				return err
			}
			return s.Flow.UpdateOneID(flow.ID).SetName("blocked").Exec(ctx)
		})
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		var retryable *dbiface.RetryableError
		if !errors.As(err, &retryable) || !db.Dialect().IsRetryable(err) {
			t.Fatalf("lock timeout: %v (%T); want a *dbiface.RetryableError", err, err)
		}
	})
}
