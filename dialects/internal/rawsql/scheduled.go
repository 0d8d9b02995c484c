package rawsql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
)

// RunColumns are the flow_run columns that InsertScheduledFlowRuns binds
// per run, in the order of the rows it hands to ScheduledInsert.InsertRuns.
var RunColumns = []string{
	"id", "name", "expected_start_time", "next_scheduled_start_time", "parameters", "idempotency_key",
	"empirical_policy", "tags", "auto_scheduled", "flow_id", "deployment_id", "infrastructure_document_id",
	"work_queue_name", "work_queue_id", "created_by", "job_variables", "deployment_version",
}

// StateColumns are the flow_run_state columns that InsertScheduledFlowRuns
// binds per state, in the order of the rows it hands to
// ScheduledInsert.InsertStates.
var StateColumns = []string{"id", "message", "state_details", "flow_run_id"}

// ScheduledInsert is what a dialect supplies to InsertScheduledFlowRuns: its
// statements and limits.
type ScheduledInsert struct {
	// Dialect ("postgres", "sqlite") begins the messages of the errors.
	Dialect string
	// MaxParams is the database's limit on bound parameters per statement.
	MaxParams int
	// MaxRowsPerInsert caps the rows of one multi-row INSERT, whatever
	// MaxParams allows.
	MaxRowsPerInsert int
	// TruncateTimes makes the runs' expected and next scheduled start times
	// bound truncated to microseconds (otherwise they are bound as given).
	TruncateTimes bool
	// InsertRuns returns a statement and its arguments that insert rows
	// (values of RunColumns, JSON columns as JSON text or nil) into flow_run
	// as SCHEDULED runs ("Scheduled") created and updated at now, skip the
	// rows whose (flow_id, idempotency_key) exists (ON CONFLICT DO NOTHING)
	// and return the ids of the inserted ones. It takes at most
	// 1 + len(rows)*len(RunColumns) parameters.
	InsertRuns func(rows [][]any, now time.Time) (string, []any)
	// InsertStates returns a statement and its arguments that insert rows
	// (values of StateColumns) into flow_run_state as SCHEDULED states
	// ("Scheduled") created, updated and timestamped at now. It takes at
	// most 1 + len(rows)*len(StateColumns) parameters.
	InsertStates func(rows [][]any, now time.Time) (string, []any)
	// PointStates returns a statement and its arguments that set the
	// state_id of run p.FlowRunIDs[k] to p.StateIDs[k], for every k: each
	// inserted run has exactly one new state, so the pairs are known and
	// the general SetStateIDOnInsertedFlowRuns (the newest of the given
	// states of each run) would search for what is given.
	PointStates func(p dialects.RunStates) (string, []any)
	// InsertRunsWithStates, when set, replaces the three statements above
	// with one per chunk: it returns a statement and its arguments that
	// insert rows as InsertRuns does, each run already pointing at its
	// state (state_id), and the state of each inserted run as InsertStates
	// does, and return the ids of the inserted runs. A row is the values
	// of RunColumns followed by those of StateColumns without flow_run_id
	// (the state's id, message and details). The database must check the
	// two foreign keys (run → state, state → run) at the end of the
	// statement, as PostgreSQL does for a data-modifying WITH: the runs'
	// rows are then written once, not inserted and updated.
	InsertRunsWithStates func(rows [][]any, now time.Time) (string, []any)
}

// RunsPerStatement implements dialects.Queries.ScheduledRunsPerStatement
// for s: the rows of one InsertRunsWithStates statement, 0 without it (runs,
// states and pointers are then three statements).
func (s ScheduledInsert) RunsPerStatement() int {
	if s.InsertRunsWithStates == nil {
		return 0
	}
	return ChunkRows(len(RunColumns)+len(StateColumns)-1, s.MaxParams, s.MaxRowsPerInsert)
}

// InsertScheduledFlowRuns implements dialects.Queries.InsertScheduledFlowRuns
// with the statements s writes: it validates the runs and gives those
// without an id a new one (in runs), inserts the runs in chunks, one
// SCHEDULED state per inserted run, and points the runs at their states.
// s only writes statement text; rawsql runs the statements.
func InsertScheduledFlowRuns(ctx context.Context, q dialects.Querier, runs []dialects.ScheduledFlowRunInsert, s ScheduledInsert) ([]uuid.UUID, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	rows := make([][]any, len(runs))
	for k := range runs {
		row, err := runRow(&runs[k], s.TruncateTimes)
		if err != nil {
			return nil, fmt.Errorf("%s: insert scheduled flow runs: run %d %w", s.Dialect, k, err)
		}
		rows[k] = row
	}

	inserted := map[uuid.UUID]bool{}
	if s.InsertRunsWithStates != nil {
		return insertRunsWithStates(ctx, q, runs, rows, s, now, inserted)
	}

	// 1. The runs; RETURNING lists exactly the ones inserted.
	err := InsertChunks(len(RunColumns), s.MaxParams, s.MaxRowsPerInsert, rows, func(chunk [][]any) error {
		query, args := s.InsertRuns(chunk, now)
		return CollectIDs(ctx, q, query, args, inserted)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: insert scheduled flow runs: %w", s.Dialect, err)
	}
	if len(inserted) == 0 {
		return nil, nil
	}

	// 2. One SCHEDULED state per inserted run.
	runIDs := make([]uuid.UUID, 0, len(inserted))
	stateIDs := make([]uuid.UUID, 0, len(inserted))
	stateRows := make([][]any, 0, len(inserted))
	for k := range runs {
		r := &runs[k]
		if !inserted[r.ID] {
			continue
		}
		details, err := JSON(r.StateDetails, "{}")
		if err != nil {
			return nil, fmt.Errorf("%s: insert scheduled flow runs: run %d state details: %w", s.Dialect, k, err)
		}
		sid := uuid.New()
		runIDs = append(runIDs, r.ID)
		stateIDs = append(stateIDs, sid)
		stateRows = append(stateRows, []any{sid, r.StateMessage, details, r.ID})
	}
	err = InsertChunks(len(StateColumns), s.MaxParams, s.MaxRowsPerInsert, stateRows, func(chunk [][]any) error {
		query, args := s.InsertStates(chunk, now)
		_, err := q.ExecContext(ctx, query, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: insert scheduled flow run states: %w", s.Dialect, err)
	}
	// 3. Point the runs at their states.
	query, args := s.PointStates(dialects.RunStates{FlowRunIDs: runIDs, StateIDs: stateIDs})
	if _, err := q.ExecContext(ctx, query, args...); err != nil {
		return nil, fmt.Errorf("%s: set state id on inserted flow runs: %w", s.Dialect, err)
	}
	return runIDs, nil
}

// runRow validates r, gives it an id if it has none, and returns the values
// of RunColumns for it. Its errors complete "run <k> ".
func runRow(r *dialects.ScheduledFlowRunInsert, truncate bool) ([]any, error) {
	if r.FlowID == uuid.Nil {
		return nil, errors.New("has no flow id")
	}
	if r.NextScheduledStartTime.IsZero() {
		return nil, errors.New("has no scheduled start time")
	}
	if r.ID == uuid.Nil {
		r.ID = uuid.New()
	}
	expected, next := r.ExpectedStartTime, r.NextScheduledStartTime
	if expected.IsZero() {
		expected = next
	}
	if truncate {
		expected, next = expected.Truncate(time.Microsecond), next.Truncate(time.Microsecond)
	}
	params, err := JSON(r.Parameters, "{}")
	if err != nil {
		return nil, fmt.Errorf("parameters: %w", err)
	}
	policy, err := JSON(r.EmpiricalPolicy, "{}")
	if err != nil {
		return nil, fmt.Errorf("empirical policy: %w", err)
	}
	tags, err := JSON(r.Tags, "[]")
	if err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	createdBy, err := JSON(r.CreatedBy, "")
	if err != nil {
		return nil, fmt.Errorf("created by: %w", err)
	}
	jobVars, err := JSON(r.JobVariables, "{}")
	if err != nil {
		return nil, fmt.Errorf("job variables: %w", err)
	}
	return []any{
		r.ID, r.Name, expected, next, params, r.IdempotencyKey, policy, tags, r.AutoScheduled, r.FlowID,
		r.DeploymentID, r.InfrastructureDocumentID, r.WorkQueueName, r.WorkQueueID, createdBy, jobVars,
		r.DeploymentVersion,
	}, nil
}

// insertRunsWithStates is InsertScheduledFlowRuns with
// s.InsertRunsWithStates: each run row (runRow) gets its state's id,
// message and details, and one statement per chunk writes runs and states.
func insertRunsWithStates(ctx context.Context, q dialects.Querier, runs []dialects.ScheduledFlowRunInsert, rows [][]any,
	s ScheduledInsert, now time.Time, inserted map[uuid.UUID]bool) ([]uuid.UUID, error) {
	for k := range runs {
		r := &runs[k]
		details, err := JSON(r.StateDetails, "{}")
		if err != nil {
			return nil, fmt.Errorf("%s: insert scheduled flow runs: run %d state details: %w", s.Dialect, k, err)
		}
		rows[k] = append(rows[k], uuid.New(), r.StateMessage, details)
	}
	err := InsertChunks(len(RunColumns)+len(StateColumns)-1, s.MaxParams, s.MaxRowsPerInsert, rows, func(chunk [][]any) error {
		query, args := s.InsertRunsWithStates(chunk, now)
		return CollectIDs(ctx, q, query, args, inserted)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: insert scheduled flow runs: %w", s.Dialect, err)
	}
	var runIDs []uuid.UUID
	for k := range runs {
		if id := runs[k].ID; inserted[id] {
			runIDs = append(runIDs, id)
			delete(inserted, id) // a run listed twice was inserted once
		}
	}
	return runIDs, nil
}
