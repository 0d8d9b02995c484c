package bench

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/types"
)

// errNoCopy is returned by CopyLogs of targets that have no COPY path.
var errNoCopy = errors.New("bench: COPY is not available on this database")

// libTarget does the work through prefectdb: dbiface transactions, its
// query components and the Ent client.
type libTarget struct {
	db      *dbiface.Interface
	fixture *Fixture
	poll    dialects.WorkPoolRunsQuery
}

// NewLibTarget returns the prefectdb side of the comparison on db, whose
// fixture is f.
func NewLibTarget(db *dbiface.Interface, f *Fixture) Target {
	limit := PollLimit
	return &libTarget{db: db, fixture: f, poll: dialects.WorkPoolRunsQuery{
		WorkPoolIDs: []uuid.UUID{f.WorkPoolID}, Limit: &limit, RespectQueuePriorities: true,
	}}
}

// Side implements Target.
func (t *libTarget) Side() Side { return Prefectdb }

// Close implements Target.
func (t *libTarget) Close() error { return t.db.Close() }

// Schedule implements Target: Interface.InsertScheduledFlowRuns, the batch
// all-or-nothing outside any caller's transaction (PostgreSQL: one
// autocommitted statement; SQLite: a savepoint of a grouped write).
func (t *libTarget) Schedule(ctx context.Context, runs []dialects.ScheduledFlowRunInsert) (int, error) {
	ids, err := t.db.InsertScheduledFlowRuns(ctx, runs)
	return len(ids), err
}

// Poll implements Target.
func (t *libTarget) Poll(ctx context.Context) (int, error) {
	var n int
	err := t.db.Transaction(ctx, dbiface.ForUpdate, func(ctx context.Context, s *dbiface.Session) error {
		runs, err := s.GetScheduledFlowRunsFromWorkPool(ctx, t.poll)
		n = len(runs)
		return err
	})
	return n, err
}

// Transition implements Target.
func (t *libTarget) Transition(ctx context.Context, runID uuid.UUID, to types.StateType, name string) error {
	_, err := t.db.SetFlowRunState(ctx, runID, dbiface.StateTransition{Type: to, Name: name})
	return err
}

// InsertLogs implements Target: dbiface's bulk insert, one statement.
func (t *libTarget) InsertLogs(ctx context.Context, rows []LogRow) error {
	return t.db.InsertLogs(ctx, rows)
}

// InsertEvents writes events as Prefect's write_events does, with dbiface's
// InsertEvents: events that exist already are skipped (ON CONFLICT DO
// NOTHING RETURNING id) and only the inserted ones' resources are written,
// in one transaction.
func (t *libTarget) InsertEvents(ctx context.Context, rows []EventRow) (int, error) {
	w, err := t.db.InsertEvents(ctx, rows)
	if err != nil {
		return 0, err
	}
	return len(w.IDs) + w.Resources, nil
}

// CopyLogs implements Target: dbiface's CopyLogs (COPY on PostgreSQL).
func (t *libTarget) CopyLogs(ctx context.Context, batches <-chan []LogRow) (int64, error) {
	if _, ok := t.db.Dialect().(dialects.LogCopier); !ok {
		return 0, errNoCopy
	}
	return t.db.CopyLogs(ctx, batches)
}
