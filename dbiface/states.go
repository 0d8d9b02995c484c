package dbiface

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
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

// validate refuses, on both databases alike, what one of them would store
// and the other refuse: an unknown state type (PostgreSQL's enum refuses it,
// SQLite's text column would not), text with a NUL byte or invalid UTF-8,
// a timestamp outside years 1 to 9999.
func (t StateTransition) validate() error {
	if !t.Type.Valid() {
		return &types.InvalidValueError{Field: "state type", Reason: "not one of Prefect's state types (" + strings.Join(types.StateType("").Values(), ", ") + ")"}
	}
	for _, f := range t.From {
		if !f.Valid() {
			return &types.InvalidValueError{Field: "from state type", Reason: "not one of Prefect's state types"}
		}
	}
	checks := []struct {
		field string
		value any
	}{{"state name", t.Name}, {"state timestamp", t.Timestamp}, {"state message", t.Message},
		{"state details", t.StateDetails}, {"state data", t.Data}}
	if reason := types.CheckIndexedText(t.Name); reason != "" {
		return &types.InvalidValueError{Field: "state name", Reason: reason}
	}
	for _, c := range checks {
		if c.field == "state timestamp" && t.Timestamp.IsZero() {
			continue
		}
		if reason := types.CheckValue(c.value); reason != "" {
			return &types.InvalidValueError{Field: c.field, Reason: reason}
		}
	}
	return nil
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
func (i *Interface) TransactionWithRetry(ctx context.Context, locking Locking, fn func(ctx context.Context, s *Session) error) error {
	return i.withRetry(ctx, func() error { return i.Transaction(ctx, locking, fn) })
}

// withRetry runs attempt until it succeeds, fails for a reason a retry
// cannot cure, or has failed transactionAttempts times (then the error is a
// *RetryableError), pausing a short random time between attempts.
func (i *Interface) withRetry(ctx context.Context, attempt func() error) error {
	var err error
	for n := 1; n <= transactionAttempts; n++ {
		var unknown *OutcomeUnknownError
		if err = attempt(); err == nil || errors.As(err, &unknown) || !i.dialect.IsRetryable(err) {
			return err // an unknown outcome is never retried blindly
		}
		var once *RetryableError
		if errors.As(err, &once) {
			err = once.Err
		}
		pause := time.Duration(n)*10*time.Millisecond + time.Duration(rand.IntN(10_000))*time.Microsecond
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
//
// Where the dialect writes a transition in one statement (PostgreSQL), that
// statement runs alone, autocommitted: it is atomic by itself, and its one
// round trip replaces three (BEGIN, the statement, COMMIT).
//
// Where the dialect groups writes (SQLite, dialects.WriteGrouper),
// concurrent calls are written together: one write transaction and one
// commit for all the transitions waiting when it begins, each in its own
// savepoint, so that each keeps its own all-or-nothing outcome and its own
// error. A call whose context ends while it waits for a group returns the
// context's error having changed nothing; once its transition is in a
// group's transaction, it returns that transition's outcome.
//
// It writes with its own SQL, not through the Ent client: Ent hooks and
// interceptors added to the client do not run for it.
func (i *Interface) SetFlowRunState(ctx context.Context, runID uuid.UUID, t StateTransition) (_ *ent.FlowRunState, err error) {
	ctx, endSpan := i.tel.span(ctx, "prefectdb.set_flow_run_state", attribute.String("prefect.state.type", string(t.Type)))
	defer func() { endSpan(err) }()
	if i.dialect.TransitionIsOneStatement() {
		var state *ent.FlowRunState
		err := i.withRetry(ctx, func() error {
			var err error
			// The pool itself, not the Ent client: a dialect may run the
			// one statement on its driver directly (dialects.TransitionQueries).
			state, err = setFlowRunState(ctx, i.dialect, i.db, i.Client, runID, t)
			if err != nil && i.dialect.OutcomeUnknown(err) {
				return &OutcomeUnknownError{Op: "the state transition", Err: err}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		return state, nil
	}
	var state *ent.FlowRunState
	if g := i.writeGroupFor(ctx); g != nil {
		p, err := prepareTransition(runID, t)
		if err != nil {
			return nil, err
		}
		var res dialects.TransitionResult
		err = i.withRetry(ctx, func() error {
			return g.submit(ctx, func(ctx context.Context, q dialects.Querier) error {
				var err error
				res, err = i.dialect.TransitionFlowRun(ctx, q, p.in)
				return err
			})
		})
		return p.finish(i.Client, res, err)
	}
	err = i.TransactionWithRetry(ctx, ForUpdate, func(ctx context.Context, s *Session) error {
		var err error
		state, err = s.SetFlowRunState(ctx, runID, t)
		return err
	})
	if err != nil {
		return nil, err
	}
	// The transaction is over: bind the state to the interface's client,
	// so that its edge queries work.
	return state.Unwrap(), nil
}

// SetFlowRunState is Interface.SetFlowRunState inside the session's
// transaction, which must have been begun WithForUpdate. The dialect writes
// the change (dialects.TransitionQueries): one statement on PostgreSQL,
// three in the write transaction on SQLite.
func (s *Session) SetFlowRunState(ctx context.Context, runID uuid.UUID, t StateTransition) (*ent.FlowRunState, error) {
	if !s.forWrite {
		return nil, errors.New("dbiface: SetFlowRunState needs a transaction begun WithForUpdate")
	}
	return setFlowRunState(ctx, s.iface.dialect, s.Client, s.Client, runID, t)
}

// setFlowRunState writes the transition through client (a transaction's
// client, or the interface's own when the dialect's transition is one
// statement) and returns the new state bound to client.
func setFlowRunState(ctx context.Context, d dialects.Dialect, q dialects.Querier, client *ent.Client, runID uuid.UUID, t StateTransition) (*ent.FlowRunState, error) {
	p, err := prepareTransition(runID, t)
	if err != nil {
		return nil, err
	}
	res, err := d.TransitionFlowRun(ctx, q, p.in)
	return p.finish(client, res, err)
}

// preparedTransition is a checked StateTransition with its values as the
// dialect writes them.
type preparedTransition struct {
	in      dialects.FlowRunTransition
	t       StateTransition
	details map[string]any
}

// prepareTransition checks t and encodes its values, outside any
// transaction.
func prepareTransition(runID uuid.UUID, t StateTransition) (preparedTransition, error) {
	if err := t.validate(); err != nil {
		return preparedTransition{}, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	ts := t.Timestamp
	if ts.IsZero() {
		ts = now
	}
	name := t.Name
	if name == "" {
		name = stateName(t.Type)
	}
	// The same values Ent's create would store: non-finite numbers become
	// null (the schema's finiteJSON hook), state_details defaults to {}.
	var details any = map[string]any{}
	if t.StateDetails != nil {
		details, _ = types.WithoutNonFinite(t.StateDetails)
	}
	detailsJSON, err := json.Marshal(details)
	if err != nil {
		return preparedTransition{}, fmt.Errorf("dbiface: state details of flow run %s: %w", runID, err)
	}
	var data json.RawMessage
	if t.Data != nil {
		if data, err = json.Marshal(t.Data); err != nil {
			return preparedTransition{}, fmt.Errorf("dbiface: state data of flow run %s: %w", runID, err)
		}
	}
	return preparedTransition{
		in: dialects.FlowRunTransition{
			RunID: runID, StateID: uuid.New(), Type: t.Type, Name: name,
			Timestamp: ts.UTC().Truncate(time.Microsecond), Message: t.Message,
			StateDetails: detailsJSON, Data: data, Now: now, From: t.From,
		},
		t: t, details: details.(map[string]any),
	}, nil
}

// finish turns the dialect's result (or error) into SetFlowRunState's: the
// new state bound to client, a not-found error or a
// *TransitionRejectedError.
func (p preparedTransition) finish(client *ent.Client, res dialects.TransitionResult, err error) (*ent.FlowRunState, error) {
	runID := p.in.RunID
	if err != nil {
		return nil, fmt.Errorf("dbiface: set state of flow run %s: %w", runID, err)
	}
	if !res.Found {
		return nil, fmt.Errorf("dbiface: lock flow run %s: %w", runID, ent.NewNotFoundError(flowrun.Label))
	}
	if !res.Applied {
		return nil, &TransitionRejectedError{FlowRunID: runID, Current: res.Current, Proposed: p.t.Type}
	}
	// The entity holds the values as given (after the hook), as the one
	// Ent's create returns does.
	return client.FlowRunState.Bind(&ent.FlowRunState{
		ID: p.in.StateID, Created: p.in.Now, Updated: p.in.Now, Type: p.t.Type, Timestamp: res.Timestamp, Name: p.in.Name,
		Message: p.t.Message, StateDetails: p.details, Data: p.t.Data, FlowRunID: runID,
	}), nil
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
