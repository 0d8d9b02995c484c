package bench

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/types"
)

// Side names who does the work: prefectdb, or the hand-written baseline.
type Side string

// The two sides of every comparison.
const (
	Prefectdb Side = "prefectdb"
	Baseline  Side = "baseline"
)

// Target is one side of a comparison on one database: the operations the
// workloads time. Every operation is one transaction.
type Target interface {
	// Side reports who does the work.
	Side() Side
	// Schedule inserts a batch of scheduled runs (idempotently on flow_id
	// and idempotency_key), one SCHEDULED state each, and points every
	// inserted run at its state. It returns the number of runs inserted.
	Schedule(ctx context.Context, runs []dialects.ScheduledFlowRunInsert) (int, error)
	// Poll runs the work-pool scheduled-runs query of the fixture's pool
	// (limit PollLimit, queue priorities on) in a locking transaction and
	// reads the runs it returns. It returns the number of runs.
	Poll(ctx context.Context) (int, error)
	// Transition moves a run into a new state: lock the run, insert the
	// state, update the run's state columns and pointer, run_count, start
	// and end time, and total run time.
	Transition(ctx context.Context, runID uuid.UUID, to types.StateType, name string) error
	// InsertLogs inserts a batch of log rows.
	InsertLogs(ctx context.Context, rows []LogRow) error
	// InsertEvents inserts a batch of events (ON CONFLICT DO NOTHING) and
	// the resources of those inserted. It returns the number of rows
	// written (events and resources).
	InsertEvents(ctx context.Context, rows []EventRow) (int, error)
	// CopyLogs streams log rows into the log table with COPY, one COPY
	// statement and transaction per received slice of batches; it returns
	// the number of rows copied. Targets without COPY return
	// errNoCopy.
	CopyLogs(ctx context.Context, batches <-chan []LogRow) (int64, error)
	// Close releases the target's connections.
	Close() error
}

// transitionUpdate is what a state transition writes on the run, computed
// from the run's current state as Prefect's orchestration does.
type transitionUpdate struct {
	timestamp    time.Time // the new state's: now, or just after the current state's
	runCount     int
	startTime    *time.Time
	endTime      *time.Time
	totalRunTime time.Duration
}

// nextRunColumns computes the run columns after a transition into to at
// now, from the run's current state type, state timestamp, run_count,
// start_time, end_time and total_run_time. The new state's timestamp is now,
// or a microsecond after the current state's if now is not later (the
// history stays in order and (flow_run_id, timestamp) unique).
func nextRunColumns(cur *types.StateType, curTS *time.Time, runCount int, start, end *time.Time,
	total time.Duration, to types.StateType, now time.Time) transitionUpdate {
	now = now.UTC().Truncate(time.Microsecond)
	if curTS != nil && !now.After(*curTS) {
		now = curTS.Add(time.Microsecond)
	}
	u := transitionUpdate{timestamp: now, runCount: runCount, startTime: start, endTime: end, totalRunTime: total}
	if cur != nil && *cur == types.StateRunning && curTS != nil {
		u.totalRunTime += now.Sub(*curTS)
	}
	if to == types.StateRunning {
		u.runCount++
		if u.startTime == nil {
			t := now
			u.startTime = &t
		}
	}
	switch to {
	case types.StateCompleted, types.StateFailed, types.StateCancelled, types.StateCrashed:
		t := now
		u.endTime = &t
	}
	return u
}
