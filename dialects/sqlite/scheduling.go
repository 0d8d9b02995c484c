package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/internal/rawsql"
)

var _ dialects.SchedulingQueries = Dialect{}

// The parameters are bound by rawsql.BindPoolRuns and rawsql.BindQueueRuns
// with SQLite's numbered placeholders (?1, ?2, ...), so that one value can
// be used more than once in a statement. Timestamps and UUIDs are converted
// to Prefect's text forms by the driver wrapper (ConvertValue), so
// comparisons with the stored text are in time order.

// ScheduledFlowRunsFromWorkPool implements dialects.SchedulingQueries.
//
// SQLite has neither LATERAL nor row locks, so PostgreSQL's nested LATERAL
// limits are window functions here: queue_rank numbers each queue's runs by
// time; the runs within min(queue_limit, queue slots) are then numbered per
// pool by [priority,] time (pool_rank) and cut at min(worker_limit, pool
// slots); the result is ordered globally like PostgreSQL's and cut at limit.
// The slot CTEs are PostgreSQL's: the pool's count leaves out runs in paused
// queues (Prefect's SQLite template counts them). NULL times sort last.
//
// The query takes no locks: it is exclusive only inside a write transaction
// (BEGIN IMMEDIATE); see dialects.SchedulingQueries.
func (Dialect) ScheduledFlowRunsFromWorkPool(ctx context.Context, q dialects.Querier, o dialects.WorkPoolRunsQuery) ([]dialects.ScheduledRun, error) {
	query, args, err := poolRunsQuery(o)
	if err != nil {
		return nil, err
	}
	out, err := rawsql.PoolRunIDs(ctx, q, query, args)
	if err != nil {
		return nil, fmt.Errorf("sqlite: scheduled flow runs from work pools: %w", err)
	}
	return out, nil
}

// ScheduledFlowRunRowsFromWorkPool implements dialects.SchedulingQueries:
// ScheduledFlowRunsFromWorkPool's statement joined to the runs' rows.
func (Dialect) ScheduledFlowRunRowsFromWorkPool(ctx context.Context, q dialects.Querier, o dialects.WorkPoolRunsQuery, columns []string) (*sql.Rows, error) {
	poll, args, err := poolRunsQuery(o)
	if err != nil {
		return nil, err
	}
	rows, err := rawsql.QueryPoolRunRows(ctx, q, poll, args, columns, o.RespectQueuePriorities, "CROSS JOIN")
	if err != nil {
		return nil, fmt.Errorf("sqlite: scheduled flow runs from work pools: %w", err)
	}
	return rows, nil
}

// poolRunsQuery is the work-pool poll with its arguments; its columns are
// work_pool_id, work_queue_id, id, priority and next_scheduled_start_time.
// retryFilter leaves out in-process retries when the query asks for it.
func retryFilter(o dialects.WorkPoolRunsQuery) string {
	if !o.ExcludeInProcessRetries {
		return ""
	}
	return " AND (json_extract(fr.empirical_policy, '$.retry_type') IS NULL OR json_extract(fr.empirical_policy, '$.retry_type') != 'in_process')"
}

// candidateRuns joins each unpaused queue of the pools to its scheduled
// runs, in one of three ways with the same result:
//   - with the opt-in queue index (o.QueueIndex), each queue's first
//     QueueLimit runs come from a correlated subquery that is one index
//     range (a poll then reads about as many runs as it returns);
//   - with Prefect's indexes only, every scheduled run is found once
//     through ix_flow_run__state_type and numbered per queue by the window
//     above. Reading each queue's runs through ix_flow_run__work_queue_id
//     instead would read every run the queue ever had: 25x slower with
//     200,000 finished runs. When the poll names its pools (a worker's poll
//     always does), the pools are the outer loop, so a run costs one
//     look-up of its queue and none of its pool (16 ms instead of 20 ms for
//     10,000 scheduled runs); otherwise the runs are, so that they are
//     read once however many pools there are.
//
// The pool and queue slots are joined later, to the runs that survive the
// per-queue limit, not to every candidate.
func candidateRuns(o dialects.WorkPoolRunsQuery, p *rawsql.PoolRuns) string {
	if o.QueueIndex {
		return `FROM work_pool wp
	JOIN work_queue wq ON wq.work_pool_id = wp.id
	JOIN flow_run fr ON fr.id IN (
		SELECT fr.id FROM flow_run fr
		WHERE fr.work_queue_id = wq.id AND fr.state_type = 'SCHEDULED'` + p.TimeFilter + retryFilter(o) + `
		ORDER BY fr.next_scheduled_start_time ASC NULLS LAST, fr.id ASC
		LIMIT ` + p.QueueLimit + `)
	WHERE wp.is_paused IS FALSE AND wq.is_paused IS FALSE` + p.PoolFilter + p.QueueFilter
	}
	// CROSS JOIN keeps the written order: SQLite's planner, which has no
	// statistics, would otherwise read each queue's runs through
	// ix_flow_run__work_queue_id.
	from := `FROM flow_run fr
	CROSS JOIN work_queue wq
	JOIN work_pool wp ON wp.id = wq.work_pool_id
	WHERE wq.id = fr.work_queue_id`
	if p.PoolFilter != "" {
		from = `FROM work_pool wp
	CROSS JOIN flow_run fr
	CROSS JOIN work_queue wq
	WHERE wq.id = fr.work_queue_id AND wq.work_pool_id = wp.id`
	}
	return from + ` AND fr.state_type = 'SCHEDULED' AND wp.is_paused IS FALSE AND wq.is_paused IS FALSE` +
		p.PoolFilter + p.QueueFilter + p.TimeFilter + retryFilter(o)
}

// poolCut is the end of the work-pool poll: the candidates that survive
// their queue's limit and slots, cut per pool at min(worker limit, pool
// slots) in queue priority, time and id order, and at the overall limit.
// For one pool (a worker's poll) that cut is a LIMIT; for several pools it
// is a second window, numbered per pool.
func poolCut(o dialects.WorkPoolRunsQuery, p *rawsql.PoolRuns, queuePriority, priority string) string {
	if len(o.WorkPoolIDs) == 1 {
		// One partition: pool_rank <= worker limit and <= pool slots is
		// the first min(worker limit, pool slots) rows in the window's
		// order, which is the result's order; the worker limit is already
		// at most the limit (rawsql.BindPoolRuns).
		return `)
SELECT wq.work_pool_id, c.work_queue_id, c.id, wq.priority, c.next_scheduled_start_time
FROM candidates c
JOIN work_queue wq ON wq.id = c.work_queue_id
LEFT JOIN queue_slots qs ON qs.id = c.work_queue_id
WHERE c.queue_rank <= ` + p.QueueLimit + ` AND (qs.available_slots IS NULL OR c.queue_rank <= qs.available_slots)
ORDER BY ` + queuePriority + `c.next_scheduled_start_time ASC NULLS LAST, c.id ASC
LIMIT MIN(` + p.WorkerLimit + `, COALESCE((SELECT available_slots FROM pool_slots), ` + p.WorkerLimit + `))`
	}
	return `), queue_runs AS (
	SELECT wq.work_pool_id, c.work_queue_id, wq.priority, c.id, c.next_scheduled_start_time,
		ps.available_slots AS pool_slots,
		ROW_NUMBER() OVER (PARTITION BY wq.work_pool_id
			ORDER BY ` + queuePriority + `c.next_scheduled_start_time ASC NULLS LAST, c.id ASC) AS pool_rank
	FROM candidates c
	JOIN work_queue wq ON wq.id = c.work_queue_id
	LEFT JOIN queue_slots qs ON qs.id = c.work_queue_id
	LEFT JOIN pool_slots ps ON ps.id = wq.work_pool_id
	WHERE c.queue_rank <= ` + p.QueueLimit + ` AND (qs.available_slots IS NULL OR c.queue_rank <= qs.available_slots)
)
SELECT work_pool_id, work_queue_id, id, priority, next_scheduled_start_time
FROM queue_runs
WHERE pool_rank <= ` + p.WorkerLimit + ` AND (pool_slots IS NULL OR pool_rank <= pool_slots)
ORDER BY ` + priority + `next_scheduled_start_time ASC NULLS LAST, id ASC
LIMIT ` + p.Limit
}

func poolRunsQuery(o dialects.WorkPoolRunsQuery) (string, []any, error) {
	p, err := rawsql.BindPoolRuns(placeholderSigil, o)
	if err != nil {
		return "", nil, err
	}
	priority, queuePriority := "", ""
	if o.RespectQueuePriorities {
		priority, queuePriority = "priority ASC, ", "wq.priority ASC, "
	}

	query := `WITH pool_slots AS (
	SELECT wp.id, MAX(0, wp.concurrency_limit - COUNT(fr.id)) AS available_slots
	FROM work_pool wp
	JOIN work_queue wq ON wq.work_pool_id = wp.id
	LEFT JOIN flow_run fr ON fr.work_queue_id = wq.id AND fr.state_type IN ('RUNNING', 'PENDING')
	WHERE wp.is_paused IS FALSE AND wq.is_paused IS FALSE AND wp.concurrency_limit IS NOT NULL` + p.PoolFilter + `
	GROUP BY wp.id
), queue_slots AS (
	SELECT wq.id, MAX(0, wq.concurrency_limit - COUNT(fr.id)) AS available_slots
	FROM work_queue wq
	LEFT JOIN flow_run fr ON fr.work_queue_id = wq.id AND fr.state_type IN ('RUNNING', 'PENDING')
	WHERE wq.is_paused IS FALSE AND wq.concurrency_limit IS NOT NULL` + p.SlotPoolFilter + p.QueueFilter + `
	GROUP BY wq.id
), candidates AS (
	SELECT wq.id AS work_queue_id, fr.id, fr.next_scheduled_start_time,
		ROW_NUMBER() OVER (PARTITION BY wq.id
			ORDER BY fr.next_scheduled_start_time ASC NULLS LAST, fr.id ASC) AS queue_rank
	` + candidateRuns(o, p) + `
` + poolCut(o, p, queuePriority, priority)
	return query, p.Vals, nil
}

// ScheduledFlowRunsFromWorkQueues implements dialects.SchedulingQueries.
//
// Each unpaused queue is joined to the SCHEDULED runs carrying its name,
// which are numbered per queue by time (NULL last) and cut at
// min(limit_per_queue, queue slots), either of which may be absent. The
// query takes no locks: it is exclusive only inside a write transaction
// (BEGIN IMMEDIATE); see dialects.SchedulingQueries.
func (Dialect) ScheduledFlowRunsFromWorkQueues(ctx context.Context, q dialects.Querier, o dialects.WorkQueueRunsQuery) ([]dialects.QueuedRun, error) {
	p, err := rawsql.BindQueueRuns(placeholderSigil, o)
	if err != nil {
		return nil, err
	}
	perQueue := ""
	if p.LimitPerQueue != "" {
		perQueue = "queue_rank <= " + p.LimitPerQueue + " AND "
	}

	query := `WITH queue_slots AS (
	SELECT wq.id, MAX(0, wq.concurrency_limit - COUNT(fr.id)) AS available_slots
	FROM work_queue wq
	LEFT JOIN flow_run fr ON fr.work_queue_name = wq.name AND fr.state_type IN ('RUNNING', 'PENDING', 'CANCELLING')
	WHERE wq.is_paused IS FALSE AND wq.concurrency_limit IS NOT NULL` + p.QueueFilter + `
	GROUP BY wq.id
), candidates AS (
	SELECT wq.id AS work_queue_id, fr.id, fr.next_scheduled_start_time,
		qs.available_slots AS queue_slots,
		ROW_NUMBER() OVER (PARTITION BY wq.id
			ORDER BY fr.next_scheduled_start_time ASC NULLS LAST, fr.id ASC) AS queue_rank
	FROM work_queue wq
	JOIN flow_run fr ON fr.work_queue_name = wq.name
	LEFT JOIN queue_slots qs ON qs.id = wq.id
	WHERE fr.state_type = 'SCHEDULED' AND wq.is_paused IS FALSE` + p.QueueFilter + p.TimeFilter + `
)
SELECT work_queue_id, id
FROM candidates
WHERE ` + perQueue + `(queue_slots IS NULL OR queue_rank <= queue_slots)
ORDER BY next_scheduled_start_time ASC NULLS LAST, id ASC, work_queue_id ASC`

	out, err := rawsql.QueuedRuns(ctx, q, query, p.Vals)
	if err != nil {
		return nil, fmt.Errorf("sqlite: scheduled flow runs from work queues: %w", err)
	}
	return out, nil
}
