package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/types"
)

// pgTarget is the PostgreSQL baseline: hand-written SQL on pgx's own pool
// (no database/sql, no Ent), with the driver used as well as it allows:
// statements bound as arrays and unnested, several statements of one
// transaction sent in one round trip (pgx batches are pipelined), prepared
// statements cached per connection.
type pgTarget struct {
	pool    *pgxpool.Pool
	fixture *Fixture
}

// NewPostgresBaseline opens the PostgreSQL baseline on the database at
// pgURL (a postgres:// URL) with up to conns connections.
func NewPostgresBaseline(ctx context.Context, pgURL string, conns int, f *Fixture) (Target, error) {
	cfg, err := pgxpool.ParseConfig(pgURL)
	if err != nil {
		return nil, fmt.Errorf("bench: baseline: %w", err)
	}
	cfg.MaxConns = int32(conns)
	cfg.ConnConfig.RuntimeParams["TimeZone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bench: baseline: %w", err)
	}
	return &pgTarget{pool: pool, fixture: f}, nil
}

// Side implements Target.
func (t *pgTarget) Side() Side { return Baseline }

// Close implements Target.
func (t *pgTarget) Close() error { t.pool.Close(); return nil }

// pgID is a UUID as pgx encodes and decodes it natively. (uuid.UUID goes
// through its driver.Valuer, text and an error value built on the way, which
// costs more than the rest of a log row's encoding.)
type pgID = [16]byte

// nullID is a nullable UUID for pgx.
func nullID(id *uuid.UUID) pgtype.UUID {
	if id == nil {
		return pgtype.UUID{}
	}
	return pgtype.UUID{Bytes: *id, Valid: true}
}

// jsonText encodes v as JSON text (nil gives def, "" meaning NULL).
func jsonText(v any, isNil bool, def string) *string {
	if isNil {
		if def == "" {
			return nil
		}
		return &def
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the benchmark's own data always encodes
	}
	s := string(b)
	return &s
}

// pgScheduleRuns inserts a batch of scheduled runs and their SCHEDULED
// states in one statement: the WITH inserts the runs, each already pointing
// at its state, skipping those whose (flow_id, idempotency_key) exists, and
// the main INSERT writes the states of the inserted runs. PostgreSQL checks
// both foreign keys at the end of the statement. It returns the ids of the
// inserted runs.
const pgScheduleRuns = `WITH u AS (
	SELECT * FROM unnest($2::uuid[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[], $7::text[], $8::text[],
		$9::text[], $10::bool[], $11::uuid[], $12::uuid[], $13::text[], $14::uuid[], $15::text[], $16::text[],
		$17::uuid[], $18::text[], $19::text[])
		AS u(id, name, exp, nxt, params, key, pol, tags, auto, flow, dep, wqn, wqi, cb, jv, sid, msg, det)
), runs AS (
	INSERT INTO flow_run (id, created, updated, name, state_type, state_name, expected_start_time,
		next_scheduled_start_time, parameters, idempotency_key, empirical_policy, tags, auto_scheduled, flow_id,
		deployment_id, work_queue_name, work_queue_id, created_by, job_variables, state_id)
	SELECT u.id, $1, $1, u.name, 'SCHEDULED'::state_type, 'Scheduled', u.exp, u.nxt, u.params::jsonb, u.key,
		u.pol::jsonb, u.tags::jsonb, u.auto, u.flow, u.dep, u.wqn, u.wqi, u.cb::jsonb, u.jv::jsonb, u.sid
	FROM u
	ON CONFLICT (flow_id, idempotency_key) DO NOTHING
	RETURNING id, state_id
)
INSERT INTO flow_run_state (id, created, updated, type, name, timestamp, message, state_details, flow_run_id)
SELECT runs.state_id, $1, $1, 'SCHEDULED'::state_type, 'Scheduled', $1, u.msg, u.det::jsonb, runs.id
FROM runs JOIN u ON u.sid = runs.state_id
RETURNING flow_run_id`

// Schedule implements Target: one autocommitted statement per batch.
func (t *pgTarget) Schedule(ctx context.Context, runs []dialects.ScheduledFlowRunInsert) (int, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	n := len(runs)
	ids, flows, sids := make([]pgID, n), make([]pgID, n), make([]pgID, n)
	deps, wqis := make([]pgtype.UUID, n), make([]pgtype.UUID, n)
	names := make([]string, n)
	keys, wqns, msgs := make([]*string, n), make([]*string, n), make([]*string, n)
	params, pols, tags, cbs, jvs, dets := make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
	exps, nxts := make([]time.Time, n), make([]time.Time, n)
	autos := make([]bool, n)
	for k := range runs {
		r := &runs[k]
		if r.ID == uuid.Nil {
			r.ID = uuid.New()
		}
		exp := r.ExpectedStartTime
		if exp.IsZero() {
			exp = r.NextScheduledStartTime
		}
		ids[k], flows[k], deps[k], wqis[k], names[k] = r.ID, r.FlowID, nullID(r.DeploymentID), nullID(r.WorkQueueID), r.Name
		keys[k], wqns[k], exps[k], nxts[k], autos[k] = r.IdempotencyKey, r.WorkQueueName, exp, r.NextScheduledStartTime, r.AutoScheduled
		params[k] = jsonText(r.Parameters, r.Parameters == nil, "{}")
		pols[k] = jsonText(r.EmpiricalPolicy, r.EmpiricalPolicy == nil, "{}")
		tags[k] = jsonText(r.Tags, r.Tags == nil, "[]")
		cbs[k] = jsonText(r.CreatedBy, r.CreatedBy == nil, "")
		jvs[k] = jsonText(r.JobVariables, r.JobVariables == nil, "{}")
		sids[k], msgs[k] = uuid.New(), r.StateMessage
		dets[k] = jsonText(r.StateDetails, r.StateDetails == nil, "{}")
	}
	rows, err := t.pool.Query(ctx, pgScheduleRuns, now, ids, names, exps, nxts, params, keys, pols, tags, autos, flows,
		deps, wqns, wqis, cbs, jvs, sids, msgs, dets)
	if err != nil {
		return 0, err
	}
	inserted := 0
	for rows.Next() {
		inserted++
	}
	rows.Close()
	return inserted, rows.Err()
}

// pgRunColumns are the flow_run columns the baseline poll reads.
const pgRunColumns = `fr.id, fr.created, fr.updated, fr.name, fr.state_type, fr.run_count, fr.expected_start_time,
	fr.next_scheduled_start_time, fr.start_time, fr.end_time, fr.total_run_time, fr.flow_version, fr.parameters,
	fr.idempotency_key, fr.context, fr.empirical_policy, fr.tags, fr.auto_scheduled, fr.flow_id, fr.deployment_id,
	fr.parent_task_run_id, fr.state_id, fr.state_name, fr.infrastructure_document_id, fr.work_queue_name,
	fr.state_timestamp, fr.created_by, fr.infrastructure_pid, fr.work_queue_id, fr.job_variables, fr.deployment_version`

// pgPoll is the work-pool poll by hand: the pool's and queues' free slots,
// then per unpaused queue its earliest scheduled runs, locked with SKIP
// LOCKED and limited to min(limit, queue slots) (no more than limit can be
// returned from one queue), the first min(limit, pool slots) of those by
// queue priority, time and id, and their rows, in one statement.
const pgPoll = `WITH pool_slots AS (
	SELECT GREATEST(0, wp.concurrency_limit - COUNT(fr.id)) AS available_slots
	FROM work_pool wp
	JOIN work_queue wq ON wq.work_pool_id = wp.id AND wq.is_paused IS FALSE
	LEFT JOIN flow_run fr ON fr.work_queue_id = wq.id AND fr.state_type IN ('RUNNING', 'PENDING')
	WHERE wp.id = $1 AND wp.concurrency_limit IS NOT NULL
	GROUP BY wp.id, wp.concurrency_limit
), queue_slots AS (
	SELECT wq.id, GREATEST(0, wq.concurrency_limit - COUNT(fr.id)) AS available_slots
	FROM work_queue wq
	LEFT JOIN flow_run fr ON fr.work_queue_id = wq.id AND fr.state_type IN ('RUNNING', 'PENDING')
	WHERE wq.work_pool_id = $1 AND wq.is_paused IS FALSE AND wq.concurrency_limit IS NOT NULL
	GROUP BY wq.id, wq.concurrency_limit
), picked AS (
	SELECT wq.priority, qr.id, qr.next_scheduled_start_time
	FROM work_pool wp
	JOIN work_queue wq ON wq.work_pool_id = wp.id
	LEFT JOIN queue_slots qs ON qs.id = wq.id
	CROSS JOIN LATERAL (
		SELECT fr.id, fr.next_scheduled_start_time
		FROM flow_run fr
		WHERE fr.work_queue_id = wq.id AND fr.state_type = 'SCHEDULED'
			AND (fr.empirical_policy->>'retry_type' IS NULL OR fr.empirical_policy->>'retry_type' != 'in_process')
		ORDER BY fr.next_scheduled_start_time IS NULL, fr.next_scheduled_start_time, fr.id
		LIMIT LEAST($2, qs.available_slots)
		FOR UPDATE OF fr SKIP LOCKED
	) qr
	WHERE wp.id = $1 AND wp.is_paused IS FALSE AND wq.is_paused IS FALSE
	ORDER BY wq.priority, qr.next_scheduled_start_time NULLS LAST, qr.id
	LIMIT LEAST($2, (SELECT available_slots FROM pool_slots))
)
SELECT ` + pgRunColumns + `
FROM picked p JOIN flow_run fr ON fr.id = p.id
ORDER BY p.priority, p.next_scheduled_start_time NULLS LAST, p.id`

// pgRun holds one flow_run row as the baseline reads it: JSON stays JSON
// text, ready to be passed on.
type pgRun struct {
	id, flowID, deploymentID, parentTaskRunID, stateID, infraDocID, workQueueID pgtype.UUID
	created, updated                                                            time.Time
	expected, next, start, end, stateTimestamp                                  pgtype.Timestamptz
	name                                                                        string
	stateType, flowVersion, idemKey, stateName, workQueueName, infraPID, depVer pgtype.Text
	runCount                                                                    int32
	totalRunTime                                                                pgtype.Interval
	params, context, policy, tags, createdBy, jobVars                           []byte
	autoScheduled                                                               bool
}

func (r *pgRun) targets() []any {
	return []any{&r.id, &r.created, &r.updated, &r.name, &r.stateType, &r.runCount, &r.expected, &r.next, &r.start,
		&r.end, &r.totalRunTime, &r.flowVersion, &r.params, &r.idemKey, &r.context, &r.policy, &r.tags,
		&r.autoScheduled, &r.flowID, &r.deploymentID, &r.parentTaskRunID, &r.stateID, &r.stateName, &r.infraDocID,
		&r.workQueueName, &r.stateTimestamp, &r.createdBy, &r.infraPID, &r.workQueueID, &r.jobVars, &r.depVer}
}

// Poll implements Target.
func (t *pgTarget) Poll(ctx context.Context) (int, error) {
	conn, err := t.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	// Round trip 1: BEGIN and the poll; round trip 2: COMMIT.
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(pgPoll, t.fixture.WorkPoolID, PollLimit)
	br := conn.SendBatch(ctx, b)
	var runs []pgRun
	_, err = br.Exec()
	if err == nil {
		var rows pgx.Rows
		rows, err = br.Query()
		if err == nil {
			for rows.Next() {
				runs = append(runs, pgRun{})
				if err = rows.Scan(runs[len(runs)-1].targets()...); err != nil {
					break
				}
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return len(runs), t.finish(ctx, conn, err)
}

// finish commits the connection's transaction, or rolls it back after err.
func (t *pgTarget) finish(ctx context.Context, conn *pgxpool.Conn, err error) error {
	if err != nil {
		if _, rbErr := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rbErr != nil {
			conn.Conn().Close(ctx) // unusable: never hand it out again
			return errors.Join(err, rbErr)
		}
		return err
	}
	_, err = conn.Exec(ctx, "COMMIT")
	return err
}

const pgLockRun = `SELECT state_type, state_timestamp, run_count, start_time, end_time, total_run_time
FROM flow_run WHERE id = $1 FOR UPDATE`

const pgInsertState = `INSERT INTO flow_run_state (id, created, updated, type, name, timestamp, flow_run_id)
VALUES ($1, $2, $2, $3, $4, $2, $5)`

const pgUpdateRun = `UPDATE flow_run SET updated = $2, state_id = $3, state_type = $4, state_name = $5,
	state_timestamp = $2, run_count = $6, start_time = $7, end_time = $8, total_run_time = $9
WHERE id = $1`

// Transition implements Target.
func (t *pgTarget) Transition(ctx context.Context, runID uuid.UUID, to types.StateType, name string) error {
	conn, err := t.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	// Round trip 1: BEGIN and the locking read.
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(pgLockRun, pgID(runID))
	br := conn.SendBatch(ctx, b)
	var (
		cur      pgtype.Text
		curTS    pgtype.Timestamptz
		runCount int32
		start    pgtype.Timestamptz
		end      pgtype.Timestamptz
		total    pgtype.Interval
	)
	if _, err = br.Exec(); err == nil {
		err = br.QueryRow().Scan(&cur, &curTS, &runCount, &start, &end, &total)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return t.finish(ctx, conn, err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	var curType *types.StateType
	if cur.Valid {
		st := types.StateType(cur.String)
		curType = &st
	}
	u := nextRunColumns(curType, tsPtr(curTS), int(runCount), tsPtr(start), tsPtr(end),
		time.Duration(total.Microseconds)*time.Microsecond, to, now)
	// Round trip 2: the state, the run, COMMIT.
	stateID, now := uuid.New(), u.timestamp
	b = &pgx.Batch{}
	b.Queue(pgInsertState, pgID(stateID), now, string(to), name, pgID(runID))
	b.Queue(pgUpdateRun, pgID(runID), now, pgID(stateID), string(to), name, u.runCount, u.startTime, u.endTime,
		pgtype.Interval{Microseconds: u.totalRunTime.Microseconds(), Valid: true})
	b.Queue("COMMIT")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return t.finish(ctx, conn, err)
	}
	return nil
}

func tsPtr(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

const pgInsertLogs = `INSERT INTO log (id, created, updated, name, level, flow_run_id, task_run_id, message, timestamp)
SELECT u.id, $1, $1, u.name, u.level, u.run, u.task, u.msg, u.ts
FROM unnest($2::uuid[], $3::text[], $4::int2[], $5::uuid[], $6::uuid[], $7::text[], $8::timestamptz[])
	AS u(id, name, level, run, task, msg, ts)`

// InsertLogs implements Target.
func (t *pgTarget) InsertLogs(ctx context.Context, rows []LogRow) error {
	n := len(rows)
	ids, runs, tasks := make([]pgID, n), make([]pgtype.UUID, n), make([]pgtype.UUID, n)
	names, msgs := make([]string, n), make([]string, n)
	levels := make([]int16, n)
	tss := make([]time.Time, n)
	for k := range rows {
		r := &rows[k]
		ids[k], runs[k], tasks[k], names[k], msgs[k], levels[k], tss[k] = r.ID, nullID(r.FlowRunID), nullID(r.TaskRunID), r.Name, r.Message, r.Level, r.Timestamp
	}
	// One statement in its own (implicit) transaction: one round trip.
	_, err := t.pool.Exec(ctx, pgInsertLogs, time.Now().UTC().Truncate(time.Microsecond), ids, names, levels, runs, tasks, msgs, tss)
	return err
}

const pgInsertEvents = `INSERT INTO events (id, created, updated, occurred, event, resource_id, resource,
	related_resource_ids, related, payload, received, recorded)
SELECT u.id, $1, $1, u.occ, u.ev, u.rid, u.res::jsonb, u.rids::jsonb, u.rel::jsonb, u.pay::jsonb, u.rec, u.recd
FROM unnest($2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
	$10::timestamptz[], $11::timestamptz[]) AS u(id, occ, ev, rid, res, rids, rel, pay, rec, recd)
ON CONFLICT DO NOTHING
RETURNING id`

const pgInsertResources = `INSERT INTO event_resources (id, created, updated, occurred, resource_id, resource_role,
	resource, event_id)
SELECT u.id, $1, $1, u.occ, u.rid, u.role, u.res::json, u.ev
FROM unnest($2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::uuid[])
	AS u(id, occ, rid, role, res, ev)`

// InsertEvents implements Target.
func (t *pgTarget) InsertEvents(ctx context.Context, rows []EventRow) (int, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	n := len(rows)
	ids := make([]pgID, n)
	occ, rec, recd := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	evs, rids := make([]string, n), make([]string, n)
	res, relIDs, rel, pay := make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
	byID := make(map[pgID]*EventRow, n)
	for k := range rows {
		e := &rows[k]
		byID[e.ID] = e
		ids[k], occ[k], rec[k], recd[k], evs[k], rids[k] = e.ID, e.Occurred, e.Received, e.Recorded, e.Event, e.ResourceID
		res[k] = jsonText(e.Resource, false, "")
		relIDs[k] = jsonText(e.RelatedResourceIDs, e.RelatedResourceIDs == nil, "[]")
		rel[k] = jsonText(e.Related, e.Related == nil, "[]")
		pay[k] = jsonText(e.Payload, false, "")
	}
	conn, err := t.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	// Round trip 1: BEGIN and the events, returning those inserted.
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(pgInsertEvents, now, ids, occ, evs, rids, res, relIDs, rel, pay, rec, recd)
	br := conn.SendBatch(ctx, b)
	var inserted []pgID
	if _, err = br.Exec(); err == nil {
		var r pgx.Rows
		if r, err = br.Query(); err == nil {
			for r.Next() {
				var id pgtype.UUID
				if err = r.Scan(&id); err != nil {
					break
				}
				inserted = append(inserted, id.Bytes)
			}
			r.Close()
			if err == nil {
				err = r.Err()
			}
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, t.finish(ctx, conn, err)
	}
	// Round trip 2: the resources of the inserted events, COMMIT.
	var rIDs, rEv []pgID
	var rOcc []time.Time
	var rRID, rRole []string
	var rRes []*string
	for _, id := range inserted {
		e := byID[id]
		for _, r := range e.Resources {
			rIDs, rEv, rOcc = append(rIDs, r.ID), append(rEv, e.ID), append(rOcc, e.Occurred)
			rRID, rRole, rRes = append(rRID, r.ResourceID), append(rRole, r.Role), append(rRes, jsonText(r.Resource, false, ""))
		}
	}
	b = &pgx.Batch{}
	b.Queue(pgInsertResources, now, rIDs, rOcc, rRID, rRole, rRes, rEv)
	b.Queue("COMMIT")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return 0, t.finish(ctx, conn, err)
	}
	return len(inserted) + len(rIDs), nil
}

// CopyLogs implements Target.
func (t *pgTarget) CopyLogs(ctx context.Context, batches <-chan []LogRow) (int64, error) {
	conn, err := t.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	return copyLogs(ctx, conn.Conn(), batches)
}
