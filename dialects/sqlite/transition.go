package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/types"
)

var _ dialects.TransitionQueries = Dialect{}

// SQLite has no data-modifying CTEs, so a transition is three statements in
// the caller's write transaction: read the run's state columns, insert the
// state, update the run. Values are bound as parameters and encoded by the
// driver wrapper (ConvertValue) as Ent's writes are.
const (
	transitionReadRun = `SELECT state_type, state_timestamp, total_run_time FROM flow_run WHERE id = ?1`

	transitionInsertState = `INSERT INTO flow_run_state
	(id, created, updated, type, timestamp, name, message, state_details, data, flow_run_id)
	VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`

	// ?7 is 1 when entering RUNNING, ?8 whether the state is terminal, ?9
	// the new total run time (NULL: unchanged).
	transitionUpdateRun = `UPDATE flow_run SET
	state_id = ?2, state_type = ?3, state_name = ?4, state_timestamp = ?5, updated = ?6,
	run_count = run_count + ?7,
	start_time = CASE WHEN ?7 = 1 THEN COALESCE(start_time, ?5) ELSE start_time END,
	end_time = CASE WHEN ?8 THEN ?5 ELSE end_time END,
	total_run_time = COALESCE(?9, total_run_time)
	WHERE id = ?1`
)

// TransitionIsOneStatement implements dialects.TransitionQueries: false, a
// transition is three statements in the caller's write transaction.
func (Dialect) TransitionIsOneStatement() bool { return false }

// TransitionFlowRun implements dialects.TransitionQueries.
func (Dialect) TransitionFlowRun(ctx context.Context, q dialects.Querier, t dialects.FlowRunTransition) (dialects.TransitionResult, error) {
	var (
		res       dialects.TransitionResult
		current   sql.NullString
		currentTS time.Time
		total     types.Interval
	)
	fail := func(step string, err error) (dialects.TransitionResult, error) {
		return res, fmt.Errorf("sqlite: transition flow run %s: %s: %w", t.RunID, step, err)
	}
	rows, err := q.QueryContext(ctx, transitionReadRun, t.RunID)
	if err != nil {
		return fail("read run", err)
	}
	if rows.Next() {
		res.Found = true
		err = rows.Scan(&current, dialects.TimeScanner(&currentTS), &total)
	}
	if err = errors.Join(err, rows.Err(), rows.Close()); err != nil {
		return fail("read run", err)
	}
	if !res.Found {
		return res, nil
	}
	if current.Valid {
		st := types.StateType(current.String)
		res.Current = &st
	}
	if len(t.From) > 0 && (res.Current == nil || !slices.Contains(t.From, *res.Current)) {
		return res, nil
	}

	ts := t.Timestamp.UTC()
	if !currentTS.IsZero() && !ts.After(currentTS) {
		ts = currentTS.Add(time.Microsecond)
	}
	if _, err := q.ExecContext(ctx, transitionInsertState, t.StateID, t.Now, string(t.Type), ts, t.Name,
		t.Message, t.StateDetails, t.Data, t.RunID); err != nil {
		return fail("insert state", err)
	}
	running := 0
	if t.Type == types.StateRunning {
		running = 1
	}
	var newTotal *types.Interval
	if res.Current != nil && *res.Current == types.StateRunning && t.Type != types.StateRunning && !currentTS.IsZero() {
		v := total + types.Interval(ts.Sub(currentTS))
		newTotal = &v
	}
	if _, err := q.ExecContext(ctx, transitionUpdateRun, t.RunID, t.StateID, string(t.Type), t.Name, ts, t.Now,
		running, t.Type.IsTerminal(), newTotal); err != nil {
		return fail("update run", err)
	}
	res.Applied, res.Timestamp = true, ts
	return res, nil
}

var _ dialects.WriteGrouper = Dialect{}

// groupSavepoint names the savepoint of one write in a group; InSavepoint's
// savepoints are never nested, so one name serves.
const groupSavepoint = "prefectdb_write"

// InSavepoint implements dialects.WriteGrouper with SAVEPOINT, RELEASE
// and ROLLBACK TO.
func (Dialect) InSavepoint(ctx context.Context, q dialects.Querier, fn func() error) error {
	if _, err := q.ExecContext(ctx, "SAVEPOINT "+groupSavepoint); err != nil {
		return &dialects.SavepointError{Op: "open", Err: err}
	}
	if ferr := fn(); ferr != nil {
		// ROLLBACK TO undoes fn's writes and keeps the savepoint open;
		// RELEASE then closes it. When a failure rolled back the whole
		// transaction (SQLite does on a full disk, an I/O error, an
		// interrupt), the savepoint is gone and ROLLBACK TO fails.
		if _, err := q.ExecContext(ctx, "ROLLBACK TO "+groupSavepoint); err != nil {
			return &dialects.SavepointError{Op: "roll back to", Err: err, Cause: ferr}
		}
		if _, err := q.ExecContext(ctx, "RELEASE "+groupSavepoint); err != nil {
			return &dialects.SavepointError{Op: "release", Err: err, Cause: ferr}
		}
		return ferr
	}
	if _, err := q.ExecContext(ctx, "RELEASE "+groupSavepoint); err != nil {
		return &dialects.SavepointError{Op: "release", Err: err}
	}
	return nil
}
