package dialects

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/types"
)

// FlowRunTransition is one state change of a flow run as written by
// TransitionQueries: everything the caller decided, bound as parameters.
type FlowRunTransition struct {
	// RunID is the flow run.
	RunID uuid.UUID
	// StateID is the id of the new flow_run_state row.
	StateID uuid.UUID
	// Type and Name are the new state's type and name.
	Type types.StateType
	Name string
	// Timestamp is the proposed start of the state, in UTC with microsecond
	// precision. The stored timestamp is the run's current state timestamp
	// plus one microsecond when Timestamp is not after it.
	Timestamp time.Time
	// Message is the state's message; nil stores NULL.
	Message *string
	// StateDetails is the state_details JSON document (never nil).
	StateDetails []byte
	// Data is the data JSON document; nil stores NULL.
	Data []byte
	// Now is the created and updated time of the state, and the run's
	// updated time.
	Now time.Time
	// From, when not empty, applies the transition only if the run's
	// current state type is one of these.
	From []types.StateType
}

// TransitionResult reports what TransitionQueries.TransitionFlowRun did.
type TransitionResult struct {
	// Found is false when no flow run has the id; nothing was written.
	Found bool
	// Current is the run's state type when its lock was taken; nil for a
	// run without a state.
	Current *types.StateType
	// Applied is false when From did not hold; nothing was written.
	Applied bool
	// Timestamp is the stored state's timestamp, when Applied.
	Timestamp time.Time
}

// TransitionQueries write a flow run's state change: lock the run, check the
// From condition, insert the state, and update the run's state columns,
// current-state pointer (state_id), updated time, run count and start time
// (entering RUNNING), end time (entering a terminal state) and total run
// time (leaving RUNNING: plus the time since the RUNNING state began).
// It is part of the Dialect interface.
//
// q must be a transaction that may write: on PostgreSQL the run is locked
// with FOR UPDATE, on SQLite the transaction must hold the write lock (BEGIN
// IMMEDIATE, see WithWriteLock) for the read and the writes to be one step.
//
// When TransitionIsOneStatement reports true, TransitionFlowRun is a single
// statement that locks the run itself and is atomic without a transaction:
// q may then also be a connection pool, and the statement autocommits.
type TransitionQueries interface {
	TransitionFlowRun(ctx context.Context, q Querier, t FlowRunTransition) (TransitionResult, error)
	TransitionIsOneStatement() bool
}

// WriteGrouper is implemented by a dialect on which concurrent small writes
// (state transitions, log batches, event batches) are best written
// together: one write transaction and one commit for many of them, each
// inside its own savepoint so that each keeps its own all-or-nothing outcome
// and its own error. SQLite implements it: one writer serialises every
// commit there, and the commit (writing the changed pages to the log) is
// most of a small write's cost.
type WriteGrouper interface {
	// InSavepoint runs fn inside a savepoint of q's write transaction.
	// When fn succeeds the savepoint is released and InSavepoint returns
	// nil. When fn fails, its writes (and only they) are rolled back and
	// fn's error is returned. A *SavepointError reports that the savepoint
	// itself failed: the transaction can no longer be trusted and must be
	// rolled back as a whole.
	InSavepoint(ctx context.Context, q Querier, fn func() error) error
}

// SavepointError reports that a savepoint statement failed inside
// WriteGrouper.InSavepoint, so that the transaction's state is unknown
// (SQLite rolls back a whole transaction on some errors, and the savepoint
// is then gone). Cause is fn's error when fn's failure came first, nil when
// the savepoint failed by itself.
type SavepointError struct {
	// Op is the statement that failed: "open", "release" or "roll back to".
	Op    string
	Err   error
	Cause error
}

func (e *SavepointError) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("savepoint: %s after %v: %v", e.Op, e.Cause, e.Err)
	}
	return fmt.Sprintf("savepoint: %s: %v", e.Op, e.Err)
}

func (e *SavepointError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}
