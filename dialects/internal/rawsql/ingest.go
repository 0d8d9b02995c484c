package rawsql

// This file holds the Go side that the dialects' bulk ingest
// (dialects.IngestQueries) shares: the time of the write, the order and
// ids of the events, their JSON columns, and the steps of InsertEvents.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
)

// IngestNow is the created and updated time of an ingest write: now in UTC,
// truncated to microseconds, as the Ent client's defaults.
func IngestNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// UniqueEvents returns a copy of events with the first occurrence of each
// id kept, zero event and resource ids replaced by new random ones, sorted
// by id: concurrent writers then insert overlapping events in one order and
// cannot deadlock on each other's uncommitted rows. events itself is not
// modified.
func UniqueEvents(events []dialects.EventRow) []dialects.EventRow {
	out := make([]dialects.EventRow, 0, len(events))
	seen := make(map[uuid.UUID]struct{}, len(events))
	for _, e := range events {
		if e.ID == uuid.Nil {
			e.ID = uuid.New()
		}
		if _, dup := seen[e.ID]; dup {
			continue
		}
		seen[e.ID] = struct{}{}
		if hasZeroResourceID(&e) {
			e.Resources = append([]dialects.EventResourceRow(nil), e.Resources...)
			for j := range e.Resources {
				if e.Resources[j].ID == uuid.Nil {
					e.Resources[j].ID = uuid.New()
				}
			}
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b dialects.EventRow) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out
}

// hasZeroResourceID reports whether one of e's resources has the zero id.
func hasZeroResourceID(e *dialects.EventRow) bool {
	for j := range e.Resources {
		if e.Resources[j].ID == uuid.Nil {
			return true
		}
	}
	return false
}

// EventJSON is the JSON of one event's columns, encoded as Ent encodes its
// JSON fields (encoding/json; a nil related_resource_ids or related is []).
type EventJSON struct {
	// Resource, RelatedResourceIDs, Related and Payload are the columns'
	// JSON text.
	Resource, RelatedResourceIDs, Related, Payload []byte
}

// EncodeEventJSON encodes the JSON columns of e.
func EncodeEventJSON(e *dialects.EventRow) (EventJSON, error) {
	var j EventJSON
	var err error
	if j.Resource, err = json.Marshal(e.Resource); err != nil {
		return j, fmt.Errorf("event %s: resource: %w", e.ID, err)
	}
	ids := e.RelatedResourceIDs
	if ids == nil {
		ids = []string{}
	}
	if j.RelatedResourceIDs, err = json.Marshal(ids); err != nil {
		return j, fmt.Errorf("event %s: related_resource_ids: %w", e.ID, err)
	}
	rel := e.Related
	if rel == nil {
		rel = []map[string]any{}
	}
	if j.Related, err = json.Marshal(rel); err != nil {
		return j, fmt.Errorf("event %s: related: %w", e.ID, err)
	}
	if j.Payload, err = json.Marshal(e.Payload); err != nil {
		return j, fmt.Errorf("event %s: payload: %w", e.ID, err)
	}
	return j, nil
}

// EventWriter is the dialect's part of WriteEvents.
type EventWriter struct {
	// EventsPerStatement is the most events one InsertEvents call gets.
	EventsPerStatement int
	// InsertEvents inserts events with ON CONFLICT (id) DO NOTHING
	// RETURNING id and adds the ids returned to inserted.
	InsertEvents func(ctx context.Context, q dialects.Querier, now time.Time, events []dialects.EventRow, inserted map[uuid.UUID]bool) error
	// InsertResources inserts the resources of those events whose ids are
	// in inserted (see EachInsertedResource) and returns their number.
	InsertResources func(ctx context.Context, q dialects.Querier, now time.Time, events []dialects.EventRow, inserted map[uuid.UUID]bool) (int, error)
}

// WriteEvents is dialects.IngestQueries.InsertEvents with the dialect's
// statements in w: it removes repeated ids and sorts the events
// (UniqueEvents), then, per w.EventsPerStatement events, inserts the events
// and the resources of those inserted.
func WriteEvents(ctx context.Context, q dialects.Querier, events []dialects.EventRow, w EventWriter) (dialects.EventsWritten, error) {
	var out dialects.EventsWritten
	if len(events) == 0 {
		return out, nil
	}
	events = UniqueEvents(events)
	now := IngestNow()
	inserted := make(map[uuid.UUID]bool, len(events))
	for rest := events; len(rest) > 0; {
		chunk := rest[:min(len(rest), w.EventsPerStatement)]
		rest = rest[len(chunk):]
		if err := w.InsertEvents(ctx, q, now, chunk, inserted); err != nil {
			return dialects.EventsWritten{}, err
		}
		n, err := w.InsertResources(ctx, q, now, chunk, inserted)
		if err != nil {
			return dialects.EventsWritten{}, err
		}
		out.Resources += n
	}
	out.IDs = make([]uuid.UUID, 0, len(inserted))
	for k := range events {
		if inserted[events[k].ID] {
			out.IDs = append(out.IDs, events[k].ID)
		}
	}
	return out, nil
}

// EachInsertedResource calls fn with every resource of the events whose ids
// are in inserted, its event, and its resource's JSON encoded as Ent
// encodes a JSON field. It stops at fn's first error.
func EachInsertedResource(events []dialects.EventRow, inserted map[uuid.UUID]bool,
	fn func(e *dialects.EventRow, r *dialects.EventResourceRow, resourceJSON []byte) error) error {
	for k := range events {
		e := &events[k]
		if !inserted[e.ID] {
			continue
		}
		for j := range e.Resources {
			r := &e.Resources[j]
			b, err := json.Marshal(r.Resource)
			if err != nil {
				return fmt.Errorf("event %s: resource %s: %w", e.ID, r.ID, err)
			}
			if err := fn(e, r, b); err != nil {
				return err
			}
		}
	}
	return nil
}
