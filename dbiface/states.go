package dbiface

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/flowrun"
	"github.com/prefectdb/prefectdb/types"
)

// StateTransition is a new state proposed for a flow run.
type StateTransition struct {
	// Type is the new state's type.
	Type types.StateType
	// Name is the state's name; default: the type in title case
	// ("Running").
	Name string
	// Timestamp is when the state began; default: now. It is moved to just
	// after the run's current state when it is not later, so that the
	// history stays in order and (flow_run_id, timestamp) stays unique.
	Timestamp time.Time
	// Message, StateDetails and Data are stored with the state.
	Message      *string
	StateDetails map[string]any
	Data         json.RawMessage
	// From, when set, accepts the transition only if the run's current
	// state type is one of these (a run without a state has none):
	// otherwise SetFlowRunState returns a *TransitionRejectedError and
	// changes nothing. This is how two workers racing to move a SCHEDULED
	// run to PENDING are told apart: exactly one wins.
	From []types.StateType
}

// TransitionRejectedError reports a transition whose From condition did not
// hold: the run was in another state when its lock was taken.
type TransitionRejectedError struct {
	FlowRunID uuid.UUID
	Current   *types.StateType
	Proposed  types.StateType
}

func (e *TransitionRejectedError) Error() string {
	cur := "no state"
	if e.Current != nil {
		cur = string(*e.Current)
	}
	return fmt.Sprintf("flow run %s is in %s: the transition to %s was rejected", e.FlowRunID, cur, e.Proposed)
}

// RetryableError reports a transaction that the database kept refusing for a
// reason that retrying may cure (a deadlock, a serialization failure, a lock
// timeout, SQLite being busy) after Attempts attempts. Retrying later may
// succeed.
type RetryableError struct {
	Attempts int
	Err      error
}

func (e *RetryableError) Error() string {
	return fmt.Sprintf("the database refused the transaction %d times (retry later): %v", e.Attempts, e.Err)
}

func (e *RetryableError) Unwrap() error { return e.Err }

// transactionAttempts bounds the retries of TransactionWithRetry.
const transactionAttempts = 5

// TransactionWithRetry runs fn like Transaction and runs it again, after a
// short random pause, when the database refuses it for a reason that a retry
// may cure. After five attempts it returns a *RetryableError. fn must be safe
// to run more than once: its transaction is rolled back each time.
func (i *Interface) TransactionWithRetry(ctx context.Context, forUpdate bool, fn func(ctx context.Context, s *Session) error) error {
	var err error
	for attempt := 1; attempt <= transactionAttempts; attempt++ {
		if err = i.Transaction(ctx, forUpdate, fn); err == nil || !i.dialect.IsRetryable(err) {
			return err
		}
		var once *RetryableError
		if errors.As(err, &once) {
			err = once.Err
		}
		pause := time.Duration(attempt)*10*time.Millisecond + time.Duration(rand.IntN(10_000))*time.Microsecond
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		}
	}
	return &RetryableError{Attempts: transactionAttempts, Err: err}
}

// SetFlowRunState moves a flow run to a new state in one locking
// transaction: it locks the run (FOR UPDATE on PostgreSQL, the write lock on
// SQLite), checks t.From, inserts the state, and updates the run's state
// columns and current-state pointer, its run count and start time (entering
// RUNNING), its end time (entering a terminal state) and its total run time
// (leaving RUNNING). Refusals a retry may cure are retried (see
// TransactionWithRetry).
func (i *Interface) SetFlowRunState(ctx context.Context, runID uuid.UUID, t StateTransition) (*ent.FlowRunState, error) {
	var state *ent.FlowRunState
	err := i.TransactionWithRetry(ctx, true, func(ctx context.Context, s *Session) error {
		var err error
		state, err = s.SetFlowRunState(ctx, runID, t)
		return err
	})
	return state, err
}

// SetFlowRunState is Interface.SetFlowRunState inside the session's
// transaction, which must have been begun WithForUpdate.
func (s *Session) SetFlowRunState(ctx context.Context, runID uuid.UUID, t StateTransition) (*ent.FlowRunState, error) {
	if !s.forWrite {
		return nil, errors.New("dbiface: SetFlowRunState needs a transaction begun WithForUpdate")
	}
	run, err := LockForUpdate(s, s.FlowRun.Query().Where(flowrun.ID(runID))).Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("dbiface: lock flow run %s: %w", runID, err)
	}
	if len(t.From) > 0 && (run.StateType == nil || !slices.Contains(t.From, *run.StateType)) {
		return nil, &TransitionRejectedError{FlowRunID: runID, Current: run.StateType, Proposed: t.Type}
	}
	ts := t.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	ts = ts.UTC().Truncate(time.Microsecond)
	if run.StateTimestamp != nil && !ts.After(*run.StateTimestamp) {
		ts = run.StateTimestamp.Add(time.Microsecond)
	}
	name := t.Name
	if name == "" {
		name = stateName(t.Type)
	}
	create := s.FlowRunState.Create().SetFlowRunID(runID).SetType(t.Type).SetName(name).SetTimestamp(ts).
		SetNillableMessage(t.Message)
	if t.StateDetails != nil {
		create.SetStateDetails(t.StateDetails)
	}
	if t.Data != nil {
		create.SetData(t.Data)
	}
	state, err := create.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("dbiface: insert state of flow run %s: %w", runID, err)
	}
	update := s.FlowRun.UpdateOneID(runID).SetCurrentState(state).SetStateType(t.Type).SetStateName(name).
		SetStateTimestamp(ts)
	if run.StateType != nil && *run.StateType == types.StateRunning && t.Type != types.StateRunning && run.StateTimestamp != nil {
		update.SetTotalRunTime(run.TotalRunTime + types.Interval(ts.Sub(*run.StateTimestamp)))
	}
	if t.Type == types.StateRunning {
		update.SetRunCount(run.RunCount + 1)
		if run.StartTime == nil {
			update.SetStartTime(ts)
		}
	}
	if t.Type.IsTerminal() {
		update.SetEndTime(ts)
	}
	if err := update.Exec(ctx); err != nil {
		return nil, fmt.Errorf("dbiface: update flow run %s: %w", runID, err)
	}
	return state, nil
}

// stateName is Prefect's default name of a state type: "Running",
// "Completed", ...
func stateName(t types.StateType) string {
	s := strings.ToLower(string(t))
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
