package dialects

import (
	"context"
	"database/sql"
	"time"

	"github.com/google/uuid"
)

// RowsPerCopy is the most log rows one COPY statement (and transaction) of
// LogCopier.CopyLogs carries, and the most rows one transaction of the
// batched fallback of CopyLogs carries on databases without COPY.
const RowsPerCopy = 10_000

// LogRowsPerStatement is the most log rows one statement of
// IngestQueries.InsertLogs carries, on every dialect; larger batches take
// several statements.
const LogRowsPerStatement = 3000

// LogRow is one row of the log table (Prefect's LogCreate), as the bulk
// ingest path writes it. created and updated are not part of it: they are
// the time of the write, bound from Go as the Ent client does.
type LogRow struct {
	// ID is the row's id. The zero UUID stands for a new random id, as with
	// Ent's default.
	ID uuid.UUID
	// Name is the logger's name, e.g. "prefect.flow_runs".
	Name string
	// Level is the Python log level (20: INFO).
	Level int16
	// FlowRunID is the flow run the line belongs to; nil gives NULL.
	FlowRunID *uuid.UUID
	// TaskRunID is the task run the line belongs to; nil gives NULL.
	TaskRunID *uuid.UUID
	// Message is the log line.
	Message string
	// Timestamp is when the line was logged.
	Timestamp time.Time
}

// EventRow is one event with its event_resources rows, as Prefect's
// write_events stores them. JSON values are encoded with encoding/json, as
// Ent encodes its JSON fields.
type EventRow struct {
	// ID is the event's id. An event whose id is already stored is not
	// written again, and neither are its resources. The zero UUID stands for
	// a new random id.
	ID uuid.UUID
	// Occurred is when the event happened.
	Occurred time.Time
	// Received is when the server received the event.
	Received time.Time
	// Recorded is when the server recorded the event.
	Recorded time.Time
	// Event is the event's name, e.g. "prefect.flow-run.Completed".
	Event string
	// ResourceID is the primary resource's "prefect.resource.id".
	ResourceID string
	// Resource is the primary resource's labels.
	Resource map[string]any
	// RelatedResourceIDs are the related resources' ids; nil is stored as
	// [] (the column's default).
	RelatedResourceIDs []string
	// Related are the related resources' labels; nil is stored as [].
	Related []map[string]any
	// Payload is the event's payload.
	Payload map[string]any
	// Follows is the id of the event this one follows; nil gives NULL.
	Follows *uuid.UUID
	// Resources are the event's event_resources rows (Prefect writes the
	// primary resource with role "" and one row per related resource). They
	// are written only if the event is.
	Resources []EventResourceRow
}

// EventResourceRow is one row of event_resources; its occurred and
// event_id are its event's.
type EventResourceRow struct {
	// ID is the row's id. The zero UUID stands for a new random id.
	ID uuid.UUID
	// ResourceID is the resource's "prefect.resource.id".
	ResourceID string
	// Role is the resource's role in the event ("" for the primary one).
	Role string
	// Resource is the resource's labels.
	Resource map[string]any
}

// EventsWritten is what IngestQueries.InsertEvents wrote.
type EventsWritten struct {
	// IDs are the ids of the events inserted, in id order (the order in
	// which they are inserted). Events whose id was already stored are
	// absent, and an id repeated in the input is there once.
	IDs []uuid.UUID
	// Resources is the number of event_resources rows inserted.
	Resources int
}

// IngestQueries write logs and events in bulk with a few statements per
// batch instead of Ent's one bind parameter per value. The values stored
// are the ones Ent would store for the same input; created and updated are
// the current time, bound from Go. It is part of the Dialect interface.
type IngestQueries interface {
	// InsertLogs inserts log rows. An empty batch is a no-op. A batch larger
	// than one statement may carry is split into several statements; run it
	// in a transaction (q a *sql.Tx or an Ent transaction) for all or nothing.
	InsertLogs(ctx context.Context, q Querier, rows []LogRow) error

	// InsertEvents inserts events as Prefect's write_events does: the
	// events with INSERT … ON CONFLICT (id) DO NOTHING RETURNING id, then
	// the event_resources rows of exactly the events that statement
	// inserted. Concurrent writers of overlapping batches therefore write
	// each event's resources once: the second writer's insert of an event
	// waits for, and then skips, the first writer's (events are inserted in
	// id order, so such writers do not deadlock). Run it in a
	// transaction: otherwise a failure between the two statements leaves
	// events without resources, which a retry does not repair. Events that
	// repeat an id within the batch are written once (the first one).
	InsertEvents(ctx context.Context, q Querier, events []EventRow) (EventsWritten, error)
}

// LogCopier is implemented by dialects that can stream log rows with COPY
// (PostgreSQL). It is not part of the Dialect interface; get it with a type
// assertion.
type LogCopier interface {
	// CopyLogs streams log rows into the log table on one connection of
	// db's pool. Batches are read from the channel until it is closed or ctx
	// ends; each COPY statement, and transaction, takes batches until it
	// holds RowsPerCopy rows or no batch is waiting, so rows are committed
	// without delay when the producer is slower than the database. Memory
	// use is bounded by the channel's capacity plus one batch. created and
	// updated are the time each COPY starts.
	//
	// It returns the number of rows copied. On error, rows of earlier COPY
	// statements stay committed and the failing statement's are not written.
	CopyLogs(ctx context.Context, db *sql.DB, batches <-chan []LogRow) (int64, error)
}
