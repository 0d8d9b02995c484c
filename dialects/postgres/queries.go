package postgres

// This file implements dialects.Queries for PostgreSQL: the SQL fragments
// and query components of Prefect's AsyncPostgresQueryComponents, with the
// behaviour choices documented on dialects.Queries.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/internal/rawsql"
	"github.com/prefectdb/prefectdb/types"
)

var _ dialects.Queries = Dialect{}

// qMaxParams is PostgreSQL's limit on bound parameters per statement.
const qMaxParams = 65535

// qMaxRowsPerInsert caps the rows of one multi-row INSERT, whatever the
// parameter limit allows, to keep statements a reasonable size.
const qMaxRowsPerInsert = 1000

// Placeholder implements dialects.Queries: "$n".
func (Dialect) Placeholder(n int) string { return placeholderSigil + strconv.Itoa(n) }

// placeholderSigil comes before a parameter's number in a statement.
const placeholderSigil = "$"

// Greatest implements dialects.Queries with GREATEST, which ignores NULLs.
func (Dialect) Greatest(args ...string) string { return qExtremum("GREATEST", args) }

// Least implements dialects.Queries with LEAST, which ignores NULLs.
func (Dialect) Least(args ...string) string { return qExtremum("LEAST", args) }

func qExtremum(fn string, args []string) string {
	switch len(args) {
	case 0:
		return "NULL"
	case 1:
		return "(" + args[0] + ")"
	}
	return fn + "(" + strings.Join(args, ", ") + ")"
}

// UsesJSONStrings implements dialects.Queries: PostgreSQL returns native
// JSON.
func (Dialect) UsesJSONStrings() bool { return false }

// CastToJSON implements dialects.Queries: jsonb values need no cast.
func (Dialect) CastToJSON(expr string) string { return expr }

// BuildJSONObject implements dialects.Queries with jsonb_build_object.
func (Dialect) BuildJSONObject(pairs ...string) string {
	return "jsonb_build_object(" + rawsql.JSONPairs("postgres", rawsql.PostgresLiteral, pairs) + ")"
}

// JSONArrAgg implements dialects.Queries with jsonb_agg.
func (Dialect) JSONArrAgg(expr string) string { return "jsonb_agg(" + expr + ")" }

// DateDiff implements dialects.Queries: timestamptz − timestamptz.
func (Dialect) DateDiff(a, b string) string {
	return "(" + qTimestamp(a) + " - " + qTimestamp(b) + ")"
}

// DateAdd implements dialects.Queries: timestamptz + interval.
func (Dialect) DateAdd(t, interval string) string {
	return "(" + qTimestamp(t) + " + " + qInterval(interval) + ")"
}

// IntervalAdd implements dialects.Queries: interval + interval.
func (Dialect) IntervalAdd(i1, i2 string) string {
	return "(" + qInterval(i1) + " + " + qInterval(i2) + ")"
}

func qTimestamp(expr string) string { return "CAST(" + expr + " AS timestamptz)" }
func qInterval(expr string) string  { return "CAST(" + expr + " AS interval)" }

// EstimatedRunTime implements dialects.Queries.
func (d Dialect) EstimatedRunTime(table, now string) string {
	return "(CASE WHEN " + table + ".state_type = 'RUNNING' THEN " +
		d.IntervalAdd(table+".total_run_time", d.DateDiff(now, table+".state_timestamp")) +
		" ELSE " + table + ".total_run_time END)"
}

// EstimatedStartTimeDelta implements dialects.Queries.
func (d Dialect) EstimatedStartTimeDelta(table, now string) string {
	start, expected := table+".start_time", table+".expected_start_time"
	return "(CASE WHEN " + start + " > " + expected + " THEN " + d.DateDiff(start, expected) +
		" WHEN " + start + " IS NULL AND (" + table + ".state_type IS NULL OR " + table +
		".state_type NOT IN (" + rawsql.TerminalStates + ")) AND " + expected + " < " + qTimestamp(now) +
		" THEN " + d.DateDiff(now, expected) +
		" ELSE CAST('0' AS interval) END)"
}

// TimestampIntervalsSQL implements dialects.Queries with generate_series.
// The series is cut off after MaxHistoryIntervals steps so that a long
// range with a short interval is not generated in full.
func (Dialect) TimestampIntervalsSQL(start, end, interval string) string {
	s, e, i := qTimestamp(start), qTimestamp(end), qInterval(interval)
	return "SELECT dt AS interval_start, dt + " + i + " AS interval_end " +
		"FROM generate_series(" + s + ", LEAST(" + e + ", " + s + " + " +
		strconv.Itoa(dialects.MaxHistoryIntervals) + " * " + i + "), " + i + ") AS dt " +
		"WHERE dt < " + e + " ORDER BY dt LIMIT " + strconv.Itoa(dialects.MaxHistoryIntervals)
}

// MakeTimestampIntervals implements dialects.Queries.
func (d Dialect) MakeTimestampIntervals(ctx context.Context, q dialects.Querier, p dialects.TimestampIntervals) ([]dialects.Interval, error) {
	start, end, interval := p.Start, p.End, p.Interval
	if interval < dialects.MinHistoryInterval {
		return nil, &dialects.HistoryIntervalError{Interval: interval}
	}
	out, err := rawsql.Intervals(ctx, q, d.TimestampIntervalsSQL("$1", "$2", "$3"),
		start.Truncate(time.Microsecond), end.Truncate(time.Microsecond), types.Interval(interval))
	if err != nil {
		return nil, fmt.Errorf("postgres: timestamp intervals: %w", err)
	}
	return out, nil
}

// SetStateIDOnInsertedFlowRuns implements dialects.Queries. The id lists are
// bound as two uuid[] parameters, so any number of runs takes one statement.
func (Dialect) SetStateIDOnInsertedFlowRuns(ctx context.Context, q dialects.Querier, p dialects.RunStates) (int64, error) {
	flowRunIDs, stateIDs := p.FlowRunIDs, p.StateIDs
	if len(flowRunIDs) == 0 || len(stateIDs) == 0 {
		return 0, nil
	}
	query, args := qPointStates(p)
	n, err := rawsql.ExecCount(ctx, q, query, args...)
	if err != nil {
		return 0, fmt.Errorf("postgres: set state id on inserted flow runs: %w", err)
	}
	return n, nil
}

// qPointStates is SetStateIDOnInsertedFlowRuns's statement: each run
// points at the newest of the given states that belong to it.
func qPointStates(p dialects.RunStates) (string, []any) {
	return `
		UPDATE flow_run SET state_id = s.id
		FROM (
			SELECT DISTINCT ON (flow_run_id) id, flow_run_id
			FROM flow_run_state
			WHERE id = ANY(CAST($2 AS uuid[]))
			ORDER BY flow_run_id, timestamp DESC, id
		) AS s
		WHERE flow_run.id = ANY(CAST($1 AS uuid[])) AND s.flow_run_id = flow_run.id`, []any{p.FlowRunIDs, p.StateIDs}
}

// qPointStatePairs is rawsql.ScheduledInsert.PointStates: run
// p.FlowRunIDs[k] points at state p.StateIDs[k], the arrays unnested side
// by side.
func qPointStatePairs(p dialects.RunStates) (string, []any) {
	return `
		UPDATE flow_run SET state_id = u.state_id
		FROM unnest(CAST($1 AS uuid[]), CAST($2 AS uuid[])) AS u(run_id, state_id)
		WHERE flow_run.id = u.run_id`, []any{p.FlowRunIDs, p.StateIDs}
}

// qRunColumnTypes are the PostgreSQL types of rawsql.RunColumns, in order;
// "jsonb" columns are bound as JSON text.
var qRunColumnTypes = []string{
	"uuid", "text", "timestamptz", "timestamptz", "jsonb", "text",
	"jsonb", "jsonb", "boolean", "uuid", "uuid", "uuid",
	"text", "uuid", "jsonb", "jsonb", "text",
}

// qStateColumnTypes are the PostgreSQL types of rawsql.StateColumns.
var qStateColumnTypes = []string{"uuid", "text", "jsonb", "uuid"}

// qScheduledInsert is PostgreSQL's part of InsertScheduledFlowRuns: each
// chunk is one INSERT … SELECT FROM unnest(one array per column), so a
// statement has a handful of parameters whatever its number of rows, and
// the server parses and plans it cheaply.
var qScheduledInsert = rawsql.ScheduledInsert{
	Dialect:          "postgres",
	MaxParams:        qMaxParams,
	MaxRowsPerInsert: qMaxRowsPerInsert,
	TruncateTimes:    true,
	InsertRuns: func(rows [][]any, now time.Time) (string, []any) {
		query, args := qUnnestInsert("flow_run", "created, updated, state_type, state_name",
			"$1, $1, CAST('SCHEDULED' AS state_type), 'Scheduled'", rawsql.RunColumns, qRunColumnTypes, rows, now)
		return query + " ON CONFLICT (flow_id, idempotency_key) DO NOTHING RETURNING id", args
	},
	InsertStates: func(rows [][]any, now time.Time) (string, []any) {
		return qUnnestInsert("flow_run_state", "created, updated, type, name, timestamp",
			"$1, $1, CAST('SCHEDULED' AS state_type), 'Scheduled', $1", rawsql.StateColumns, qStateColumnTypes, rows, now)
	},
	PointStates:          qPointStatePairs,
	InsertRunsWithStates: qInsertRunsWithStates,
}

// qInsertRunsWithStates is rawsql.ScheduledInsert.InsertRunsWithStates:
// one statement whose WITH inserts the runs, each pointing at its state,
// and whose main INSERT writes the states of the runs inserted (joined on
// the state id the RETURNING gives back). PostgreSQL checks both foreign
// keys at the end of the statement, when both rows exist, so each run row
// is written once instead of inserted and then updated to point at its
// state: that update rewrote every new run and its index entries.
func qInsertRunsWithStates(rows [][]any, now time.Time) (string, []any) {
	runCols := len(rawsql.RunColumns)
	from, names, values, args := qUnnestColumns(append(slices.Clone(qRunColumnTypes), "uuid", "text", "jsonb"), rows, now)
	sid, msg, det := values[runCols], values[runCols+1], values[runCols+2]
	query := "WITH u AS (SELECT * FROM unnest(" + from + ") AS u(" + names + ")),\n" +
		"runs AS (INSERT INTO flow_run (created, updated, state_type, state_name, " + strings.Join(rawsql.RunColumns, ", ") + ", state_id)\n" +
		"SELECT $1, $1, CAST('SCHEDULED' AS state_type), 'Scheduled', " + strings.Join(values[:runCols], ", ") + ", " + sid + " FROM u\n" +
		"ON CONFLICT (flow_id, idempotency_key) DO NOTHING RETURNING id, state_id)\n" +
		"INSERT INTO flow_run_state (created, updated, type, name, timestamp, id, message, state_details, flow_run_id)\n" +
		"SELECT $1, $1, CAST('SCHEDULED' AS state_type), 'Scheduled', $1, runs.state_id, " + msg + ", " + det + ", runs.id\n" +
		"FROM runs JOIN u ON " + sid + " = runs.state_id\n" +
		"RETURNING flow_run_id"
	return query, args
}

// qUnnestInsert writes INSERT INTO table (fixedColumns, columns) SELECT
// fixed, the columns FROM unnest($2::type[], ...): $1 is now, then one array
// per column holding that column's values of rows (see qUnnestColumns). It
// returns the statement and its arguments.
func qUnnestInsert(table, fixedColumns, fixed string, columns, types []string, rows [][]any, now time.Time) (string, []any) {
	from, names, values, args := qUnnestColumns(types, rows, now)
	return "INSERT INTO " + table + " (" + fixedColumns + ", " + strings.Join(columns, ", ") + ")\nSELECT " + fixed +
		", " + strings.Join(values, ", ") + "\nFROM unnest(" + from + ") AS u(" + names + ")", args
}

// qUnnestColumns binds rows column by column: $1 is now, then one array per
// column of types holding that column's values. It returns the unnest
// arguments (CAST($2 AS uuid[]), ...), the column names of its alias u (c0,
// c1, ...), each column's value as a select expression (u.c0, ...; a
// "jsonb" column is bound as a text array and cast per element) and the
// arguments.
func qUnnestColumns(types []string, rows [][]any, now time.Time) (from, names string, values []string, args []any) {
	args = make([]any, 1, 1+len(types))
	args[0] = now
	var f, n strings.Builder
	values = make([]string, len(types))
	for c, typ := range types {
		col := make([]any, len(rows))
		for k, row := range rows {
			col[k] = row[c]
		}
		args = append(args, col)
		arrayType, name := typ, "c"+strconv.Itoa(c)
		values[c] = "u." + name
		if typ == "jsonb" {
			arrayType, values[c] = "text", "CAST(u."+name+" AS jsonb)"
		}
		if c > 0 {
			f.WriteString(", ")
			n.WriteString(", ")
		}
		f.WriteString("CAST($" + strconv.Itoa(len(args)) + " AS " + arrayType + "[])")
		n.WriteString(name)
	}
	return f.String(), n.String(), values, args
}

// InsertScheduledFlowRuns implements dialects.Queries with
// rawsql.InsertScheduledFlowRuns and PostgreSQL's statements
// (qScheduledInsert).
func (Dialect) InsertScheduledFlowRuns(ctx context.Context, q dialects.Querier, runs []dialects.ScheduledFlowRunInsert) ([]uuid.UUID, error) {
	return rawsql.InsertScheduledFlowRuns(ctx, q, runs, qScheduledInsert)
}

// ScheduledRunsPerStatement implements dialects.Queries: the runs of one
// qInsertRunsWithStates statement (1,000).
func (Dialect) ScheduledRunsPerStatement() int { return qScheduledInsert.RunsPerStatement() }

// QueueFlowRunNotifications implements dialects.Queries. Containment is
// jsonb_exists_any (the ?| operator), which is false for an empty list.
func (Dialect) QueueFlowRunNotifications(ctx context.Context, q dialects.Querier, p dialects.RunEnteredState) (int64, error) {
	flowRunID, stateID, stateName, tags := p.FlowRunID, p.StateID, p.StateName, p.Tags
	_ = flowRunID // the entry refers to the state, which refers to the run
	if tags == nil {
		tags = []string{}
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	n, err := rawsql.ExecCount(ctx, q, `
		INSERT INTO flow_run_notification_queue (flow_run_notification_policy_id, flow_run_state_id, created, updated)
		SELECT p.id, CAST($1 AS uuid), $2, $2
		FROM flow_run_notification_policy p
		WHERE p.is_active IS TRUE
		  AND (p.state_names = CAST('[]' AS jsonb) OR jsonb_exists_any(p.state_names, CAST($3 AS text[])))
		  AND (p.tags = CAST('[]' AS jsonb) OR jsonb_exists_any(p.tags, CAST($4 AS text[])))`,
		stateID, now, []string{stateName}, tags)
	if err != nil {
		return 0, fmt.Errorf("postgres: queue flow run notifications: %w", err)
	}
	return n, nil
}

// qTakeNotificationsSQL claims the oldest $1 queue entries that no other
// transaction holds (FOR UPDATE SKIP LOCKED, in a CTE so that the LIMIT is
// honoured), deletes them, and returns each with its details; an orphan has
// NULL details (deliverable false).
const qTakeNotificationsSQL = `
	WITH claimed AS (
		SELECT id FROM flow_run_notification_queue
		ORDER BY updated, id
		LIMIT $1
		FOR UPDATE SKIP LOCKED
	), taken AS (
		DELETE FROM flow_run_notification_queue q
		USING claimed
		WHERE q.id = claimed.id
		RETURNING q.id, q.flow_run_notification_policy_id, q.flow_run_state_id, q.updated
	)
	SELECT taken.id, taken.flow_run_notification_policy_id, p.message_template, p.block_document_id,
	       f.id, f.name, r.id, r.name, r.parameters, s.type::text, s.name, s.timestamp, s.message,
	       (p.id IS NOT NULL AND s.id IS NOT NULL AND r.id IS NOT NULL AND f.id IS NOT NULL)
	FROM taken
	LEFT JOIN flow_run_notification_policy p ON p.id = taken.flow_run_notification_policy_id
	LEFT JOIN flow_run_state s ON s.id = taken.flow_run_state_id
	LEFT JOIN flow_run r ON r.id = s.flow_run_id
	LEFT JOIN flow f ON f.id = r.flow_id
	ORDER BY taken.updated, taken.id`

// GetFlowRunNotificationsFromQueue implements dialects.Queries. Each round
// claims and deletes as many entries as are still wanted; orphans among them
// are dropped, and the next round claims more, until limit deliverable
// entries are found or a round claims nothing.
func (Dialect) GetFlowRunNotificationsFromQueue(ctx context.Context, q dialects.Querier, limit int) ([]dialects.QueuedNotification, error) {
	var out []dialects.QueuedNotification
	for len(out) < limit {
		got, claimed, err := qTakeNotifications(ctx, q, limit-len(out))
		if err != nil {
			return nil, fmt.Errorf("postgres: get flow run notifications from queue: %w", err)
		}
		out = append(out, got...)
		if claimed == 0 {
			break
		}
	}
	return out, nil
}

func qTakeNotifications(ctx context.Context, q dialects.Querier, n int) ([]dialects.QueuedNotification, int, error) {
	rows, err := q.QueryContext(ctx, qTakeNotificationsSQL, n)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var (
		out     []dialects.QueuedNotification
		claimed int
	)
	for rows.Next() {
		claimed++
		n, deliverable, err := rawsql.ScanNotification(rows)
		if err != nil {
			return nil, 0, err
		}
		if deliverable {
			out = append(out, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if err := rows.Close(); err != nil {
		return nil, 0, err
	}
	return out, claimed, nil
}
