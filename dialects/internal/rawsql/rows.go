package rawsql

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/types"
)

// Args collects bind parameters and hands out their placeholders: Sigil
// and the parameter's number, so that a placeholder may be used more than
// once in a statement.
type Args struct {
	// Sigil is what the dialect writes before a parameter's number: "$"
	// on PostgreSQL ($1), "?" on SQLite (?1).
	Sigil string
	// Vals are the values bound so far, in order.
	Vals []any
}

// Add binds v and returns its placeholder.
func (a *Args) Add(v any) string {
	a.Vals = append(a.Vals, v)
	return a.Sigil + strconv.Itoa(len(a.Vals))
}

// List binds every id and returns the placeholders, comma separated.
func (a *Args) List(ids []uuid.UUID) string {
	ps := make([]string, len(ids))
	for k, id := range ids {
		ps[k] = a.Add(id)
	}
	return strings.Join(ps, ", ")
}

// ExecCount runs a statement and returns the number of rows it affected.
func ExecCount(ctx context.Context, q dialects.Querier, query string, args ...any) (int64, error) {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// QueryRows runs a query and scans each row into a new T, whose fields
// dest lists as Scan destinations. It returns nil for no rows and on error.
func QueryRows[T any](ctx context.Context, q dialects.Querier, query string, args []any, dest func(*T) []any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(dest(&v)...); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Intervals runs a query whose columns are interval_start and interval_end
// (dialects.Queries.TimestampIntervalsSQL) and returns its rows, read with
// dialects.TimeScanner.
func Intervals(ctx context.Context, q dialects.Querier, query string, args ...any) ([]dialects.Interval, error) {
	return QueryRows(ctx, q, query, args, func(iv *dialects.Interval) []any {
		return []any{dialects.TimeScanner(&iv.Start), dialects.TimeScanner(&iv.End)}
	})
}

// QueuedRuns runs a query whose columns are a work queue id and a flow run
// id (dialects.SchedulingQueries' ScheduledFlowRunsFromWorkQueues) and
// returns its rows.
func QueuedRuns(ctx context.Context, q dialects.Querier, query string, args []any) ([]dialects.QueuedRun, error) {
	return QueryRows(ctx, q, query, args, func(r *dialects.QueuedRun) []any {
		return []any{&r.WorkQueueID, &r.FlowRunID}
	})
}

// ScanNotification scans the current row of a notification queue query
// (dialects.Queries.GetFlowRunNotificationsFromQueue), whose columns are:
// the queue entry's id and policy id, the policy's message template and
// block document id, the flow's id and name, the run's id, name and
// parameters (JSON), the state's type, name, timestamp and message, and
// whether the entry is deliverable (its policy, state, run and flow all
// exist). n.QueueID is set either way; the rest of n is meaningful only for
// a deliverable entry.
func ScanNotification(rows *sql.Rows) (n dialects.QueuedNotification, deliverable bool, err error) {
	var (
		blockID, flowID, runID               uuid.NullUUID
		flowName, runName, stateType, stName sql.NullString
	)
	if err := rows.Scan(&n.QueueID, &n.FlowRunNotificationPolicyID, &n.FlowRunNotificationPolicyMessageTemplate,
		&blockID, &flowID, &flowName, &runID, &runName, dialects.JSONScanner(&n.FlowRunParameters),
		&stateType, &stName, dialects.TimeScanner(&n.FlowRunStateTimestamp), &n.FlowRunStateMessage,
		&deliverable); err != nil {
		return dialects.QueuedNotification{}, false, err
	}
	if !deliverable {
		return n, false, nil
	}
	n.BlockDocumentID, n.FlowID, n.FlowName = blockID.UUID, flowID.UUID, flowName.String
	n.FlowRunID, n.FlowRunName = runID.UUID, runName.String
	n.FlowRunStateType, n.FlowRunStateName = types.StateType(stateType.String), stName.String
	return n, true, nil
}
