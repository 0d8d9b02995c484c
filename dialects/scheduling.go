package dialects

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// DefaultScheduledRunsLimit is what a nil Limit, WorkerLimit or QueueLimit of
// a WorkPoolRunsQuery stands for, as in Prefect: "no limit" is at most 1000
// runs per queue, per pool and in total.
const DefaultScheduledRunsLimit = 1000

// WorkPoolRunsQuery selects the scheduled flow runs that workers may pick up
// from work pools and their queues: Prefect's
// get_scheduled_flow_runs_from_work_pool.
type WorkPoolRunsQuery struct {
	// Limit caps the number of runs returned in total. Nil means
	// DefaultScheduledRunsLimit.
	Limit *int
	// WorkerLimit caps the number of runs returned per work pool. Nil means
	// DefaultScheduledRunsLimit.
	WorkerLimit *int
	// QueueLimit caps the number of runs returned per work queue. Nil means
	// DefaultScheduledRunsLimit.
	QueueLimit *int
	// WorkPoolIDs restricts the result to these pools. Empty means all pools.
	WorkPoolIDs []uuid.UUID
	// WorkQueueIDs restricts the result to these queues. Empty means all
	// queues.
	WorkQueueIDs []uuid.UUID
	// ScheduledBefore keeps runs whose next_scheduled_start_time is at or
	// before it (inclusive). Nil means no bound.
	ScheduledBefore *time.Time
	// ScheduledAfter keeps runs whose next_scheduled_start_time is at or
	// after it (inclusive). Nil means no bound.
	ScheduledAfter *time.Time
	// RespectQueuePriorities orders runs by their queue's priority before
	// their scheduled time, both when a pool's cap is applied and in the
	// result. Note that Prefect's model function defaults this to true when
	// it is not given, while the query itself defaults to false (as here).
	RespectQueuePriorities bool
	// ExcludeInProcessRetries leaves out runs whose empirical_policy has
	// retry_type "in_process": their retries run inside the flow's own
	// process. Prefect polls this way from 3.1.3 on; the interface sets it
	// from the database's release.
	ExcludeInProcessRetries bool
	// QueueIndex says that the database has prefectdb's opt-in index on
	// flow_run (work_queue_id, next_scheduled_start_time, id) WHERE
	// state_type = 'SCHEDULED' (migrate.PerformanceIndexes): a dialect may
	// then read each queue's next runs as one index range. The result is
	// the same either way; the interface sets it.
	QueueIndex bool
}

// Limits returns the total, per-pool and per-queue limits with nil replaced
// by DefaultScheduledRunsLimit. A negative limit is an error.
func (o WorkPoolRunsQuery) Limits() (limit, workerLimit, queueLimit int, err error) {
	if limit, err = schedLimitOrDefault("limit", o.Limit); err != nil {
		return 0, 0, 0, err
	}
	if workerLimit, err = schedLimitOrDefault("worker limit", o.WorkerLimit); err != nil {
		return 0, 0, 0, err
	}
	if queueLimit, err = schedLimitOrDefault("queue limit", o.QueueLimit); err != nil {
		return 0, 0, 0, err
	}
	return limit, workerLimit, queueLimit, nil
}

// Validate reports a negative LimitPerQueue.
func (o WorkQueueRunsQuery) Validate() error {
	if o.LimitPerQueue != nil && *o.LimitPerQueue < 0 {
		return fmt.Errorf("scheduled flow runs: limit per queue must not be negative, got %d", *o.LimitPerQueue)
	}
	return nil
}

func schedLimitOrDefault(name string, p *int) (int, error) {
	if p == nil {
		return DefaultScheduledRunsLimit, nil
	}
	if *p < 0 {
		return 0, fmt.Errorf("scheduled flow runs: %s must not be negative, got %d", name, *p)
	}
	return *p, nil
}

// ScheduledRun is one flow run handed to a worker, with the pool and queue
// it was selected through.
type ScheduledRun struct {
	// WorkPoolID is the run's work pool.
	WorkPoolID uuid.UUID
	// WorkQueueID is the run's work queue (flow_run.work_queue_id).
	WorkQueueID uuid.UUID
	// FlowRunID is the run.
	FlowRunID uuid.UUID
}

// WorkQueueRunsQuery selects the scheduled flow runs of legacy ("agent")
// work queues: Prefect's get_scheduled_flow_runs_from_work_queues.
type WorkQueueRunsQuery struct {
	// LimitPerQueue caps the number of runs per queue. Nil means no limit
	// (unlike WorkPoolRunsQuery there is no default of 1000 here, as in
	// Prefect).
	LimitPerQueue *int
	// WorkQueueIDs restricts the result to these queues. Empty means all
	// queues.
	WorkQueueIDs []uuid.UUID
	// ScheduledBefore keeps runs whose next_scheduled_start_time is at or
	// before it (inclusive). Nil means no bound.
	ScheduledBefore *time.Time
}

// QueuedRun is one flow run of a legacy work queue.
type QueuedRun struct {
	// WorkQueueID is the queue the run was matched to by name.
	WorkQueueID uuid.UUID
	// FlowRunID is the run.
	FlowRunID uuid.UUID
}

// SchedulingQueries are the queries with which workers and agents poll for
// scheduled flow runs. Both dialects implement them with the same results
// (PostgreSQL's behaviour, which on SQLite is reproduced with window
// functions). Their Dialect types implement SchedulingQueries; it is not part
// of the Dialect interface, so get it with a type assertion.
//
// Exclusivity. A run returned to one poller must not be returned to another
// before the first has moved it out of SCHEDULED:
//   - On PostgreSQL the candidate runs are read with FOR UPDATE SKIP LOCKED,
//     per queue, before any later cap (pool, total) discards some of them.
//     Run the query in a transaction (q a *sql.Tx) and update the runs in
//     the same transaction: a concurrent poller skips every run the first
//     one locked, including locked runs it did not return, and does not
//     wait for them. Outside a transaction the locks end with the statement.
//     Unlike Prefect, which reads up to QueueLimit (default 1000) runs per
//     queue and locks them all, each queue's subquery reads at most
//     min(QueueLimit, WorkerLimit, Limit) runs: the result is the same, but
//     a poll locks only runs it could have returned, so concurrent pollers
//     are not starved by runs that nobody was handed.
//   - SQLite has no row locks. The query is exclusive only when it runs in
//     a write transaction, begun with BEGIN IMMEDIATE (see WithWriteLock):
//     a second poller's write transaction waits (busy_timeout) until the
//     first commits, and then no longer sees the runs it moved out of
//     SCHEDULED. In a deferred or no transaction two pollers can receive
//     the same run.
type SchedulingQueries interface {
	// ScheduledFlowRunsFromWorkPool returns the SCHEDULED flow runs that
	// workers may start, as Prefect's get_scheduled_flow_runs_from_work_pool
	// on PostgreSQL:
	//
	//   - Runs are matched to queues by flow_run.work_queue_id. Runs of
	//     paused queues and of paused pools are never returned. Only
	//     next_scheduled_start_time within [ScheduledAfter, ScheduledBefore]
	//     (inclusive) is considered, before any limit is applied.
	//   - Per queue: the earliest min(QueueLimit, queue slots) runs, where
	//     queue slots = max(0, concurrency_limit − its RUNNING and PENDING
	//     runs) if the queue has a concurrency limit, else unlimited.
	//   - Per pool: of those, the first min(WorkerLimit, pool slots) in the
	//     order below, where pool slots = max(0, concurrency_limit − the
	//     RUNNING and PENDING runs in the pool's unpaused queues) if the pool
	//     has a limit, else unlimited. CANCELLING runs count nowhere.
	//   - In total: the first Limit in the order below.
	//
	// Order, everywhere: with RespectQueuePriorities, queue priority
	// ascending first (globally, across pools); then next_scheduled_start_time
	// ascending with NULL last; then flow run id.
	ScheduledFlowRunsFromWorkPool(ctx context.Context, q Querier, opts WorkPoolRunsQuery) ([]ScheduledRun, error)

	// ScheduledFlowRunRowsFromWorkPool runs the same query in the same
	// order, with the same locks, and returns in one statement the rows of
	// the runs: the work pool id, the work queue id, then the flow_run
	// columns named by columns (plain identifiers). The caller closes the
	// rows.
	ScheduledFlowRunRowsFromWorkPool(ctx context.Context, q Querier, opts WorkPoolRunsQuery, columns []string) (*sql.Rows, error)

	// ScheduledFlowRunsFromWorkQueues returns the SCHEDULED flow runs of
	// legacy work queues, as Prefect's
	// get_scheduled_flow_runs_from_work_queues on PostgreSQL:
	//
	//   - Runs are matched to queues by name (flow_run.work_queue_name =
	//     work_queue.name), not by id and not by pool: a run whose queue name
	//     exists in two pools is returned once per queue.
	//   - Paused queues are left out; the pool's pause state is ignored.
	//   - Per queue: the earliest min(LimitPerQueue, queue slots) runs with
	//     next_scheduled_start_time at or before ScheduledBefore, where queue
	//     slots = max(0, concurrency_limit − the RUNNING, PENDING and
	//     CANCELLING runs carrying the queue's name) if the queue has a
	//     concurrency limit, else unlimited.
	//
	// Order: next_scheduled_start_time ascending with NULL last, then flow
	// run id, then work queue id.
	ScheduledFlowRunsFromWorkQueues(ctx context.Context, q Querier, opts WorkQueueRunsQuery) ([]QueuedRun, error)
}
