package dbiface_test

// Failover (issue 12): a primary and a streaming standby made by the test,
// one Interface on a multi-host URL with target_session_attrs=read-write,
// transitions and log inserts running while the primary stops and the
// standby is promoted.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/flow"
	"github.com/prefectdb/prefectdb/ent/flowrunstate"
	"github.com/prefectdb/prefectdb/internal/pgcluster"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// TestFailoverToPromotedStandby: the same Interface reaches the promoted
// standby without being reopened; every operation that fails while the
// primary is away (transitions, log batches, plain Ent creates) fails with
// a *dbiface.RetryableError or a *dbiface.OutcomeUnknownError (never
// anything else, never a hang); and everything that was reported committed
// is on the new primary afterwards: every returned state, every log batch,
// every created flow.
func TestFailoverToPromotedStandby(t *testing.T) {
	primary := pgcluster.StartWith(t, pgcluster.Options{Replication: true})
	ctx := testutil.Context(t)
	setup, err := dbiface.Open(ctx, dbiface.Config{URL: primary.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if err := setup.CreateDB(ctx); err != nil {
		t.Fatal(err)
	}
	_ = setup.Close()
	standby := primary.StartStandby(t)

	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/postgres?sslmode=disable&target_session_attrs=read-write",
		primary.Port(), standby.Port())
	db, err := dbiface.Open(ctx, dbiface.Config{URL: url, Options: config.Options{ConnectTimeout: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	parent := db.Flow.Create().SetName("failover").SaveX(ctx)
	runs := make([]uuid.UUID, 16)
	for k := range runs {
		runs[k] = db.FlowRun.Create().SetName("r").SetFlow(parent).SaveX(ctx).ID
	}

	type result struct {
		states     []uuid.UUID // returned by committed transitions
		logs       []uuid.UUID // ids of committed log batches' first rows
		flows      []uuid.UUID // flows created through the Ent client, autocommitted
		logRows    int
		retryable  int
		unknown    int
		unexpected []string
	}
	var (
		mu        sync.Mutex
		res       result
		promoted  atomic.Bool
		firstOKAt atomic.Int64 // unix nanos of the first success after promotion
		stop      = make(chan struct{})
		wg        sync.WaitGroup
	)
	classify := func(err error) {
		var retry *dbiface.RetryableError
		var unknown *dbiface.OutcomeUnknownError
		switch {
		case errors.As(err, &unknown):
			res.unknown++
		case errors.As(err, &retry):
			res.retryable++
		default:
			res.unexpected = append(res.unexpected, err.Error())
		}
	}
	success := func() {
		if promoted.Load() {
			firstOKAt.CompareAndSwap(0, time.Now().UnixNano())
		}
	}
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				opCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
				var err error
				if w%3 == 2 {
					var f *ent.Flow
					f, err = db.Flow.Create().SetName(fmt.Sprintf("failover-%d-%d", w, i)).Save(opCtx)
					mu.Lock()
					if err == nil {
						res.flows = append(res.flows, f.ID)
						success()
					} else {
						classify(err)
					}
					mu.Unlock()
				} else if w%3 == 0 {
					var st *ent.FlowRunState
					st, err = db.SetFlowRunState(opCtx, runs[(w*7+i)%len(runs)],
						dbiface.StateTransition{Type: [...]types.StateType{types.StatePending, types.StateRunning, types.StateCompleted}[i%3]})
					mu.Lock()
					if err == nil {
						res.states = append(res.states, st.ID)
						success()
					} else {
						classify(err)
					}
					mu.Unlock()
				} else {
					batch := make([]dialects.LogRow, 20)
					for k := range batch {
						batch[k] = dialects.LogRow{ID: uuid.New(), Name: "failover", Level: 20, Message: "m", Timestamp: time.Now()}
					}
					err = db.InsertLogs(opCtx, batch)
					mu.Lock()
					if err == nil {
						res.logs = append(res.logs, batch[0].ID)
						res.logRows += len(batch)
						success()
					} else {
						classify(err)
					}
					mu.Unlock()
				}
				cancel()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	finish := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer finish()

	time.Sleep(time.Second)
	mu.Lock()
	before := len(res.states) + len(res.logs)
	mu.Unlock()
	if before == 0 {
		t.Fatal("nothing succeeded before the failover")
	}
	stoppedAt := time.Now()
	if err := primary.Stop(pgcluster.Fast); err != nil {
		t.Fatal(err)
	}
	if err := standby.Promote(); err != nil {
		t.Fatal(err)
	}
	promoted.Store(true)
	promotedAt := time.Now()
	deadline := time.Now().Add(30 * time.Second)
	for firstOKAt.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no operation succeeded within 30 s of the promotion")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // run on the new primary a while
	finish()

	first := time.Unix(0, firstOKAt.Load())
	t.Logf("failover: primary stopped (fast) and standby promoted in %v; first success %v after the promotion, %v after the stop",
		promotedAt.Sub(stoppedAt).Round(time.Millisecond), first.Sub(promotedAt).Round(time.Millisecond), first.Sub(stoppedAt).Round(time.Millisecond))
	t.Logf("operations: %d transitions, %d log batches (%d rows) and %d flow creates (Ent) committed; %d retryable errors, %d outcome unknown, %d other",
		len(res.states), len(res.logs), res.logRows, len(res.flows), res.retryable, res.unknown, len(res.unexpected))
	if len(res.unexpected) > 0 {
		sort.Strings(res.unexpected)
		t.Errorf("%d errors were neither RetryableError nor OutcomeUnknownError, e.g. %s", len(res.unexpected), res.unexpected[0])
	}

	// Nothing reported committed is lost: check on the new primary.
	after, err := dbiface.Open(ctx, dbiface.Config{URL: standby.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close()
	var lost int
	for _, id := range res.states {
		if n, err := after.FlowRunState.Query().Where(flowrunstate.ID(id)).Count(ctx); err != nil || n != 1 {
			lost++
		}
	}
	for _, id := range res.flows {
		if n, err := after.Flow.Query().Where(flow.ID(id)).Count(ctx); err != nil || n != 1 {
			lost++
		}
	}
	var logRows int
	if err := after.Engine().QueryRowContext(ctx, "SELECT count(*) FROM log WHERE name = 'failover'").Scan(&logRows); err != nil {
		t.Fatal(err)
	}
	for _, id := range res.logs {
		var n int
		if err := after.Engine().QueryRowContext(ctx, "SELECT count(*) FROM log WHERE id = $1", id).Scan(&n); err != nil || n != 1 {
			lost++
		}
	}
	t.Logf("on the new primary: %d of %d committed states, %d log rows (%d committed, %d more from outcome-unknown batches at most)",
		len(res.states)-min(lost, len(res.states)), len(res.states), logRows, res.logRows, 20*res.unknown)
	if lost != 0 || logRows < res.logRows {
		t.Fatalf("lost %d committed operations; %d log rows stored, %d committed", lost, logRows, res.logRows)
	}
}
