package dbiface_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/event"
	"github.com/prefectdb/prefectdb/ent/eventresource"
	"github.com/prefectdb/prefectdb/ent/logentry"
	"github.com/prefectdb/prefectdb/internal/testutil"
)

// ingestTime is a time with nanoseconds and a zone, so that the ingest path
// has to truncate and convert it exactly as Ent's path does.
func ingestTime(k int) time.Time {
	return time.Date(2024, 5, 6, 7, 8, 9, 123456789+k*1001, time.FixedZone("X", 5*3600+1800))
}

// ingestLogs returns n log rows with messages prefix-k and every column
// kind: NULL and non-NULL run ids, unicode, quotes.
func ingestLogs(prefix string, n int, run uuid.UUID) []dialects.LogRow {
	rows := make([]dialects.LogRow, n)
	for k := range rows {
		rows[k] = dialects.LogRow{ID: uuid.New(), Name: "prefect.flow_runs", Level: int16(10 * (k%5 + 1)),
			Message: fmt.Sprintf("%s-%d: it's \"done\" ✓ <&>", prefix, k), Timestamp: ingestTime(k)}
		if k%2 == 0 {
			rows[k].FlowRunID = &run
		}
		if k%3 == 0 {
			task := uuid.New()
			rows[k].TaskRunID = &task
		}
	}
	return rows
}

// ingestEvents returns n events with their resources, named prefix-k.
func ingestEvents(prefix string, n int) []dialects.EventRow {
	rows := make([]dialects.EventRow, n)
	for k := range rows {
		at := ingestTime(k)
		res := map[string]any{"prefect.resource.id": fmt.Sprintf("%s.run.%d", prefix, k), "name": "α <b>&</b>", "n": 1.5, "list": []any{1.0, "x", nil}}
		rel := []map[string]any{{"prefect.resource.id": prefix + ".flow", "prefect.resource.role": "flow"}}
		e := dialects.EventRow{ID: uuid.New(), Occurred: at, Received: at.Add(time.Millisecond), Recorded: at.Add(2 * time.Millisecond),
			Event: fmt.Sprintf("%s-%d", prefix, k), ResourceID: res["prefect.resource.id"].(string), Resource: res,
			RelatedResourceIDs: []string{prefix + ".flow"}, Related: rel,
			Payload: map[string]any{"intended": map[string]any{"from": "RUNNING", "to": "COMPLETED"}, "k": float64(k)},
			Resources: []dialects.EventResourceRow{
				{ID: uuid.New(), ResourceID: res["prefect.resource.id"].(string), Role: "", Resource: res},
				{ID: uuid.New(), ResourceID: prefix + ".flow", Role: "flow", Resource: rel[0]},
			}}
		switch k % 3 {
		case 1: // nil related lists are stored as [], as Ent's defaults
			e.RelatedResourceIDs, e.Related, e.Resources = nil, nil, e.Resources[:1]
		case 2: // follows the previous event
			f := rows[k-1].ID
			e.Follows = &f
		}
		rows[k] = e
	}
	return rows
}

// entLog writes a log row through Ent's Create.
func entLog(ctx context.Context, c *ent.Client, r dialects.LogRow) error {
	return c.LogEntry.Create().SetID(r.ID).SetName(r.Name).SetLevel(r.Level).SetNillableFlowRunID(r.FlowRunID).
		SetNillableTaskRunID(r.TaskRunID).SetMessage(r.Message).SetTimestamp(r.Timestamp).Exec(ctx)
}

// entEvent writes an event and its resources through Ent's Create.
func entEvent(ctx context.Context, c *ent.Client, e dialects.EventRow) error {
	b := c.Event.Create().SetID(e.ID).SetOccurred(e.Occurred).SetEvent(e.Event).SetResourceID(e.ResourceID).
		SetResource(e.Resource).SetPayload(e.Payload).SetReceived(e.Received).SetRecorded(e.Recorded).
		SetNillableFollows(e.Follows)
	if e.RelatedResourceIDs != nil {
		b.SetRelatedResourceIds(e.RelatedResourceIDs)
	}
	if e.Related != nil {
		b.SetRelated(e.Related)
	}
	if err := b.Exec(ctx); err != nil {
		return err
	}
	for _, r := range e.Resources {
		if err := c.EventResource.Create().SetID(r.ID).SetOccurred(e.Occurred).SetResourceID(r.ResourceID).
			SetResourceRole(r.Role).SetResource(r.Resource).SetEventID(e.ID).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// withNewIDs returns a copy of events with new event and resource ids and
// the given name prefix on Event (so the two paths' rows can be paired).
func withNewIDs(events []dialects.EventRow, prefix string) []dialects.EventRow {
	out := make([]dialects.EventRow, len(events))
	for k, e := range events {
		e.ID = uuid.New()
		e.Event = prefix + e.Event
		// Ent's follows edge is a bidirectional one-to-one edge (it also
		// points the followed event back) and needs the followed event to
		// exist; Prefect's column is a plain id. The ingest path writes the
		// column as given, which the test checks against its input.
		e.Follows = nil
		e.Resources = append([]dialects.EventResourceRow(nil), e.Resources...)
		for j := range e.Resources {
			e.Resources[j].ID = uuid.New()
		}
		out[k] = e
	}
	return out
}

// checkFresh checks created and updated of an ingested row: UTC, whole
// microseconds, between before and after.
func checkFresh(t *testing.T, what string, created, updated, before, after time.Time) {
	t.Helper()
	for _, ts := range []time.Time{created, updated} {
		if ts.Location() != time.UTC || ts.Nanosecond()%1000 != 0 || ts.Before(before) || ts.After(after) {
			t.Errorf("%s: created/updated %v not a UTC microsecond time in [%v, %v]", what, ts, before, after)
		}
	}
}

// TestIngestStoresWhatEntStores writes the same logs and events through the
// ingest path and through Ent's Create, reads both back through the Ent
// client and compares them field by field, then compares the stored column
// text of both.
func TestIngestStoresWhatEntStores(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		run := uuid.New()
		before := time.Now().UTC().Truncate(time.Microsecond)

		logs := ingestLogs("log", 30, run)
		if err := db.InsertLogs(ctx, logs); err != nil {
			t.Fatal(err)
		}
		entLogs := make([]dialects.LogRow, len(logs))
		for k, r := range logs {
			r.ID = uuid.New()
			entLogs[k] = r
			if err := entLog(ctx, db.Client, r); err != nil {
				t.Fatal(err)
			}
		}
		events := ingestEvents("ev", 12)
		w, err := db.InsertEvents(ctx, events)
		if err != nil {
			t.Fatal(err)
		}
		if len(w.IDs) != len(events) || w.Resources != countResources(events) {
			t.Fatalf("InsertEvents wrote %d events and %d resources, want %d and %d", len(w.IDs), w.Resources, len(events), countResources(events))
		}
		entEvents := withNewIDs(events, "ent:")
		for _, e := range entEvents {
			if err := entEvent(ctx, db.Client, e); err != nil {
				t.Fatal(err)
			}
		}
		after := time.Now().UTC()

		for k := range logs {
			got, err := db.LogEntry.Get(ctx, logs[k].ID)
			if err != nil {
				t.Fatal(err)
			}
			want, err := db.LogEntry.Get(ctx, entLogs[k].ID)
			if err != nil {
				t.Fatal(err)
			}
			checkFresh(t, "log", got.Created, got.Updated, before, after)
			if !reflect.DeepEqual(got.Name, want.Name) || got.Level != want.Level || !reflect.DeepEqual(got.FlowRunID, want.FlowRunID) ||
				!reflect.DeepEqual(got.TaskRunID, want.TaskRunID) || got.Message != want.Message || !got.Timestamp.Equal(want.Timestamp) ||
				got.Timestamp.Location() != want.Timestamp.Location() {
				t.Errorf("log %d: ingest %+v, Ent %+v", k, got, want)
			}
		}
		for k := range events {
			got, err := db.Event.Get(ctx, events[k].ID)
			if err != nil {
				t.Fatal(err)
			}
			want, err := db.Event.Get(ctx, entEvents[k].ID)
			if err != nil {
				t.Fatal(err)
			}
			checkFresh(t, "event", got.Created, got.Updated, before, after)
			if !reflect.DeepEqual(got.Follows, events[k].Follows) {
				t.Errorf("event %d: follows %v, want %v", k, got.Follows, events[k].Follows)
			}
			want.ID, want.Created, want.Updated, want.Event, want.Follows = got.ID, got.Created, got.Updated, got.Event, got.Follows
			if !reflect.DeepEqual(got.String(), want.String()) || !reflect.DeepEqual(got.Resource, want.Resource) ||
				!reflect.DeepEqual(got.Related, want.Related) || !reflect.DeepEqual(got.Payload, want.Payload) ||
				!reflect.DeepEqual(got.RelatedResourceIds, want.RelatedResourceIds) {
				t.Errorf("event %d:\ningest %v\nEnt    %v", k, got, want)
			}
			gotRes, err := db.EventResource.Query().Where(eventresource.EventID(events[k].ID)).Order(eventresource.ByResourceRole()).All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wantRes, err := db.EventResource.Query().Where(eventresource.EventID(entEvents[k].ID)).Order(eventresource.ByResourceRole()).All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(gotRes) != len(events[k].Resources) || len(wantRes) != len(gotRes) {
				t.Fatalf("event %d: %d resources ingested, %d through Ent, want %d", k, len(gotRes), len(wantRes), len(events[k].Resources))
			}
			for j := range gotRes {
				g, w := gotRes[j], wantRes[j]
				checkFresh(t, "event resource", g.Created, g.Updated, before, after)
				if g.ResourceID != w.ResourceID || g.ResourceRole != w.ResourceRole || !g.Occurred.Equal(w.Occurred) ||
					g.Occurred.Location() != w.Occurred.Location() || !reflect.DeepEqual(g.Resource, w.Resource) {
					t.Errorf("event %d resource %d: ingest %v, Ent %v", k, j, g, w)
				}
			}
		}

		// The stored text of every column but id, created, updated (and
		// the paired names), pairwise.
		compareStored(t, ctx, db, "log", []string{"name", "level", "flow_run_id", "task_run_id", "timestamp"}, "message", nil)
		compareStored(t, ctx, db, "events", []string{"occurred", "resource_id", "resource", "related_resource_ids", "related",
			"payload", "received", "recorded"}, "event", func(key string) string { return strings.TrimPrefix(key, "ent:") })
		compareStored(t, ctx, db, "event_resources", []string{"occurred", "resource_id", "resource_role", "resource"},
			"resource_id || '/' || resource_role || '/' || CAST(occurred AS TEXT)", nil)
	})
}

// compareStored reads the given columns of table as text (and, on SQLite,
// their storage classes) and checks that the rows group into identical
// pairs by key (normalised by norm): one written by the ingest path, one by
// Ent.
func compareStored(t *testing.T, ctx context.Context, db *dbiface.Interface, table string, cols []string, key string, norm func(string) string) {
	t.Helper()
	exprs := make([]string, 0, 2*len(cols))
	for _, c := range cols {
		exprs = append(exprs, "COALESCE(CAST("+c+" AS TEXT), 'NULL')")
		if db.Dialect().Kind() == config.SQLite {
			exprs = append(exprs, "typeof("+c+")")
		}
	}
	rows, err := db.Engine().QueryContext(ctx, "SELECT "+key+", "+strings.Join(exprs, " || '|' || ")+" FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	groups := map[string][]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		if norm != nil {
			k = norm(k)
		}
		groups[k] = append(groups[k], v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(groups) == 0 {
		t.Fatalf("%s: no rows", table)
	}
	for k, vs := range groups {
		if len(vs)%2 != 0 {
			t.Errorf("%s %q: %d rows, want pairs", table, k, len(vs))
			continue
		}
		sort.Strings(vs)
		for j := 0; j < len(vs); j += 2 {
			if vs[j] != vs[j+1] {
				t.Errorf("%s %q: stored differently:\n%s\n%s", table, k, vs[j], vs[j+1])
			}
		}
	}
}

func countResources(events []dialects.EventRow) int {
	n := 0
	for _, e := range events {
		n += len(e.Resources)
	}
	return n
}

// resourceCounts returns the number of event_resources rows per event id.
func resourceCounts(t *testing.T, ctx context.Context, db *dbiface.Interface) map[uuid.UUID]int {
	t.Helper()
	var rows []struct {
		EventID uuid.UUID `json:"event_id"`
		Count   int       `json:"count"`
	}
	if err := db.EventResource.Query().GroupBy(eventresource.FieldEventID).Aggregate(ent.Count()).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	out := make(map[uuid.UUID]int, len(rows))
	for _, r := range rows {
		out[r.EventID] = r.Count
	}
	return out
}

// TestInsertEventsIsIdempotent: the same events twice write nothing the
// second time; concurrent writers of overlapping batches write each event
// once and its resources exactly once, and together report every event once.
func TestInsertEventsIsIdempotent(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		events := ingestEvents("idem", 20)
		w, err := db.InsertEvents(ctx, events)
		if err != nil || len(w.IDs) != 20 || w.Resources != countResources(events) {
			t.Fatalf("first write: %+v, %v", w, err)
		}
		w, err = db.InsertEvents(ctx, events)
		if err != nil || len(w.IDs) != 0 || w.Resources != 0 {
			t.Fatalf("second write: %d events, %d resources, %v; want none", len(w.IDs), w.Resources, err)
		}
		// A batch mixing old and new events writes only the new ones.
		more := append(ingestEvents("idem2", 5), events[:5]...)
		w, err = db.InsertEvents(ctx, more)
		if err != nil || len(w.IDs) != 5 || w.Resources != countResources(more[:5]) {
			t.Fatalf("mixed write: %d events, %d resources, %v", len(w.IDs), w.Resources, err)
		}

		// Concurrent writers, overlapping batches in different orders.
		pool := ingestEvents("conc", 120)
		const writers = 6
		var mu sync.Mutex
		reported := map[uuid.UUID]int{}
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for g := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := range 5 {
					start := (g*17 + round*29) % len(pool)
					var batch []dialects.EventRow
					for k := range 50 {
						batch = append(batch, pool[(start+k*(1+g%3))%len(pool)])
					}
					var w dialects.EventsWritten
					err := db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
						var err error
						w, err = s.InsertEvents(ctx, batch)
						return err
					})
					if err != nil {
						errs[g] = err
						return
					}
					mu.Lock()
					for _, id := range w.IDs {
						reported[id]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		counts := resourceCounts(t, ctx, db)
		for _, e := range pool {
			n, err := db.Event.Query().Where(event.ID(e.ID)).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			stored := n == 1
			if stored != (reported[e.ID] == 1) || reported[e.ID] > 1 {
				t.Errorf("event %s: stored %v, reported inserted %d times", e.ID, stored, reported[e.ID])
			}
			if stored && counts[e.ID] != len(e.Resources) {
				t.Errorf("event %s: %d resources stored, want %d", e.ID, counts[e.ID], len(e.Resources))
			}
		}
		for _, e := range events {
			if counts[e.ID] != len(e.Resources) {
				t.Errorf("event %s: %d resources stored, want %d", e.ID, counts[e.ID], len(e.Resources))
			}
		}
	})
}

// TestIngestBadInput: empty batches are no-ops; batches larger than one
// statement may carry (SQLite's 32766 variables) are split; repeated and
// zero ids are handled.
func TestIngestBadInput(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		if err := db.InsertLogs(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if w, err := db.InsertEvents(ctx, []dialects.EventRow{}); err != nil || len(w.IDs) != 0 || w.Resources != 0 {
			t.Fatalf("empty events: %+v, %v", w, err)
		}
		closed := make(chan []dialects.LogRow)
		close(closed)
		if n, err := db.CopyLogs(ctx, closed); err != nil || n != 0 {
			t.Fatalf("CopyLogs of nothing: %d, %v", n, err)
		}

		run := uuid.New()
		big := ingestLogs("big", 9500, run) // > 32766/9 rows and > LogRowsPerStatement
		big[7].ID = uuid.Nil                // a new id
		if err := db.InsertLogs(ctx, big); err != nil {
			t.Fatal(err)
		}
		if n, err := db.LogEntry.Query().Count(ctx); err != nil || n != len(big) {
			t.Fatalf("%d log rows stored, want %d (%v)", n, len(big), err)
		}
		err := db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
			return s.InsertLogs(ctx, ingestLogs("tx", 5000, run))
		})
		if err != nil {
			t.Fatal(err)
		}

		events := ingestEvents("bigev", 3300) // > 32766/13 events; > 32766/8 resources
		events = append(events, events[10], events[20])
		events[0].ID = uuid.Nil
		w, err := db.InsertEvents(ctx, events)
		if err != nil {
			t.Fatal(err)
		}
		if len(w.IDs) != 3300 || w.Resources != countResources(events[:3300]) {
			t.Fatalf("wrote %d events and %d resources, want 3300 and %d", len(w.IDs), w.Resources, countResources(events[:3300]))
		}
		if n, err := db.Event.Query().Count(ctx); err != nil || n != 3300 {
			t.Fatalf("%d events stored (%v)", n, err)
		}
		if n, err := db.EventResource.Query().Count(ctx); err != nil || n != w.Resources {
			t.Fatalf("%d event resources stored, want %d (%v)", n, w.Resources, err)
		}
		if events[0].ID != uuid.Nil {
			t.Fatal("InsertEvents modified its input")
		}

		// A failing batch in a transaction leaves nothing: a resource id
		// that exists already.
		bad := ingestEvents("bad", 3)
		bad[2].Resources[0].ID = events[5].Resources[0].ID
		if _, err := db.InsertEvents(ctx, bad); err == nil {
			t.Fatal("duplicate resource id accepted")
		}
		if n, err := db.Event.Query().Where(event.EventHasPrefix("bad-")).Count(ctx); err != nil || n != 0 {
			t.Fatalf("%d events of the failed batch stored (%v)", n, err)
		}
	})
}

// TestCopyLogs streams batches with CopyLogs (COPY on PostgreSQL, batched
// inserts elsewhere) from several writers and checks every row.
func TestCopyLogs(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		run := uuid.New()
		ch := make(chan []dialects.LogRow, 4)
		var all []dialects.LogRow
		for b := range 40 {
			all = append(all, ingestLogs(fmt.Sprintf("copy%d", b), 600, run)...)
		}
		go func() {
			defer close(ch)
			for k := 0; k < len(all); k += 600 {
				ch <- all[k : k+600]
			}
			ch <- nil // an empty batch is skipped
		}()
		var wg sync.WaitGroup
		ns, errs := make([]int64, 3), make([]error, 3)
		for w := range 3 {
			wg.Add(1)
			go func() { defer wg.Done(); ns[w], errs[w] = db.CopyLogs(ctx, ch) }()
		}
		wg.Wait()
		var total int64
		for w := range 3 {
			if errs[w] != nil {
				t.Fatal(errs[w])
			}
			total += ns[w]
		}
		if total != int64(len(all)) {
			t.Fatalf("copied %d rows, want %d", total, len(all))
		}
		for _, k := range []int{0, 1, 2, 3, 599, 600, len(all) - 1} {
			r := all[k]
			got, err := db.LogEntry.Query().Where(logentry.ID(r.ID)).Only(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != r.Name || got.Level != r.Level || !reflect.DeepEqual(got.FlowRunID, r.FlowRunID) ||
				!reflect.DeepEqual(got.TaskRunID, r.TaskRunID) || got.Message != r.Message ||
				!got.Timestamp.Equal(r.Timestamp.Truncate(time.Microsecond)) || got.Timestamp.Location() != time.UTC {
				t.Errorf("row %d: stored %+v, written %+v", k, got, r)
			}
		}
		if n, err := db.LogEntry.Query().Count(ctx); err != nil || n != len(all) {
			t.Fatalf("%d rows stored, want %d (%v)", n, len(all), err)
		}

		// A cancelled context stops a writer waiting for batches.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := db.CopyLogs(cctx, make(chan []dialects.LogRow)); err == nil {
			t.Fatal("CopyLogs with a cancelled context returned no error")
		}
	})
}
