package dbiface_test

// Server faults on PostgreSQL (issue 6, item 5): a server crash and restart
// in the middle of a transition workload, and an exhausted connection pool.
// The crash test starts its own throwaway cluster (internal/pgcluster), so
// no other database is disturbed.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/flowrunstate"
	"github.com/prefectdb/prefectdb/internal/pgcluster"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// faultKind names the kind of a connection-level failure, and says whether
// the transaction's outcome is unknown (the connection failed during
// COMMIT, which may or may not have been applied). It returns "" for an
// error that a server outage does not explain.
func faultKind(err error) (kind string, commitUnknown bool) {
	commitUnknown = strings.Contains(err.Error(), "dbiface: commit:")
	var pgErr *pgconn.PgError
	var connectErr *pgconn.ConnectError
	var retryable *dbiface.RetryableError
	var unknown *dbiface.OutcomeUnknownError
	var netErr *net.OpError
	switch {
	case errors.As(err, &unknown):
		kind, commitUnknown = "outcome unknown", true
	case errors.As(err, &retryable):
		kind = "retryable"
	case errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "57P") || strings.HasPrefix(pgErr.Code, "08")):
		// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now,
		// 08xxx connection_exception; on connect or on a live connection.
		kind = "server " + pgErr.Code
		if errors.As(err, &connectErr) {
			kind = "connect: " + kind
		}
	case errors.As(err, &connectErr) && errors.Is(err, syscall.ECONNREFUSED):
		kind = "connect: refused"
	case errors.As(err, &connectErr) && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)):
		kind = "connect: reset"
	case errors.As(err, &connectErr):
		kind = "connect: other"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.As(err, &netErr):
		kind = "connection lost"
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), strings.Contains(err.Error(), "conn closed"):
		kind = "connection closed"
	default:
		return "", commitUnknown
	}
	if commitUnknown {
		kind = "commit: " + kind
	}
	return kind, commitUnknown
}

// faultStats is what the workers of TestServerRestartDuringTransitions saw.
type faultStats struct {
	mu             sync.Mutex
	accepted       [3]int // by the phase the call began in: up, crashed or down, restarted
	rejected       int
	errors         map[string]int
	examples       map[string]string
	unexpected     []string
	commitUnknown  int
	maxLatency     time.Duration
	lastErrorAt    time.Time
	firstSuccessAt time.Time // first success in phase 2
}

// TestServerRestartDuringTransitions crashes the PostgreSQL server (pg_ctl
// stop -m immediate) while 8 workers make state transitions on 50 runs, and
// starts it again a second later. The same Interface, never reopened, must
// reconnect by itself; every error a worker sees must be a connection error
// (or a RetryableError), never a hang; IsDBConnectable must be false while
// the server is down and true after; and afterwards every run's history must
// be a valid chain whose newest state is the run's pointer, with the run
// count matching its RUNNING states: no transaction was applied in part.
// The stored transitions are the accepted ones, plus at most those whose
// COMMIT failed with the connection (their outcome is unknown to the
// worker). Last, a quick restart while the pool is idle costs at most one
// failed operation per pooled connection.
func TestServerRestartDuringTransitions(t *testing.T) {
	cluster := pgcluster.Start(t)
	ctx := testutil.Context(t)
	const connectTimeout = 2 * time.Second
	db, err := dbiface.Open(ctx, dbiface.Config{URL: cluster.URL(), Options: config.Options{ConnectTimeout: connectTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.CreateDB(ctx); err != nil {
		t.Fatal(err)
	}
	flow, err := db.Flow.Create().SetName("faults").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
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

	var phase atomic.Int32 // 0 up, 1 crashed, 2 restarted
	st := &faultStats{errors: map[string]int{}, examples: map[string]string{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				select {
				case <-stop:
					return
				default:
				}
				to := cycle[rng.IntN(len(cycle))]
				// No single call may take this long: longer is a hang.
				opCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
				p := phase.Load()
				began := time.Now()
				_, err := db.SetFlowRunState(opCtx, runs[rng.IntN(len(runs))],
					dbiface.StateTransition{Type: to, From: []types.StateType{predecessor(to)}})
				took := time.Since(began)
				pEnd := phase.Load() // an error belongs to the phase it returned in
				cancel()
				var rej *dbiface.TransitionRejectedError
				st.mu.Lock()
				st.maxLatency = max(st.maxLatency, took)
				switch {
				case err == nil:
					st.accepted[p]++
					if p == 2 && st.firstSuccessAt.IsZero() {
						st.firstSuccessAt = time.Now()
					}
				case errors.As(err, &rej):
					st.rejected++
				default:
					st.lastErrorAt = time.Now()
					kind, unknown := faultKind(err)
					if kind == "" {
						st.unexpected = append(st.unexpected, fmt.Sprintf("phase %d after %v: %v", pEnd, took, err))
						kind = "UNEXPECTED"
					}
					if unknown {
						st.commitUnknown++
					}
					k := fmt.Sprintf("%-7s %s", [...]string{"up", "down", "back"}[pEnd], kind)
					st.errors[k]++
					if _, ok := st.examples[k]; !ok {
						st.examples[k] = err.Error()
					}
				}
				st.mu.Unlock()
				if err != nil && !errors.As(err, &rej) {
					time.Sleep(5 * time.Millisecond) // back off while the server is away
				}
			}
		}()
	}
	finish := func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}
	defer finish()
	snapshot := func() (accepted [3]int) {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.accepted
	}
	connectable := func() (bool, time.Duration) {
		began := time.Now()
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		ok := db.IsDBConnectable(c)
		return ok, time.Since(began)
	}

	// Up: let the workload run.
	time.Sleep(1500 * time.Millisecond)
	if a := snapshot(); a[0] == 0 {
		t.Fatal("no transition succeeded before the crash")
	}

	// Crash, stay down about a second, start again.
	phase.Store(1)
	crashedAt := time.Now()
	if err := cluster.Stop(pgcluster.Immediate); err != nil {
		t.Fatal(err)
	}
	stopTook := time.Since(crashedAt)
	ok1, took1 := connectable()
	time.Sleep(time.Second - time.Since(crashedAt))
	ok2, took2 := connectable()
	if ok1 || ok2 {
		t.Errorf("IsDBConnectable while the server is down: %v, %v; want false", ok1, ok2)
	}
	downFor := time.Since(crashedAt)
	startIssued := time.Now()
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	startReturned := time.Now()
	phase.Store(2)
	ok3, took3 := connectable()
	if !ok3 {
		t.Errorf("IsDBConnectable after the restart: false, want true")
	}
	t.Logf("crash (pg_ctl stop -m immediate) took %v; down %v; pg_ctl start (crash recovery) took %v",
		stopTook.Round(time.Millisecond), downFor.Round(time.Millisecond), startReturned.Sub(startIssued).Round(time.Millisecond))
	t.Logf("IsDBConnectable: down %v (%v), down %v (%v), restarted %v (%v)",
		ok1, took1.Round(time.Millisecond), ok2, took2.Round(time.Millisecond), ok3, took3.Round(time.Millisecond))

	// Back: the same Interface must recover by itself.
	deadline := time.Now().Add(15 * time.Second)
	for {
		st.mu.Lock()
		first := st.firstSuccessAt
		st.mu.Unlock()
		if !first.IsZero() {
			t.Logf("recovery: first successful transition %v after pg_ctl start returned (%v after it was issued, %v after the crash)",
				first.Sub(startReturned).Round(time.Millisecond), first.Sub(startIssued).Round(time.Millisecond),
				first.Sub(crashedAt).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			finish()
			t.Fatalf("no transition succeeded within 15 s of the restart; errors: %v", st.errors)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	finish()

	st.mu.Lock()
	defer st.mu.Unlock()
	accepted := st.accepted[0] + st.accepted[1] + st.accepted[2]
	t.Logf("transitions accepted (by the phase they began in): %d before the crash, %d during the crash or while down, %d after the restart; %d rejected (From)",
		st.accepted[0], st.accepted[1], st.accepted[2], st.rejected)
	kinds := make([]string, 0, len(st.errors))
	for k := range st.errors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		t.Logf("errors %s: %d (e.g. %s)", k, st.errors[k], st.examples[k])
	}
	if !st.lastErrorAt.IsZero() {
		t.Logf("last error %v after the crash (pg_ctl start returned %v after it); slowest call %v; commit outcome unknown: %d",
			st.lastErrorAt.Sub(crashedAt).Round(time.Millisecond), startReturned.Sub(crashedAt).Round(time.Millisecond),
			st.maxLatency.Round(time.Millisecond), st.commitUnknown)
	}
	if len(st.unexpected) > 0 {
		t.Errorf("%d errors that a server outage does not explain; first: %s", len(st.unexpected), st.unexpected[0])
	}
	// Every error of the outage reaches the caller typed: retryable, or
	// outcome unknown where the connection broke after the statement was
	// sent.
	for _, k := range kinds {
		if !strings.HasSuffix(k, " retryable") && !strings.HasSuffix(k, " outcome unknown") {
			t.Errorf("untyped errors during the outage: %s: %d (e.g. %s)", k, st.errors[k], st.examples[k])
		}
	}
	for _, k := range kinds {
		if strings.HasPrefix(k, "up ") {
			t.Errorf("errors before the crash: %s: %d (e.g. %s)", k, st.errors[k], st.examples[k])
		}
	}
	if st.maxLatency > 2*connectTimeout+5*time.Second {
		t.Errorf("a transition call took %v: a hang, not a prompt error", st.maxLatency)
	}
	if st.accepted[2] < 50 {
		t.Errorf("only %d transitions succeeded after the restart: the Interface did not recover", st.accepted[2])
	}
	if !st.lastErrorAt.IsZero() && st.lastErrorAt.Sub(startReturned) > 5*time.Second {
		t.Errorf("errors went on %v after the restart", st.lastErrorAt.Sub(startReturned))
	}

	// Every transaction committed whole or not at all.
	vctx := testutil.Context(t)
	stored, broken := 0, 0
	for _, id := range runs {
		history, err := db.FlowRunState.Query().Where(flowrunstate.FlowRunID(id)).
			Order(ent.Asc(flowrunstate.FieldTimestamp)).All(vctx)
		if err != nil {
			t.Fatal(err)
		}
		stored += len(history) - 1 // the initial SCHEDULED
		running := 0
		for k, s := range history {
			if k > 0 && history[k-1].Type != predecessor(s.Type) {
				t.Errorf("run %s: %s followed by %s (a state stored without its pointer update?)", id, history[k-1].Type, s.Type)
				broken++
			}
			if s.Type == types.StateRunning {
				running++
			}
		}
		run, err := db.FlowRun.Get(vctx, id)
		if err != nil {
			t.Fatal(err)
		}
		newest := history[len(history)-1]
		if run.StateID == nil || *run.StateID != newest.ID || *run.StateType != newest.Type ||
			run.StateTimestamp == nil || !run.StateTimestamp.Equal(newest.Timestamp) || run.RunCount != running {
			t.Errorf("run %s: pointer %v type %v at %v, run count %d; newest state %s %s at %v, %d RUNNING states",
				id, run.StateID, run.StateType, run.StateTimestamp, run.RunCount, newest.ID, newest.Type, newest.Timestamp, running)
			broken++
		}
	}
	t.Logf("chains: %d runs checked, %d broken; %d transitions stored = %d accepted + %d of %d whose commit outcome was unknown",
		len(runs), broken, stored, accepted, stored-accepted, st.commitUnknown)
	if stored < accepted || stored > accepted+st.commitUnknown {
		t.Errorf("%d transitions stored; want between %d accepted and %d (+ commit outcome unknown)",
			stored, accepted, accepted+st.commitUnknown)
	}

	// A quick restart while the pool is idle: the pool pings every
	// connection before handing it out (Prefect's pool_pre_ping), so no
	// operation gets a connection that died with the server.
	var warm sync.WaitGroup
	for range 8 {
		warm.Add(1)
		go func() {
			defer warm.Done()
			_, _ = db.Engine().ExecContext(vctx, "SELECT pg_sleep(0.05)")
		}()
	}
	warm.Wait()
	if err := cluster.Restart(pgcluster.Fast, 0); err != nil {
		t.Fatal(err)
	}
	limit := config.Options{}.MaxOpenConns()
	failed := 0
	for {
		_, err := db.FlowRun.Query().Count(vctx)
		if err == nil {
			break
		}
		if kind, _ := faultKind(err); kind == "" {
			t.Fatalf("after an idle restart: %v", err)
		}
		if failed++; failed > 0 {
			t.Fatalf("after an idle restart an operation failed on a dead pooled connection (pool of %d): %v", limit, err)
		}
	}
	for range 20 {
		if _, err := db.FlowRun.Query().Count(vctx); err != nil {
			t.Fatalf("after an idle restart, once a query had succeeded: %v", err)
		}
	}
	t.Logf("idle restart (pg_ctl restart -m fast): %d operations failed on dead pooled connections before the first success, then 20 of 20 succeeded", failed)
}

// TestPoolExhaustionTimesOut holds every connection of a two-connection
// pool in open transactions. A further operation with a 1 s deadline fails
// within about that second with a deadline error, instead of hanging; once
// the transactions end, the pool works again. Without a deadline the
// operation waits for a connection (there is no acquire timeout yet): the
// test records how long, and checks that it then completes.
func TestPoolExhaustionTimesOut(t *testing.T) {
	url := testutil.MigratedPostgres(t)
	ctx := testutil.Context(t)
	const connectTimeout = 2 * time.Second
	const poolTimeout = 1500 * time.Millisecond
	db, err := dbiface.Open(ctx, dbiface.Config{URL: url,
		Options: config.Options{PoolSize: 2, MaxOverflow: -1, ConnectTimeout: connectTimeout, PoolTimeout: poolTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	flow, err := db.Flow.Create().SetName("pool").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	run, err := db.FlowRun.Create().SetName("r").SetFlow(flow).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Hold both connections.
	release := make(chan struct{})
	holding := make(chan struct{})
	var held sync.WaitGroup
	holdErrs := make(chan error, 2)
	for range 2 {
		held.Add(1)
		go func() {
			defer held.Done()
			holdErrs <- db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
				if _, err := s.Flow.Query().Count(ctx); err != nil {
					return err
				}
				holding <- struct{}{}
				<-release
				return nil
			})
		}()
	}
	released := false
	releaseAll := func() {
		if !released {
			released = true
			close(release)
			held.Wait()
		}
	}
	defer releaseAll()
	for range 2 {
		select {
		case <-holding:
		case <-time.After(10 * time.Second):
			t.Fatal("could not take both connections of the pool")
		}
	}
	if s := db.Engine().Stats(); s.InUse != 2 {
		t.Fatalf("pool: %d in use; want 2 (the pool's limit)", s.InUse)
	}

	// With a deadline: a query and a transition each fail within ~1 s.
	const wait = time.Second
	for _, op := range []struct {
		name string
		fn   func(ctx context.Context) error
	}{
		{"query", func(ctx context.Context) error { _, err := db.FlowRun.Query().Count(ctx); return err }},
		{"SetFlowRunState", func(ctx context.Context) error {
			_, err := db.SetFlowRunState(ctx, run.ID, dbiface.StateTransition{Type: types.StateScheduled})
			return err
		}},
	} {
		dctx, cancel := context.WithTimeout(ctx, wait)
		began := time.Now()
		err := op.fn(dctx)
		took := time.Since(began)
		cancel()
		t.Logf("exhausted pool, %v deadline: %s returned after %v: %v", wait, op.name, took.Round(time.Millisecond), err)
		switch {
		case err == nil:
			t.Errorf("%s succeeded with every connection held", op.name)
		case !errors.Is(err, context.DeadlineExceeded):
			t.Errorf("%s: %v; want a context deadline error", op.name, err)
		case took < wait-50*time.Millisecond || took > wait+time.Second:
			t.Errorf("%s returned after %v; want about %v", op.name, took, wait)
		}
	}

	// Without a deadline the wait is bounded by the pool timeout, and the
	// error says what happened.
	began := time.Now()
	_, err = db.FlowRun.Query().Count(context.Background())
	took := time.Since(began)
	t.Logf("exhausted pool, no deadline: returned after %v: %v", took.Round(time.Millisecond), err)
	var exhausted *dialects.PoolTimeoutError
	if !errors.As(err, &exhausted) || exhausted.Size != 2 {
		t.Errorf("no deadline: %v; want a *dialects.PoolTimeoutError for a pool of 2", err)
	}
	if took < poolTimeout-100*time.Millisecond || took > poolTimeout+time.Second {
		t.Errorf("no deadline: returned after %v; want about the pool timeout %v", took, poolTimeout)
	}

	// Released: the pool works again, and no connection is left behind.
	releaseAll()
	for range 2 {
		if err := <-holdErrs; err != nil {
			t.Errorf("holding transaction: %v", err)
		}
	}
	if _, err := db.SetFlowRunState(ctx, run.ID, dbiface.StateTransition{Type: types.StateScheduled}); err != nil {
		t.Fatalf("after release: %v", err)
	}
	if n, err := db.FlowRun.Query().Count(ctx); err != nil || n != 1 {
		t.Fatalf("after release: count %d, %v", n, err)
	}
	s := db.Engine().Stats()
	t.Logf("pool after release: %d open, %d in use, %d waits (%v waiting in all)", s.OpenConnections, s.InUse, s.WaitCount, s.WaitDuration.Round(time.Millisecond))
	if s.InUse != 0 {
		t.Errorf("%d connections still in use after every operation ended", s.InUse)
	}
}
