package sqlite

// This file implements dialects.Queries for SQLite: the SQL fragments and
// query components of Prefect's AioSqliteQueryComponents, with the behaviour
// choices documented on dialects.Queries (one behaviour on both databases,
// PostgreSQL's unless it is a defect).
//
// Date arithmetic. Prefect computes with julianday(), whose SQLite
// implementation keeps milliseconds only. Here every timestamp or interval
// is turned into an integer count of microseconds since 1970-01-01 00:00:00
// UTC (qMicros: whole seconds from strftime('%s') of the first 19
// characters, plus the fractional digits read as text), the arithmetic is
// done on integers, and the result is formatted back with exactly six
// fractional digits (qFormat). Intervals are stored as 1970-01-01 +
// interval, so an interval's microsecond count is its length.

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/internal/rawsql"
	"github.com/prefectdb/prefectdb/types"
)

var _ dialects.Queries = Dialect{}

// qMaxParams is SQLite's default limit on bound parameters per statement
// (SQLITE_MAX_VARIABLE_NUMBER, 32766 since 3.32).
const qMaxParams = 32766

// qMaxRowsPerInsert caps the rows of one multi-row INSERT, whatever the
// parameter limit allows, to keep statements a reasonable size.
const qMaxRowsPerInsert = 1000

// qZeroInterval is the zero interval in its stored form.
const qZeroInterval = "'1970-01-01 00:00:00.000000'"

// qEpochOffsetMicros is the number of microseconds from the Julian day
// epoch (-4713-11-24 12:00 UTC) to 1970-01-01: adding it makes every
// representable timestamp's microsecond count positive, so integer division
// and remainder give its second and fraction.
const qEpochOffsetMicros = "210866760000000000"

// qEpochOffsetSeconds is the same offset in seconds.
const qEpochOffsetSeconds = "210866760000"

// Placeholder implements dialects.Queries: "?n", SQLite's numbered
// parameter, which may be repeated.
func (Dialect) Placeholder(n int) string { return placeholderSigil + strconv.Itoa(n) }

// placeholderSigil comes before a parameter's number in a statement.
const placeholderSigil = "?"

// Greatest implements dialects.Queries. SQLite's scalar max() is NULL if any
// argument is; max(COALESCE(a1, a2, …, an), COALESCE(a2, …, an, a1), …)
// replaces each NULL argument by another argument that is not NULL, so the
// result is the largest non-NULL argument, and NULL only when all are.
func (Dialect) Greatest(args ...string) string { return qExtremum("max", args) }

// Least implements dialects.Queries; see Greatest.
func (Dialect) Least(args ...string) string { return qExtremum("min", args) }

func qExtremum(fn string, args []string) string {
	switch len(args) {
	case 0:
		return "NULL"
	case 1:
		return "(" + args[0] + ")"
	}
	parts := make([]string, len(args))
	for k := range args {
		rotated := append(append([]string{}, args[k:]...), args[:k]...)
		parts[k] = "COALESCE(" + strings.Join(rotated, ", ") + ")"
	}
	return fn + "(" + strings.Join(parts, ", ") + ")"
}

// UsesJSONStrings implements dialects.Queries: SQLite returns JSON text.
func (Dialect) UsesJSONStrings() bool { return true }

// CastToJSON implements dialects.Queries with json().
func (Dialect) CastToJSON(expr string) string { return "json(" + expr + ")" }

// BuildJSONObject implements dialects.Queries with json_object.
func (Dialect) BuildJSONObject(pairs ...string) string {
	return "json_object(" + rawsql.JSONPairs("sqlite", rawsql.Literal, pairs) + ")"
}

// JSONArrAgg implements dialects.Queries with json_group_array, which (unlike
// Prefect's json_group_array(json(DISTINCT x))) honours DISTINCT.
func (Dialect) JSONArrAgg(expr string) string { return "json_group_array(" + expr + ")" }

// qSimple matches expressions that are cheap and safe to repeat: column
// references, numbered parameters, numbers and string literals.
var qSimple = regexp.MustCompile(`^(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|"[^"]+"(?:\."[^"]+")?|\?[0-9]+|[-+]?[0-9]+(?:\.[0-9]+)?|'[^']*')$`)

// qWith evaluates expr once and hands body the name to use for it: the
// expression itself when it is simple, otherwise a correlated scalar
// subquery's column, so that nested fragments do not grow exponentially.
func qWith(expr string, body func(v string) string) string {
	e := strings.TrimSpace(expr)
	if qSimple.MatchString(e) {
		return "(" + body(e) + ")"
	}
	return "(SELECT " + body("qv") + " FROM (SELECT " + e + " AS qv))"
}

// qMicros returns the SQL for the microseconds since 1970-01-01 00:00:00 UTC
// of a timestamp or interval: stored text (see the file comment), or a
// number read as seconds. NULL stays NULL.
func qMicros(expr string) string {
	return qWith(expr, func(v string) string {
		return "CASE typeof(" + v + ") WHEN 'text' THEN " +
			"CAST(strftime('%s', substr(" + v + ", 1, 19)) AS INTEGER) * 1000000 + " +
			"CAST(substr(" + v + " || '000000', 21, 6) AS INTEGER) " +
			"ELSE CAST(round(" + v + " * 1000000) AS INTEGER) END"
	})
}

// qFormat returns the SQL that formats a microsecond count (integer SQL) as
// timestamp text "YYYY-MM-DD HH:MM:SS.ffffff". NULL stays NULL.
func qFormat(micros string) string {
	return "(SELECT strftime('%Y-%m-%d %H:%M:%S', qw / 1000000 - " + qEpochOffsetSeconds + ", 'unixepoch') || '.' || " +
		"printf('%06d', qw % 1000000) FROM (SELECT " + micros + " + " + qEpochOffsetMicros + " AS qw))"
}

// DateDiff implements dialects.Queries: the interval a − b as text.
func (Dialect) DateDiff(a, b string) string {
	return qFormat(qMicros(a) + " - " + qMicros(b))
}

// DateAdd implements dialects.Queries: the timestamp t + interval as text.
func (Dialect) DateAdd(t, interval string) string {
	return qFormat(qMicros(t) + " + " + qMicros(interval))
}

// IntervalAdd implements dialects.Queries: the interval i1 + i2 as text.
func (Dialect) IntervalAdd(i1, i2 string) string {
	return qFormat(qMicros(i1) + " + " + qMicros(i2))
}

// EstimatedRunTime implements dialects.Queries. The result is always
// interval text, also for a total_run_time holding the server default 0.
func (Dialect) EstimatedRunTime(table, now string) string {
	total := qMicros(table + ".total_run_time")
	return "(CASE WHEN " + table + ".state_type = 'RUNNING' THEN " +
		qFormat(total+" + "+qMicros(now)+" - "+qMicros(table+".state_timestamp")) +
		" ELSE " + qFormat(total) + " END)"
}

// EstimatedStartTimeDelta implements dialects.Queries. Timestamps are
// compared as microsecond counts, so the current time may be bound in any
// form qMicros reads.
func (Dialect) EstimatedStartTimeDelta(table, now string) string {
	start, expected := qMicros(table+".start_time"), qMicros(table+".expected_start_time")
	nowUS := qMicros(now)
	return "(CASE WHEN " + start + " > " + expected + " THEN " + qFormat(start+" - "+expected) +
		" WHEN " + table + ".start_time IS NULL AND (" + table + ".state_type IS NULL OR " + table +
		".state_type NOT IN (" + rawsql.TerminalStates + ")) AND " + expected + " < " + nowUS +
		" THEN " + qFormat(nowUS+" - "+expected) +
		" ELSE " + qZeroInterval + " END)"
}

// TimestampIntervalsSQL implements dialects.Queries with a recursive CTE
// over microsecond counts; the columns are timestamp text.
func (Dialect) TimestampIntervalsSQL(start, end, interval string) string {
	s, e, i := qMicros(start), qMicros(end), qMicros(interval)
	return "WITH RECURSIVE qintervals(qs, qn) AS (" +
		"SELECT " + s + ", 1 " +
		"UNION ALL SELECT qs + " + i + ", qn + 1 FROM qintervals " +
		"WHERE qn < " + strconv.Itoa(dialects.MaxHistoryIntervals) + " AND qs + " + i + " < " + e +
		") SELECT " + qFormat("qs") + " AS interval_start, " + qFormat("qs + "+i) + " AS interval_end " +
		"FROM qintervals WHERE qs < " + e + " ORDER BY qs"
}

// MakeTimestampIntervals implements dialects.Queries.
func (d Dialect) MakeTimestampIntervals(ctx context.Context, q dialects.Querier, p dialects.TimestampIntervals) ([]dialects.Interval, error) {
	start, end, interval := p.Start, p.End, p.Interval
	if interval < dialects.MinHistoryInterval {
		return nil, &dialects.HistoryIntervalError{Interval: interval}
	}
	out, err := rawsql.Intervals(ctx, q, d.TimestampIntervalsSQL("?1", "?2", "?3"), start, end, types.Interval(interval))
	if err != nil {
		return nil, fmt.Errorf("sqlite: timestamp intervals: %w", err)
	}
	return out, nil
}

// qIDList encodes ids as a JSON array of lower-case UUID text, the form
// SQLite stores them in, for json_each.
func qIDList(ids []uuid.UUID) string {
	b, _ := json.Marshal(ids) // uuid.UUID marshals as its lower-case text; cannot fail
	return string(b)
}

// SetStateIDOnInsertedFlowRuns implements dialects.Queries. The id lists are
// bound as two JSON arrays (read with json_each), so any number of runs
// takes one statement. The EXISTS condition leaves a run without a matching
// state untouched, as PostgreSQL's UPDATE … FROM does.
func (Dialect) SetStateIDOnInsertedFlowRuns(ctx context.Context, q dialects.Querier, p dialects.RunStates) (int64, error) {
	flowRunIDs, stateIDs := p.FlowRunIDs, p.StateIDs
	if len(flowRunIDs) == 0 || len(stateIDs) == 0 {
		return 0, nil
	}
	query, args := qPointStates(p)
	n, err := rawsql.ExecCount(ctx, q, query, args...)
	if err != nil {
		return 0, fmt.Errorf("sqlite: set state id on inserted flow runs: %w", err)
	}
	return n, nil
}

// qPointStates is SetStateIDOnInsertedFlowRuns's statement: each run
// points at the newest of the given states that belong to it.
func qPointStates(p dialects.RunStates) (string, []any) {
	return `
		UPDATE flow_run SET state_id = (
			SELECT s.id FROM flow_run_state s
			WHERE s.flow_run_id = flow_run.id AND s.id IN (SELECT value FROM json_each(?2))
			ORDER BY s.timestamp DESC, s.id
			LIMIT 1)
		WHERE flow_run.id IN (SELECT value FROM json_each(?1))
		  AND EXISTS (
			SELECT 1 FROM flow_run_state s
			WHERE s.flow_run_id = flow_run.id AND s.id IN (SELECT value FROM json_each(?2)))`,
		[]any{qIDList(p.FlowRunIDs), qIDList(p.StateIDs)}
}

// qPointStatePairs is rawsql.ScheduledInsert.PointStates: run
// p.FlowRunIDs[k] points at state p.StateIDs[k], bound as one JSON array of
// [run id, state id] pairs. (Two arrays joined on their index would be a
// nested loop over both: quadratic in the runs.)
func qPointStatePairs(p dialects.RunStates) (string, []any) {
	var b strings.Builder
	b.Grow(len(p.FlowRunIDs) * 80)
	b.WriteByte('[')
	for k := range min(len(p.FlowRunIDs), len(p.StateIDs)) {
		if k > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`["` + p.FlowRunIDs[k].String() + `","` + p.StateIDs[k].String() + `"]`)
	}
	b.WriteByte(']')
	return `
		UPDATE flow_run SET state_id = v.state_id
		FROM (SELECT value ->> 0 AS run_id, value ->> 1 AS state_id FROM json_each(?1)) AS v
		WHERE flow_run.id = v.run_id`, []any{b.String()}
}

// qScheduledInsert is SQLite's part of InsertScheduledFlowRuns. Times are
// bound as given; the driver wrapper writes them as Prefect's text, with
// microseconds.
var qScheduledInsert = rawsql.ScheduledInsert{
	Dialect:          "sqlite",
	MaxParams:        qMaxParams,
	MaxRowsPerInsert: qMaxRowsPerInsert,
	InsertRuns: func(rows [][]any, now time.Time) (string, []any) {
		var b strings.Builder
		b.WriteString("INSERT INTO flow_run (created, updated, state_type, state_name, total_run_time, " +
			strings.Join(rawsql.RunColumns, ", ") + ") VALUES ")
		args := qValues(&b, rows, now, "'SCHEDULED', 'Scheduled', "+qZeroInterval)
		b.WriteString(" ON CONFLICT (flow_id, idempotency_key) DO NOTHING RETURNING id")
		return b.String(), args
	},
	InsertStates: func(rows [][]any, now time.Time) (string, []any) {
		var b strings.Builder
		b.WriteString("INSERT INTO flow_run_state (created, updated, type, name, timestamp, " +
			strings.Join(rawsql.StateColumns, ", ") + ") VALUES ")
		args := qValues(&b, rows, now, "'SCHEDULED', 'Scheduled', ?1")
		return b.String(), args
	},
	PointStates: qPointStatePairs,
}

// InsertScheduledFlowRuns implements dialects.Queries with
// rawsql.InsertScheduledFlowRuns and SQLite's statements
// (qScheduledInsert). RETURNING needs SQLite 3.35, which modernc.org/sqlite
// bundles.
func (Dialect) InsertScheduledFlowRuns(ctx context.Context, q dialects.Querier, runs []dialects.ScheduledFlowRunInsert) ([]uuid.UUID, error) {
	return rawsql.InsertScheduledFlowRuns(ctx, q, runs, qScheduledInsert)
}

// ScheduledRunsPerStatement implements dialects.Queries: 0, runs, states
// and state pointers are three statements (see qScheduledInsert).
func (Dialect) ScheduledRunsPerStatement() int { return qScheduledInsert.RunsPerStatement() }

// qValues writes the VALUES rows of a multi-row INSERT: ?1 is now (written
// for created and updated), then fixed (literals, may use ?1), then one
// anonymous "?" per column, which SQLite numbers 2, 3, … in order. (Looking
// up a numbered parameter's name is linear in the number of numbered
// parameters, so thousands of ?NNN would make binding quadratic.) JSON
// values are bound as text. It returns the arguments.
func qValues(b *strings.Builder, rows [][]any, now time.Time, fixed string) []any {
	args := make([]any, 1, 1+len(rows)*len(rows[0]))
	args[0] = now
	for k, row := range rows {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?1, ?1, " + fixed)
		for _, v := range row {
			args = append(args, v)
			b.WriteString(", ?")
		}
		b.WriteString(")")
	}
	return args
}

// QueueFlowRunNotifications implements dialects.Queries. "Contains any" is
// an EXISTS over json_each, which is false for an empty list; an empty
// policy list is recognised with json_array_length, whatever its spacing.
func (Dialect) QueueFlowRunNotifications(ctx context.Context, q dialects.Querier, p dialects.RunEnteredState) (int64, error) {
	flowRunID, stateID, stateName, tags := p.FlowRunID, p.StateID, p.StateName, p.Tags
	_ = flowRunID // the entry refers to the state, which refers to the run
	if tags == nil {
		tags = []string{}
	}
	names, _ := json.Marshal([]string{stateName}) // cannot fail
	tagList, _ := json.Marshal(tags)              // cannot fail
	now := time.Now().UTC().Truncate(time.Microsecond)
	n, err := rawsql.ExecCount(ctx, q, `
		INSERT INTO flow_run_notification_queue (flow_run_notification_policy_id, flow_run_state_id, created, updated)
		SELECT p.id, ?1, ?2, ?2
		FROM flow_run_notification_policy p
		WHERE p.is_active IS TRUE
		  AND (json_array_length(p.state_names) = 0 OR EXISTS (
			SELECT 1 FROM json_each(p.state_names) AS e WHERE e.value IN (SELECT value FROM json_each(?3))))
		  AND (json_array_length(p.tags) = 0 OR EXISTS (
			SELECT 1 FROM json_each(p.tags) AS e WHERE e.value IN (SELECT value FROM json_each(?4))))`,
		stateID, now, string(names), string(tagList))
	if err != nil {
		return 0, fmt.Errorf("sqlite: queue flow run notifications: %w", err)
	}
	return n, nil
}

// qReadNotificationsSQL reads the oldest ?1 queue entries with their
// details; an orphan has NULL details (deliverable 0).
const qReadNotificationsSQL = `
	SELECT q.id, q.flow_run_notification_policy_id, p.message_template, p.block_document_id,
	       f.id, f.name, r.id, r.name, r.parameters, s.type, s.name, s.timestamp, s.message,
	       (p.id IS NOT NULL AND s.id IS NOT NULL AND r.id IS NOT NULL AND f.id IS NOT NULL)
	FROM flow_run_notification_queue q
	LEFT JOIN flow_run_notification_policy p ON p.id = q.flow_run_notification_policy_id
	LEFT JOIN flow_run_state s ON s.id = q.flow_run_state_id
	LEFT JOIN flow_run r ON r.id = s.flow_run_id
	LEFT JOIN flow f ON f.id = r.flow_id
	ORDER BY q.updated, q.id
	LIMIT ?1`

// GetFlowRunNotificationsFromQueue implements dialects.Queries. Each round
// reads as many of the oldest entries as are still wanted and deletes them;
// orphans among them are dropped, and the next round reads more, until
// limit deliverable entries are found or the queue is empty. The caller's
// BEGIN IMMEDIATE transaction keeps other takers out between the read and
// the delete; should the delete find fewer entries than were read (another
// taker got in, in a deferred transaction), the call fails instead of
// delivering them twice.
func (Dialect) GetFlowRunNotificationsFromQueue(ctx context.Context, q dialects.Querier, limit int) ([]dialects.QueuedNotification, error) {
	var out []dialects.QueuedNotification
	for len(out) < limit {
		got, ids, err := qReadNotifications(ctx, q, limit-len(out))
		if err != nil {
			return nil, fmt.Errorf("sqlite: get flow run notifications from queue: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		n, err := rawsql.ExecCount(ctx, q,
			`DELETE FROM flow_run_notification_queue WHERE id IN (SELECT value FROM json_each(?1))`, qIDList(ids))
		if err != nil {
			return nil, fmt.Errorf("sqlite: get flow run notifications from queue: delete: %w", err)
		}
		if n != int64(len(ids)) {
			return nil, fmt.Errorf("sqlite: get flow run notifications from queue: deleted %d of %d entries read: "+
				"another transaction took some; call it inside BEGIN IMMEDIATE", n, len(ids))
		}
		out = append(out, got...)
	}
	return out, nil
}

func qReadNotifications(ctx context.Context, q dialects.Querier, n int) ([]dialects.QueuedNotification, []uuid.UUID, error) {
	rows, err := q.QueryContext(ctx, qReadNotificationsSQL, n)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		out []dialects.QueuedNotification
		ids []uuid.UUID
	)
	for rows.Next() {
		n, deliverable, err := rawsql.ScanNotification(rows)
		if err != nil {
			return nil, nil, err
		}
		ids = append(ids, n.QueueID)
		if deliverable {
			out = append(out, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if err := rows.Close(); err != nil {
		return nil, nil, err
	}
	return out, ids, nil
}
