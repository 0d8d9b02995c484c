package dbiface

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/flowrun"
)

// Queries returns the dialect's query components: the SQL fragments
// (Greatest, JSONArrAgg, DateDiff, EstimatedRunTime, ...) for hand-written
// queries, and the queries themselves. The Session methods below run them
// in the session's transaction and return Ent entities.
func (i *Interface) Queries() dialects.QueryComponents { return i.dialect }

// WorkerFlowRun is a scheduled run handed to a worker, with the pool and
// queue it was taken from.
type WorkerFlowRun struct {
	WorkPoolID  uuid.UUID
	WorkQueueID uuid.UUID
	FlowRun     *ent.FlowRun
}

// pendingTaskRunsRelease is the first Prefect release whose flow run graph
// keeps PENDING task runs (Prefect commit 32ac27c4bd).
const pendingTaskRunsRelease = "3.7.5"

// inProcessRetriesRelease is the first Prefect release whose work-pool poll
// leaves out in-process retries (Prefect commit 56689d30a3).
const inProcessRetriesRelease = "3.1.3"

// GetScheduledFlowRunsFromWorkPool returns the scheduled runs a worker may
// start (see dialects.SchedulingQueries), in the query's order. Run it in a
// WithForUpdate transaction and move the runs out of SCHEDULED before
// commit: then no other poller receives them (PostgreSQL locks them with
// SKIP LOCKED, SQLite holds the write lock).
//
// The poll follows the database's Prefect release: from 3.1.3 on it leaves
// out runs whose retries run in process (empirical_policy.retry_type
// "in_process"), and it reads the flow_run columns the release has.
func (s *Session) GetScheduledFlowRunsFromWorkPool(ctx context.Context, opts dialects.WorkPoolRunsQuery) ([]WorkerFlowRun, error) {
	level, err := s.iface.Level(ctx)
	if err != nil {
		return nil, err
	}
	opts.ExcludeInProcessRetries = opts.ExcludeInProcessRetries || level.ReleaseAtLeast(inProcessRetriesRelease)
	if !opts.QueueIndex {
		if opts.QueueIndex, err = s.iface.hasQueueIndex(ctx); err != nil {
			return nil, err
		}
	}
	columns := level.Columns(flowrun.Table, flowrun.Columns)
	// One statement selects, locks and reads the runs.
	rows, err := s.iface.dialect.ScheduledFlowRunRowsFromWorkPool(ctx, s.Client, opts, columns)
	if err != nil {
		return nil, fmt.Errorf("dbiface: scheduled runs from work pool: %w", err)
	}
	defer rows.Close()
	var out []WorkerFlowRun
	for rows.Next() {
		var r WorkerFlowRun
		if r.FlowRun, err = s.FlowRun.ScanRow(rows, columns, &r.WorkPoolID, &r.WorkQueueID); err != nil {
			return nil, fmt.Errorf("dbiface: scheduled runs from work pool: %w", err)
		}
		out = append(out, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("dbiface: scheduled runs from work pool: %w", err)
	}
	return out, nil
}

// GetScheduledFlowRunsFromWorkQueues returns the scheduled runs of legacy
// (agent) work queues, each run once, in the query's order.
func (s *Session) GetScheduledFlowRunsFromWorkQueues(ctx context.Context, opts dialects.WorkQueueRunsQuery) ([]*ent.FlowRun, error) {
	rows, err := s.iface.dialect.ScheduledFlowRunsFromWorkQueues(ctx, s.Client, opts)
	if err != nil {
		return nil, fmt.Errorf("dbiface: scheduled runs from work queues: %w", err)
	}
	var ids []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, r := range rows {
		if !seen[r.FlowRunID] {
			seen[r.FlowRunID] = true
			ids = append(ids, r.FlowRunID)
		}
	}
	runs, err := s.flowRunsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*ent.FlowRun, len(ids))
	for k, id := range ids {
		out[k] = runs[id]
	}
	return out, nil
}

// flowRunsByID loads flow runs by id in one query.
func (s *Session) flowRunsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*ent.FlowRun, error) {
	out := make(map[uuid.UUID]*ent.FlowRun, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	runs, err := s.FlowRun.Query().Where(flowrun.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("dbiface: load flow runs: %w", err)
	}
	for _, r := range runs {
		out[r.ID] = r
	}
	for _, id := range ids {
		if out[id] == nil {
			return nil, fmt.Errorf("dbiface: flow run %s vanished while it was being read", id)
		}
	}
	return out, nil
}

// InsertScheduledFlowRuns inserts scheduled runs with their SCHEDULED states
// and state pointers, skipping runs whose (flow_id, idempotency_key) exists,
// and returns the ids of the runs it inserted. Runs without an id are given
// one (in runs). Outside a transaction it is all-or-nothing as
// Interface.InsertScheduledFlowRuns is.
//
// It writes with its own SQL, not through the Ent client: Ent hooks and
// interceptors added to the client do not run for it.
func (s *Session) InsertScheduledFlowRuns(ctx context.Context, runs []dialects.ScheduledFlowRunInsert) ([]uuid.UUID, error) {
	if !s.InTransaction() {
		return s.iface.InsertScheduledFlowRuns(ctx, runs)
	}
	return s.iface.dialect.InsertScheduledFlowRuns(ctx, s.Client, runs)
}

// groupedScheduleRuns is the largest scheduling batch that joins the write
// group where the dialect groups writes. A larger one takes a transaction
// of its own: in a group it would hold the commit of every small write
// waiting with it, and, taken into the group, it would no longer end with
// its caller's context.
const groupedScheduleRuns = 1000

// InsertScheduledFlowRuns is Session.InsertScheduledFlowRuns outside any
// caller's transaction, all-or-nothing: the runs, their states and state
// pointers are written together or not at all. Where the dialect writes a
// batch in one statement (PostgreSQL, up to
// dialects.Queries.ScheduledRunsPerStatement runs) it is that statement,
// autocommitted; where the dialect groups writes (SQLite), concurrent
// batches of up to 1,000 runs share one transaction and one commit, each in
// its own savepoint (see Interface.SetFlowRunState); otherwise it runs in a
// transaction of its own.
//
// It writes with its own SQL, not through the Ent client: Ent hooks and
// interceptors added to the client do not run for it.
func (i *Interface) InsertScheduledFlowRuns(ctx context.Context, runs []dialects.ScheduledFlowRunInsert) ([]uuid.UUID, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	q := i.dialect
	if g := i.writeGroupFor(ctx); g != nil && len(runs) <= groupedScheduleRuns {
		var ids []uuid.UUID
		err := g.submit(ctx, func(ctx context.Context, tx dialects.Querier) error {
			var err error
			ids, err = q.InsertScheduledFlowRuns(ctx, tx, runs)
			return err
		})
		if err != nil {
			return nil, typedError(q, "insert scheduled flow runs", err, true, true, fmt.Errorf("dbiface: insert scheduled flow runs: %w", err))
		}
		return ids, nil
	}
	if len(runs) <= q.ScheduledRunsPerStatement() {
		ids, err := q.InsertScheduledFlowRuns(ctx, i.Client, runs)
		if err != nil {
			return nil, i.autocommitError("insert scheduled flow runs", err)
		}
		return ids, nil
	}
	var ids []uuid.UUID
	err := i.Transaction(ctx, NoLocks, func(ctx context.Context, s *Session) error {
		var err error
		ids, err = s.InsertScheduledFlowRuns(ctx, runs)
		return err
	})
	return ids, err
}

// SetStateIDOnInsertedFlowRuns points each listed run at its listed state.
func (s *Session) SetStateIDOnInsertedFlowRuns(ctx context.Context, flowRunIDs, stateIDs []uuid.UUID) (int64, error) {
	return s.iface.dialect.SetStateIDOnInsertedFlowRuns(ctx, s.Client, dialects.RunStates{FlowRunIDs: flowRunIDs, StateIDs: stateIDs})
}

// MakeTimestampIntervals returns the history buckets from start to end.
func (s *Session) MakeTimestampIntervals(ctx context.Context, start, end time.Time, interval time.Duration) ([]dialects.Interval, error) {
	return s.iface.dialect.MakeTimestampIntervals(ctx, s.Client, dialects.TimestampIntervals{Start: start, End: end, Interval: interval})
}

// QueueFlowRunNotifications queues one notification per active policy that
// matches a flow run's new state.
func (s *Session) QueueFlowRunNotifications(ctx context.Context, flowRunID, stateID uuid.UUID, stateName string, tags []string) (int64, error) {
	if err := s.iface.requireTable(ctx, "flow_run_notification_queue"); err != nil {
		return 0, err
	}
	return s.iface.dialect.QueueFlowRunNotifications(ctx, s.Client, dialects.RunEnteredState{FlowRunID: flowRunID, StateID: stateID, StateName: stateName, Tags: tags})
}

// GetFlowRunNotificationsFromQueue takes up to limit queued notifications
// and deletes them. Call it in a WithForUpdate transaction: every queued
// notification is then delivered exactly once, however many takers run.
func (s *Session) GetFlowRunNotificationsFromQueue(ctx context.Context, limit int) ([]dialects.QueuedNotification, error) {
	if err := s.iface.requireTable(ctx, "flow_run_notification_queue"); err != nil {
		return nil, err
	}
	return s.iface.dialect.GetFlowRunNotificationsFromQueue(ctx, s.Client, limit)
}

// FlowRunGraph returns the graph of a flow run for the UI (graph v2), as
// Prefect's read_flow_run_graph: q names the run, the time since which
// nodes are kept, and the node and artifact limits (Prefect's
// PREFECT_SERVER_FLOW_RUN_GRAPH_MAX_NODES and _MAX_ARTIFACTS).
//
// It follows the database's Prefect release: from 3.7.5 on PENDING task runs
// (and task runs without a state) are nodes too; q.IncludePendingTaskRuns
// makes them nodes on earlier releases as well.
func (s *Session) FlowRunGraph(ctx context.Context, q dialects.GraphQuery) (*dialects.Graph, error) {
	level, err := s.iface.Level(ctx)
	if err != nil {
		return nil, err
	}
	q.IncludePendingTaskRuns = q.IncludePendingTaskRuns || level.ReleaseAtLeast(pendingTaskRunsRelease)
	return s.iface.dialect.FlowRunGraph(ctx, s.Client, q)
}

// ReadConfigurationValue returns the value of a configuration key, from the
// interface's cache when it holds the key (no database access), else from
// the database (a value found is cached for an hour; a missing key is not).
// ok is false when the key does not exist.
func (s *Session) ReadConfigurationValue(ctx context.Context, key string) (value json.RawMessage, ok bool, err error) {
	return s.iface.config.ReadConfigurationValue(ctx, s.Client, key)
}

// ClearConfigurationValueCacheForKey forgets the cached value of key; call
// it after writing the key.
func (i *Interface) ClearConfigurationValueCacheForKey(key string) {
	i.config.ClearConfigurationValueCacheForKey(key)
}
