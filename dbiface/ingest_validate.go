package dbiface

import (
	"context"
	"fmt"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/types"
)

// validateLogs refuses, before anything is written, log rows that the two
// databases would not store alike (as the Ent hooks do for Ent's writes):
// text with a NUL byte or invalid UTF-8, a timestamp outside years 1 to
// 9999. The error names the row and field, never the value.
func validateLogs(rows []dialects.LogRow) error {
	for k := range rows {
		r := &rows[k]
		for _, c := range []check{
			{"name", types.CheckValue(r.Name)},
			{"message", types.CheckValue(r.Message)},
			{"timestamp", types.CheckValue(r.Timestamp)},
		} {
			if c.reason != "" {
				return &types.InvalidValueError{Field: fmt.Sprintf("log[%d].%s", k, c.field), Reason: c.reason}
			}
		}
	}
	return nil
}

// validateEvents is validateLogs for events and their resources; the
// indexed text (event name, resource ids) is also held to
// types.MaxIndexedTextBytes.
func validateEvents(events []dialects.EventRow) error {
	for k := range events {
		e := &events[k]
		checks := []check{
			{"event", types.CheckIndexedText(e.Event)},
			{"resource_id", types.CheckIndexedText(e.ResourceID)},
			{"occurred", types.CheckValue(e.Occurred)},
			{"received", types.CheckValue(e.Received)},
			{"recorded", types.CheckValue(e.Recorded)},
			{"resource", types.CheckValue(e.Resource)},
			{"related_resource_ids", types.CheckValue(e.RelatedResourceIDs)},
			{"related", types.CheckValue(e.Related)},
			{"payload", types.CheckValue(e.Payload)},
		}
		for j, r := range e.Resources {
			checks = append(checks,
				check{fmt.Sprintf("resources[%d].resource_id", j), types.CheckIndexedText(r.ResourceID)},
				check{fmt.Sprintf("resources[%d].role", j), types.CheckValue(r.Role)},
				check{fmt.Sprintf("resources[%d].resource", j), types.CheckValue(r.Resource)},
			)
		}
		for _, c := range checks {
			if c.reason != "" {
				return &types.InvalidValueError{Field: fmt.Sprintf("event[%d].%s", k, c.field), Reason: c.reason}
			}
		}
	}
	return nil
}

// check is one field's verdict: its name and why its value is refused ("" if
// it is not).
type check struct {
	field  string
	reason string
}

// validatedBatches relays batches to the returned channel after checking
// them with validateLogs; the first invalid batch stops the relay, and its
// error is sent on the error channel (buffered, read after the returned
// channel is drained and closed). The relay ends when batches is closed or
// ctx ends.
//
// The returned channel has the input's capacity (at least one batch): the
// copiers take as many batches into one statement as are ready without
// waiting (dialects.LogCopier), so an unbuffered relay, ready only while it
// waits to hand over the next batch, cut every COPY after about one batch
// and made it a transaction per batch.
func validatedBatches(ctx context.Context, batches <-chan []dialects.LogRow) (<-chan []dialects.LogRow, <-chan error) {
	out := make(chan []dialects.LogRow, max(1, cap(batches)))
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case b, ok := <-batches:
				if !ok {
					return
				}
				if err := validateLogs(b); err != nil {
					errc <- err
					return
				}
				select {
				case out <- b:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, errc
}
