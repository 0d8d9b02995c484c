package dialects

// This file declares Queries, the dialect-specific query components of
// Prefect's server database layer (prefect_semantics.md §4–§6, §10.3–§10.6):
// SQL fragments that raw queries are built from, and the few whole
// operations whose SQL differs between the databases. The PostgreSQL and
// SQLite Dialect types implement it (dialects/postgres/queries.go,
// dialects/sqlite/queries.go). The configuration cache, which needs no
// dialect, is in configcache.go.
//
// One behaviour on both databases: where Prefect's two dialects disagree,
// prefectdb follows PostgreSQL unless PostgreSQL's behaviour is a defect
// (prefect_semantics.md §11):
//   - Greatest and Least ignore NULL arguments on both (row 3);
//   - MakeTimestampIntervals returns no rows when start >= end on both
//     (row 4), and keeps microseconds on both (row 12);
//   - GetFlowRunNotificationsFromQueue deletes orphaned queue entries on
//     both (row 9), and does not let them starve valid entries (a PostgreSQL
//     defect);
//   - JSON read back through JSONScanner is the same Go value on both
//     (row 10); a DISTINCT argument of JSONArrAgg de-duplicates on both
//     (row 11);
//   - "now" is a bound parameter carrying Go's clock wherever Prefect uses
//     the database's now(), so both databases see the same instant (row 13).

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/types"
)

// The helpers take a Querier (declared in scheduling.go: the part of
// *sql.DB, *sql.Conn and *sql.Tx they use). Operations that write more than
// one statement, or that must be atomic with the caller's other work, are
// documented as needing a transaction: pass a *sql.Tx (PostgreSQL) or a
// *sql.Conn inside BEGIN IMMEDIATE (SQLite).

// MaxHistoryIntervals is the most buckets MakeTimestampIntervals returns
// (Prefect's LIMIT 500).
const MaxHistoryIntervals = 500

// MinHistoryInterval is the smallest bucket width MakeTimestampIntervals
// accepts.
const MinHistoryInterval = time.Second

// HistoryIntervalError is returned by MakeTimestampIntervals for a bucket
// width below MinHistoryInterval (Prefect's run_history raises
// ValueError("History interval must not be less than 1 second.")).
type HistoryIntervalError struct {
	// Interval is the rejected width.
	Interval time.Duration
}

// Error implements error. The message is always "history interval must not
// be less than 1 second".
func (e *HistoryIntervalError) Error() string {
	return "history interval must not be less than 1 second"
}

// Interval is one time bucket of MakeTimestampIntervals: [Start, End), with
// End = Start + the bucket width. Both are in UTC with microsecond precision.
type Interval struct {
	// Start is the bucket's first instant.
	Start time.Time
	// End is Start + the bucket width, the first instant after the bucket.
	End time.Time
}

// ScheduledFlowRunInsert is one flow run for InsertScheduledFlowRuns: the
// flow_run columns that Prefect's scheduler sets
// (models.deployments._generate_scheduled_flow_runs), plus the initial
// SCHEDULED state's message and details.
//
// Every run is inserted with state_type 'SCHEDULED', state_name 'Scheduled',
// run_count 0, total_run_time 0 and context '{}'. Its created and updated
// columns, and its state's created, updated and timestamp, are the time of
// the call (Go's clock, one instant per call).
type ScheduledFlowRunInsert struct {
	// ID is the run's id. A zero ID is replaced by a new random UUID, written
	// back into the caller's slice element.
	ID uuid.UUID
	// FlowID is the run's flow (required).
	FlowID uuid.UUID
	// DeploymentID is the deployment the run belongs to, if any.
	DeploymentID *uuid.UUID
	// WorkQueueID is the run's work queue, if any.
	WorkQueueID *uuid.UUID
	// WorkQueueName is the run's work queue name, if any.
	WorkQueueName *string
	// Name is the run's name (stored as given).
	Name string
	// IdempotencyKey is the key that, together with FlowID, makes the insert
	// idempotent (Prefect: "scheduled {deployment id} {schedule id}
	// {date}"). A run whose (FlowID, IdempotencyKey) already exists is not
	// inserted. A nil key never conflicts.
	IdempotencyKey *string
	// NextScheduledStartTime is the time the run is scheduled for (required).
	NextScheduledStartTime time.Time
	// ExpectedStartTime is the run's expected start; zero means
	// NextScheduledStartTime, which is what Prefect's scheduler sets.
	ExpectedStartTime time.Time
	// Parameters are the run's parameters; nil is stored as {}.
	Parameters map[string]any
	// Tags are the run's tags; nil is stored as [].
	Tags []string
	// AutoScheduled marks runs made by the scheduler service.
	AutoScheduled bool
	// InfrastructureDocumentID is the deployment's infrastructure block
	// document, if any.
	InfrastructureDocumentID *uuid.UUID
	// DeploymentVersion is the deployment's version, if any.
	DeploymentVersion *string
	// JobVariables are the run's job variables; nil is stored as {}.
	JobVariables map[string]any
	// EmpiricalPolicy is the run's retry policy; nil is stored as {}.
	EmpiricalPolicy map[string]any
	// CreatedBy records what made the run (Prefect 3.x: the schedule); nil
	// is stored as NULL.
	CreatedBy map[string]any
	// StateMessage is the SCHEDULED state's message (Prefect: "Flow run
	// scheduled"); nil is stored as NULL.
	StateMessage *string
	// StateDetails are the SCHEDULED state's state_details (Prefect:
	// {"scheduled_time": ...}); nil is stored as {}.
	StateDetails map[string]any
}

// QueuedNotification is one notification taken from the queue by
// GetFlowRunNotificationsFromQueue: the queue entry with its policy, and the
// state, run and flow it refers to (prefect_semantics.md §6.4).
type QueuedNotification struct {
	// QueueID is the id of the (now deleted) flow_run_notification_queue row.
	QueueID uuid.UUID
	// FlowRunNotificationPolicyID is the policy that matched.
	FlowRunNotificationPolicyID uuid.UUID
	// FlowRunNotificationPolicyMessageTemplate is the policy's template, if
	// it has one.
	FlowRunNotificationPolicyMessageTemplate *string
	// BlockDocumentID is the notification block the policy sends through.
	BlockDocumentID uuid.UUID
	// FlowID is the run's flow.
	FlowID uuid.UUID
	// FlowName is the flow's name.
	FlowName string
	// FlowRunID is the run whose state changed.
	FlowRunID uuid.UUID
	// FlowRunName is the run's name.
	FlowRunName string
	// FlowRunParameters are the run's parameters, decoded.
	FlowRunParameters map[string]any
	// FlowRunStateType is the type of the state the notification is about.
	FlowRunStateType types.StateType
	// FlowRunStateName is that state's name.
	FlowRunStateName string
	// FlowRunStateTimestamp is that state's timestamp, in UTC.
	FlowRunStateTimestamp time.Time
	// FlowRunStateMessage is that state's message, if any.
	FlowRunStateMessage *string
}

// Queries is what differs between the databases in the queries Prefect's
// server runs (its BaseQueryComponents). postgres.Dialect and sqlite.Dialect
// implement it; get it with d.(dialects.Queries) from a Dialect.
//
// # SQL fragments
//
// The fragment methods return SQL text for raw queries. Their string
// arguments are SQL expressions written into the result verbatim: column
// references ("flow_run.start_time"), literals, placeholders from
// Placeholder, or other fragments. Never pass user input as an argument;
// bind values with placeholders instead. An argument may appear more than
// once in the result, so use Placeholder's numbered parameters (which can be
// repeated) rather than anonymous "?" ones, and prefer arguments without
// side effects.
//
// Value forms: on PostgreSQL timestamps are timestamptz and intervals
// interval. On SQLite timestamps are Prefect's UTC text
// "YYYY-MM-DD HH:MM:SS.ffffff" and intervals the same text for
// 1970-01-01 00:00:00 + interval (types.Interval); the date fragments read
// that text (fewer or no fractional digits are fine, "T" for the space is
// fine, a zone suffix is not) and also read a number as seconds (the
// integer 0 of an interval column's server default). Their SQLite results
// always have exactly six fractional digits, so they compare and sort like
// stored values. Bind time.Time and types.Interval (never time.Duration,
// which is bound as an integer of nanoseconds) and read results with
// TimeScanner and types.Interval, which accept both databases' forms.
type Queries interface {
	// Placeholder returns the text of the n-th bound parameter (n >= 1):
	// "$n" on PostgreSQL, "?n" on SQLite. A numbered parameter may appear
	// any number of times in a statement; the statement then takes exactly
	// as many arguments as its highest number, in order, on both databases.
	// (On SQLite, binding looks each numbered parameter up by name in time
	// linear in their number; statements with thousands of parameters
	// should use anonymous "?" there instead.)
	Placeholder(n int) string

	// Greatest returns the SQL for the largest of its arguments, ignoring
	// NULLs: NULL only if every argument is NULL (PostgreSQL's GREATEST;
	// on SQLite a CASE/COALESCE form around scalar max(), whose own NULL
	// rule differs). With one argument it is that argument; with none it is
	// NULL. Arguments must be of comparable types.
	Greatest(args ...string) string
	// Least is Greatest's counterpart for the smallest argument.
	Least(args ...string) string

	// UsesJSONStrings reports whether the database returns JSON values as
	// JSON text (SQLite: true) rather than as native JSON (PostgreSQL:
	// false), Prefect's uses_json_strings. With database/sql both arrive as
	// text or bytes; JSONScanner decodes either, so Go callers need not
	// look at this. It is kept for raw-SQL callers that post-process JSON
	// inside SQL.
	UsesJSONStrings() bool
	// CastToJSON returns expr as a JSON value: unchanged on PostgreSQL
	// (jsonb columns already are), json(expr) on SQLite, where it turns JSON
	// text (e.g. a JSON column) into a JSON value so that BuildJSONObject and
	// JSONArrAgg embed it as JSON rather than as a string.
	CastToJSON(expr string) string
	// BuildJSONObject returns the SQL for a JSON object built from
	// alternating keys and value expressions: jsonb_build_object on
	// PostgreSQL, json_object on SQLite. Keys are plain Go strings, rendered
	// as SQL string literals by this method (BuildJSONObject("id",
	// "flow.id") gives jsonb_build_object('id', flow.id)). Wrap JSON
	// columns in CastToJSON; on PostgreSQL cast bound parameters to a type.
	// It panics on an odd number of arguments.
	BuildJSONObject(pairs ...string) string
	// JSONArrAgg returns the SQL for the aggregate that collects expr into a
	// JSON array: jsonb_agg(expr) on PostgreSQL, json_group_array(expr) on
	// SQLite. expr may start with "DISTINCT ", which removes duplicates on
	// both databases: JSONArrAgg("DISTINCT " + CastToJSON(col)) collects the
	// distinct JSON values of col (Prefect's json(DISTINCT col) form does
	// not de-duplicate on SQLite). Over no rows the result is NULL (wrap it in COALESCE
	// with '[]' where an empty array is wanted).
	JSONArrAgg(expr string) string

	// DateDiff returns the SQL for the interval a − b between two
	// timestamps (negative when a is earlier): timestamptz subtraction on
	// PostgreSQL; on SQLite interval text computed in whole microseconds.
	DateDiff(a, b string) string
	// DateAdd returns the SQL for the timestamp t + interval.
	DateAdd(t, interval string) string
	// IntervalAdd returns the SQL for the interval i1 + i2.
	IntervalAdd(i1, i2 string) string

	// EstimatedRunTime returns the SQL of a run's estimated run time
	// (Prefect's Run.estimated_run_time, §10.3), an interval usable in a
	// SELECT list: total_run_time plus, while the run is RUNNING, the time
	// since its state_timestamp. table is the flow_run or task_run table or
	// its alias, written verbatim; now is the SQL of the current time,
	// normally Placeholder(n) bound to time.Now() (Go's clock, so both
	// databases agree; PostgreSQL casts it to timestamptz). A RUNNING run
	// without a state_timestamp gives NULL, as in Prefect.
	EstimatedRunTime(table, now string) string
	// EstimatedStartTimeDelta returns the SQL of a run's lateness
	// (Prefect's Run.estimated_start_time_delta, §10.4), an interval:
	//   - start_time − expected_start_time when the run started after it
	//     was expected;
	//   - now − expected_start_time when the run has not started, is not in
	//     a terminal state (COMPLETED, CANCELLED, FAILED, CRASHED) and was
	//     expected before now;
	//   - zero otherwise.
	// A run without a state type counts as not terminal, as in Prefect's
	// Python definition (Prefect's SQL form lets NOT IN turn NULL and
	// reports zero). table and now are as for EstimatedRunTime.
	EstimatedStartTimeDelta(table, now string) string

	// TimestampIntervalsSQL returns a SELECT statement with the columns
	// interval_start and interval_end: the buckets of
	// MakeTimestampIntervals, ordered by interval_start, for use as the
	// "intervals" CTE of run-history queries. start and end are timestamp
	// SQL and interval interval SQL (normally placeholders bound to
	// time.Time and types.Interval); the interval must be positive (validate
	// it first: MakeTimestampIntervals does). On SQLite the columns are
	// timestamp text.
	TimestampIntervalsSQL(start, end, interval string) string
	// MakeTimestampIntervals returns the time buckets of the run-history
	// endpoints (Prefect's make_timestamp_intervals, §6.1): one bucket
	// [s, s+interval) for every s = start + k·interval with s < end, at most
	// MaxHistoryIntervals, ordered by start. The last bucket may end after
	// end. start >= end gives no buckets. An interval below
	// MinHistoryInterval gives *HistoryIntervalError. start, end and
	// interval are truncated to microseconds; any zone is accepted and the
	// result is in UTC.
	MakeTimestampIntervals(ctx context.Context, q Querier, p TimestampIntervals) ([]Interval, error)

	// SetStateIDOnInsertedFlowRuns points each listed flow run at its state
	// (Prefect's set_state_id_on_inserted_flow_runs_statement, §6.2), in one
	// UPDATE: a run whose id is in flowRunIDs gets state_id = the id of a
	// flow_run_state in stateIDs that belongs to it (the latest by
	// timestamp if several do). A listed run with no such state is left
	// untouched. It returns the number of runs updated.
	SetStateIDOnInsertedFlowRuns(ctx context.Context, q Querier, p RunStates) (int64, error)
	// InsertScheduledFlowRuns inserts scheduled flow runs in bulk
	// (Prefect's models.deployments._insert_scheduled_flow_runs):
	//  1. the runs, with multi-row INSERT … ON CONFLICT (flow_id,
	//     idempotency_key) DO NOTHING RETURNING id, so a run whose key
	//     exists is skipped and the inserted ones are known exactly;
	//  2. one SCHEDULED flow_run_state ("Scheduled") per inserted run;
	//  3. SetStateIDOnInsertedFlowRuns for those runs.
	// It returns the ids of the runs inserted, in the order of runs, so a
	// second call with the same idempotency keys inserts nothing and
	// returns none. Statements are split to stay under each database's
	// bound-parameter limit, so batches of any size work. Run it in a
	// transaction: on error, roll back (part of the batch may be written).
	// A batch of at most ScheduledRunsPerStatement runs is the exception:
	// it is one statement, atomic on its own, and q may be a connection
	// pool (the statement autocommits).
	InsertScheduledFlowRuns(ctx context.Context, q Querier, runs []ScheduledFlowRunInsert) ([]uuid.UUID, error)
	// ScheduledRunsPerStatement is the most runs InsertScheduledFlowRuns
	// writes, with their states and state pointers, in one statement; 0
	// when it always takes several statements.
	ScheduledRunsPerStatement() int

	// QueueFlowRunNotifications queues one notification per matching
	// notification policy for a flow run that entered the state stateID
	// (Prefect's queue_flow_run_notifications, §6.3): an active policy
	// matches when its state_names is empty or contains stateName, and its
	// tags is empty or shares a tag with tags (so a policy with tags never
	// matches a run without tags). flowRunID names the run (the queue entry
	// refers to the state, which refers to the run). Entries are created
	// and updated at Go's current time. It returns the number of entries
	// queued.
	QueueFlowRunNotifications(ctx context.Context, q Querier, p RunEnteredState) (int64, error)
	// GetFlowRunNotificationsFromQueue takes up to limit deliverable
	// notifications from the queue, oldest (by updated, then id) first, and
	// deletes them (Prefect's get_flow_run_notifications_from_queue, §6.4).
	//
	// An entry whose policy, state, run or flow no longer exists is an
	// orphan: orphans met on the way are deleted and never returned, and
	// they do not count against limit (the call keeps taking entries until it
	// has limit deliverable ones or the queue has no more it can take).
	//
	// It must be called inside a transaction; the entries are gone when that
	// transaction commits, and a rollback puts them back. Every entry is
	// delivered once even with concurrent takers:
	//   - PostgreSQL: pass a *sql.Tx; entries are claimed with FOR UPDATE
	//     SKIP LOCKED and deleted in the same statement, so concurrent
	//     takers skip each other's entries instead of waiting;
	//   - SQLite: pass a *sql.Conn inside BEGIN IMMEDIATE (or a *sql.Tx of a
	//     connection whose transactions begin IMMEDIATE), which holds the
	//     database's write lock, so takers run one after another. In a
	//     deferred transaction a concurrent taker makes the call fail (the
	//     database reports busy, or the delete finds fewer entries than it
	//     read) rather than deliver twice.
	// limit <= 0 returns nothing.
	GetFlowRunNotificationsFromQueue(ctx context.Context, q Querier, limit int) ([]QueuedNotification, error)
}

// JSONScanner returns a sql.Scanner that decodes a JSON value read from
// either database into dst (a pointer, as for json.Unmarshal): JSON text as
// string or []byte (PostgreSQL json/jsonb and SQLite JSON text both arrive
// so through database/sql), or an already decoded value, which is
// re-encoded first. SQL NULL leaves dst unchanged.
func JSONScanner(dst any) sql.Scanner { return jsonScanner{dst} }

type jsonScanner struct{ dst any }

// Scan implements sql.Scanner.
func (s jsonScanner) Scan(src any) error {
	var data []byte
	switch v := src.(type) {
	case nil:
		return nil
	case []byte:
		data = v
	case string:
		data = []byte(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("scan JSON: re-encode %T: %w", src, err)
		}
		data = b
	}
	if err := json.Unmarshal(data, s.dst); err != nil {
		return fmt.Errorf("scan JSON: %w", err)
	}
	return nil
}

// TimeScanner returns a sql.Scanner that reads a timestamp from either
// database into dst, in UTC: a time.Time (PostgreSQL timestamptz, SQLite
// DATETIME columns), or text (SQLite expression results such as DateAdd's,
// or PostgreSQL text): Prefect's SQLite form "YYYY-MM-DD HH:MM:SS.ffffff"
// read as UTC, or RFC 3339 text with a zone. SQL NULL sets dst to the zero
// time.
func TimeScanner(dst *time.Time) sql.Scanner { return timeScanner{dst} }

type timeScanner struct{ dst *time.Time }

// Scan implements sql.Scanner.
func (s timeScanner) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.dst = time.Time{}
		return nil
	case time.Time:
		*s.dst = v.UTC()
		return nil
	case []byte:
		return s.parse(string(v))
	case string:
		return s.parse(v)
	}
	return fmt.Errorf("scan timestamp: unsupported source type %T", src)
}

func (s timeScanner) parse(text string) error {
	v := strings.TrimSpace(text)
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			*s.dst = t
			return nil
		}
	}
	t, err := types.ParseTimestamp(v)
	if err != nil {
		return fmt.Errorf("scan timestamp: %w", err)
	}
	*s.dst = t
	return nil
}

// TimestampIntervals are the parameters of Queries.MakeTimestampIntervals:
// buckets of Interval from Start until End.
type TimestampIntervals struct {
	Start, End time.Time
	Interval   time.Duration
}

// RunStates are the parameters of Queries.SetStateIDOnInsertedFlowRuns: the
// runs to point at their states, and the candidate states.
type RunStates struct {
	FlowRunIDs, StateIDs []uuid.UUID
}

// RunEnteredState are the parameters of Queries.QueueFlowRunNotifications:
// the run, the state it entered, that state's name, and the run's tags.
type RunEnteredState struct {
	FlowRunID, StateID uuid.UUID
	StateName          string
	Tags               []string
}
