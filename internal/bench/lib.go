package bench

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/event"
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

// Schedule implements Target.
func (t *libTarget) Schedule(ctx context.Context, runs []dialects.ScheduledFlowRunInsert) (int, error) {
	var n int
	err := t.db.Transaction(ctx, false, func(ctx context.Context, s *dbiface.Session) error {
		ids, err := s.InsertScheduledFlowRuns(ctx, runs)
		n = len(ids)
		return err
	})
	return n, err
}

// Poll implements Target.
func (t *libTarget) Poll(ctx context.Context) (int, error) {
	var n int
	err := t.db.Transaction(ctx, true, func(ctx context.Context, s *dbiface.Session) error {
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

// InsertLogs implements Target.
func (t *libTarget) InsertLogs(ctx context.Context, rows []LogRow) error {
	return t.db.Transaction(ctx, false, func(ctx context.Context, s *dbiface.Session) error {
		builders := make([]*ent.LogEntryCreate, len(rows))
		for k := range rows {
			r := &rows[k]
			builders[k] = s.LogEntry.Create().SetID(r.ID).SetName(r.Name).SetLevel(r.Level).
				SetFlowRunID(r.FlowRunID).SetNillableTaskRunID(r.TaskRunID).SetMessage(r.Message).SetTimestamp(r.Timestamp)
		}
		return s.LogEntry.CreateBulk(builders...).Exec(ctx)
	})
}

// InsertEvents writes events as Prefect's write_events does, through Ent:
// events that exist already are skipped and only the new ones' resources are
// written. Ent's bulk insert cannot report which rows ON CONFLICT DO NOTHING
// skipped, so the existing ids are read first, in the same transaction.
func (t *libTarget) InsertEvents(ctx context.Context, rows []EventRow) (int, error) {
	n := 0
	err := t.db.Transaction(ctx, false, func(ctx context.Context, s *dbiface.Session) error {
		ids := make([]uuid.UUID, len(rows))
		for k := range rows {
			ids[k] = rows[k].ID
		}
		existing, err := s.Event.Query().Where(event.IDIn(ids...)).IDs(ctx)
		if err != nil {
			return err
		}
		skip := make(map[uuid.UUID]bool, len(existing))
		for _, id := range existing {
			skip[id] = true
		}
		var events []*ent.EventCreate
		var resources []*ent.EventResourceCreate
		for k := range rows {
			e := &rows[k]
			if skip[e.ID] {
				continue
			}
			events = append(events, s.Event.Create().SetID(e.ID).SetOccurred(e.Occurred).SetEvent(e.Event).
				SetResourceID(e.ResourceID).SetResource(e.Resource).SetRelatedResourceIds(e.RelatedResourceIDs).
				SetRelated(e.Related).SetPayload(e.Payload).SetReceived(e.Received).SetRecorded(e.Recorded))
			for _, r := range e.Resources {
				resources = append(resources, s.EventResource.Create().SetID(r.ID).SetOccurred(e.Occurred).
					SetResourceID(r.ResourceID).SetResourceRole(r.Role).SetResource(r.Resource).SetEventID(e.ID))
			}
		}
		if len(events) == 0 {
			return nil
		}
		if err := s.Event.CreateBulk(events...).OnConflict().DoNothing().Exec(ctx); err != nil {
			return err
		}
		if err := s.EventResource.CreateBulk(resources...).Exec(ctx); err != nil {
			return err
		}
		n = len(events) + len(resources)
		return nil
	})
	return n, err
}

// CopyLogs implements Target.
func (t *libTarget) CopyLogs(ctx context.Context, batches <-chan []LogRow) (int64, error) {
	if t.db.Dialect().Kind() != dialects.Postgres {
		return 0, errNoCopy
	}
	return CopyLogs(ctx, t.db, batches)
}
