package sqlite

// This file holds the bulk ingest of logs and events
// (dialects.IngestQueries) on SQLite: multi-row INSERTs with bound
// parameters, converted by this package's driver as every other statement's
// (see ConvertValue), so the stored values are the ones Ent stores.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/internal/rawsql"
)

var _ dialects.IngestQueries = Dialect{}

// maxVariables is SQLite's limit on the bound parameters of one statement
// (SQLITE_MAX_VARIABLE_NUMBER, 32766 since SQLite 3.32).
const maxVariables = 32766

// The columns of the ingest statements, in their VALUES order. Parameter ?1
// is created and updated, shared by every row; each row binds the others.
var (
	logInsertColumns = []string{"id", "created", "updated", "name", "level", "flow_run_id", "task_run_id", "message", "timestamp"}
	logRowParams     = len(logInsertColumns) - 2

	eventInsertColumns = []string{"id", "created", "updated", "occurred", "event", "resource_id", "resource",
		"related_resource_ids", "related", "payload", "received", "recorded", "follows"}
	eventRowParams = len(eventInsertColumns) - 2

	resourceInsertColumns = []string{"id", "created", "updated", "occurred", "resource_id", "resource_role", "resource", "event_id"}
	resourceRowParams     = len(resourceInsertColumns) - 2
)

// rowsPerInsert is the most rows of perRow parameters one statement binds,
// with parameter ?1 shared.
func rowsPerInsert(perRow int) int { return (maxVariables - 1) / perRow }

// insertSQL returns `INSERT INTO table (columns) VALUES (?2,?1,?1,?3,…),…`
// for n rows: the second and third columns are ?1, the others are numbered
// in order. suffix follows the VALUES list. Only constant identifiers and
// parameter numbers go into the text.
func insertSQL(table string, columns []string, n int, suffix string) string {
	var b strings.Builder
	b.Grow(64 + n*(len(columns)*7+3) + len(suffix))
	b.WriteString(`INSERT INTO "`)
	b.WriteString(table)
	b.WriteString(`" (`)
	for k, c := range columns {
		if k > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(c)
		b.WriteByte('"')
	}
	b.WriteString(") VALUES ")
	p := 2
	for r := range n {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for k := range columns {
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
			if k == 1 || k == 2 {
				b.WriteByte('1')
				continue
			}
			b.WriteString(strconv.Itoa(p))
			p++
		}
		b.WriteByte(')')
	}
	b.WriteString(suffix)
	return b.String()
}

// InsertLogs implements dialects.IngestQueries: one multi-row INSERT per
// rowsPerInsert rows.
func (Dialect) InsertLogs(ctx context.Context, q dialects.Querier, rows []dialects.LogRow) error {
	now := dialects.IngestNow()
	per := min(rowsPerInsert(logRowParams), dialects.LogRowsPerStatement)
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), per)]
		rows = rows[len(chunk):]
		args := make([]any, 0, 1+len(chunk)*logRowParams)
		args = append(args, now)
		for k := range chunk {
			r := &chunk[k]
			id := r.ID
			if id == uuid.Nil {
				id = uuid.New()
			}
			args = append(args, id, r.Name, r.Level, r.FlowRunID, r.TaskRunID, r.Message, r.Timestamp)
		}
		if _, err := q.ExecContext(ctx, insertSQL("log", logInsertColumns, len(chunk), ""), args...); err != nil {
			return fmt.Errorf("sqlite: insert %d log rows: %w", len(chunk), err)
		}
	}
	return nil
}

// InsertEvents implements dialects.IngestQueries: per rowsPerInsert events,
// one INSERT … ON CONFLICT (id) DO NOTHING RETURNING id, then the inserted
// events' resources in as many multi-row INSERTs as they need.
func (Dialect) InsertEvents(ctx context.Context, q dialects.Querier, events []dialects.EventRow) (dialects.EventsWritten, error) {
	return dialects.WriteEvents(ctx, q, events, dialects.EventWriter{
		EventsPerStatement: rowsPerInsert(eventRowParams), InsertEvents: insertEventChunk, InsertResources: insertResources,
	})
}

// insertEventChunk inserts events and adds the ids inserted to inserted.
func insertEventChunk(ctx context.Context, q dialects.Querier, now time.Time, events []dialects.EventRow,
	inserted map[uuid.UUID]bool) error {
	args := make([]any, 0, 1+len(events)*eventRowParams)
	args = append(args, now)
	for k := range events {
		e := &events[k]
		j, err := dialects.EncodeEventJSON(e)
		if err != nil {
			return fmt.Errorf("sqlite: insert events: %w", err)
		}
		// JSON as []byte, as Ent binds it; the driver stores it as text.
		args = append(args, e.ID, e.Occurred, e.Event, e.ResourceID, j.Resource, j.RelatedResourceIDs, j.Related,
			j.Payload, e.Received, e.Recorded, e.Follows)
	}
	query := insertSQL("events", eventInsertColumns, len(events), ` ON CONFLICT ("id") DO NOTHING RETURNING "id"`)
	if err := rawsql.CollectIDs(ctx, q, query, args, inserted); err != nil {
		return fmt.Errorf("sqlite: insert %d events: %w", len(events), err)
	}
	return nil
}

// insertResources inserts the resources of the events whose ids are in
// inserted and returns how many rows it wrote.
func insertResources(ctx context.Context, q dialects.Querier, now time.Time, events []dialects.EventRow,
	inserted map[uuid.UUID]bool) (int, error) {
	per := rowsPerInsert(resourceRowParams)
	total, n := 0, 0
	args := []any{now}
	flush := func() error {
		if n == 0 {
			return nil
		}
		if _, err := q.ExecContext(ctx, insertSQL("event_resources", resourceInsertColumns, n, ""), args...); err != nil {
			return fmt.Errorf("%d rows: %w", n, err)
		}
		total += n
		n, args = 0, args[:1]
		return nil
	}
	err := dialects.EachInsertedResource(events, inserted, func(e *dialects.EventRow, r *dialects.EventResourceRow, j []byte) error {
		args = append(args, r.ID, e.Occurred, r.ResourceID, r.Role, j, e.ID)
		if n++; n == per {
			return flush()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: insert event resources: %w", err)
	}
	if err := flush(); err != nil {
		return 0, fmt.Errorf("sqlite: insert event resources: %w", err)
	}
	return total, nil
}
