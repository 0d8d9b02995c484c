package dbiface_test

// Bad input through the database interface (issue 6, items 8 and 9), on
// both databases: hostile upsert keys and configuration keys, NaN and
// infinities in JSON (stored as null), ids that name nothing, naive
// timestamps, and the password of the database URL, which must not show
// when an Interface is printed or logged, nor in its errors.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/flow"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// biHostile are keys that must be stored and matched exactly as given.
var biHostile = []string{
	"'", "''", `"`, `\`, `\'`, "'; DROP TABLE flow; --", `"; DROP TABLE flow; --`, "x'); DELETE FROM flow; --",
	"' OR '1'='1", "a;b", "-- c", "/* c */", "$1", "?1", "%", "_", "$$", "NULL", `{"k":"v"}`, `"]`, "名前",
	"🚀", "\u2028", "e\u0301", "tab\there", "trailing ", "",
}

// biFlowCount fails the test unless the flow table is there with want rows.
func biFlowCount(t *testing.T, ctx context.Context, db *dbiface.Interface, want int) {
	t.Helper()
	var n int
	if err := db.Engine().QueryRowContext(ctx, "SELECT count(*) FROM flow").Scan(&n); err != nil || n != want {
		t.Fatalf("flow table: %d rows, %v; want %d", n, err, want)
	}
}

// TestBadInputUpsertKeys: Upsert's conflict look-up finds the row of a
// hostile key, and only that row: the first upsert inserts, the second
// (DoNothing or DoUpdate) returns the same id, for flows, saved searches,
// concurrency limits and flow runs (idempotency keys).
func TestBadInputUpsertKeys(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		for k, s := range biHostile {
			id, ins, err := db.Upsert(ctx, db.Flow.Create().SetName(s).SetTags([]string{s}), dbiface.DoNothing)
			if err != nil || !ins {
				t.Fatalf("upsert flow %q: %v, inserted %v", s, err, ins)
			}
			again, ins, err := db.Upsert(ctx, db.Flow.Create().SetName(s).SetTags([]string{"new"}), dbiface.DoNothing)
			if err != nil || ins || again != id {
				t.Fatalf("second upsert of flow %q: %v, inserted %v, same id %v", s, err, ins, again == id)
			}
			again, ins, err = db.Upsert(ctx, db.Flow.Create().SetName(s).SetTags([]string{s, "updated"}), dbiface.DoUpdate)
			if err != nil || ins || again != id {
				t.Fatalf("DoUpdate of flow %q: %v, inserted %v, same id %v", s, err, ins, again == id)
			}
			if f := db.Flow.GetX(ctx, id); f.Name != s || !slices.Equal(f.Tags, []string{s, "updated"}) {
				t.Fatalf("flow %q after DoUpdate: %+v", s, f)
			}
			biFlowCount(t, ctx, db, k+1)

			ss, ins, err := db.Upsert(ctx, db.SavedSearch.Create().SetName(s), dbiface.DoNothing)
			if err != nil || !ins {
				t.Fatalf("upsert saved search %q: %v, inserted %v", s, err, ins)
			}
			if again, ins, err := db.Upsert(ctx, db.SavedSearch.Create().SetName(s), dbiface.DoUpdate); err != nil || ins || again != ss {
				t.Fatalf("second upsert of saved search %q: %v, inserted %v, same id %v", s, err, ins, again == ss)
			}
			cl, ins, err := db.Upsert(ctx, db.ConcurrencyLimit.Create().SetTag(s).SetConcurrencyLimit(1), dbiface.DoNothing)
			if err != nil || !ins {
				t.Fatalf("upsert concurrency limit %q: %v, inserted %v", s, err, ins)
			}
			if again, ins, err := db.Upsert(ctx, db.ConcurrencyLimit.Create().SetTag(s).SetConcurrencyLimit(2), dbiface.DoUpdate); err != nil || ins || again != cl {
				t.Fatalf("second upsert of concurrency limit %q: %v, inserted %v, same id %v", s, err, ins, again == cl)
			}
			run, ins, err := db.Upsert(ctx, db.FlowRun.Create().SetName(s).SetFlowID(id).SetIdempotencyKey(s), dbiface.DoNothing)
			if err != nil || !ins {
				t.Fatalf("upsert flow run with key %q: %v, inserted %v", s, err, ins)
			}
			if again, ins, err := db.Upsert(ctx, db.FlowRun.Create().SetName("other").SetFlowID(id).SetIdempotencyKey(s), dbiface.DoNothing); err != nil || ins || again != run {
				t.Fatalf("second upsert of flow run with key %q: %v, inserted %v, same id %v", s, err, ins, again == run)
			}
		}
		for name, want := range map[string]int{
			"saved_search": len(biHostile), "concurrency_limit": len(biHostile), "flow_run": len(biHostile),
		} {
			var n int
			if err := db.Engine().QueryRowContext(ctx, "SELECT count(*) FROM "+name).Scan(&n); err != nil || n != want {
				t.Fatalf("%s: %d rows, %v; want %d", name, n, err, want)
			}
		}
		biFlowCount(t, ctx, db, len(biHostile))
	})
}

// TestBadInputSessionConfiguration: Session.ReadConfigurationValue with
// hostile keys returns each key's own value, and a miss for keys that do
// not exist.
func TestBadInputSessionConfiguration(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		for _, s := range biHostile {
			value := fmt.Sprintf("{%q: %q}", "key", s)
			if err := db.Configuration.Create().SetKey(s).SetValue([]byte(value)).Exec(ctx); err != nil {
				t.Fatalf("configuration %q: %v", s, err)
			}
		}
		err := db.SessionContext(ctx, dbiface.SessionOptions{}, func(ctx context.Context, s *dbiface.Session) error {
			for _, key := range biHostile {
				got, ok, err := s.ReadConfigurationValue(ctx, key)
				if err != nil || !ok || !strings.Contains(string(got), "key") {
					return fmt.Errorf("ReadConfigurationValue(%q) = %s, %v, %v", key, got, ok, err)
				}
				if _, ok, err := s.ReadConfigurationValue(ctx, key+"-missing"); err != nil || ok {
					return fmt.Errorf("ReadConfigurationValue(%q) = %v, %v; want a miss", key+"-missing", ok, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		biFlowCount(t, ctx, db, 0)
	})
}

// TestBadInputUpsertNonFiniteJSON: NaN and infinities in the JSON of an
// upserted row (inserted and updated) are stored as null, as Prefect does,
// and the caller's map is left as it was.
func TestBadInputUpsertNonFiniteJSON(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		f := db.Flow.Create().SetName("f").SaveX(ctx)
		params := map[string]any{
			"nan": math.NaN(), "inf": math.Inf(1), "list": []any{1.5, math.Inf(-1)},
			"nested": map[string]any{"x": math.NaN(), "ok": 2.0},
		}
		id, ins, err := db.Upsert(ctx, db.Deployment.Create().SetName("d").SetFlowID(f.ID).SetParameters(params), dbiface.DoNothing)
		if err != nil || !ins {
			t.Fatalf("upsert with NaN parameters: %v, inserted %v", err, ins)
		}
		want := map[string]any{"nan": nil, "inf": nil, "list": []any{1.5, nil}, "nested": map[string]any{"x": nil, "ok": 2.0}}
		if got := db.Deployment.GetX(ctx, id).Parameters; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("parameters stored as %v, want %v", got, want)
		}
		if !math.IsNaN(params["nan"].(float64)) || !math.IsNaN(params["nested"].(map[string]any)["x"].(float64)) {
			t.Fatal("Upsert modified the caller's map")
		}
		update := map[string]any{"nan": math.NaN(), "n": 3.0}
		again, ins, err := db.Upsert(ctx, db.Deployment.Create().SetName("d").SetFlowID(f.ID).SetParameters(update), dbiface.DoUpdate)
		if err != nil || ins || again != id {
			t.Fatalf("DoUpdate with NaN parameters: %v, inserted %v, same id %v", err, ins, again == id)
		}
		if got := db.Deployment.GetX(ctx, id).Parameters; fmt.Sprint(got) != fmt.Sprint(map[string]any{"nan": nil, "n": 3.0}) {
			t.Fatalf("parameters updated to %v", got)
		}
		biFlowCount(t, ctx, db, 1)
	})
}

// TestBadInputWrongUUIDs: a state transition or graph for a flow run that
// does not exist (the nil UUID, a random id) fails at once with a not-found
// error that names the id, is not retried, and writes nothing.
func TestBadInputWrongUUIDs(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		db.Flow.Create().SetName("f").ExecX(ctx)
		for _, id := range []uuid.UUID{uuid.Nil, uuid.New()} {
			start := time.Now()
			_, err := db.SetFlowRunState(ctx, id, dbiface.StateTransition{Type: types.StateRunning})
			if !ent.IsNotFound(err) || !strings.Contains(err.Error(), id.String()) || !strings.Contains(err.Error(), "not found") {
				t.Fatalf("SetFlowRunState(%s) = %v; want a not-found error naming the run", id, err)
			}
			var retry *dbiface.RetryableError
			if errors.As(err, &retry) || time.Since(start) > 5*time.Second {
				t.Fatalf("SetFlowRunState(%s) was retried: %v", id, err)
			}
			err = db.SessionContext(ctx, dbiface.SessionOptions{}, func(ctx context.Context, s *dbiface.Session) error {
				_, err := s.FlowRunGraph(ctx, dialects.GraphQuery{FlowRunID: id, MaxNodes: 10, MaxArtifacts: 10})
				return err
			})
			if !errors.Is(err, dialects.ErrFlowRunNotFound) || !strings.Contains(err.Error(), id.String()) {
				t.Fatalf("FlowRunGraph(%s) = %v; want ErrFlowRunNotFound naming the run", id, err)
			}
			err = db.Transaction(ctx, dbiface.ForUpdate, func(ctx context.Context, s *dbiface.Session) error {
				runs, err := s.GetScheduledFlowRunsFromWorkPool(ctx, dialects.WorkPoolRunsQuery{WorkPoolIDs: []uuid.UUID{id}})
				if err == nil && len(runs) != 0 {
					err = fmt.Errorf("%d runs from a pool that does not exist", len(runs))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := db.FlowRunState.Query().CountX(ctx); n != 0 {
			t.Fatalf("%d states written by failed transitions", n)
		}
		biFlowCount(t, ctx, db, 1)
	})
}

// TestBadInputNaiveTimestamps: a timestamp without a zone is refused by
// ParseTimestamp with ErrNaiveTimestamp (Prefect: "Timestamps must have a
// timezone"); zoned text and a time.Time in any zone are stored as the same
// instant and read back in UTC on both databases.
func TestBadInputNaiveTimestamps(t *testing.T) {
	for _, s := range []string{"2024-01-02 03:04:05", "2024-01-02T03:04:05.123456", "2024-01-02T03:04", "2024-01-02"} {
		_, err := types.ParseTimestamp(s)
		if !errors.Is(err, types.ErrNaiveTimestamp) || !strings.Contains(err.Error(), "time zone") || !strings.Contains(err.Error(), s) {
			t.Errorf("ParseTimestamp(%q) = %v; want ErrNaiveTimestamp quoting the text", s, err)
		}
	}
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		f := db.Flow.Create().SetName("f").SaveX(ctx)
		run := db.FlowRun.Create().SetName("r").SetFlow(f).SaveX(ctx)
		ts, err := types.ParseTimestamp("2024-01-02T05:04:05.1234567+02:00")
		if err != nil {
			t.Fatal(err)
		}
		st, err := db.SetFlowRunState(ctx, run.ID, dbiface.StateTransition{Type: types.StatePending, Timestamp: ts})
		if err != nil {
			t.Fatal(err)
		}
		want := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
		got := db.FlowRunState.GetX(ctx, st.ID).Timestamp
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("state timestamp read back as %v, want %v in UTC", got, want)
		}
		zone := time.FixedZone("UTC-9:30", -(9*3600 + 1800))
		local := want.Add(time.Hour).In(zone)
		st, err = db.SetFlowRunState(ctx, run.ID, dbiface.StateTransition{Type: types.StateRunning, Timestamp: local})
		if err != nil {
			t.Fatal(err)
		}
		if got := db.FlowRunState.GetX(ctx, st.ID).Timestamp; !got.Equal(local) || got.Location() != time.UTC {
			t.Fatalf("state timestamp in a -09:30 zone read back as %v, want %v in UTC", got, local.UTC())
		}
		biFlowCount(t, ctx, db, 1)
	})
}

// TestInterfaceNeverPrintsPassword: an Interface (which keeps its URL),
// printed in any way or logged, and the errors of an unreachable database,
// never show the password of the URL it was opened with.
func TestInterfaceNeverPrintsPassword(t *testing.T) {
	const secret = "Hunter2-bi-s3cret"
	ctx := testutil.Context(t)
	r := dbiface.NewRegistry()
	t.Cleanup(func() { _ = r.CloseAll() })
	url := "postgresql+asyncpg://prefect:" + secret + "@127.0.0.1:1/prefect?password=" + secret
	db, err := r.Provide(ctx, dbiface.Config{URL: url, Options: config.Options{ConnectTimeout: time.Second}})
	if err != nil {
		t.Fatalf("open an interface (no server needed): %v", err)
	}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("database", "db", db)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("database", "db", db)
	outputs := map[string]string{
		"URL":         db.URL(),
		"%v":          fmt.Sprintf("%v", db),
		"%+v":         fmt.Sprintf("%+v", db),
		"%#v":         fmt.Sprintf("%#v", db),
		"slog (text)": text.String(),
		"slog (json)": js.String(),
	}
	if err := db.CreateDB(ctx); err == nil {
		t.Fatal("CreateDB on a closed port succeeded")
	} else {
		outputs["CreateDB error"] = err.Error()
	}
	if _, err := db.SetFlowRunState(ctx, uuid.New(), dbiface.StateTransition{Type: types.StateRunning}); err == nil {
		t.Fatal("SetFlowRunState on a closed port succeeded")
	} else {
		outputs["SetFlowRunState error"] = err.Error()
	}
	if _, err := db.Flow.Query().Where(flow.Name("x")).All(ctx); err == nil {
		t.Fatal("a query on a closed port succeeded")
	} else {
		outputs["query error"] = err.Error()
	}
	for what, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("%s shows the password: %s", what, out)
		}
	}
}

// TestBadInputBulkPaths: the write paths that bypass Ent (InsertLogs,
// CopyLogs, InsertEvents, SetFlowRunState) check values as the Ent hooks
// do, on both databases alike: a NUL byte, invalid UTF-8 or over-long
// indexed text is refused with an InvalidValueError naming the row and
// field, and nothing of the call is written.
func TestBadInputBulkPaths(t *testing.T) {
	forEach(t, func(t *testing.T, iface *dbiface.Interface) {
		ctx := testutil.Context(t)
		now := time.Now().UTC()
		long := strings.Repeat("x", types.MaxIndexedTextBytes+1)
		good := dialects.LogRow{Name: "bi", Level: 20, Message: "fine", Timestamp: now}
		for _, bad := range []struct {
			field string
			row   dialects.LogRow
		}{
			{"log[1].message", dialects.LogRow{Name: "bi", Level: 20, Message: "a\x00b", Timestamp: now}},
			{"log[1].name", dialects.LogRow{Name: "\xff", Level: 20, Message: "m", Timestamp: now}},
			{"log[1].timestamp", dialects.LogRow{Name: "bi", Level: 20, Message: "m", Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		} {
			err := iface.InsertLogs(ctx, []dialects.LogRow{good, bad.row})
			var invalid *types.InvalidValueError
			if !errors.As(err, &invalid) || invalid.Field != bad.field {
				t.Fatalf("InsertLogs with a bad %s: %v; want an InvalidValueError naming it", bad.field, err)
			}
			ch := make(chan []dialects.LogRow, 2)
			ch <- []dialects.LogRow{good}
			ch <- []dialects.LogRow{good, bad.row}
			close(ch)
			n, err := iface.CopyLogs(ctx, ch)
			if !errors.As(err, &invalid) || invalid.Field != bad.field {
				t.Fatalf("CopyLogs with a bad %s: %d rows, %v; want an InvalidValueError naming it", bad.field, n, err)
			}
		}
		// CopyLogs commits the batches before the invalid one, no more.
		var logs int
		if err := iface.Engine().QueryRowContext(ctx, "SELECT count(*) FROM log").Scan(&logs); err != nil || logs > 3 {
			t.Fatalf("log rows after refused writes: %d, %v; want at most the 3 valid batches CopyLogs took", logs, err)
		}
		for _, bad := range []struct {
			field string
			ev    dialects.EventRow
		}{
			{"event[0].event", dialects.EventRow{Event: long, ResourceID: "r", Occurred: now}},
			{"event[0].resource_id", dialects.EventRow{Event: "e", ResourceID: long, Occurred: now}},
			{"event[0].payload", dialects.EventRow{Event: "e", ResourceID: "r", Occurred: now, Payload: map[string]any{"k": "a\x00"}}},
			{"event[0].resources[0].resource_id", dialects.EventRow{Event: "e", ResourceID: "r", Occurred: now,
				Resources: []dialects.EventResourceRow{{ResourceID: long}}}},
		} {
			_, err := iface.InsertEvents(ctx, []dialects.EventRow{bad.ev})
			var invalid *types.InvalidValueError
			if !errors.As(err, &invalid) || invalid.Field != bad.field || strings.Contains(err.Error(), long) {
				t.Fatalf("InsertEvents with a bad %s: %v; want an InvalidValueError naming it, without the value", bad.field, err)
			}
		}
		var events int
		if err := iface.Engine().QueryRowContext(ctx, "SELECT count(*) FROM events").Scan(&events); err != nil || events != 0 {
			t.Fatalf("events after refused writes: %d, %v; want 0", events, err)
		}
		f := iface.Flow.Create().SetName("bi").SaveX(ctx)
		run := iface.FlowRun.Create().SetName("bi").SetFlow(f).SaveX(ctx)
		_, err := iface.SetFlowRunState(ctx, run.ID, dbiface.StateTransition{Type: types.StateRunning, Name: long})
		var invalid *types.InvalidValueError
		if !errors.As(err, &invalid) || invalid.Field != "state name" {
			t.Fatalf("SetFlowRunState with a %d-byte name: %v; want an InvalidValueError naming the state name", len(long), err)
		}
		if n := iface.FlowRunState.Query().CountX(ctx); n != 0 {
			t.Fatalf("states after a refused transition: %d, want 0", n)
		}
	})
}
