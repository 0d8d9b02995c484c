package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/internal/rawsql"
)

var _ dialects.SchedulingQueries = Dialect{}

// The parameters are bound by rawsql.BindPoolRuns and rawsql.BindQueueRuns
// with PostgreSQL's numbered placeholders ($1, $2, ...); a placeholder may
// be used more than once in a statement.

// ScheduledFlowRunsFromWorkPool implements dialects.SchedulingQueries.
//
// The statement follows Prefect's PostgreSQL template: per pool (LATERAL) →
// per queue (LATERAL) → the queue's earliest SCHEDULED runs, read with
// FOR UPDATE SKIP LOCKED and limited to LEAST(queue_limit, queue slots)
// (LEAST ignores the NULL slots of a queue without a concurrency limit),
// where queue_limit is already capped by the pool's and the total limit
// (rawsql.BindPoolRuns). Every run the per-queue subqueries return is
// locked, even if the pool's or the total limit then drops it. The slot
// CTEs are restricted to the requested pools and queues.
//
// The per-queue ORDER BY spells NULLS LAST as a leading "IS NULL" key on
// purpose: it is the order ix_flow_run__next_scheduled_start_time_asc
// provides, and with that order available the planner may walk that index
// from the oldest time and filter on the queue, which reads every finished
// run in the table's history before the first scheduled one. With the
// leading key it reads the queue's runs through ix_flow_run__work_queue_id
// (and ix_flow_run__state_type) and sorts the few scheduled ones.
func (Dialect) ScheduledFlowRunsFromWorkPool(ctx context.Context, q dialects.Querier, o dialects.WorkPoolRunsQuery) ([]dialects.ScheduledRun, error) {
	query, args, err := poolRunsQuery(o)
	if err != nil {
		return nil, err
	}
	out, err := rawsql.PoolRunIDs(ctx, q, query, args)
	if err != nil {
		return nil, fmt.Errorf("postgres: scheduled flow runs from work pools: %w", err)
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
	rows, err := rawsql.QueryPoolRunRows(ctx, q, poll, args, columns, o.RespectQueuePriorities, "JOIN")
	if err != nil {
		return nil, fmt.Errorf("postgres: scheduled flow runs from work pools: %w", err)
	}
	return rows, nil
}

// retryFilter leaves out in-process retries when the query asks for it.
func retryFilter(o dialects.WorkPoolRunsQuery) string {
	if !o.ExcludeInProcessRetries {
		return ""
	}
	return " AND (fr.empirical_policy->>'retry_type' IS NULL OR fr.empirical_policy->>'retry_type' != 'in_process')"
}

// poolRunsQuery is the work-pool poll with its arguments; its columns are
// work_pool_id, work_queue_id, id, priority and next_scheduled_start_time.
func poolRunsQuery(o dialects.WorkPoolRunsQuery) (string, []any, error) {
	p, err := rawsql.BindPoolRuns(placeholderSigil, o)
	if err != nil {
		return "", nil, err
	}
	inner, outer := "", ""
	if o.RespectQueuePriorities {
		inner, outer = "wq.priority ASC, ", "r.priority ASC, "
	}

	query := `WITH pool_slots AS (
	SELECT wp.id, GREATEST(0, wp.concurrency_limit - COUNT(fr.id)) AS available_slots
	FROM work_pool wp
	JOIN work_queue wq ON wq.work_pool_id = wp.id
	LEFT JOIN flow_run fr ON fr.work_queue_id = wq.id AND fr.state_type IN ('RUNNING', 'PENDING')
	WHERE wp.is_paused IS FALSE AND wq.is_paused IS FALSE AND wp.concurrency_limit IS NOT NULL` + p.PoolFilter + `
	GROUP BY wp.id, wp.concurrency_limit
), queue_slots AS (
	SELECT wq.id, GREATEST(0, wq.concurrency_limit - COUNT(fr.id)) AS available_slots
	FROM work_queue wq
	LEFT JOIN flow_run fr ON fr.work_queue_id = wq.id AND fr.state_type IN ('RUNNING', 'PENDING')
	WHERE wq.is_paused IS FALSE AND wq.concurrency_limit IS NOT NULL` + p.SlotPoolFilter + p.QueueFilter + `
	GROUP BY wq.id, wq.concurrency_limit
)
SELECT wp.id AS work_pool_id, r.work_queue_id, r.id, r.priority, r.next_scheduled_start_time
FROM work_pool wp
LEFT JOIN pool_slots ps ON ps.id = wp.id
CROSS JOIN LATERAL (
	SELECT wq.id AS work_queue_id, wq.priority, qr.id, qr.next_scheduled_start_time
	FROM work_queue wq
	LEFT JOIN queue_slots qs ON qs.id = wq.id
	CROSS JOIN LATERAL (
		SELECT fr.id, fr.next_scheduled_start_time
		FROM flow_run fr
		WHERE fr.work_queue_id = wq.id AND fr.state_type = 'SCHEDULED'` + p.TimeFilter + retryFilter(o) + `
		ORDER BY fr.next_scheduled_start_time IS NULL, fr.next_scheduled_start_time ASC, fr.id ASC
		LIMIT LEAST(` + p.QueueLimit + `, qs.available_slots)
		FOR UPDATE OF fr SKIP LOCKED
	) qr
	WHERE wq.work_pool_id = wp.id AND wq.is_paused IS FALSE` + p.QueueFilter + `
	ORDER BY ` + inner + `qr.next_scheduled_start_time ASC NULLS LAST, qr.id ASC
	LIMIT LEAST(` + p.WorkerLimit + `, ps.available_slots)
) r
WHERE wp.is_paused IS FALSE` + p.PoolFilter + `
ORDER BY ` + outer + `r.next_scheduled_start_time ASC NULLS LAST, r.id ASC
LIMIT ` + p.Limit
	return query, p.Vals, nil
}

// ScheduledFlowRunsFromWorkQueues implements dialects.SchedulingQueries.
//
// As Prefect's PostgreSQL query: per unpaused queue (LATERAL), the runs
// carrying its name, read with FOR UPDATE SKIP LOCKED and limited to
// LEAST(limit_per_queue, queue slots); LIMIT NULL (no limit and no
// concurrency limit) means all. The per-queue subquery reads the queue's runs
// through ix_flow_run__work_queue_name (the leading "IS NULL" key keeps the
// planner off the time index, as in ScheduledFlowRunsFromWorkPool).
func (Dialect) ScheduledFlowRunsFromWorkQueues(ctx context.Context, q dialects.Querier, o dialects.WorkQueueRunsQuery) ([]dialects.QueuedRun, error) {
	p, err := rawsql.BindQueueRuns(placeholderSigil, o)
	if err != nil {
		return nil, err
	}
	perQueue := "qs.available_slots"
	if p.LimitPerQueue != "" {
		perQueue = "LEAST(" + p.LimitPerQueue + ", qs.available_slots)"
	}

	query := `WITH queue_slots AS (
	SELECT wq.id, GREATEST(0, wq.concurrency_limit - COUNT(fr.id)) AS available_slots
	FROM work_queue wq
	LEFT JOIN flow_run fr ON fr.work_queue_name = wq.name AND fr.state_type IN ('RUNNING', 'PENDING', 'CANCELLING')
	WHERE wq.is_paused IS FALSE AND wq.concurrency_limit IS NOT NULL` + p.QueueFilter + `
	GROUP BY wq.id, wq.concurrency_limit
)
SELECT wq.id, qr.id
FROM work_queue wq
LEFT JOIN queue_slots qs ON qs.id = wq.id
CROSS JOIN LATERAL (
	SELECT fr.id, fr.next_scheduled_start_time
	FROM flow_run fr
	WHERE fr.work_queue_name = wq.name AND fr.state_type = 'SCHEDULED'` + p.TimeFilter + `
	ORDER BY fr.next_scheduled_start_time IS NULL, fr.next_scheduled_start_time ASC, fr.id ASC
	LIMIT ` + perQueue + `
	FOR UPDATE OF fr SKIP LOCKED
) qr
WHERE wq.is_paused IS FALSE` + p.QueueFilter + `
ORDER BY qr.next_scheduled_start_time ASC NULLS LAST, qr.id ASC, wq.id ASC`

	out, err := rawsql.QueuedRuns(ctx, q, query, p.Vals)
	if err != nil {
		return nil, fmt.Errorf("postgres: scheduled flow runs from work queues: %w", err)
	}
	return out, nil
}
