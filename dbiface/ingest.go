package dbiface

import (
	"context"
	"errors"
	"fmt"

	"github.com/prefectdb/prefectdb/dialects"
)

// InsertLogs writes log rows in bulk (see dialects.IngestQueries): on
// PostgreSQL one INSERT … SELECT FROM unnest(…) per batch, on SQLite
// multi-row INSERTs within SQLite's parameter limit. The rows are stored as
// the Ent client would store them. An empty batch is a no-op. Outside a
// transaction a batch of at most dialects.LogRowsPerStatement rows is one
// autocommitted statement, and a larger one runs in a transaction of its
// own.
//
// It writes with its own SQL, not through the Ent client: Ent hooks and
// interceptors added to the client do not run for it. Its values are checked
// as prefectdb's own schema hooks check Ent's writes: a value the two
// databases would not store alike is refused with a
// *types.InvalidValueError naming the row and field, before anything of the
// call is written (CopyLogs: before anything of that batch).
func (s *Session) InsertLogs(ctx context.Context, rows []dialects.LogRow) error {
	if err := validateLogs(rows); err != nil {
		return fmt.Errorf("dbiface: insert logs: %w", err)
	}
	return s.insertLogs(ctx, rows)
}

// insertLogs is InsertLogs for rows already validated.
func (s *Session) insertLogs(ctx context.Context, rows []dialects.LogRow) error {
	if len(rows) == 0 {
		return nil
	}
	q := s.iface.dialect
	if g := s.iface.writeGroupFor(ctx); g != nil && !s.InTransaction() {
		// With the other writes waiting for the one writer, in one
		// transaction and one commit (see writeGroup).
		err := g.submit(ctx, func(ctx context.Context, tx dialects.Querier) error {
			return q.InsertLogs(ctx, tx, rows)
		})
		if err != nil {
			return s.iface.autocommitError("insert logs", err)
		}
		return nil
	}
	if !s.InTransaction() && len(rows) > dialects.LogRowsPerStatement {
		return s.iface.Transaction(ctx, NoLocks, func(ctx context.Context, s *Session) error {
			return s.insertLogs(ctx, rows)
		})
	}
	if err := q.InsertLogs(ctx, s.Client, rows); err != nil {
		if !s.InTransaction() {
			// One statement, autocommitted: say whether it may have
			// committed, or whether a retry may cure it.
			return s.iface.autocommitError("insert logs", err)
		}
		return fmt.Errorf("dbiface: insert logs: %w", err)
	}
	return nil
}

// autocommitError types the error of a statement that ran alone,
// autocommitted: an *OutcomeUnknownError when the connection broke after
// it was sent (it may have committed), a *RetryableError when it did not
// commit and a retry may cure it (the server went away, a lock timeout).
func (i *Interface) autocommitError(op string, err error) error {
	return typedError(i.dialect, op, err, true, false, fmt.Errorf("dbiface: %s: %w", op, err))
}

// InsertEvents writes events as Prefect's write_events does (see
// dialects.IngestQueries.InsertEvents): events whose id is already stored
// are skipped, and only the inserted events' resources are written, so the
// same events sent twice, or by concurrent writers, have their resources
// written once. Outside a transaction it runs in one of its own.
//
// It writes with its own SQL, not through the Ent client: Ent hooks and
// interceptors added to the client do not run for it. Its values are checked
// as prefectdb's own schema hooks check Ent's writes: a value the two
// databases would not store alike is refused with a
// *types.InvalidValueError naming the row and field, before anything of the
// call is written (CopyLogs: before anything of that batch).
func (s *Session) InsertEvents(ctx context.Context, events []dialects.EventRow) (dialects.EventsWritten, error) {
	if len(events) == 0 {
		return dialects.EventsWritten{}, nil
	}
	if err := validateEvents(events); err != nil {
		return dialects.EventsWritten{}, fmt.Errorf("dbiface: insert events: %w", err)
	}
	return s.insertEvents(ctx, events)
}

// insertEvents is InsertEvents for events already validated.
func (s *Session) insertEvents(ctx context.Context, events []dialects.EventRow) (dialects.EventsWritten, error) {
	q := s.iface.dialect
	if g := s.iface.writeGroupFor(ctx); g != nil && !s.InTransaction() {
		// With the other writes waiting for the one writer, in one
		// transaction and one commit (see writeGroup).
		var w dialects.EventsWritten
		err := g.submit(ctx, func(ctx context.Context, tx dialects.Querier) error {
			var err error
			w, err = q.InsertEvents(ctx, tx, events)
			return err
		})
		if err != nil {
			return dialects.EventsWritten{}, typedError(q, "insert events", err, true, true, fmt.Errorf("dbiface: insert events: %w", err))
		}
		return w, nil
	}
	if !s.InTransaction() {
		var w dialects.EventsWritten
		err := s.iface.Transaction(ctx, NoLocks, func(ctx context.Context, s *Session) error {
			var err error
			w, err = s.insertEvents(ctx, events)
			return err
		})
		return w, err
	}
	w, err := q.InsertEvents(ctx, s.Client, events)
	if err != nil {
		return dialects.EventsWritten{}, fmt.Errorf("dbiface: insert events: %w", err)
	}
	return w, nil
}

// InsertLogs is Session.InsertLogs outside any caller's transaction. Where
// the dialect groups writes (SQLite), concurrent calls share one
// transaction and one commit, each batch in its own savepoint: a batch is
// stored whole or not at all, and its error is its own (see
// Interface.SetFlowRunState).
//
// It writes with its own SQL, not through the Ent client: Ent hooks and
// interceptors added to the client do not run for it. Its values are checked
// as prefectdb's own schema hooks check Ent's writes: a value the two
// databases would not store alike is refused with a
// *types.InvalidValueError naming the row and field, before anything of the
// call is written (CopyLogs: before anything of that batch).
func (i *Interface) InsertLogs(ctx context.Context, rows []dialects.LogRow) error {
	return (&Session{Client: i.Client, iface: i}).InsertLogs(ctx, rows)
}

// InsertEvents is Session.InsertEvents in a transaction of its own, or,
// where the dialect groups writes (SQLite), in a savepoint of its own within
// a transaction shared with concurrent calls (see Interface.SetFlowRunState).
//
// It writes with its own SQL, not through the Ent client: Ent hooks and
// interceptors added to the client do not run for it. Its values are checked
// as prefectdb's own schema hooks check Ent's writes: a value the two
// databases would not store alike is refused with a
// *types.InvalidValueError naming the row and field, before anything of the
// call is written (CopyLogs: before anything of that batch).
func (i *Interface) InsertEvents(ctx context.Context, events []dialects.EventRow) (dialects.EventsWritten, error) {
	return (&Session{Client: i.Client, iface: i}).InsertEvents(ctx, events)
}

// CopyLogs streams log rows into the log table until batches is closed or
// ctx ends, and returns the number of rows written. On PostgreSQL it uses
// COPY … FROM STDIN in the binary format on one connection of the pool
// (dialects.LogCopier); elsewhere it falls back to InsertLogs, so the same
// call works on every database. Either way each transaction takes batches
// until it holds dialects.RowsPerCopy rows or no batch is waiting, and on
// error the rows of earlier transactions stay committed. COPY streams the
// rows (memory: the channel's capacity plus one batch); the fallback holds
// one transaction's rows and one more batch. Several writers may share one
// channel. CopyLogs commits as it goes, so it is an Interface method and not
// part of a Session's transaction.
//
// It writes with its own SQL, not through the Ent client: Ent hooks and
// interceptors added to the client do not run for it. Its values are checked
// as prefectdb's own schema hooks check Ent's writes: a value the two
// databases would not store alike is refused with a
// *types.InvalidValueError naming the row and field, before anything of the
// call is written (CopyLogs: before anything of that batch).
func (i *Interface) CopyLogs(ctx context.Context, batches <-chan []dialects.LogRow) (int64, error) {
	// Every batch is checked on its way in; an invalid one ends the input
	// there, so the batches before it are written and committed as if the
	// channel had been closed, and its error is returned.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	valid, invalid := validatedBatches(ctx, batches)
	n, err := i.copyLogs(ctx, valid)
	cancel()
	select {
	case verr := <-invalid:
		return n, fmt.Errorf("dbiface: copy logs: %w", verr)
	default:
	}
	var retryable *RetryableError
	var unknown *OutcomeUnknownError
	if err != nil && !errors.As(err, &retryable) && !errors.As(err, &unknown) {
		return n, fmt.Errorf("dbiface: copy logs: %w", err)
	}
	return n, err
}

// copyLogs is CopyLogs for batches already validated.
func (i *Interface) copyLogs(ctx context.Context, batches <-chan []dialects.LogRow) (int64, error) {
	if c, ok := i.dialect.(dialects.LogCopier); ok {
		n, err := c.CopyLogs(ctx, i.db, batches)
		if err != nil {
			// Each group of batches is one COPY in a transaction of its
			// own: the one that failed may have committed only if its
			// COMMIT was sent.
			return n, i.autocommitError("copy logs", err)
		}
		return n, nil
	}
	var total int64
	g := &logGrouper{batches: batches}
	for {
		group, err := g.next(ctx)
		if err != nil {
			return total, err
		}
		if group == nil {
			// The channel is closed, and CopyLogs's relay also closes it
			// when ctx ends: report that end, as the COPY path does.
			return total, ctx.Err()
		}
		if err := i.Transaction(ctx, NoLocks, func(ctx context.Context, s *Session) error {
			return s.insertLogs(ctx, group)
		}); err != nil {
			return total, err
		}
		total += int64(len(group))
	}
}

// logGrouper groups the batches of a channel for CopyLogs's fallback.
type logGrouper struct {
	batches <-chan []dialects.LogRow
	pending []dialects.LogRow // a batch that did not fit the previous group
	closed  bool
}

// next waits for a batch, then takes further batches without waiting while
// they fit in dialects.RowsPerCopy rows and one is ready. It returns nil
// once the channel is closed and drained, and ctx's error if ctx ends while
// it waits.
func (g *logGrouper) next(ctx context.Context) ([]dialects.LogRow, error) {
	group := g.pending
	g.pending = nil
	for len(group) == 0 {
		if g.closed {
			return nil, nil
		}
		select {
		case b, ok := <-g.batches:
			if !ok {
				g.closed = true
			}
			group = b
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	owned := false
	for !g.closed && len(group) < dialects.RowsPerCopy {
		select {
		case b, ok := <-g.batches:
			switch {
			case !ok:
				g.closed = true
			case len(group)+len(b) > dialects.RowsPerCopy:
				g.pending = b
				return group, nil
			default:
				if !owned {
					group = append(make([]dialects.LogRow, 0, dialects.RowsPerCopy), group...)
					owned = true
				}
				group = append(group, b...)
			}
		default:
			return group, nil
		}
	}
	return group, nil
}
