package sqlite

// This file holds the bulk ingest of logs and events
// (dialects.IngestQueries) on SQLite: multi-row INSERTs with bound
// parameters, converted by this package's driver as every other statement's
// (see ConvertValue), so the stored values are the ones Ent stores.

import (
	"context"
	"fmt"
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

// The columns of the ingest statements, in their VALUES order. Every value
// is a plain ? parameter: numbered ones (?NNN) would make SQLite look each
// one's name up in a list as long as the statement's parameters
// (sqlite3_bind_parameter_name), which made binding quadratic.
var (
	logInsertColumns   = []string{"id", "created", "updated", "name", "level", "flow_run_id", "task_run_id", "message", "timestamp"}
	eventInsertColumns = []string{"id", "created", "updated", "occurred", "event", "resource_id", "resource",
		"related_resource_ids", "related", "payload", "received", "recorded", "follows"}
	resourceInsertColumns = []string{"id", "created", "updated", "occurred", "resource_id", "resource_role", "resource", "event_id"}
)

// rowsPerInsert is the most rows of the columns one statement binds.
func rowsPerInsert(columns []string) int { return maxVariables / len(columns) }

// insertSQL returns `INSERT INTO "table" ("col",…) VALUES (?,…),…` for n
// rows, then suffix. Only constant identifiers go into the text.
func insertSQL(table string, columns []string, n int, suffix string) string {
	var b strings.Builder
	b.Grow(32 + len(table) + len(columns)*24 + n*(2*len(columns)+2) + len(suffix))
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
	row := "(?" + strings.Repeat(",?", len(columns)-1) + ")"
	for r := range n {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(suffix)
	return b.String()
}

// nowArg is created and updated as the driver binds them (ConvertValue),
// converted once for all the rows of a statement.
func nowArg(now time.Time) (any, error) {
	v, _, err := ConvertValue(now)
	if err != nil {
		return nil, fmt.Errorf("sqlite: created/updated: %w", err)
	}
	return v, nil
}

// InsertLogs implements dialects.IngestQueries: one multi-row INSERT per
// dialects.LogRowsPerStatement rows (fewer than SQLite's 32766 parameters
// allow).
func (Dialect) InsertLogs(ctx context.Context, q dialects.Querier, rows []dialects.LogRow) error {
	now, err := nowArg(rawsql.IngestNow())
	if err != nil {
		return err
	}
	per := min(rowsPerInsert(logInsertColumns), dialects.LogRowsPerStatement)
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), per)]
		rows = rows[len(chunk):]
		args := make([]any, 0, len(chunk)*len(logInsertColumns))
		for k := range chunk {
			r := &chunk[k]
			id := r.ID
			if id == uuid.Nil {
				id = uuid.New()
			}
			args = append(args, id, now, now, r.Name, r.Level, r.FlowRunID, r.TaskRunID, r.Message, r.Timestamp)
		}
		if _, err := q.ExecContext(ctx, insertSQL("log", logInsertColumns, len(chunk), ""), args...); err != nil {
			return fmt.Errorf("sqlite: insert %d log rows: %w", len(chunk), err)
		}
	}
	return nil
}

// InsertEvents implements dialects.IngestQueries: per 32766/13 events,
// one INSERT … ON CONFLICT (id) DO NOTHING RETURNING id, then the inserted
// events' resources in as many multi-row INSERTs as they need.
func (Dialect) InsertEvents(ctx context.Context, q dialects.Querier, events []dialects.EventRow) (dialects.EventsWritten, error) {
	b := rawsql.NewEventBatch(events)
	for _, chunk := range b.Chunks(rowsPerInsert(eventInsertColumns)) {
		if err := insertEventChunk(ctx, q, b.Now, chunk, b.Inserted); err != nil {
			return dialects.EventsWritten{}, err
		}
		n, err := insertResources(ctx, q, b.Now, chunk, b.Inserted)
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
	nowText, err := nowArg(now)
	if err != nil {
		return err
	}
	args := make([]any, 0, len(events)*len(eventInsertColumns))
	for k := range events {
		e := &events[k]
		j, err := rawsql.EncodeEventJSON(e)
		if err != nil {
			return fmt.Errorf("sqlite: insert events: %w", err)
		}
		// JSON as []byte, as Ent binds it; the driver stores it as text.
		args = append(args, e.ID, nowText, nowText, e.Occurred, e.Event, e.ResourceID, j.Resource, j.RelatedResourceIDs, j.Related,
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
	nowText, err := nowArg(now)
	if err != nil {
		return 0, err
	}
	per := rowsPerInsert(resourceInsertColumns)
	total, n := 0, 0
	var args []any
	flush := func() error {
		if n == 0 {
			return nil
		}
		if _, err := q.ExecContext(ctx, insertSQL("event_resources", resourceInsertColumns, n, ""), args...); err != nil {
			return fmt.Errorf("%d rows: %w", n, err)
		}
		total += n
		n, args = 0, args[:0]
		return nil
	}
	err = rawsql.EachInsertedResource(events, inserted, func(e *dialects.EventRow, r *dialects.EventResourceRow, j []byte) error {
		args = append(args, r.ID, nowText, nowText, e.Occurred, r.ResourceID, r.Role, j, e.ID)
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
