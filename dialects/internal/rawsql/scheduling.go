package rawsql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/prefectdb/prefectdb/dialects"
)

// PoolRuns holds the bound parameters of a
// dialects.SchedulingQueries.ScheduledFlowRunsFromWorkPool statement, their
// placeholders and the filters that use them. A filter is "" or begins
// with " AND ".
type PoolRuns struct {
	// Args holds the bound values (Vals), in placeholder order.
	Args
	// Limit, WorkerLimit and QueueLimit are the placeholders of the
	// query's limits (dialects.WorkPoolRunsQuery.Limits).
	Limit, WorkerLimit, QueueLimit string
	// PoolFilter keeps the requested pools (wp.id).
	PoolFilter string
	// SlotPoolFilter keeps the queues of the requested pools
	// (wq.work_pool_id), with PoolFilter's placeholders.
	SlotPoolFilter string
	// QueueFilter keeps the requested queues (wq.id).
	QueueFilter string
	// TimeFilter keeps the runs scheduled in the requested time range
	// (fr.next_scheduled_start_time).
	TimeFilter string
}

// BindPoolRuns checks o's limits and binds its parameters, numbered after
// the dialect's sigil ("$", "?"): the limits, the pool ids, the queue ids,
// then the times.
func BindPoolRuns(sigil string, o dialects.WorkPoolRunsQuery) (*PoolRuns, error) {
	limit, workerLimit, queueLimit, err := o.Limits()
	if err != nil {
		return nil, err
	}
	// No pool can contribute more than limit runs to the result, and no
	// queue more than its pool may: capping the inner limits by the outer
	// ones changes no result, and the per-queue subqueries then read (and,
	// on PostgreSQL, lock) at most that many runs instead of up to 1000.
	workerLimit = min(workerLimit, limit)
	queueLimit = min(queueLimit, workerLimit)
	p := &PoolRuns{Args: Args{Sigil: sigil}}
	p.Limit, p.WorkerLimit, p.QueueLimit = p.Add(limit), p.Add(workerLimit), p.Add(queueLimit)
	if len(o.WorkPoolIDs) > 0 {
		in := p.List(o.WorkPoolIDs)
		p.PoolFilter = " AND wp.id IN (" + in + ")"
		p.SlotPoolFilter = " AND wq.work_pool_id IN (" + in + ")"
	}
	if len(o.WorkQueueIDs) > 0 {
		p.QueueFilter = " AND wq.id IN (" + p.List(o.WorkQueueIDs) + ")"
	}
	if o.ScheduledAfter != nil {
		p.TimeFilter += " AND fr.next_scheduled_start_time >= " + p.Add(o.ScheduledAfter.UTC())
	}
	if o.ScheduledBefore != nil {
		p.TimeFilter += " AND fr.next_scheduled_start_time <= " + p.Add(o.ScheduledBefore.UTC())
	}
	return p, nil
}

// QueueRuns holds the bound parameters of a
// dialects.SchedulingQueries.ScheduledFlowRunsFromWorkQueues statement,
// their placeholders and the filters that use them. A filter is "" or
// begins with " AND ".
type QueueRuns struct {
	// Args holds the bound values (Vals), in placeholder order.
	Args
	// LimitPerQueue is the placeholder of the per-queue limit; "" for none.
	LimitPerQueue string
	// QueueFilter keeps the requested queues (wq.id).
	QueueFilter string
	// TimeFilter keeps the runs scheduled up to the requested time
	// (fr.next_scheduled_start_time).
	TimeFilter string
}

// BindQueueRuns validates o and binds its parameters, numbered after the
// dialect's sigil ("$", "?"): the per-queue limit, the queue ids, then the
// time.
func BindQueueRuns(sigil string, o dialects.WorkQueueRunsQuery) (*QueueRuns, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	p := &QueueRuns{Args: Args{Sigil: sigil}}
	if o.LimitPerQueue != nil {
		p.LimitPerQueue = p.Add(*o.LimitPerQueue)
	}
	if len(o.WorkQueueIDs) > 0 {
		p.QueueFilter = " AND wq.id IN (" + p.List(o.WorkQueueIDs) + ")"
	}
	if o.ScheduledBefore != nil {
		p.TimeFilter = " AND fr.next_scheduled_start_time <= " + p.Add(o.ScheduledBefore.UTC())
	}
	return p, nil
}

// PoolRunRows wraps poll, a dialect's work-pool poll whose columns are
// work_pool_id, work_queue_id, id, priority and next_scheduled_start_time
// (already ordered and limited), so that it returns the pool and queue ids
// and then the named flow_run columns of each run, in the poll's order
// (with priorities first if priorities is set). Column names must be plain
// identifiers (lower-case letters, digits, underscores): they are written
// into the statement. join is the dialect's keyword for an inner join that
// reads the poll first and then each run by its primary key ("JOIN" on
// PostgreSQL; "CROSS JOIN" on SQLite, whose planner keeps the written order
// for it and might otherwise scan flow_run and probe the poll).
func PoolRunRows(poll string, columns []string, priorities bool, join string) (string, error) {
	var b strings.Builder
	b.WriteString("SELECT p.work_pool_id, p.work_queue_id")
	for _, c := range columns {
		if !plainIdentifier(c) {
			return "", fmt.Errorf("scheduled flow runs: %q is not a flow_run column name", c)
		}
		b.WriteString(", fr.")
		b.WriteString(c)
	}
	b.WriteString("\nFROM (")
	b.WriteString(poll)
	b.WriteString(") p\n")
	b.WriteString(join)
	b.WriteString(" flow_run fr ON fr.id = p.id\nORDER BY ")
	if priorities {
		b.WriteString("p.priority ASC, ")
	}
	b.WriteString("p.next_scheduled_start_time ASC NULLS LAST, p.id ASC")
	return b.String(), nil
}

// plainIdentifier reports whether s is a non-empty run of lower-case ASCII
// letters, digits and underscores that does not start with a digit.
func plainIdentifier(s string) bool {
	for k, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r == '_':
		case r >= '0' && r <= '9' && k > 0:
		default:
			return false
		}
	}
	return s != ""
}

// QueryPoolRunRows runs the statement PoolRunRows builds from poll and
// returns its rows, which the caller closes.
func QueryPoolRunRows(ctx context.Context, q dialects.Querier, poll string, args []any, columns []string, priorities bool, join string) (*sql.Rows, error) {
	query, err := PoolRunRows(poll, columns, priorities, join)
	if err != nil {
		return nil, err
	}
	return q.QueryContext(ctx, query, args...)
}

// PoolRunIDs runs poll (see PoolRunRows) and returns its pool, queue and
// run ids.
func PoolRunIDs(ctx context.Context, q dialects.Querier, poll string, args []any) ([]dialects.ScheduledRun, error) {
	return QueryRows(ctx, q, poll, args, func(r *dialects.ScheduledRun) []any {
		return []any{&r.WorkPoolID, &r.WorkQueueID, &r.FlowRunID, new(any), new(any)}
	})
}
