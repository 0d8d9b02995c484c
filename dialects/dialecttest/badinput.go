package dialecttest

// Bad input on both databases (issue 6, item 8): quotes, semicolons,
// comment markers, placeholders, SQL, JSON and array syntax and Unicode in
// every value the raw-SQL helpers take are stored and matched exactly as
// given, never read as SQL; oversize strings, NUL bytes, invalid UTF-8 and
// wrong UUIDs give the same clear outcome every time. After each hostile
// input the test checks that the tables are still there with the rows it
// expects.
//
// Findings recorded here (and in the report of issue 6):
//   - PostgreSQL refuses a value of an indexed text column (flow.name,
//     configuration.key, work_queue.name, ...) whose index entry is too big
//     for a B-tree: about 2.7 kB after compression (SQLSTATE 54000, "index
//     row size ... exceeds btree version 4 maximum 2704 for index ..."; for
//     very long values "index row requires N bytes, maximum size is 8191").
//     SQLite stores such values. Unindexed text (state messages, log
//     messages) of 1 MB is stored and read back intact on both.
//   - PostgreSQL text cannot hold NUL bytes or invalid UTF-8: bound values
//     are refused with SQLSTATE 22021 ("invalid byte sequence for encoding
//     "UTF8": 0x00"). SQLite stores both as given.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/configuration"
	"github.com/prefectdb/prefectdb/ent/flow"
	"github.com/prefectdb/prefectdb/ent/flowrun"
	"github.com/prefectdb/prefectdb/ent/flowrunstate"
	"github.com/prefectdb/prefectdb/ent/logentry"
	"github.com/prefectdb/prefectdb/ent/savedsearch"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// biHostile are values that both databases must store, compare and return
// exactly as given. They are all different, so each is unique where a
// column must be.
var biHostile = []string{
	"'", "''", `"`, "`", `\`, `\'`, `\\'`, "'; DROP TABLE flow; --", `"; DROP TABLE flow; --`,
	"x'); DELETE FROM flow; --", "' OR '1'='1", "a;b", "-- comment", "/* c */", "$1", "?1", "?", ":name",
	"@p", "%s", "%", "_", "a%b_c", "$$", "$q$'$q$", "E'\\x00'", "NULL", "null", "{a,b}", `{"k":"v"}`,
	`"]`, `["x"]`, "a,b", "名前", "🚀 rocket", "\u2028\u2029", "e\u0301", "\u202Ertl", "tab\there", "line\nbreak",
	"trailing space ", " leading space", "",
}

// biIntact fails the test unless the tables the hostile inputs went near
// are still there, flow with wantFlows rows.
func biIntact(t *testing.T, ctx context.Context, db *testutil.DB, wantFlows int) {
	t.Helper()
	for _, table := range []string{"flow", "flow_run", "flow_run_state", "configuration", "saved_search", "work_queue", "log"} {
		var n int
		if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("table %s is gone or unreadable after hostile input: %v", table, err)
		}
		if table == "flow" && n != wantFlows {
			t.Fatalf("flow has %d rows after hostile input, want %d", n, wantFlows)
		}
	}
}

// biPlaceholder returns the dialect's n-th placeholder.
func biPlaceholder(t *testing.T, db *testutil.DB, n int) string {
	t.Helper()
	q, ok := db.Dialect.(dialects.Queries)
	if !ok {
		t.Fatalf("%T does not implement dialects.Queries", db.Dialect)
	}
	return q.Placeholder(n)
}

// TestBadInputStoredAsGiven: hostile names, tags, keys, messages and JSON
// keys go through the Ent client and come back unchanged, and raw SQL with
// a bound parameter finds exactly the row with that value.
func testBadInputStoredAsGiven(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	c := db.Client
	for k, s := range biHostile {
		f, err := c.Flow.Create().SetName(s).SetTags([]string{s, "plain"}).Save(ctx)
		if err != nil {
			t.Fatalf("flow named %q: %v", s, err)
		}
		if err := c.SavedSearch.Create().SetName(s).SetFilters([]map[string]any{{s: s}}).Exec(ctx); err != nil {
			t.Fatalf("saved search named %q: %v", s, err)
		}
		if err := c.Configuration.Create().SetKey(s).SetValue(biJSON(t, map[string]any{"value": s})).Exec(ctx); err != nil {
			t.Fatalf("configuration key %q: %v", s, err)
		}
		run, err := c.FlowRun.Create().SetName(s).SetFlow(f).SetTags([]string{s}).
			SetParameters(map[string]any{s: s}).SetIdempotencyKey(s).Save(ctx)
		if err != nil {
			t.Fatalf("flow run named %q: %v", s, err)
		}
		if err := c.LogEntry.Create().SetName(s).SetLevel(20).SetMessage(s).SetTimestamp(time.Now()).
			SetFlowRun(run).Exec(ctx); err != nil {
			t.Fatalf("log named %q: %v", s, err)
		}
		biIntact(t, ctx, db, k+1)
	}

	for _, s := range biHostile {
		f, err := c.Flow.Query().Where(flow.Name(s)).Only(ctx)
		if err != nil || !slices.Equal(f.Tags, []string{s, "plain"}) {
			t.Fatalf("flow %q read back: %+v, %v", s, f, err)
		}
		ss, err := c.SavedSearch.Query().Where(savedsearch.Name(s)).Only(ctx)
		if err != nil || !reflect.DeepEqual(ss.Filters, []map[string]any{{s: s}}) {
			t.Fatalf("saved search %q read back: %+v, %v", s, ss, err)
		}
		cfg, err := c.Configuration.Query().Where(configuration.Key(s)).Only(ctx)
		var val map[string]any
		if err == nil {
			err = json.Unmarshal(cfg.Value, &val)
		}
		if err != nil || val["value"] != s {
			t.Fatalf("configuration %q read back: %s, %v", s, cfg.Value, err)
		}
		run, err := c.FlowRun.Query().Where(flowrun.Name(s)).Only(ctx)
		if err != nil || !slices.Equal(run.Tags, []string{s}) || run.Parameters[s] != s || *run.IdempotencyKey != s {
			t.Fatalf("flow run %q read back: %+v, %v", s, run, err)
		}
		lg, err := c.LogEntry.Query().Where(logentry.Name(s)).Only(ctx)
		if err != nil || lg.Message != s {
			t.Fatalf("log %q read back: %+v, %v", s, lg, err)
		}
		// Raw SQL with a bound value matches exactly one row: no
		// wildcard, case folding or trimming.
		for _, table := range []string{"flow", "saved_search", "flow_run", "log"} {
			var n int
			query := "SELECT count(*) FROM " + table + " WHERE name = " + biPlaceholder(t, db, 1)
			if err := db.SQL.QueryRowContext(ctx, query, s).Scan(&n); err != nil || n != 1 {
				t.Fatalf("%s with name %q: %d rows, %v; want 1", table, s, n, err)
			}
		}
	}
	biIntact(t, ctx, db, len(biHostile))
}

func biJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBadInputConfigurationKeys: ReadConfigurationValue finds each hostile
// key's own value, and a hostile key that does not exist is a miss, not an
// error, on both databases.
func testBadInputConfigurationKeys(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	for _, s := range biHostile {
		if err := db.Client.Configuration.Create().SetKey(s).SetValue(biJSON(t, map[string]any{"value": s})).Exec(ctx); err != nil {
			t.Fatalf("configuration key %q: %v", s, err)
		}
	}
	cache := dialects.NewConfigurationCache()
	for _, s := range biHostile {
		for round := range 2 { // from the database, then from the cache
			raw, ok, err := cache.ReadConfigurationValue(ctx, db.SQL, s)
			var val map[string]any
			if err == nil && ok {
				err = json.Unmarshal(raw, &val)
			}
			if err != nil || !ok || val["value"] != s {
				t.Fatalf("ReadConfigurationValue(%q) round %d = %s, %v, %v", s, round, raw, ok, err)
			}
		}
		missing := s + " (missing)"
		if raw, ok, err := cache.ReadConfigurationValue(ctx, db.SQL, missing); err != nil || ok || raw != nil {
			t.Fatalf("ReadConfigurationValue(%q) = %s, %v, %v; want a miss", missing, raw, ok, err)
		}
	}
	var n int
	if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM configuration").Scan(&n); err != nil || n != len(biHostile) {
		t.Fatalf("configuration has %d rows (%v), want %d", n, err, len(biHostile))
	}
	biIntact(t, ctx, db, 0)
}

// TestBadInputBuildJSONObject: a hostile key is rendered as a string
// literal that comes back as the JSON key, on both databases. On PostgreSQL
// this also holds with standard_conforming_strings off, where a backslash in
// a plain '...' literal is an escape character.
func testBadInputBuildJSONObject(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	qs := db.Dialect.(dialects.Queries)
	value := qs.Placeholder(1)
	if db.Dialect.Kind() == config.Postgres {
		value = "CAST(" + value + " AS text)"
	}
	check := func(t *testing.T, q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) {
		t.Helper()
		for _, key := range biHostile {
			query := "SELECT " + qs.BuildJSONObject(key, value, "fixed", "1")
			var got map[string]any
			if err := q.QueryRowContext(ctx, query, "v").Scan(dialects.JSONScanner(&got)); err != nil {
				t.Fatalf("BuildJSONObject(%q): %s: %v", key, query, err)
			}
			want := map[string]any{key: "v", "fixed": float64(1)}
			if key == "fixed" {
				want = map[string]any{key: float64(1)}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("BuildJSONObject(%q) = %#v, want %#v (%s)", key, got, want, query)
			}
		}
	}
	check(t, db.SQL)
	biIntact(t, ctx, db, 0)

	if db.Dialect.Kind() != config.Postgres {
		return
	}
	t.Run("standard_conforming_strings off", func(t *testing.T) {
		conn, err := db.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SET standard_conforming_strings = off"); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "RESET standard_conforming_strings")
		var scs string
		if err := conn.QueryRowContext(ctx, "SHOW standard_conforming_strings").Scan(&scs); err != nil || scs != "off" {
			t.Fatalf("standard_conforming_strings = %q, %v; want off", scs, err)
		}
		// New statement text, so that no statement prepared (and parsed)
		// while the setting was on is reused from pgx's cache.
		value = "CAST(" + qs.Placeholder(1) + " AS varchar)"
		check(t, conn)
		biIntact(t, ctx, db, 0)
	})
}

// biBlockDocument creates the block document a notification policy needs.
func biBlockDocument(t *testing.T, ctx context.Context, c *ent.Client) *ent.BlockDocument {
	t.Helper()
	bt, err := c.BlockType.Create().SetName("bi block").SetSlug("bi-block").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := c.BlockSchema.Create().SetChecksum("sha256:bi").SetBlockType(bt).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bd, err := c.BlockDocument.Create().SetName("bi-doc").SetBlockSchema(bs).SetBlockType(bt).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return bd
}

// biBeginWrite begins a write transaction as each database wants it for the
// notification queue and the bulk insert: a *sql.Tx on PostgreSQL, a
// connection in BEGIN IMMEDIATE on SQLite. end commits it (or rolls it back)
// and fails the test if that fails.
func biBeginWrite(t *testing.T, ctx context.Context, db *testutil.DB) (q dialects.Querier, end func(commit bool)) {
	t.Helper()
	if db.Dialect.Kind() == config.SQLite {
		conn, err := db.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			conn.Close()
			t.Fatal(err)
		}
		return conn, func(commit bool) {
			t.Helper()
			defer conn.Close()
			stmt := "ROLLBACK"
			if commit {
				stmt = "COMMIT"
			}
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	}
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tx, func(commit bool) {
		t.Helper()
		end := tx.Rollback
		if commit {
			end = tx.Commit
		}
		if err := end(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBadInputNotificationStateNamesAndTags: a policy matches a state name
// and a tag only when they are equal to one of its own, whatever characters
// they hold (JSON and array syntax, "NULL", wildcards), and the taken
// notification carries the hostile names back unchanged.
func testBadInputNotificationStateNamesAndTags(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	c := db.Client
	qs := db.Dialect.(dialects.Queries)
	bd := biBlockDocument(t, ctx, c)
	policies := map[string]uuid.UUID{}
	for _, s := range biHostile {
		p, err := c.FlowRunNotificationPolicy.Create().SetBlockDocument(bd).SetStateNames([]string{s}).
			SetTags([]string{s}).SetMessageTemplate(s).Save(ctx)
		if err != nil {
			t.Fatalf("policy for %q: %v", s, err)
		}
		policies[s] = p.ID
	}
	f := c.Flow.Create().SetName("bi-flow").SaveX(ctx)
	runs := map[uuid.UUID]string{} // run id -> the hostile string it was made with
	for _, s := range biHostile {
		run := c.FlowRun.Create().SetName(s).SetFlow(f).SetTags([]string{s}).SaveX(ctx)
		st := c.FlowRunState.Create().SetFlowRun(run).SetType(types.StateFailed).SetName(s).SetMessage(s).
			SetTimestamp(time.Now()).SaveX(ctx)
		runs[run.ID] = s
		// Neither a near miss of the name nor of the tags matches.
		for _, miss := range []struct {
			name string
			tags []string
		}{{s + "x", []string{s}}, {s, []string{s + "x"}}, {s, nil}} {
			n, err := qs.QueueFlowRunNotifications(ctx, db.SQL, dialects.RunEnteredState{FlowRunID: run.ID, StateID: st.ID, StateName: miss.name, Tags: miss.tags})
			if err != nil || n != 0 {
				t.Fatalf("QueueFlowRunNotifications(%q, %q) = %d, %v; want 0", miss.name, miss.tags, n, err)
			}
		}
		n, err := qs.QueueFlowRunNotifications(ctx, db.SQL, dialects.RunEnteredState{FlowRunID: run.ID, StateID: st.ID, StateName: s, Tags: []string{s, "other"}})
		if err != nil || n != 1 {
			t.Fatalf("QueueFlowRunNotifications(%q) = %d, %v; want 1", s, n, err)
		}
		biIntact(t, ctx, db, 1)
	}

	q, end := biBeginWrite(t, ctx, db)
	got, err := qs.GetFlowRunNotificationsFromQueue(ctx, q, 10*len(biHostile))
	end(err == nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(biHostile) {
		t.Fatalf("took %d notifications, want %d", len(got), len(biHostile))
	}
	seen := map[string]bool{}
	for _, n := range got {
		want := n.FlowRunStateName
		if !slices.Contains(biHostile, want) || seen[want] {
			t.Fatalf("notification for state name %q: not one of the hostile names, or twice", want)
		}
		seen[want] = true
		if runs[n.FlowRunID] != want || n.FlowRunName != want || n.FlowRunNotificationPolicyID != policies[want] ||
			n.FlowRunNotificationPolicyMessageTemplate == nil || *n.FlowRunNotificationPolicyMessageTemplate != want ||
			n.FlowRunStateMessage == nil || *n.FlowRunStateMessage != want {
			t.Fatalf("notification %+v does not carry %q throughout", n, want)
		}
	}
	biIntact(t, ctx, db, 1)
}

// TestBadInputLegacyWorkQueueNames: the legacy (agent) queue poll matches
// runs to queues by name, exactly: every hostile queue name gets its own
// run and no other, with no wildcard, case folding or trimming.
func testBadInputLegacyWorkQueueNames(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	c := db.Client
	sq, ok := db.Dialect.(dialects.SchedulingQueries)
	if !ok {
		t.Fatalf("%T does not implement dialects.SchedulingQueries", db.Dialect)
	}
	names := append(slices.Clone(biHostile), "Queue-Case", "queue-case")
	pool := c.WorkPool.Create().SetName("bi-pool").SetType("process").SaveX(ctx)
	f := c.Flow.Create().SetName("bi-flow").SaveX(ctx)
	queueOf := map[uuid.UUID]uuid.UUID{} // run -> the queue it must be matched to
	base := time.Now().Add(-time.Hour)
	for k, s := range names {
		q, err := c.WorkQueue.Create().SetName(s).SetWorkPool(pool).Save(ctx)
		if err != nil {
			t.Fatalf("work queue named %q: %v", s, err)
		}
		run, err := c.FlowRun.Create().SetName("run " + s).SetFlow(f).SetWorkQueueName(s).
			SetStateType(types.StateScheduled).SetStateName("Scheduled").
			SetNextScheduledStartTime(base.Add(time.Duration(k) * time.Second)).Save(ctx)
		if err != nil {
			t.Fatalf("run for queue %q: %v", s, err)
		}
		queueOf[run.ID] = q.ID
	}
	got, err := sq.ScheduledFlowRunsFromWorkQueues(ctx, db.SQL, dialects.WorkQueueRunsQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(names) {
		t.Fatalf("%d runs matched, want %d (one per queue): %+v", len(got), len(names), got)
	}
	for _, r := range got {
		if queueOf[r.FlowRunID] != r.WorkQueueID {
			t.Fatalf("run %s matched to queue %s, want %s", r.FlowRunID, r.WorkQueueID, queueOf[r.FlowRunID])
		}
	}
	// Per-queue selection by id still works with hostile names.
	for _, q := range c.WorkQueue.Query().AllX(ctx) {
		got, err := sq.ScheduledFlowRunsFromWorkQueues(ctx, db.SQL, dialects.WorkQueueRunsQuery{WorkQueueIDs: []uuid.UUID{q.ID}})
		if err != nil || len(got) != 1 || got[0].WorkQueueID != q.ID {
			t.Fatalf("queue %q alone: %+v, %v; want its one run", q.Name, got, err)
		}
	}
	biIntact(t, ctx, db, 1)
}

// TestBadInputInsertScheduledFlowRuns: hostile run names, idempotency keys,
// queue names, tags, parameter keys and state messages are inserted as
// given by the bulk insert, and the idempotency keys still de-duplicate.
func testBadInputInsertScheduledFlowRuns(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	c := db.Client
	qs := db.Dialect.(dialects.Queries)
	f := c.Flow.Create().SetName("bi-flow").SaveX(ctx)
	batch := func() []dialects.ScheduledFlowRunInsert {
		runs := make([]dialects.ScheduledFlowRunInsert, len(biHostile))
		for k, s := range biHostile {
			s := s
			runs[k] = dialects.ScheduledFlowRunInsert{
				FlowID: f.ID, Name: s, IdempotencyKey: &s, WorkQueueName: &s, DeploymentVersion: &s,
				NextScheduledStartTime: time.Now().Add(time.Duration(k) * time.Minute),
				Parameters:             map[string]any{s: s}, Tags: []string{s}, StateMessage: &s,
				StateDetails: map[string]any{s: []any{s}}, JobVariables: map[string]any{s: map[string]any{s: s}},
			}
		}
		return runs
	}
	insert := func() []uuid.UUID {
		q, end := biBeginWrite(t, ctx, db)
		ids, err := qs.InsertScheduledFlowRuns(ctx, q, batch())
		end(err == nil)
		if err != nil {
			t.Fatalf("InsertScheduledFlowRuns: %v", err)
		}
		return ids
	}
	if ids := insert(); len(ids) != len(biHostile) {
		t.Fatalf("inserted %d runs, want %d", len(ids), len(biHostile))
	}
	if ids := insert(); len(ids) != 0 {
		t.Fatalf("the same idempotency keys inserted %d more runs", len(ids))
	}
	for _, s := range biHostile {
		run, err := c.FlowRun.Query().Where(flowrun.IdempotencyKey(s)).WithCurrentState().Only(ctx)
		if err != nil {
			t.Fatalf("run with idempotency key %q: %v", s, err)
		}
		st := run.Edges.CurrentState
		if run.Name != s || *run.WorkQueueName != s || *run.DeploymentVersion != s || !slices.Equal(run.Tags, []string{s}) ||
			run.Parameters[s] != s || !reflect.DeepEqual(run.JobVariables, map[string]any{s: map[string]any{s: s}}) ||
			st == nil || st.Message == nil || *st.Message != s || !reflect.DeepEqual(st.StateDetails, map[string]any{s: []any{s}}) {
			t.Fatalf("run %q read back as %+v with state %+v", s, run, st)
		}
	}
	biIntact(t, ctx, db, 1)
}

// biRandomText returns n bytes of incompressible base64 text.
func biRandomText(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)[:n]
}

// TestBadInputOversizeStrings: 1 MB of text in unindexed columns (state
// messages, log messages) is stored and read back intact on both databases.
// In an indexed column, text over types.MaxIndexedTextBytes is refused on
// both alike (PostgreSQL's B-tree limit), and nothing is written.
func testBadInputOversizeStrings(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	c := db.Client
	huge := biRandomText(t, 1<<20)
	f := c.Flow.Create().SetName("bi-flow").SaveX(ctx)

	run, err := c.FlowRun.Create().SetName("run").SetFlow(f).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.FlowRunState.Create().SetFlowRun(run).SetType(types.StateFailed).SetName("Failed").
		SetMessage(huge).SetTimestamp(time.Now()).Save(ctx)
	if err != nil {
		t.Fatalf("1 MB state message: %v", err)
	}
	if got := c.FlowRunState.Query().Where(flowrunstate.ID(st.ID)).OnlyX(ctx); got.Message == nil || *got.Message != huge {
		t.Fatal("1 MB state message did not come back intact")
	}
	lg, err := c.LogEntry.Create().SetName("bi").SetLevel(40).SetMessage(huge).SetTimestamp(time.Now()).Save(ctx)
	if err != nil {
		t.Fatalf("1 MB log message: %v", err)
	}
	if got := c.LogEntry.GetX(ctx, lg.ID); got.Message != huge {
		t.Fatal("1 MB log message did not come back intact")
	}
	biIntact(t, ctx, db, 1)

	// Indexed, unique columns: up to types.MaxIndexedTextBytes stored on
	// both databases (even incompressible text fits PostgreSQL's index
	// entry), longer refused on both with an InvalidValueError naming
	// the field, nothing written. (PostgreSQL alone would refuse some
	// of them with SQLSTATE 54000, depending on how they compress, and
	// SQLite would store them all.)
	stored := 0
	for _, n := range []int{1000, types.MaxIndexedTextBytes, types.MaxIndexedTextBytes + 1, 3000, 1 << 20} {
		name := biRandomText(t, n)
		inserts := map[string]func() error{
			"flow.name": func() error { return c.Flow.Create().SetName(name).Exec(ctx) },
			"configuration.key": func() error {
				return c.Configuration.Create().SetKey(name).SetValue(json.RawMessage(`1`)).Exec(ctx)
			},
			"savedsearch.name": func() error { return c.SavedSearch.Create().SetName(name).Exec(ctx) },
		}
		for what, insert := range inserts {
			err := insert()
			var invalid *types.InvalidValueError
			switch {
			case n <= types.MaxIndexedTextBytes && err != nil:
				t.Fatalf("%s of %d bytes: %v", what, n, err)
			case n > types.MaxIndexedTextBytes && (!errors.As(err, &invalid) || invalid.Field != what || strings.Contains(err.Error(), name)):
				t.Fatalf("%s of %d bytes: %v; want an InvalidValueError naming %s, without the value", what, n, err, what)
			}
		}
		// An update is held to the same limit.
		if n > types.MaxIndexedTextBytes {
			var invalid *types.InvalidValueError
			if err := c.Flow.Update().Where(flow.Name("bi-flow")).SetName(name).Exec(ctx); !errors.As(err, &invalid) {
				t.Fatalf("update flow.name to %d bytes: %v; want an InvalidValueError", n, err)
			}
		}
		var found int
		if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM flow WHERE name = "+biPlaceholder(t, db, 1), name).Scan(&found); err != nil {
			t.Fatal(err)
		}
		if want := n <= types.MaxIndexedTextBytes; (found == 1) != want {
			t.Fatalf("flow named with %d bytes: %d rows, stored should be %v", n, found, want)
		}
		if n <= types.MaxIndexedTextBytes {
			stored++
		}
	}
	want := 1 + stored
	biIntact(t, ctx, db, want)
}

// TestBadInputNULAndInvalidUTF8: PostgreSQL text holds neither NUL bytes
// nor invalid UTF-8, and SQLite would store both: prefectdb refuses them on
// both databases alike, in plain fields and inside JSON, with a
// *types.InvalidValueError naming the field (never the value), writing
// nothing. (A NUL byte in SQL text, e.g. a BuildJSONObject key, is refused
// by both databases themselves.)
func testBadInputNULAndInvalidUTF8(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	c := db.Client
	stored := 0
	for _, s := range []string{"a\x00b", "\x00", "a\xffb", "\xc3\x28", "\xed\xa0\x80"} {
		for _, tc := range []struct {
			field  string
			create func() error
		}{
			{"flow.name", func() error { return c.Flow.Create().SetName(s).Exec(ctx) }},
			{"flow.tags", func() error { return c.Flow.Create().SetName("ok").SetTags([]string{s}).Exec(ctx) }},
			{"flow.labels", func() error {
				return c.Flow.Create().SetName("ok").SetLabels(map[string]any{"k": map[string]any{s: 1}}).Exec(ctx)
			}},
		} {
			err := tc.create()
			var invalid *types.InvalidValueError
			if !errors.As(err, &invalid) || invalid.Field != tc.field || strings.Contains(err.Error(), s) {
				t.Fatalf("%s = %q: %v; want an InvalidValueError naming %s, without the value", tc.field, s, err, tc.field)
			}
		}
		biIntact(t, ctx, db, stored)
	}
	// Times both databases order alike: years 1 to 9999.
	for _, at := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)} {
		err := c.Flow.Create().SetName("t").SetCreated(at).Exec(ctx)
		var invalid *types.InvalidValueError
		if !errors.As(err, &invalid) || invalid.Field != "flow.created" {
			t.Fatalf("created = %v: %v; want an InvalidValueError naming flow.created", at, err)
		}
	}
	biIntact(t, ctx, db, stored)

	qs := db.Dialect.(dialects.Queries)
	var out string
	err := db.SQL.QueryRowContext(ctx, "SELECT "+qs.BuildJSONObject("a\x00b", "1")).Scan(&out)
	if err == nil {
		t.Fatalf("a NUL byte in a BuildJSONObject key gave %q, want an error", out)
	}
	biIntact(t, ctx, db, stored)
}

// TestBadInputWrongUUIDs: ids that name nothing (the nil UUID, a random one)
// give not-found errors that name the id, or empty results, never a panic
// or a partial write; on SQLite, id text that is not a UUID at all is an
// error when read, while PostgreSQL refuses to store it.
func testBadInputWrongUUIDs(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	c := db.Client
	qs := db.Dialect.(dialects.Queries)
	gq := db.Dialect.(dialects.GraphQueries)
	sq := db.Dialect.(dialects.SchedulingQueries)
	f := c.Flow.Create().SetName("bi-flow").SaveX(ctx)
	for _, id := range []uuid.UUID{uuid.Nil, uuid.New()} {
		if _, err := c.FlowRun.Get(ctx, id); !ent.IsNotFound(err) {
			t.Fatalf("FlowRun.Get(%s) = %v, want not found", id, err)
		}
		_, err := gq.FlowRunGraph(ctx, db.SQL, dialects.GraphQuery{FlowRunID: id, Since: time.Time{}, MaxNodes: 10, MaxArtifacts: 10})
		var nf *dialects.FlowRunNotFoundError
		if !errors.As(err, &nf) || nf.ID != id || !errors.Is(err, dialects.ErrFlowRunNotFound) ||
			err.Error() != fmt.Sprintf("flow run %s not found", id) {
			t.Fatalf("FlowRunGraph(%s) = %v, want a FlowRunNotFoundError naming it", id, err)
		}
		if n, err := qs.SetStateIDOnInsertedFlowRuns(ctx, db.SQL, dialects.RunStates{FlowRunIDs: []uuid.UUID{id}, StateIDs: []uuid.UUID{uuid.New()}}); err != nil || n != 0 {
			t.Fatalf("SetStateIDOnInsertedFlowRuns(%s) = %d, %v; want 0", id, n, err)
		}
		if runs, err := sq.ScheduledFlowRunsFromWorkPool(ctx, db.SQL, dialects.WorkPoolRunsQuery{WorkPoolIDs: []uuid.UUID{id}}); err != nil || len(runs) != 0 {
			t.Fatalf("ScheduledFlowRunsFromWorkPool(pool %s) = %v, %v; want none", id, runs, err)
		}
		if runs, err := sq.ScheduledFlowRunsFromWorkQueues(ctx, db.SQL, dialects.WorkQueueRunsQuery{WorkQueueIDs: []uuid.UUID{id}}); err != nil || len(runs) != 0 {
			t.Fatalf("ScheduledFlowRunsFromWorkQueues(queue %s) = %v, %v; want none", id, runs, err)
		}

		// A run of a flow that does not exist: a foreign key error,
		// and nothing written.
		q, end := biBeginWrite(t, ctx, db)
		_, err = qs.InsertScheduledFlowRuns(ctx, q, []dialects.ScheduledFlowRunInsert{
			{FlowID: uuid.New(), Name: "orphan", NextScheduledStartTime: time.Now()},
		})
		end(false)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "foreign key") {
			t.Fatalf("InsertScheduledFlowRuns for a missing flow: %v, want a foreign key error", err)
		}
		if n := c.FlowRun.Query().CountX(ctx); n != 0 {
			t.Fatalf("%d runs written by a failed insert", n)
		}
	}
	biIntact(t, ctx, db, 1)

	// Id text that is not a UUID.
	insert := "INSERT INTO flow (id, created, updated, name, tags) VALUES (" + biPlaceholder(t, db, 1) + ", " +
		biPlaceholder(t, db, 2) + ", " + biPlaceholder(t, db, 2) + ", 'bad id', '[]')"
	_, err := db.SQL.ExecContext(ctx, insert, "not-a-uuid", time.Now())
	if db.Dialect.Kind() == config.Postgres {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "22P02" || !strings.Contains(pgErr.Message, "uuid") {
			t.Fatalf("a non-UUID id on PostgreSQL: %v; want SQLSTATE 22P02 about uuid", err)
		}
		biIntact(t, ctx, db, 1)
		return
	}
	if err != nil {
		t.Fatalf("raw insert of a non-UUID id on SQLite: %v", err)
	}
	if _, err := c.Flow.Query().All(ctx); err == nil || !strings.Contains(strings.ToLower(err.Error()), "uuid") {
		t.Fatalf("reading a flow with a non-UUID id: %v; want an error about the UUID", err)
	}
	if got := c.Flow.Query().Where(flow.ID(f.ID)).OnlyX(ctx); got.Name != "bi-flow" {
		t.Fatalf("the good flow reads back as %+v", got)
	}
	biIntact(t, ctx, db, 2)
}
