package postgres

// This file holds the bulk ingest of logs and events (dialects.IngestQueries)
// and the COPY path for logs (dialects.LogCopier) on PostgreSQL.

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/internal/rawsql"
)

var (
	_ dialects.IngestQueries = Dialect{}
	_ dialects.LogCopier     = Dialect{}
)

// eventsPerStatement bounds the events of one INSERT … SELECT FROM
// unnest(…): arrays have no parameter limit, but one statement's message
// stays small.
const eventsPerStatement = 5000

// insertLogs inserts log rows from arrays: one bind parameter per column,
// whatever the number of rows.
const insertLogs = `INSERT INTO log (id, created, updated, name, level, flow_run_id, task_run_id, message, timestamp)
SELECT u.id, $1, $1, u.name, u.level, u.run, u.task, u.msg, u.ts
FROM unnest($2::uuid[], $3::text[], $4::int2[], $5::uuid[], $6::uuid[], $7::text[], $8::timestamptz[])
	AS u(id, name, level, run, task, msg, ts)`

// InsertLogs implements dialects.IngestQueries: one INSERT … SELECT FROM
// unnest(…) per dialects.LogRowsPerStatement rows.
func (Dialect) InsertLogs(ctx context.Context, q dialects.Querier, rows []dialects.LogRow) error {
	now := rawsql.IngestNow()
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), dialects.LogRowsPerStatement)]
		rows = rows[len(chunk):]
		n := len(chunk)
		ids, runs, tasks := make([][16]byte, n), make([]pgtype.UUID, n), make([]pgtype.UUID, n)
		names, msgs := make([]string, n), make([]string, n)
		levels := make([]int16, n)
		tss := make([]time.Time, n)
		for k := range chunk {
			r := &chunk[k]
			ids[k] = rowID(r.ID)
			runs[k], tasks[k] = nullUUID(r.FlowRunID), nullUUID(r.TaskRunID)
			names[k], msgs[k], levels[k], tss[k] = r.Name, r.Message, r.Level, r.Timestamp
		}
		if _, err := q.ExecContext(ctx, insertLogs, now, ids, names, levels, runs, tasks, msgs, tss); err != nil {
			return fmt.Errorf("postgres: insert %d log rows: %w", n, err)
		}
	}
	return nil
}

// insertEvents inserts events from arrays and returns the ids of those
// inserted; the JSON arrays are text cast to the columns' types.
const insertEvents = `INSERT INTO events (id, created, updated, occurred, event, resource_id, resource,
	related_resource_ids, related, payload, received, recorded, follows)
SELECT u.id, $1, $1, u.occ, u.ev, u.rid, u.res::jsonb, u.rids::jsonb, u.rel::jsonb, u.pay::jsonb, u.rec, u.recd, u.fol
FROM unnest($2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
	$10::timestamptz[], $11::timestamptz[], $12::uuid[]) AS u(id, occ, ev, rid, res, rids, rel, pay, rec, recd, fol)
ON CONFLICT (id) DO NOTHING
RETURNING id`

// insertResources inserts event_resources rows from arrays.
const insertResources = `INSERT INTO event_resources (id, created, updated, occurred, resource_id, resource_role,
	resource, event_id)
SELECT u.id, $1, $1, u.occ, u.rid, u.role, u.res::json, u.ev
FROM unnest($2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::uuid[])
	AS u(id, occ, rid, role, res, ev)`

// InsertEvents implements dialects.IngestQueries: per eventsPerStatement
// events, one INSERT … ON CONFLICT (id) DO NOTHING RETURNING id and one
// INSERT of the inserted events' resources.
func (Dialect) InsertEvents(ctx context.Context, q dialects.Querier, events []dialects.EventRow) (dialects.EventsWritten, error) {
	b := rawsql.NewEventBatch(events)
	for _, chunk := range b.Chunks(eventsPerStatement) {
		if err := insertEventChunk(ctx, q, b.Now, chunk, b.Inserted); err != nil {
			return dialects.EventsWritten{}, err
		}
		n, err := insertResourceChunk(ctx, q, b.Now, chunk, b.Inserted)
		if err != nil {
			return dialects.EventsWritten{}, err
		}
		b.Resources += n
	}
	return b.Written(), nil
}

// insertEventChunk inserts events and adds the ids inserted to inserted.
func insertEventChunk(ctx context.Context, q dialects.Querier, now time.Time, events []dialects.EventRow,
	inserted map[uuid.UUID]bool) error {
	n := len(events)
	ids, follows := make([][16]byte, n), make([]pgtype.UUID, n)
	occ, rec, recd := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	evs, rids := make([]string, n), make([]string, n)
	res, relIDs, rel, pay := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for k := range events {
		e := &events[k]
		j, err := rawsql.EncodeEventJSON(e)
		if err != nil {
			return fmt.Errorf("postgres: insert events: %w", err)
		}
		ids[k], follows[k] = e.ID, nullUUID(e.Follows)
		occ[k], rec[k], recd[k], evs[k], rids[k] = e.Occurred, e.Received, e.Recorded, e.Event, e.ResourceID
		res[k], relIDs[k], rel[k], pay[k] = string(j.Resource), string(j.RelatedResourceIDs), string(j.Related), string(j.Payload)
	}
	args := []any{now, ids, occ, evs, rids, res, relIDs, rel, pay, rec, recd, follows}
	if err := rawsql.CollectIDs(ctx, q, insertEvents, args, inserted); err != nil {
		return fmt.Errorf("postgres: insert %d events: %w", n, err)
	}
	return nil
}

// insertResourceChunk inserts the resources of the events whose ids are in
// inserted and returns how many rows it wrote.
func insertResourceChunk(ctx context.Context, q dialects.Querier, now time.Time, events []dialects.EventRow,
	inserted map[uuid.UUID]bool) (int, error) {
	var ids, evIDs [][16]byte
	var occ []time.Time
	var rids, roles, res []string
	err := rawsql.EachInsertedResource(events, inserted, func(e *dialects.EventRow, r *dialects.EventResourceRow, j []byte) error {
		ids, evIDs, occ = append(ids, r.ID), append(evIDs, e.ID), append(occ, e.Occurred)
		rids, roles, res = append(rids, r.ResourceID), append(roles, r.Role), append(res, string(j))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: insert event resources: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if _, err := q.ExecContext(ctx, insertResources, now, ids, occ, rids, roles, res, evIDs); err != nil {
		return 0, fmt.Errorf("postgres: insert %d event resources: %w", len(ids), err)
	}
	return len(ids), nil
}

// logColumns are the columns of the log table that COPY writes.
var logColumns = []string{"id", "created", "updated", "name", "level", "flow_run_id", "task_run_id", "message", "timestamp"}

// CopyLogs implements dialects.LogCopier with COPY … FROM STDIN in
// PostgreSQL's binary format (pgx's CopyFrom) on one connection of db, which
// must have been opened by Open.
func (Dialect) CopyLogs(ctx context.Context, db *sql.DB, batches <-chan []dialects.LogRow) (int64, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: copy logs: %w", err)
	}
	defer conn.Close()
	var n int64
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("connection is %T, not pgx's", dc)
		}
		var cerr error
		n, cerr = CopyLogsConn(ctx, sc.Conn(), batches)
		return cerr
	})
	if err != nil {
		return n, fmt.Errorf("postgres: copy logs: %w", err)
	}
	return n, nil
}

// CopyLogsConn is LogCopier.CopyLogs on a pgx connection: it runs COPY
// statements of at most dialects.RowsPerCopy rows on conn until batches is
// closed or ctx ends.
func CopyLogsConn(ctx context.Context, conn *pgx.Conn, batches <-chan []dialects.LogRow) (int64, error) {
	var total int64
	src := &logSource{ctx: ctx, batches: batches}
	for !src.done {
		if !src.fill(true) {
			break
		}
		src.budget = dialects.RowsPerCopy
		src.now = rawsql.IngestNow()
		n, err := conn.CopyFrom(ctx, pgx.Identifier{"log"}, logColumns, src)
		total += n
		if err != nil {
			return total, fmt.Errorf("postgres: copy logs: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return total, fmt.Errorf("postgres: copy logs: %w", err)
	}
	return total, nil
}

// logSource is a pgx.CopyFromSource over a channel of log batches: it
// yields rows until its budget is spent or no batch is ready, and blocks
// only for the first batch of a statement (fill).
type logSource struct {
	ctx     context.Context
	batches <-chan []dialects.LogRow
	cur     []dialects.LogRow
	pos     int
	budget  int
	now     time.Time
	done    bool
	row     []any
}

// fill makes a row available, receiving batches until one has rows. With
// block it waits for them; without, it gives up when none is ready. It
// returns false when it gave up, the channel is closed and drained (done),
// or ctx ended.
func (s *logSource) fill(block bool) bool {
	for s.pos >= len(s.cur) {
		var b []dialects.LogRow
		var ok bool
		if block {
			select {
			case b, ok = <-s.batches:
			case <-s.ctx.Done():
				return false
			}
		} else {
			select {
			case b, ok = <-s.batches:
			default:
				return false
			}
		}
		if !ok {
			s.done = true
			return false
		}
		s.cur, s.pos = b, 0
	}
	return true
}

// Next implements pgx.CopyFromSource.
func (s *logSource) Next() bool {
	if s.budget <= 0 || !s.fill(false) {
		return false
	}
	r := &s.cur[s.pos]
	s.pos++
	s.budget--
	if s.row == nil {
		s.row = make([]any, len(logColumns))
	}
	// UUIDs as [16]byte and pgtype.UUID: pgx encodes those natively.
	s.row[0], s.row[1], s.row[2], s.row[3], s.row[4] = rowID(r.ID), s.now, s.now, r.Name, r.Level
	s.row[5], s.row[6], s.row[7], s.row[8] = nullUUID(r.FlowRunID), nullUUID(r.TaskRunID), r.Message, r.Timestamp
	return true
}

// Values implements pgx.CopyFromSource.
func (s *logSource) Values() ([]any, error) { return s.row, nil }

// Err implements pgx.CopyFromSource.
func (s *logSource) Err() error { return nil }

// rowID is a row's id as pgx encodes it natively: the zero UUID stands for
// a new random one.
func rowID(id uuid.UUID) [16]byte {
	if id == uuid.Nil {
		return uuid.New()
	}
	return id
}

// nullUUID is a nullable UUID as pgx encodes it natively.
func nullUUID(id *uuid.UUID) pgtype.UUID {
	if id == nil {
		return pgtype.UUID{}
	}
	return pgtype.UUID{Bytes: *id, Valid: true}
}
