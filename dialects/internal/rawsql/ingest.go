package rawsql

// This file holds the Go side that the dialects' bulk ingest
// (dialects.IngestQueries) shares: the time of the write, the order and
// ids of the events, their JSON columns, and the steps of InsertEvents.

import (
	"bytes"
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

// EventBatch is one InsertEvents call as a dialect writes it: the events
// without repeated ids, in order (UniqueEvents), the time written as their
// created and updated, and the ids the dialect's statements report as
// inserted. The dialect loops over Chunks itself, inserting each chunk's
// events and then the resources of those inserted (EachInsertedResource),
// and returns Written.
type EventBatch struct {
	// Events are the events to write.
	Events []dialects.EventRow
	// Now is created and updated of every row written.
	Now time.Time
	// Inserted holds the ids of the events inserted so far.
	Inserted map[uuid.UUID]bool
	// Resources counts the resource rows written so far.
	Resources int
}

// NewEventBatch prepares events for writing.
func NewEventBatch(events []dialects.EventRow) *EventBatch {
	events = UniqueEvents(events)
	return &EventBatch{Events: events, Now: IngestNow(), Inserted: make(map[uuid.UUID]bool, len(events))}
}

// Chunks splits the events into runs of at most per events, in order.
func (b *EventBatch) Chunks(per int) [][]dialects.EventRow {
	var out [][]dialects.EventRow
	for rest := b.Events; len(rest) > 0; {
		chunk := rest[:min(len(rest), per)]
		out = append(out, chunk)
		rest = rest[len(chunk):]
	}
	return out
}

// Written reports what was written: the inserted events' ids, in the
// events' order, and the number of resource rows.
func (b *EventBatch) Written() dialects.EventsWritten {
	out := dialects.EventsWritten{IDs: make([]uuid.UUID, 0, len(b.Inserted)), Resources: b.Resources}
	for k := range b.Events {
		if b.Inserted[b.Events[k].ID] {
			out.IDs = append(out.IDs, b.Events[k].ID)
		}
	}
	return out
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
