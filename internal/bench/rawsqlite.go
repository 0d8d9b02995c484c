package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/migrate"
	"github.com/prefectdb/prefectdb/types"
)

// sqliteTarget is the SQLite baseline: hand-written SQL on database/sql
// with modernc.org/sqlite and nothing in between, configured as Prefect
// configures SQLite (WAL, synchronous=NORMAL, cache_size=20000,
// foreign_keys, busy_timeout 60 s). Every statement runs on one connection,
// the best SQLite allows for writers: SQLite runs one write transaction at a
// time, and writers that queue in Go never sleep in SQLite's busy handler.
// Transactions begin IMMEDIATE (modernc's _txlock), statements are prepared
// once per shape and values are bound in Prefect's text forms.
type sqliteTarget struct {
	db      *sql.DB
	fixture *Fixture
	poll    string // sqlitePoll, or sqlitePollQueueIndex where the index exists

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// NewSQLiteBaseline opens the SQLite baseline on the database file path.
func NewSQLiteBaseline(ctx context.Context, path string, f *Fixture) (Target, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(60000)", "foreign_keys(1)", "journal_mode(WAL)", "synchronous(NORMAL)", "cache_size(20000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("bench: baseline: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("bench: baseline: %w", err)
	}
	t := &sqliteTarget{db: db, fixture: f, stmts: map[string]*sql.Stmt{}, poll: sqlitePoll}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?",
		migrate.PerformanceIndexPrefix+"flow_run__scheduled_by_queue").Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("bench: baseline: %w", err)
	}
	if n > 0 {
		t.poll = sqlitePollQueueIndex
	}
	return t, nil
}

// Side implements Target.
func (t *sqliteTarget) Side() Side { return Baseline }

// Close implements Target.
func (t *sqliteTarget) Close() error { return t.db.Close() }

// prepare prepares the queries that are not prepared yet. It must be
// called outside transactions: the target's one connection is busy while a
// transaction is open.
func (t *sqliteTarget) prepare(ctx context.Context, queries ...string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, q := range queries {
		if _, ok := t.stmts[q]; ok {
			continue
		}
		s, err := t.db.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		t.stmts[q] = s
	}
	return nil
}

// stmt returns query's statement: the prepared one (bound to tx if tx is
// not nil), or, if it was not prepared, one prepared in tx.
func (t *sqliteTarget) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	t.mu.Lock()
	s, ok := t.stmts[query]
	t.mu.Unlock()
	switch {
	case ok && tx != nil:
		return tx.StmtContext(ctx, s), nil
	case ok:
		return s, nil
	case tx != nil:
		return tx.PrepareContext(ctx, query)
	}
	if err := t.prepare(ctx, query); err != nil {
		return nil, err
	}
	return t.stmt(ctx, nil, query)
}

// multiRow returns "head VALUES (…), (…)" with rows groups of one fixed
// prefix and n anonymous parameters each.
func multiRow(head, prefix string, rows, n int) string {
	var b strings.Builder
	group := "(" + prefix + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	b.Grow(len(head) + 8 + rows*(len(group)+2))
	b.WriteString(head)
	b.WriteString(" VALUES ")
	for k := 0; k < rows; k++ {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString(group)
	}
	return b.String()
}

// sqliteTime is Prefect's SQLite timestamp text.
func sqliteTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.000000")
}

func sqliteTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return sqliteTime(*t)
}

// sqliteInterval is Prefect's SQLite interval text: 1970-01-01 + d.
func sqliteInterval(d time.Duration) string { return sqliteTime(time.Unix(0, 0).Add(d)) }

func uuidPtr(id *uuid.UUID) any {
	if id == nil {
		return nil
	}
	return id.String()
}

func strPtr(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// parseSQLiteTime reads a DATETIME column: modernc gives time.Time for
// declared DATETIME columns, text otherwise.
func parseSQLiteTime(v any) (*time.Time, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		t := x.UTC()
		return &t, nil
	case string:
		t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", x, time.UTC)
		if err != nil {
			return nil, err
		}
		return &t, nil
	case []byte:
		return parseSQLiteTime(string(x))
	case int64:
		t := time.Unix(x, 0).UTC()
		return &t, nil
	}
	return nil, fmt.Errorf("unexpected timestamp %T", v)
}

// Schedule implements Target.
func (t *sqliteTarget) Schedule(ctx context.Context, runs []dialects.ScheduledFlowRunInsert) (int, error) {
	now := sqliteTime(time.Now().Truncate(time.Microsecond))
	const perRun = 17
	args := make([]any, 0, 1+len(runs)*perRun)
	for k := range runs {
		r := &runs[k]
		if r.ID == uuid.Nil {
			r.ID = uuid.New()
		}
		exp := r.ExpectedStartTime
		if exp.IsZero() {
			exp = r.NextScheduledStartTime
		}
		args = append(args, r.ID.String(), now, now, r.Name, sqliteTime(exp), sqliteTime(r.NextScheduledStartTime),
			strPtr(jsonText(r.Parameters, r.Parameters == nil, "{}")), strPtr(r.IdempotencyKey),
			strPtr(jsonText(r.EmpiricalPolicy, r.EmpiricalPolicy == nil, "{}")), strPtr(jsonText(r.Tags, r.Tags == nil, "[]")),
			r.AutoScheduled, r.FlowID.String(), uuidPtr(r.DeploymentID), strPtr(r.WorkQueueName), uuidPtr(r.WorkQueueID),
			strPtr(jsonText(r.CreatedBy, r.CreatedBy == nil, "")), strPtr(jsonText(r.JobVariables, r.JobVariables == nil, "{}")))
	}
	// The 17 values above: id, created, updated, …; total_run_time and the
	// state columns are literals.
	insertRuns := multiRow(`INSERT INTO flow_run (id, created, updated, name, expected_start_time,
		next_scheduled_start_time, parameters, idempotency_key, empirical_policy, tags, auto_scheduled, flow_id,
		deployment_id, work_queue_name, work_queue_id, created_by, job_variables, state_type, state_name, total_run_time)`,
		"", len(runs), 17)
	insertRuns = strings.ReplaceAll(insertRuns, "?)", "?, 'SCHEDULED', 'Scheduled', '1970-01-01 00:00:00.000000')") +
		" ON CONFLICT (flow_id, idempotency_key) DO NOTHING RETURNING id"
	if err := t.prepare(ctx, insertRuns, sqliteInsertStates(len(runs)), sqlitePointStates); err != nil {
		return 0, err
	}
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	s, err := t.stmt(ctx, tx, insertRuns)
	if err != nil {
		return 0, err
	}
	rows, err := s.QueryContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	inserted := make(map[string]bool, len(runs))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		inserted[id] = true
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(inserted) == 0 {
		return 0, tx.Commit()
	}
	stateArgs := make([]any, 0, len(inserted)*6)
	var pairs strings.Builder
	pairs.WriteByte('[')
	for k := range runs {
		r := &runs[k]
		id := r.ID.String()
		if !inserted[id] {
			continue
		}
		sid := uuid.NewString()
		stateArgs = append(stateArgs, sid, now, now, now, strPtr(r.StateMessage),
			strPtr(jsonText(r.StateDetails, r.StateDetails == nil, "{}")), id)
		if pairs.Len() > 1 {
			pairs.WriteByte(',')
		}
		pairs.WriteString(`["` + id + `","` + sid + `"]`)
	}
	pairs.WriteByte(']')
	if s, err = t.stmt(ctx, tx, sqliteInsertStates(len(inserted))); err != nil {
		return 0, err
	}
	if _, err := s.ExecContext(ctx, stateArgs...); err != nil {
		return 0, err
	}
	if s, err = t.stmt(ctx, tx, sqlitePointStates); err != nil {
		return 0, err
	}
	if _, err := s.ExecContext(ctx, pairs.String()); err != nil {
		return 0, err
	}
	return len(inserted), tx.Commit()
}

// sqliteInsertStates inserts n SCHEDULED states.
func sqliteInsertStates(n int) string {
	q := multiRow(`INSERT INTO flow_run_state (id, created, updated, timestamp, message, state_details,
		flow_run_id, type, name)`, "", n, 7)
	return strings.ReplaceAll(q, "?)", "?, 'SCHEDULED', 'Scheduled')")
}

// sqlitePointStates points runs at their states: ?1 is a JSON array of
// [run id, state id] pairs.
const sqlitePointStates = `UPDATE flow_run SET state_id = v.sid
	FROM (SELECT value ->> 0 AS rid, value ->> 1 AS sid FROM json_each(?)) AS v
	WHERE flow_run.id = v.rid`

// The baseline's work-pool poll by hand, in one statement: the scheduled
// runs numbered per queue by time; the first min(limit, queue slots) of
// each queue (the slots joined only to the runs within the limit), then
// the first min(limit, pool slots) by queue priority, time and id, with
// their rows. It finds each queue's runs one of two ways,
// sqlitePickScheduled or sqlitePickQueueIndex, as prefectdb does.
const (
	sqlitePollHead = `WITH queue_slots AS (
	SELECT wq.id, max(0, wq.concurrency_limit - count(fr.id)) AS available_slots
	FROM work_queue wq
	LEFT JOIN flow_run fr ON fr.work_queue_id = wq.id AND fr.state_type IN ('RUNNING', 'PENDING')
	WHERE wq.work_pool_id = ?1 AND wq.is_paused IS FALSE AND wq.concurrency_limit IS NOT NULL
	GROUP BY wq.id
), picked AS (
	SELECT wq.id AS queue_id, wq.priority, f.id, f.next_scheduled_start_time,
		row_number() OVER (PARTITION BY wq.id
			ORDER BY f.next_scheduled_start_time IS NULL, f.next_scheduled_start_time, f.id) AS queue_rank
`
	// sqlitePickScheduled: with Prefect's indexes, every scheduled run once
	// (ix_flow_run__state_type: the unary + keeps SQLite, which has no
	// statistics, from reading every run of a queue through
	// ix_flow_run__work_queue_id instead).
	sqlitePickScheduled = `	FROM flow_run f
	JOIN work_queue wq ON wq.id = +f.work_queue_id
	JOIN work_pool wp ON wp.id = wq.work_pool_id
	WHERE f.state_type = 'SCHEDULED' AND wp.id = ?1 AND wp.is_paused IS FALSE AND wq.is_paused IS FALSE
		AND (json_extract(f.empirical_policy, '$.retry_type') IS NULL OR json_extract(f.empirical_policy, '$.retry_type') != 'in_process')
`
	// sqlitePickQueueIndex: with prefectdb's opt-in queue index, each
	// queue's first runs as one index range.
	sqlitePickQueueIndex = `	FROM work_pool wp
	JOIN work_queue wq ON wq.work_pool_id = wp.id
	JOIN flow_run f ON f.id IN (
		SELECT s.id FROM flow_run s WHERE s.work_queue_id = wq.id AND s.state_type = 'SCHEDULED'
			AND (json_extract(s.empirical_policy, '$.retry_type') IS NULL OR json_extract(s.empirical_policy, '$.retry_type') != 'in_process')
		ORDER BY s.next_scheduled_start_time ASC NULLS LAST, s.id LIMIT ?2)
	WHERE wp.id = ?1 AND wp.is_paused IS FALSE AND wq.is_paused IS FALSE
`
	sqlitePollTail = `)
SELECT fr.id, fr.created, fr.updated, fr.name, fr.state_type, fr.run_count, fr.expected_start_time,
	fr.next_scheduled_start_time, fr.start_time, fr.end_time, fr.total_run_time, fr.flow_version, fr.parameters,
	fr.idempotency_key, fr.context, fr.empirical_policy, fr.tags, fr.auto_scheduled, fr.flow_id, fr.deployment_id,
	fr.parent_task_run_id, fr.state_id, fr.state_name, fr.infrastructure_document_id, fr.work_queue_name,
	fr.state_timestamp, fr.created_by, fr.infrastructure_pid, fr.work_queue_id, fr.job_variables, fr.deployment_version
FROM picked p
LEFT JOIN queue_slots qs ON qs.id = p.queue_id
JOIN flow_run fr ON fr.id = p.id
WHERE p.queue_rank <= ?2 AND (qs.available_slots IS NULL OR p.queue_rank <= qs.available_slots)
ORDER BY p.priority, p.next_scheduled_start_time IS NULL, p.next_scheduled_start_time, p.id
LIMIT coalesce(min(?2, (
	SELECT max(0, wp.concurrency_limit - (
		SELECT count(*) FROM flow_run c JOIN work_queue q ON c.work_queue_id = q.id
		WHERE q.work_pool_id = wp.id AND q.is_paused IS FALSE AND c.state_type IN ('RUNNING', 'PENDING')))
	FROM work_pool wp WHERE wp.id = ?1 AND wp.concurrency_limit IS NOT NULL)), ?2)`

	// sqlitePoll and sqlitePollQueueIndex are the two whole statements.
	sqlitePoll           = sqlitePollHead + sqlitePickScheduled + sqlitePollTail
	sqlitePollQueueIndex = sqlitePollHead + sqlitePickQueueIndex + sqlitePollTail
)

// sqliteRun holds one flow_run row as the baseline reads it: text and JSON
// text as the database stores them, ready to be passed on.
type sqliteRun struct {
	id, name, flowID                                                   string
	created, updated, expected, next, start, end, total, stateTS       any
	stateType, flowVersion, idemKey, depID, parentTask, stateID        sql.NullString
	stateName, infraDoc, wqName, createdBy, infraPID, wqID, jv, depVer sql.NullString
	params, context, policy, tags                                      string
	runCount                                                           int64
	auto                                                               bool
}

func (r *sqliteRun) targets() []any {
	return []any{&r.id, &r.created, &r.updated, &r.name, &r.stateType, &r.runCount, &r.expected, &r.next, &r.start,
		&r.end, &r.total, &r.flowVersion, &r.params, &r.idemKey, &r.context, &r.policy, &r.tags, &r.auto, &r.flowID,
		&r.depID, &r.parentTask, &r.stateID, &r.stateName, &r.infraDoc, &r.wqName, &r.stateTS, &r.createdBy,
		&r.infraPID, &r.wqID, &r.jv, &r.depVer}
}

// Poll implements Target.
func (t *sqliteTarget) Poll(ctx context.Context) (int, error) {
	if err := t.prepare(ctx, t.poll); err != nil {
		return 0, err
	}
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	s, err := t.stmt(ctx, tx, t.poll)
	if err != nil {
		return 0, err
	}
	rows, err := s.QueryContext(ctx, t.fixture.WorkPoolID.String(), PollLimit)
	if err != nil {
		return 0, err
	}
	var runs []sqliteRun
	for rows.Next() {
		runs = append(runs, sqliteRun{})
		if err := rows.Scan(runs[len(runs)-1].targets()...); err != nil {
			rows.Close()
			return 0, err
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return len(runs), tx.Commit()
}

const (
	sqliteLockRun = `SELECT state_type, state_timestamp, run_count, start_time, end_time, total_run_time
		FROM flow_run WHERE id = ?`
	sqliteInsertState = `INSERT INTO flow_run_state (id, created, updated, type, name, timestamp, flow_run_id)
		VALUES (?1, ?2, ?2, ?3, ?4, ?2, ?5)`
	sqliteUpdateRun = `UPDATE flow_run SET updated = ?2, state_id = ?3, state_type = ?4, state_name = ?5,
		state_timestamp = ?2, run_count = ?6, start_time = ?7, end_time = ?8, total_run_time = ?9 WHERE id = ?1`
)

// Transition implements Target.
func (t *sqliteTarget) Transition(ctx context.Context, runID uuid.UUID, to types.StateType, name string) error {
	if err := t.prepare(ctx, sqliteLockRun, sqliteInsertState, sqliteUpdateRun); err != nil {
		return err
	}
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	id := runID.String()
	s, err := t.stmt(ctx, tx, sqliteLockRun)
	if err != nil {
		return err
	}
	var (
		cur                        sql.NullString
		curTS, start, end, totalTS any
		runCount                   int
	)
	if err := s.QueryRowContext(ctx, id).Scan(&cur, &curTS, &runCount, &start, &end, &totalTS); err != nil {
		return err
	}
	var curType *types.StateType
	if cur.Valid {
		st := types.StateType(cur.String)
		curType = &st
	}
	ts, err := parseSQLiteTime(curTS)
	if err != nil {
		return err
	}
	st, err := parseSQLiteTime(start)
	if err != nil {
		return err
	}
	et, err := parseSQLiteTime(end)
	if err != nil {
		return err
	}
	var total time.Duration
	if tt, err := parseSQLiteTime(totalTS); err != nil {
		return err
	} else if tt != nil {
		total = tt.Sub(time.Unix(0, 0))
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := nextRunColumns(curType, ts, runCount, st, et, total, to, now)
	nowText, stateID := sqliteTime(u.timestamp), uuid.NewString()
	if s, err = t.stmt(ctx, tx, sqliteInsertState); err != nil {
		return err
	}
	if _, err := s.ExecContext(ctx, stateID, nowText, string(to), name, id); err != nil {
		return err
	}
	if s, err = t.stmt(ctx, tx, sqliteUpdateRun); err != nil {
		return err
	}
	if _, err := s.ExecContext(ctx, id, nowText, stateID, string(to), name, u.runCount, sqliteTimePtr(u.startTime),
		sqliteTimePtr(u.endTime), sqliteInterval(u.totalRunTime)); err != nil {
		return err
	}
	return tx.Commit()
}

// InsertLogs implements Target.
func (t *sqliteTarget) InsertLogs(ctx context.Context, rows []LogRow) error {
	now := sqliteTime(time.Now().Truncate(time.Microsecond))
	args := make([]any, 0, len(rows)*9)
	for k := range rows {
		r := &rows[k]
		args = append(args, r.ID.String(), now, now, r.Name, r.Level, uuidPtr(r.FlowRunID), uuidPtr(r.TaskRunID),
			r.Message, sqliteTime(r.Timestamp))
	}
	s, err := t.stmt(ctx, nil, multiRow(`INSERT INTO log (id, created, updated, name, level, flow_run_id, task_run_id,
		message, timestamp)`, "", len(rows), 9))
	if err != nil {
		return err
	}
	// One statement: its own transaction.
	_, err = s.ExecContext(ctx, args...)
	return err
}

// InsertEvents implements Target.
func (t *sqliteTarget) InsertEvents(ctx context.Context, rows []EventRow) (int, error) {
	now := sqliteTime(time.Now().Truncate(time.Microsecond))
	args := make([]any, 0, len(rows)*12)
	byID := make(map[string]*EventRow, len(rows))
	for k := range rows {
		e := &rows[k]
		id := e.ID.String()
		byID[id] = e
		args = append(args, id, now, now, sqliteTime(e.Occurred), e.Event, e.ResourceID,
			strPtr(jsonText(e.Resource, false, "")), strPtr(jsonText(e.RelatedResourceIDs, e.RelatedResourceIDs == nil, "[]")),
			strPtr(jsonText(e.Related, e.Related == nil, "[]")), strPtr(jsonText(e.Payload, false, "")),
			sqliteTime(e.Received), sqliteTime(e.Recorded))
	}
	insertEvents := multiRow(`INSERT INTO events (id, created, updated, occurred, event, resource_id, resource,
		related_resource_ids, related, payload, received, recorded)`, "", len(rows), 12) + " ON CONFLICT DO NOTHING RETURNING id"
	if err := t.prepare(ctx, insertEvents, sqliteInsertResources(3*len(rows))); err != nil {
		return 0, err
	}
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	s, err := t.stmt(ctx, tx, insertEvents)
	if err != nil {
		return 0, err
	}
	rs, err := s.QueryContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	var inserted []string
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			rs.Close()
			return 0, err
		}
		inserted = append(inserted, id)
	}
	if err := rs.Err(); err != nil {
		return 0, err
	}
	resArgs := make([]any, 0, len(inserted)*3*8)
	nres := 0
	for _, id := range inserted {
		e := byID[id]
		occ := sqliteTime(e.Occurred)
		for _, r := range e.Resources {
			resArgs = append(resArgs, r.ID.String(), now, now, occ, r.ResourceID, r.Role,
				strPtr(jsonText(r.Resource, false, "")), id)
			nres++
		}
	}
	if nres > 0 {
		if s, err = t.stmt(ctx, tx, sqliteInsertResources(nres)); err != nil {
			return 0, err
		}
		if _, err := s.ExecContext(ctx, resArgs...); err != nil {
			return 0, err
		}
	}
	return len(inserted) + nres, tx.Commit()
}

// sqliteInsertResources inserts n event resources.
func sqliteInsertResources(n int) string {
	return multiRow(`INSERT INTO event_resources (id, created, updated, occurred, resource_id, resource_role,
		resource, event_id)`, "", n, 8)
}

// CopyLogs implements Target.
func (t *sqliteTarget) CopyLogs(context.Context, <-chan []LogRow) (int64, error) { return 0, errNoCopy }
