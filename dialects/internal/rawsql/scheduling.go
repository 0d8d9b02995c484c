package rawsql

import "github.com/prefectdb/prefectdb/dialects"

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

// BindPoolRuns checks o's limits and binds its parameters, with placeholder
// (a dialect's dialects.Queries.Placeholder) writing their placeholders:
// the limits, the pool ids, the queue ids, then the times.
func BindPoolRuns(placeholder func(n int) string, o dialects.WorkPoolRunsQuery) (*PoolRuns, error) {
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
	p := &PoolRuns{Args: Args{Placeholder: placeholder}}
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

// BindQueueRuns validates o and binds its parameters, with placeholder (a
// dialect's dialects.Queries.Placeholder) writing their placeholders: the
// per-queue limit, the queue ids, then the time.
func BindQueueRuns(placeholder func(n int) string, o dialects.WorkQueueRunsQuery) (*QueueRuns, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	p := &QueueRuns{Args: Args{Placeholder: placeholder}}
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
