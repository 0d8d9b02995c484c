package dialects

import (
	"context"
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
