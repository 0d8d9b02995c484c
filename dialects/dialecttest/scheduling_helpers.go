package dialecttest

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/flowrun"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// sched is one test database with its scheduling queries.
type sched struct {
	db  *testutil.DB
	q   dialects.SchedulingQueries
	ctx context.Context
}

// newSched type-asserts the dialect's scheduling queries, failing the test
// if the dialect does not implement them.
func newSched(t *testing.T, db *testutil.DB) *sched {
	t.Helper()
	q, ok := db.Dialect.(dialects.SchedulingQueries)
	if !ok {
		t.Fatalf("dialect %T does not implement dialects.SchedulingQueries", db.Dialect)
	}
	return &sched{db: db, q: q, ctx: testutil.Context(t)}
}

// tx begins a transaction that is rolled back when the (sub)test ends, and
// returns it with an Ent client that writes through it.
func (s *sched) tx(t *testing.T) (*sql.Tx, *ent.Client) {
	t.Helper()
	tx, err := s.db.SQL.BeginTx(s.ctx, nil)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	return tx, schedTxClient(s.db, tx)
}

// schedTxClient is an Ent client whose statements go to tx, a transaction
// (or a connection inside one) that the test owns.
func schedTxClient(db *testutil.DB, tx dialects.Querier) *ent.Client {
	drv := entsql.NewDriver(db.Dialect.EntDialect(), entsql.Conn{ExecQuerier: tx})
	return ent.NewClient(ent.Driver(schedInTx{drv}))
}

// schedInTx is an Ent driver already inside a transaction: the transactions
// Ent begins for multi-statement mutations are no-ops within it.
type schedInTx struct{ *entsql.Driver }

// Tx implements dialect.Driver.
func (d schedInTx) Tx(context.Context) (dialect.Tx, error) { return dialect.NopTx(d.Driver), nil }

// poolRuns runs ScheduledFlowRunsFromWorkPool on q and fails the test on error.
func (s *sched) poolRuns(t *testing.T, q dialects.Querier, o dialects.WorkPoolRunsQuery) []dialects.ScheduledRun {
	t.Helper()
	runs, err := s.q.ScheduledFlowRunsFromWorkPool(s.ctx, q, o)
	if err != nil {
		t.Fatalf("ScheduledFlowRunsFromWorkPool(%+v): %v", o, err)
	}
	return runs
}

// queueRuns runs ScheduledFlowRunsFromWorkQueues on q and fails the test on
// error.
func (s *sched) queueRuns(t *testing.T, q dialects.Querier, o dialects.WorkQueueRunsQuery) []dialects.QueuedRun {
	t.Helper()
	runs, err := s.q.ScheduledFlowRunsFromWorkQueues(s.ctx, q, o)
	if err != nil {
		t.Fatalf("ScheduledFlowRunsFromWorkQueues(%+v): %v", o, err)
	}
	return runs
}

// schedBuilder creates pools, queues and runs with one Ent client.
type schedBuilder struct {
	t      *testing.T
	ctx    context.Context
	c      *ent.Client
	flowID uuid.UUID
	// at holds next_scheduled_start_time of every run created with one,
	// truncated to the stored microseconds.
	at map[uuid.UUID]time.Time
}

func newSchedBuilder(t *testing.T, ctx context.Context, c *ent.Client) *schedBuilder {
	t.Helper()
	f, err := c.Flow.Create().SetName("flow-" + uuid.NewString()[:8]).Save(ctx)
	if err != nil {
		t.Fatalf("create flow: %v", err)
	}
	return &schedBuilder{t: t, ctx: ctx, c: c, flowID: f.ID, at: map[uuid.UUID]time.Time{}}
}

// pool creates a work pool with its default queue (priority 1), as Prefect
// does.
func (b *schedBuilder) pool(name string) *ent.WorkPool {
	b.t.Helper()
	p, err := b.c.WorkPool.Create().SetName(name).SetType("process").Save(b.ctx)
	if err != nil {
		b.t.Fatalf("create pool %s: %v", name, err)
	}
	dq := b.queue(p, "default", 1)
	if p, err = p.Update().SetDefaultQueueID(dq.ID).Save(b.ctx); err != nil {
		b.t.Fatalf("set default queue of %s: %v", name, err)
	}
	return p
}

// queue creates a work queue in pool p.
func (b *schedBuilder) queue(p *ent.WorkPool, name string, priority int) *ent.WorkQueue {
	b.t.Helper()
	q, err := b.c.WorkQueue.Create().SetName(name).SetWorkPoolID(p.ID).SetPriority(priority).Save(b.ctx)
	if err != nil {
		b.t.Fatalf("create queue %s: %v", name, err)
	}
	return q
}

// run creates a flow run in queue q (work_queue_id and work_queue_name) in
// state st; at, if not nil, is its next_scheduled_start_time and
// expected_start_time.
func (b *schedBuilder) run(q *ent.WorkQueue, st types.StateType, at *time.Time) uuid.UUID {
	b.t.Helper()
	return b.runNamed(q.Name, &q.ID, st, at)
}

// runNamed creates a flow run with the given work_queue_name and, if not
// nil, work_queue_id.
func (b *schedBuilder) runNamed(queueName string, queueID *uuid.UUID, st types.StateType, at *time.Time) uuid.UUID {
	b.t.Helper()
	name := string(st)
	c := b.c.FlowRun.Create().SetName("run-" + uuid.NewString()[:8]).SetFlowID(b.flowID).
		SetStateType(st).SetStateName(name[:1] + strings.ToLower(name[1:])).
		SetWorkQueueName(queueName).SetNillableWorkQueueID(queueID)
	if at != nil {
		c.SetNextScheduledStartTime(*at).SetExpectedStartTime(*at)
	}
	r, err := c.Save(b.ctx)
	if err != nil {
		b.t.Fatalf("create run: %v", err)
	}
	if at != nil {
		b.at[r.ID] = at.UTC().Truncate(time.Microsecond)
	}
	return r.ID
}

func schedPtr[T any](v T) *T { return &v }

// schedPoolFixture is the dataset of Prefect's TestGetRunsFromWorkQueueQuery:
// pools A, B and C, each with its default queue and queues xA, xB, xC
// (priorities 2, 3, 4); per queue 1 RUNNING, 1 PENDING and 5 SCHEDULED runs
// at base+3h, +2h, +1h, +0h and -1h (inserted in that order). 45 scheduled
// runs in all.
type schedPoolFixture struct {
	base   time.Time
	pools  map[string]uuid.UUID
	queues map[string]uuid.UUID
	// queueName maps a queue id back to its name.
	queueName map[uuid.UUID]string
	at        map[uuid.UUID]time.Time
}

func schedBuildPoolFixture(t *testing.T, ctx context.Context, c *ent.Client) *schedPoolFixture {
	t.Helper()
	b := newSchedBuilder(t, ctx, c)
	fx := &schedPoolFixture{
		base:      time.Now().UTC(),
		pools:     map[string]uuid.UUID{},
		queues:    map[string]uuid.UUID{},
		queueName: map[uuid.UUID]string{},
		at:        b.at,
	}
	for _, pn := range []string{"A", "B", "C"} {
		p := b.pool(pn)
		fx.pools[pn] = p.ID
		for k, qn := range []string{"A", "B", "C"} {
			q := b.queue(p, pn+qn, k+2)
			fx.queues[q.Name] = q.ID
			fx.queueName[q.ID] = q.Name
		}
	}
	for _, name := range slices.Sorted(maps.Keys(fx.queues)) {
		q, err := c.WorkQueue.Get(ctx, fx.queues[name])
		if err != nil {
			t.Fatal(err)
		}
		b.run(q, types.StateRunning, nil)
		b.run(q, types.StatePending, nil)
		for h := 3; h >= -1; h-- {
			b.run(q, types.StateScheduled, schedPtr(fx.base.Add(time.Duration(h)*time.Hour)))
		}
	}
	return fx
}

// ids of queues or pools by name.
func schedIDs(m map[string]uuid.UUID, names ...string) []uuid.UUID {
	out := make([]uuid.UUID, len(names))
	for k, n := range names {
		out[k] = m[n]
	}
	return out
}

// schedCountBy counts runs per key.
func schedCountBy[R any](runs []R, key func(R) uuid.UUID) map[uuid.UUID]int {
	out := map[uuid.UUID]int{}
	for _, r := range runs {
		out[key(r)]++
	}
	return out
}

func schedByQueue(r dialects.ScheduledRun) uuid.UUID { return r.WorkQueueID }
func schedByPool(r dialects.ScheduledRun) uuid.UUID  { return r.WorkPoolID }

// schedTimeOrdered reports whether runs are in next_scheduled_start_time order
// (ties by flow run id).
func schedTimeOrdered(at map[uuid.UUID]time.Time, runs []dialects.ScheduledRun) bool {
	return slices.IsSortedFunc(runs, func(a, b dialects.ScheduledRun) int {
		if c := at[a.FlowRunID].Compare(at[b.FlowRunID]); c != 0 {
			return c
		}
		return slices.Compare(a.FlowRunID[:], b.FlowRunID[:])
	})
}

// schedRunIDs are the flow run ids of runs.
func schedRunIDs(runs []dialects.ScheduledRun) []uuid.UUID {
	out := make([]uuid.UUID, len(runs))
	for k, r := range runs {
		out[k] = r.FlowRunID
	}
	return out
}

// schedQueuedIDs are the flow run ids of legacy runs.
func schedQueuedIDs(runs []dialects.QueuedRun) []uuid.UUID {
	out := make([]uuid.UUID, len(runs))
	for k, r := range runs {
		out[k] = r.FlowRunID
	}
	return out
}

// schedAssertDisjoint fails if a run appears in both sets or twice in one.
func schedAssertDisjoint(t *testing.T, sets ...[]uuid.UUID) {
	t.Helper()
	seen := map[uuid.UUID]int{}
	for k, s := range sets {
		for _, id := range s {
			if prev, ok := seen[id]; ok {
				t.Errorf("run %s handed out twice (poll %d and poll %d)", id, prev+1, k+1)
			}
			seen[id] = k
		}
	}
}

// schedMarkPending moves runs out of SCHEDULED, as a poller that took them does.
func schedMarkPending(ctx context.Context, t *testing.T, db *testutil.DB, q dialects.Querier, ids []uuid.UUID) {
	t.Helper()
	if len(ids) == 0 {
		return
	}
	c := schedTxClient(db, q)
	n, err := c.FlowRun.Update().Where(flowrun.IDIn(ids...)).SetStateType(types.StatePending).
		SetStateName("Pending").Save(ctx)
	if err != nil {
		t.Fatalf("mark runs pending: %v", err)
	}
	if n != len(ids) {
		t.Fatalf("marked %d runs pending, want %d", n, len(ids))
	}
}

func schedDescribe(names map[uuid.UUID]string, runs []dialects.ScheduledRun) string {
	s := ""
	for _, r := range runs {
		s += fmt.Sprintf(" %s", names[r.WorkQueueID])
	}
	return s
}
