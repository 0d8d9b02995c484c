package dialecttest

// Tests of dialects.Queries: every helper runs on a freshly migrated SQLite
// and PostgreSQL database through the interface, and must give the same
// result on both (prefect_semantics.md §5, §6.1–§6.4, §6.7, §10.3, §10.4,
// §10.6).

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/configuration"
	"github.com/prefectdb/prefectdb/ent/flowrun"
	"github.com/prefectdb/prefectdb/ent/flowrunnotificationqueue"
	"github.com/prefectdb/prefectdb/ent/flowrunstate"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// qtQueries returns the database's query components.
func qtQueries(t *testing.T, db *testutil.DB) dialects.Queries {
	t.Helper()
	q, ok := db.Dialect.(dialects.Queries)
	if !ok {
		t.Fatalf("%T does not implement dialects.Queries", db.Dialect)
	}
	return q
}

// qtTx is a write transaction as each database wants it: a *sql.Tx on
// PostgreSQL, a connection in BEGIN IMMEDIATE on SQLite.
type qtTx struct {
	dialects.Querier
	commit   func() error
	rollback func()
}

func qtBegin(ctx context.Context, db *testutil.DB) (*qtTx, error) {
	if db.Dialect.Kind() == config.SQLite {
		conn, err := db.SQL.Conn(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			conn.Close()
			return nil, err
		}
		done := false
		return &qtTx{
			Querier: conn,
			commit: func() error {
				done = true
				_, err := conn.ExecContext(ctx, "COMMIT")
				if err != nil {
					_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
				}
				conn.Close()
				return err
			},
			rollback: func() {
				if !done {
					done = true
					_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
					conn.Close()
				}
			},
		}, nil
	}
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &qtTx{Querier: tx, commit: tx.Commit, rollback: func() { _ = tx.Rollback() }}, nil
}

func qtMustBegin(t *testing.T, ctx context.Context, db *testutil.DB) *qtTx {
	t.Helper()
	tx, err := qtBegin(ctx, db)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	t.Cleanup(tx.rollback)
	return tx
}

// qtRow runs query and scans its one row into dest.
func qtRow(t *testing.T, ctx context.Context, q dialects.Querier, query string, args []any, dest ...any) {
	t.Helper()
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("%s: no row (%v)", query, rows.Err())
	}
	if err := rows.Scan(dest...); err != nil {
		t.Fatalf("%s: scan: %v", query, err)
	}
	if rows.Next() {
		t.Fatalf("%s: more than one row", query)
	}
}

// qtFix is what most tests need: a flow and a notification block.
type qtFix struct {
	flow  *ent.Flow
	block *ent.BlockDocument
}

func qtFixture(t *testing.T, ctx context.Context, c *ent.Client) *qtFix {
	t.Helper()
	flow, err := c.Flow.Create().SetName("qt-flow").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bt, err := c.BlockType.Create().SetName("QT Block").SetSlug("qt-block").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := c.BlockSchema.Create().SetChecksum("sha256:qt").SetBlockType(bt).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bd, err := c.BlockDocument.Create().SetName("qt-doc").SetBlockSchema(bs).SetBlockType(bt).
		SetBlockTypeName(bt.Name).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &qtFix{flow: flow, block: bd}
}

var qtDay = 24 * time.Hour

// ---------------------------------------------------------------------------
// Fragments

func testQueriesPlaceholder(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	qs := qtQueries(t, db)
	want := map[config.Kind][2]string{config.Postgres: {"$1", "$12"}, config.SQLite: {"?1", "?12"}}[db.Dialect.Kind()]
	if got := [2]string{qs.Placeholder(1), qs.Placeholder(12)}; got != want {
		t.Fatalf("placeholders = %v, want %v", got, want)
	}
	// Numbered parameters may repeat and come in any order.
	var a, b, c string
	qtRow(t, ctx, db.SQL, "SELECT CAST("+qs.Placeholder(2)+" AS VARCHAR), CAST("+qs.Placeholder(1)+
		" AS VARCHAR), CAST("+qs.Placeholder(2)+" AS VARCHAR)", []any{"one", "two"}, &a, &b, &c)
	if a != "two" || b != "one" || c != "two" {
		t.Fatalf("got %q %q %q", a, b, c)
	}
}

func testQueriesGreatestLeast(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	qs := qtQueries(t, db)
	cases := []struct {
		args            []string
		greatest, least sql.NullInt64
		name            string
	}{
		{name: "plain", args: []string{"3", "1", "2"}, greatest: qtInt(3), least: qtInt(1)},
		{name: "NULL first", args: []string{"NULL", "2", "5"}, greatest: qtInt(5), least: qtInt(2)},
		{name: "NULL middle", args: []string{"4", "NULL", "-1"}, greatest: qtInt(4), least: qtInt(-1)},
		{name: "NULL last", args: []string{"7", "NULL"}, greatest: qtInt(7), least: qtInt(7)},
		{name: "all NULL", args: []string{"NULL", "NULL", "NULL"}},
		{name: "one", args: []string{"9"}, greatest: qtInt(9), least: qtInt(9)},
		{name: "one NULL", args: []string{"NULL"}},
		{name: "none", args: nil},
		{name: "expressions", args: []string{"(1 + 1)", "NULL", "(2 * 3)"}, greatest: qtInt(6), least: qtInt(2)},
	}
	for _, c := range cases {
		var g, l sql.NullInt64
		qtRow(t, ctx, db.SQL, "SELECT "+qs.Greatest(c.args...)+", "+qs.Least(c.args...), nil, &g, &l)
		if g != c.greatest || l != c.least {
			t.Errorf("%s: greatest %v least %v, want %v %v", c.name, g, l, c.greatest, c.least)
		}
	}

	// Timestamp columns, some NULL, and numbered parameters repeated.
	fx := qtFixture(t, ctx, db.Client)
	t1 := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
	t2 := t1.Add(90*time.Second + time.Microsecond)
	only := db.Client.FlowRun.Create().SetName("only-expected").SetFlowID(fx.flow.ID).SetExpectedStartTime(t1).SaveX(ctx)
	both := db.Client.FlowRun.Create().SetName("both").SetFlowID(fx.flow.ID).SetExpectedStartTime(t1).SetStartTime(t2).SaveX(ctx)
	none := db.Client.FlowRun.Create().SetName("none").SetFlowID(fx.flow.ID).SaveX(ctx)
	want := map[uuid.UUID][2]time.Time{only.ID: {t1, t1}, both.ID: {t2, t1}, none.ID: {}}
	rows, err := db.SQL.QueryContext(ctx, "SELECT fr.id, "+
		qs.Greatest("fr.expected_start_time", "fr.start_time")+", "+
		qs.Least("fr.start_time", "fr.expected_start_time")+" FROM flow_run AS fr")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			id     uuid.UUID
			gt, lt time.Time
		)
		if err := rows.Scan(&id, dialects.TimeScanner(&gt), dialects.TimeScanner(&lt)); err != nil {
			t.Fatal(err)
		}
		if w := want[id]; !gt.Equal(w[0]) || !lt.Equal(w[1]) {
			t.Errorf("run %s: greatest %v least %v, want %v %v", id, gt, lt, w[0], w[1])
		}
		n++
	}
	if err := rows.Err(); err != nil || n != 3 {
		t.Fatalf("rows: %d, %v", n, err)
	}
}

func qtInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }

func testQueriesJSONHelpers(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	qs := qtQueries(t, db)
	if got, want := qs.UsesJSONStrings(), db.Dialect.Kind() == config.SQLite; got != want {
		t.Errorf("UsesJSONStrings = %v, want %v", got, want)
	}

	// No rows: the aggregate is NULL; COALESCE gives [].
	var empty []any
	qtRow(t, ctx, db.SQL, "SELECT COALESCE("+qs.JSONArrAgg(qs.BuildJSONObject("name", "flow.name"))+", '[]') FROM flow",
		nil, dialects.JSONScanner(&empty))
	if empty == nil || len(empty) != 0 {
		t.Errorf("empty aggregate = %#v, want []", empty)
	}

	fx := qtFixture(t, ctx, db.Client)
	db.Client.Flow.Create().SetName("it's-second").SetTags([]string{"x", "y"}).SaveX(ctx)
	for _, r := range []struct {
		name string
		tags []string
	}{{"a", []string{"x"}}, {"a", []string{"x"}}, {"b", []string{"y"}}} {
		db.Client.FlowRun.Create().SetName(r.name).SetFlowID(fx.flow.ID).SetTags(r.tags).
			SetParameters(map[string]any{"n": 1.5, "s": "v"}).SaveX(ctx)
	}

	// build_json_object + cast_to_json + json_arr_agg: JSON columns are
	// embedded as JSON, keys with quotes are escaped.
	var flows []map[string]any
	qtRow(t, ctx, db.SQL, "SELECT "+qs.JSONArrAgg(qs.BuildJSONObject("name", "flow.name", "tag's", qs.CastToJSON("flow.tags")))+
		" FROM flow", nil, dialects.JSONScanner(&flows))
	sort.Slice(flows, func(i, j int) bool { return fmt.Sprint(flows[i]["name"]) < fmt.Sprint(flows[j]["name"]) })
	wantFlows := []map[string]any{
		{"name": "it's-second", "tag's": []any{"x", "y"}},
		{"name": "qt-flow", "tag's": []any{}},
	}
	if !reflect.DeepEqual(flows, wantFlows) {
		t.Errorf("flows = %#v, want %#v", flows, wantFlows)
	}

	// A nested object with a jsonb/JSON parameter map.
	var params []map[string]any
	qtRow(t, ctx, db.SQL, "SELECT "+qs.JSONArrAgg(qs.CastToJSON("flow_run.parameters"))+" FROM flow_run WHERE flow_run.name = 'b'",
		nil, dialects.JSONScanner(&params))
	if want := []map[string]any{{"n": 1.5, "s": "v"}}; !reflect.DeepEqual(params, want) {
		t.Errorf("parameters = %#v, want %#v", params, want)
	}

	// DISTINCT de-duplicates on both databases, for scalars and JSON.
	var names []string
	qtRow(t, ctx, db.SQL, "SELECT "+qs.JSONArrAgg("DISTINCT flow_run.name")+" FROM flow_run", nil, dialects.JSONScanner(&names))
	sort.Strings(names)
	if !slices.Equal(names, []string{"a", "b"}) {
		t.Errorf("distinct names = %v", names)
	}
	var tagSets [][]string
	qtRow(t, ctx, db.SQL, "SELECT "+qs.JSONArrAgg("DISTINCT "+qs.CastToJSON("flow_run.tags"))+" FROM flow_run", nil,
		dialects.JSONScanner(&tagSets))
	sort.Slice(tagSets, func(i, j int) bool { return fmt.Sprint(tagSets[i]) < fmt.Sprint(tagSets[j]) })
	if !reflect.DeepEqual(tagSets, [][]string{{"x"}, {"y"}}) {
		t.Errorf("distinct tags = %v", tagSets)
	}

	// Odd argument counts are a programming error.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("BuildJSONObject with 3 arguments did not panic")
			}
		}()
		_ = qs.BuildJSONObject("a", "1", "b")
	}()
}

// ---------------------------------------------------------------------------
// Date arithmetic (§10.6)

func testQueriesDateArithmetic(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	qs := qtQueries(t, db)
	p := qs.Placeholder
	d2021 := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	threeDays5m := 3*qtDay + 5*time.Minute
	fortyThree := time.Hour - 17*time.Minute

	ts := func(expr string, args ...any) time.Time {
		t.Helper()
		var v time.Time
		qtRow(t, ctx, db.SQL, "SELECT "+expr, args, dialects.TimeScanner(&v))
		return v
	}
	iv := func(expr string, args ...any) time.Duration {
		t.Helper()
		var v types.Interval
		qtRow(t, ctx, db.SQL, "SELECT "+expr, args, &v)
		return v.Duration()
	}

	// Prefect's tested examples, with parameters.
	if got, want := ts(qs.DateAdd(p(1), p(2)), d2021, types.Interval(threeDays5m)), d2021.Add(threeDays5m); !got.Equal(want) {
		t.Errorf("date_add = %v, want %v", got, want)
	}
	if got := iv(qs.DateDiff(p(1), p(2)), d2021.Add(threeDays5m), d2021); got != threeDays5m {
		t.Errorf("date_diff = %v, want %v", got, threeDays5m)
	}
	if got, want := iv(qs.IntervalAdd(p(1), p(2)), types.Interval(threeDays5m), types.Interval(fortyThree)), 3*qtDay+48*time.Minute; got != want {
		t.Errorf("interval_add = %v, want %v", got, want)
	}

	// The same with columns, and columns mixed with parameters.
	fx := qtFixture(t, ctx, db.Client)
	run := db.Client.FlowRun.Create().SetName("dates").SetFlowID(fx.flow.ID).SetExpectedStartTime(d2021).
		SetStartTime(d2021.Add(threeDays5m)).SetTotalRunTime(types.Interval(threeDays5m)).SaveX(ctx)
	from := " FROM flow_run WHERE id = " + p(1)
	if got, want := ts(qs.DateAdd("flow_run.expected_start_time", "flow_run.total_run_time")+from, run.ID), d2021.Add(threeDays5m); !got.Equal(want) {
		t.Errorf("date_add(columns) = %v, want %v", got, want)
	}
	if got := iv(qs.DateDiff("flow_run.start_time", "flow_run.expected_start_time")+from, run.ID); got != threeDays5m {
		t.Errorf("date_diff(columns) = %v", got)
	}
	if got := iv(qs.IntervalAdd("flow_run.total_run_time", p(2))+from, run.ID, types.Interval(fortyThree)); got != 3*qtDay+48*time.Minute {
		t.Errorf("interval_add(column, parameter) = %v", got)
	}
	if got := iv(qs.DateDiff(p(2), "flow_run.expected_start_time")+from, run.ID, d2021.Add(threeDays5m)); got != threeDays5m {
		t.Errorf("date_diff(parameter, column) = %v", got)
	}
	if got, want := ts(qs.DateAdd("'2021-01-01 00:00:00.000000'", p(1)), types.Interval(threeDays5m)), d2021.Add(threeDays5m); !got.Equal(want) {
		t.Errorf("date_add(literal, parameter) = %v, want %v", got, want)
	}

	// Microseconds, negative intervals and carries across seconds.
	us := time.Microsecond
	a := time.Date(2021, 1, 1, 0, 0, 0, 999999000, time.UTC)
	if got, want := ts(qs.DateAdd(p(1), p(2)), a, types.Interval(2*us)), a.Add(2*us); !got.Equal(want) {
		t.Errorf("date_add µs = %v, want %v", got, want)
	}
	if got, want := ts(qs.DateAdd(p(1), p(2)), a, types.Interval(-time.Second-us)), a.Add(-time.Second-us); !got.Equal(want) {
		t.Errorf("date_add negative = %v, want %v", got, want)
	}
	if got := iv(qs.DateDiff(p(1), p(2)), d2021, d2021.Add(3*time.Second)); got != -3*time.Second {
		t.Errorf("date_diff negative = %v", got)
	}
	if got := iv(qs.DateDiff(p(1), p(2)), d2021.Add(us), d2021.Add(999999*us)); got != -999998*us {
		t.Errorf("date_diff µs = %v", got)
	}
	if got := iv(qs.IntervalAdd(p(1), p(2)), types.Interval(us), types.Interval(2*us)); got != 3*us {
		t.Errorf("interval_add µs = %v", got)
	}
	if got := iv(qs.IntervalAdd(p(1), p(2)), types.Interval(500*time.Millisecond+1*us), types.Interval(-2*time.Second)); got != -1500*time.Millisecond+us {
		t.Errorf("interval_add negative = %v", got)
	}
	before1970 := time.Date(1969, 12, 31, 23, 59, 59, 250000000, time.UTC)
	if got, want := ts(qs.DateAdd(p(1), p(2)), before1970, types.Interval(time.Second+us)), before1970.Add(time.Second+us); !got.Equal(want) {
		t.Errorf("date_add across 1970 = %v, want %v", got, want)
	}

	// Fragments compose: date_add(t, interval_add(i, date_diff(a, b))).
	nested := qs.DateAdd(p(1), qs.IntervalAdd(p(2), qs.DateDiff(p(3), p(4))))
	if got, want := ts(nested, d2021, types.Interval(us), a, d2021), d2021.Add(us).Add(a.Sub(d2021)); !got.Equal(want) {
		t.Errorf("nested = %v, want %v", got, want)
	}

	// NULL in, NULL out.
	var null sql.NullString
	qtRow(t, ctx, db.SQL, "SELECT "+qs.DateAdd("flow_run.end_time", p(2))+from, []any{run.ID, types.Interval(time.Second)}, &null)
	if null.Valid {
		t.Errorf("date_add(NULL, …) = %q, want NULL", null.String)
	}

	// SQLite's text form: six fractional digits, 1970-based intervals
	// (Prefect's example: 00:00:00 − 00:00:03 = 1969-12-31 23:59:57).
	if db.Dialect.Kind() == config.SQLite {
		var text string
		qtRow(t, ctx, db.SQL, "SELECT "+qs.DateDiff(p(1), p(2)), []any{d2021, d2021.Add(3 * time.Second)}, &text)
		if text != "1969-12-31 23:59:57.000000" {
			t.Errorf("SQLite date_diff text = %q", text)
		}
		qtRow(t, ctx, db.SQL, "SELECT "+qs.IntervalAdd(p(1), "'1970-01-01 00:01:00'"), []any{types.Interval(3 * time.Second)}, &text)
		if text != "1970-01-01 00:01:03.000000" {
			t.Errorf("SQLite interval_add text = %q", text)
		}
	}
}

// ---------------------------------------------------------------------------
// Run time and lateness (§10.3, §10.4)

func testQueriesEstimatedRunTime(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	qs := qtQueries(t, db)
	fx := qtFixture(t, ctx, db.Client)
	now := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	c := db.Client

	running := c.FlowRun.Create().SetName("running").SetFlowID(fx.flow.ID).SetStateType(types.StateRunning).
		SetStateTimestamp(now.Add(-59 * time.Second)).SaveX(ctx)
	resumed := c.FlowRun.Create().SetName("resumed").SetFlowID(fx.flow.ID).SetStateType(types.StateRunning).
		SetStateTimestamp(now.Add(-59*time.Second - 500*time.Millisecond - time.Microsecond)).
		SetTotalRunTime(types.Interval(3 * time.Second)).SaveX(ctx)
	completed := c.FlowRun.Create().SetName("completed").SetFlowID(fx.flow.ID).SetStateType(types.StateCompleted).
		SetStateTimestamp(now.Add(-time.Hour)).SetTotalRunTime(types.Interval(3 * time.Second)).SaveX(ctx)
	scheduled := c.FlowRun.Create().SetName("scheduled").SetFlowID(fx.flow.ID).SetStateType(types.StateScheduled).SaveX(ctx)
	// A row written without total_run_time gets the server default (the
	// integer 0 on SQLite).
	raw := uuid.New()
	if _, err := db.SQL.ExecContext(ctx, "INSERT INTO flow_run (id, name, flow_id, state_type) VALUES ("+
		qs.Placeholder(1)+", 'raw', "+qs.Placeholder(2)+", 'COMPLETED')", raw, fx.flow.ID); err != nil {
		t.Fatal(err)
	}
	want := map[uuid.UUID]time.Duration{
		running.ID:   59 * time.Second,
		resumed.ID:   62*time.Second + 500*time.Millisecond + time.Microsecond,
		completed.ID: 3 * time.Second,
		scheduled.ID: 0,
		raw:          0,
	}

	// In a query with an alias and a join (the fragment adds no FROM).
	query := "SELECT fr.id, " + qs.EstimatedRunTime("fr", qs.Placeholder(1)) +
		" FROM flow_run AS fr JOIN flow AS f ON f.id = fr.flow_id"
	got := qtIntervals(t, ctx, db.SQL, query, now)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("estimated run time = %v, want %v", got, want)
	}

	// With the real clock: a run RUNNING for ~59 s.
	live := c.FlowRun.Create().SetName("live").SetFlowID(fx.flow.ID).SetStateType(types.StateRunning).
		SetStateTimestamp(time.Now().Add(-59 * time.Second)).SaveX(ctx)
	got = qtIntervals(t, ctx, db.SQL, "SELECT flow_run.id, "+qs.EstimatedRunTime("flow_run", qs.Placeholder(1))+
		" FROM flow_run WHERE flow_run.id = "+qs.Placeholder(2), time.Now(), live.ID)
	if d := got[live.ID]; d < 59*time.Second || d > 62*time.Second {
		t.Errorf("live estimated run time = %v, want 59–62 s", d)
	}

	// Task runs have the same columns.
	tr := c.TaskRun.Create().SetName("task").SetTaskKey("k").SetDynamicKey("0").SetFlowRunID(running.ID).
		SetStateType(types.StateRunning).SetStateTimestamp(now.Add(-2 * time.Second)).
		SetTotalRunTime(types.Interval(time.Second)).SaveX(ctx)
	got = qtIntervals(t, ctx, db.SQL, "SELECT task_run.id, "+qs.EstimatedRunTime("task_run", qs.Placeholder(1))+" FROM task_run", now)
	if got[tr.ID] != 3*time.Second {
		t.Errorf("task run estimated run time = %v, want 3s", got[tr.ID])
	}
}

// qtIntervals runs a query of (id, interval) rows.
func qtIntervals(t *testing.T, ctx context.Context, q dialects.Querier, query string, args ...any) map[uuid.UUID]time.Duration {
	t.Helper()
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	out := map[uuid.UUID]time.Duration{}
	for rows.Next() {
		var (
			id uuid.UUID
			iv types.Interval
		)
		if err := rows.Scan(&id, &iv); err != nil {
			t.Fatal(err)
		}
		out[id] = iv.Duration()
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func testQueriesEstimatedStartTimeDelta(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	qs := qtQueries(t, db)
	fx := qtFixture(t, ctx, db.Client)
	now := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	type runCase struct {
		name     string
		state    *types.StateType
		expected *time.Time
		start    *time.Time
		want     time.Duration
	}
	st := func(s types.StateType) *types.StateType { return &s }
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	cases := []runCase{
		{name: "scheduled 60 s ago", state: st(types.StateScheduled), expected: at(-60 * time.Second), want: 60 * time.Second},
		{name: "pending, no start", state: st(types.StatePending), expected: at(-60 * time.Second), want: 60 * time.Second},
		{name: "running 5 s late", state: st(types.StateRunning), expected: at(-time.Minute), start: at(-time.Minute + 5*time.Second), want: 5 * time.Second},
		{name: "started µs late", state: st(types.StateCompleted), expected: at(-time.Hour), start: at(-time.Hour + time.Microsecond), want: time.Microsecond},
		{name: "terminal, no start", state: st(types.StateCompleted), expected: at(-60 * time.Second), want: 0},
		{name: "cancelled, no start", state: st(types.StateCancelled), expected: at(-60 * time.Second), want: 0},
		{name: "crashed, no start", state: st(types.StateCrashed), expected: at(-60 * time.Second), want: 0},
		{name: "failed, no start", state: st(types.StateFailed), expected: at(-60 * time.Second), want: 0},
		{name: "started 5 min early", state: st(types.StateRunning), expected: at(0), start: at(-5 * time.Minute), want: 0},
		{name: "expected in the future", state: st(types.StateScheduled), expected: at(time.Hour), want: 0},
		{name: "no expected start", state: st(types.StateScheduled), want: 0},
		{name: "no state type", expected: at(-60*time.Second - time.Microsecond), want: 60*time.Second + time.Microsecond},
	}
	want := map[uuid.UUID]time.Duration{}
	names := map[uuid.UUID]string{}
	for _, c := range cases {
		r := db.Client.FlowRun.Create().SetName(c.name).SetFlowID(fx.flow.ID).SetNillableStateType(c.state).
			SetNillableExpectedStartTime(c.expected).SetNillableStartTime(c.start).SaveX(ctx)
		want[r.ID], names[r.ID] = c.want, c.name
	}
	got := qtIntervals(t, ctx, db.SQL, "SELECT fr.id, "+qs.EstimatedStartTimeDelta("fr", qs.Placeholder(1))+" FROM flow_run fr", now)
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: lateness %v, want %v", names[id], got[id], w)
		}
	}
}

// ---------------------------------------------------------------------------
// Timestamp intervals (§6.1)

func testQueriesMakeTimestampIntervals(t *testing.T, db *testutil.DB) {
	start := time.Date(2021, 7, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		start     time.Time
		end       time.Time
		interval  time.Duration
		n         int
		lastStart time.Time
		lastEnd   time.Time
	}{
		{name: "14 days", start: start, end: start.Add(14 * qtDay), interval: qtDay, n: 14, lastStart: start.Add(13 * qtDay)},
		{name: "10 days by 25 h", start: start, end: start.Add(10 * qtDay), interval: 25 * time.Hour, n: 10,
			lastStart: time.Date(2021, 7, 10, 9, 0, 0, 0, time.UTC)},
		{name: "1 day by 66 min", start: start, end: start.Add(qtDay), interval: 66 * time.Minute, n: 22,
			lastStart: time.Date(2021, 7, 1, 23, 6, 0, 0, time.UTC), lastEnd: time.Date(2021, 7, 2, 0, 12, 0, 0, time.UTC)},
		{name: "5 h by 1 min", start: start, end: start.Add(5 * time.Hour), interval: time.Minute, n: 300, lastStart: start.Add(299 * time.Minute)},
		{name: "1 d 5 h by 15 min", start: start, end: start.Add(29 * time.Hour), interval: 15 * time.Minute, n: 116, lastStart: start.Add(115 * 15 * time.Minute)},
		{name: "500 cap", start: start, end: start.Add(10 * qtDay), interval: time.Minute, n: 500,
			lastStart: time.Date(2021, 7, 1, 8, 19, 0, 0, time.UTC)},
		{name: "last bucket past end", start: start, end: start.Add(qtDay + 30*time.Minute), interval: qtDay, n: 2,
			lastStart: start.Add(qtDay), lastEnd: start.Add(2 * qtDay)},
		{name: "weekly, 22 days", start: start.Add(-16 * qtDay), end: start.Add(6 * qtDay), interval: 7 * qtDay, n: 4, lastStart: start.Add(5 * qtDay)},
		{name: "non-UTC input", start: time.Date(2021, 7, 1, 2, 0, 0, 0, time.FixedZone("", 2*3600)),
			end: time.Date(2021, 7, 1, 5, 0, 0, 0, time.FixedZone("", 2*3600)), interval: time.Hour, n: 3,
			lastStart: time.Date(2021, 7, 1, 2, 0, 0, 0, time.UTC)},
		{name: "microseconds", start: start.Add(123456 * time.Microsecond), end: start.Add(3 * time.Second),
			interval: 1500*time.Millisecond + time.Microsecond, n: 2,
			lastStart: start.Add(123456*time.Microsecond + 1500*time.Millisecond + time.Microsecond),
			lastEnd:   start.Add(123456*time.Microsecond + 3*time.Second + 2*time.Microsecond)},
		{name: "nanoseconds truncated", start: start.Add(time.Microsecond + 999), end: start.Add(2 * time.Second), interval: time.Second + 999,
			n: 2, lastStart: start.Add(time.Second + time.Microsecond)},
		{name: "exactly 1 s", start: start, end: start.Add(3 * time.Second), interval: time.Second, n: 3, lastStart: start.Add(2 * time.Second)},
		{name: "end one µs after a start", start: start, end: start.Add(2*time.Second + time.Microsecond), interval: time.Second, n: 3, lastStart: start.Add(2 * time.Second)},
		{name: "start == end", start: start, end: start, interval: time.Hour, n: 0},
		{name: "start > end", start: start.Add(time.Hour), end: start, interval: time.Minute, n: 0},
	}
	ctx := testutil.Context(t)
	qs := qtQueries(t, db)
	for _, c := range cases {
		got, err := qs.MakeTimestampIntervals(ctx, db.SQL, dialects.TimestampIntervals{Start: c.start, End: c.end, Interval: c.interval})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(got) != c.n {
			t.Errorf("%s: %d buckets, want %d", c.name, len(got), c.n)
			continue
		}
		if c.n == 0 {
			continue
		}
		step := c.interval.Truncate(time.Microsecond)
		first := c.start.UTC().Truncate(time.Microsecond)
		for k, iv := range got {
			if iv.Start.Location() != time.UTC || iv.End.Location() != time.UTC {
				t.Errorf("%s: bucket %d not in UTC: %v", c.name, k, iv)
			}
			if want := first.Add(time.Duration(k) * step); !iv.Start.Equal(want) {
				t.Errorf("%s: bucket %d starts %v, want %v", c.name, k, iv.Start, want)
				break
			}
			if iv.End.Sub(iv.Start) != step {
				t.Errorf("%s: bucket %d is %v wide, want %v", c.name, k, iv.End.Sub(iv.Start), step)
				break
			}
			if !iv.Start.Before(c.end) {
				t.Errorf("%s: bucket %d starts at or after the end", c.name, k)
			}
		}
		last := got[len(got)-1]
		if !last.Start.Equal(c.lastStart) {
			t.Errorf("%s: last start %v, want %v", c.name, last.Start, c.lastStart)
		}
		if !c.lastEnd.IsZero() && !last.End.Equal(c.lastEnd) {
			t.Errorf("%s: last end %v, want %v", c.name, last.End, c.lastEnd)
		}
	}

	// Intervals below 1 s are refused with a typed error.
	for _, bad := range []time.Duration{999 * time.Millisecond, 0, -time.Minute} {
		_, err := qs.MakeTimestampIntervals(ctx, db.SQL, dialects.TimestampIntervals{Start: start, End: start.Add(time.Hour), Interval: bad})
		var hie *dialects.HistoryIntervalError
		if !errors.As(err, &hie) || hie.Interval != bad || err.Error() != "history interval must not be less than 1 second" {
			t.Errorf("interval %v: error %v, want HistoryIntervalError", bad, err)
		}
	}

	// The SQL works as the "intervals" CTE of a larger query.
	p := qs.Placeholder
	var (
		n           int
		first, last time.Time
	)
	qtRow(t, ctx, db.SQL, "WITH intervals AS ("+qs.TimestampIntervalsSQL(p(1), p(2), p(3))+
		") SELECT COUNT(*), MIN(interval_start), MAX(interval_end) FROM intervals",
		[]any{start, start.Add(qtDay), types.Interval(66 * time.Minute)}, &n, dialects.TimeScanner(&first), dialects.TimeScanner(&last))
	if n != 22 || !first.Equal(start) || !last.Equal(time.Date(2021, 7, 2, 0, 12, 0, 0, time.UTC)) {
		t.Errorf("as a CTE: %d buckets from %v to %v", n, first, last)
	}
}

// ---------------------------------------------------------------------------
// Scheduled runs (§6.2)

func testQueriesSetStateIDOnInsertedFlowRuns(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	qs := qtQueries(t, db)
	fx := qtFixture(t, ctx, db.Client)
	c := db.Client
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	newRun := func(name string) *ent.FlowRun {
		return c.FlowRun.Create().SetName(name).SetFlowID(fx.flow.ID).SaveX(ctx)
	}
	newState := func(r *ent.FlowRun, at time.Time) *ent.FlowRunState {
		return c.FlowRunState.Create().SetFlowRunID(r.ID).SetType(types.StateScheduled).SetName("Scheduled").SetTimestamp(at).SaveX(ctx)
	}
	a, b, untouched, unlisted := newRun("a"), newRun("b"), newRun("untouched"), newRun("unlisted")
	sa, sb := newState(a, ts), newState(b, ts)
	sb2 := newState(b, ts.Add(time.Second)) // two listed states for b: the latest wins
	old := newState(untouched, ts)
	c.FlowRun.UpdateOne(untouched).SetStateID(old.ID).ExecX(ctx)
	su := newState(unlisted, ts)
	other := newState(newRun("other"), ts) // listed state of an unlisted run

	n, err := qs.SetStateIDOnInsertedFlowRuns(ctx, db.SQL, dialects.RunStates{
		FlowRunIDs: []uuid.UUID{a.ID, b.ID, untouched.ID}, StateIDs: []uuid.UUID{sa.ID, sb.ID, sb2.ID, su.ID, other.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("updated %d runs, want 2", n)
	}
	stateOf := func(r *ent.FlowRun) *uuid.UUID { return c.FlowRun.GetX(ctx, r.ID).StateID }
	for _, w := range []struct {
		run  *ent.FlowRun
		want *uuid.UUID
	}{{a, &sa.ID}, {b, &sb2.ID}, {untouched, &old.ID}, {unlisted, nil}} {
		got := stateOf(w.run)
		if (got == nil) != (w.want == nil) || (got != nil && *got != *w.want) {
			t.Errorf("run %s: state_id %v, want %v", w.run.Name, got, w.want)
		}
	}
	if n, err := qs.SetStateIDOnInsertedFlowRuns(ctx, db.SQL, dialects.RunStates{StateIDs: []uuid.UUID{sa.ID}}); err != nil || n != 0 {
		t.Errorf("empty run list: %d, %v", n, err)
	}
}

// qtScheduledRuns makes n scheduled runs starting at base, one a minute,
// with keys "scheduled <prefix> <k>".
func qtScheduledRuns(fx *qtFix, prefix string, from, n int, base time.Time) []dialects.ScheduledFlowRunInsert {
	runs := make([]dialects.ScheduledFlowRunInsert, n)
	for k := range runs {
		i := from + k
		at := base.Add(time.Duration(i)*time.Minute + time.Duration(i)*time.Microsecond)
		key := fmt.Sprintf("scheduled %s %d", prefix, i)
		runs[k] = dialects.ScheduledFlowRunInsert{
			ID:                     uuid.New(),
			FlowID:                 fx.flow.ID,
			Name:                   fmt.Sprintf("run-%s-%d", prefix, i),
			IdempotencyKey:         &key,
			NextScheduledStartTime: at,
			Parameters:             map[string]any{"i": float64(i)},
			Tags:                   []string{"auto-scheduled", prefix},
			AutoScheduled:          true,
			StateDetails:           map[string]any{"scheduled_time": at.Format(time.RFC3339Nano)},
		}
	}
	return runs
}

// qtInsertScheduled runs InsertScheduledFlowRuns in a committed transaction.
func qtInsertScheduled(t *testing.T, ctx context.Context, db *testutil.DB, runs []dialects.ScheduledFlowRunInsert) []uuid.UUID {
	t.Helper()
	tx := qtMustBegin(t, ctx, db)
	ids, err := qtQueries(t, db).InsertScheduledFlowRuns(ctx, tx, runs)
	if err != nil {
		t.Fatalf("insert scheduled flow runs: %v", err)
	}
	if err := tx.commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	return ids
}

// qtCheckScheduled checks that every run of the flow points at a SCHEDULED
// state of its own, has one state, and expected == next scheduled start.
func qtCheckScheduled(t *testing.T, ctx context.Context, c *ent.Client, wantRuns int) {
	t.Helper()
	runs := c.FlowRun.Query().WithCurrentState().AllX(ctx)
	if len(runs) != wantRuns {
		t.Fatalf("%d flow runs, want %d", len(runs), wantRuns)
	}
	if n := c.FlowRunState.Query().CountX(ctx); n != wantRuns {
		t.Errorf("%d flow run states, want %d (one per run)", n, wantRuns)
	}
	for _, r := range runs {
		s := r.Edges.CurrentState
		switch {
		case r.StateID == nil || s == nil:
			t.Fatalf("run %s has no state_id", r.Name)
		case s.FlowRunID != r.ID || s.Type != types.StateScheduled || s.Name != "Scheduled":
			t.Fatalf("run %s: state %+v", r.Name, s)
		case r.StateType == nil || *r.StateType != types.StateScheduled || r.StateName == nil || *r.StateName != "Scheduled":
			t.Fatalf("run %s: state_type %v state_name %v", r.Name, r.StateType, r.StateName)
		case r.ExpectedStartTime == nil || r.NextScheduledStartTime == nil || !r.ExpectedStartTime.Equal(*r.NextScheduledStartTime):
			t.Fatalf("run %s: expected %v, next %v", r.Name, r.ExpectedStartTime, r.NextScheduledStartTime)
		}
	}
}

func testQueriesInsertScheduledFlowRuns(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	c := db.Client
	fx := qtFixture(t, ctx, c)
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	// 500 runs in one batch.
	runs := qtScheduledRuns(fx, "d1", 0, 500, base)
	ids := qtInsertScheduled(t, ctx, db, runs)
	if len(ids) != 500 {
		t.Fatalf("inserted %d runs, want 500", len(ids))
	}
	for k := range runs {
		if ids[k] != runs[k].ID {
			t.Fatalf("inserted id %d = %s, want %s (input order)", k, ids[k], runs[k].ID)
		}
	}
	qtCheckScheduled(t, ctx, c, 500)

	// Values round-trip.
	r0 := c.FlowRun.GetX(ctx, runs[7].ID)
	if r0.Name != "run-d1-7" || *r0.IdempotencyKey != "scheduled d1 7" || !r0.AutoScheduled ||
		!reflect.DeepEqual(r0.Parameters, map[string]any{"i": 7.0}) || !slices.Equal(r0.Tags, []string{"auto-scheduled", "d1"}) ||
		!r0.NextScheduledStartTime.Equal(runs[7].NextScheduledStartTime) || r0.TotalRunTime != 0 || r0.RunCount != 0 ||
		!reflect.DeepEqual(r0.JobVariables, map[string]any{}) || r0.CreatedBy != nil || r0.StateTimestamp != nil {
		t.Errorf("run 7 = %+v", r0)
	}
	s0 := c.FlowRun.QueryCurrentState(r0).OnlyX(ctx)
	if !reflect.DeepEqual(s0.StateDetails, runs[7].StateDetails) || s0.Message != nil {
		t.Errorf("run 7 state = %+v", s0)
	}

	// Idempotent: the same keys again (new ids) insert nothing.
	again := qtScheduledRuns(fx, "d1", 0, 500, base)
	if ids := qtInsertScheduled(t, ctx, db, again); len(ids) != 0 {
		t.Fatalf("second call inserted %d runs, want 0", len(ids))
	}
	qtCheckScheduled(t, ctx, c, 500)

	// Overlapping batches (Prefect's multiple-batches test): half old
	// keys, half new; then a batch with a duplicate key inside it.
	mixed := qtScheduledRuns(fx, "d1", 250, 500, base)
	if ids := qtInsertScheduled(t, ctx, db, mixed); len(ids) != 250 || ids[0] != mixed[250].ID {
		t.Fatalf("overlapping batch inserted %d runs, want the last 250", len(ids))
	}
	dup := qtScheduledRuns(fx, "d2", 0, 2, base)
	dup[1].IdempotencyKey = dup[0].IdempotencyKey
	if ids := qtInsertScheduled(t, ctx, db, dup); len(ids) != 1 || ids[0] != dup[0].ID {
		t.Fatalf("batch with a duplicate key inserted %v", ids)
	}
	qtCheckScheduled(t, ctx, c, 751)

	// Optional columns, a zero id filled in, NaN stored as null.
	dep, wqName, ver, msg := uuid.New(), "default", "v1", "Flow run scheduled"
	one := qtScheduledRuns(fx, "d3", 0, 1, base)
	one[0].ID = uuid.Nil
	one[0].DeploymentID, one[0].WorkQueueName, one[0].DeploymentVersion, one[0].StateMessage = &dep, &wqName, &ver, &msg
	one[0].InfrastructureDocumentID = &fx.block.ID
	one[0].ExpectedStartTime = base.Add(time.Hour)
	one[0].JobVariables = map[string]any{"image": "x", "bad": math.NaN()}
	one[0].CreatedBy = map[string]any{"type": "SCHEDULE"}
	one[0].EmpiricalPolicy = map[string]any{"retries": nil}
	ids = qtInsertScheduled(t, ctx, db, one)
	if one[0].ID == uuid.Nil || len(ids) != 1 || ids[0] != one[0].ID {
		t.Fatalf("zero id: got ids %v, run id %s", ids, one[0].ID)
	}
	r := c.FlowRun.GetX(ctx, one[0].ID)
	if *r.DeploymentID != dep || *r.WorkQueueName != wqName || *r.DeploymentVersion != ver || *r.InfrastructureDocumentID != fx.block.ID ||
		!r.ExpectedStartTime.Equal(base.Add(time.Hour)) || !r.NextScheduledStartTime.Equal(base) ||
		!reflect.DeepEqual(r.JobVariables, map[string]any{"image": "x", "bad": nil}) ||
		!reflect.DeepEqual(r.CreatedBy, map[string]any{"type": "SCHEDULE"}) ||
		!reflect.DeepEqual(r.EmpiricalPolicy, map[string]any{"retries": nil}) {
		t.Errorf("optional columns: %+v", r)
	}
	if s := c.FlowRun.QueryCurrentState(r).OnlyX(ctx); s.Message == nil || *s.Message != msg {
		t.Errorf("state message = %v", s.Message)
	}

	// Invalid input is refused before anything is written.
	tx := qtMustBegin(t, ctx, db)
	if _, err := qtQueries(t, db).InsertScheduledFlowRuns(ctx, tx, []dialects.ScheduledFlowRunInsert{{Name: "x", NextScheduledStartTime: base}}); err == nil {
		t.Error("a run without a flow id was accepted")
	}
	tx.rollback()
	if ids, err := qtQueries(t, db).InsertScheduledFlowRuns(ctx, db.SQL, nil); err != nil || ids != nil {
		t.Errorf("empty batch: %v, %v", ids, err)
	}
}

// TestQueriesInsertScheduledFlowRunsLargeBatch needs several INSERT
// statements per batch (more rows than one statement takes).
func testQueriesInsertScheduledFlowRunsLargeBatch(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	fx := qtFixture(t, ctx, db.Client)
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	runs := qtScheduledRuns(fx, "big", 0, 2500, base)
	if ids := qtInsertScheduled(t, ctx, db, runs); len(ids) != 2500 {
		t.Fatalf("inserted %d, want 2500", len(ids))
	}
	qtCheckScheduled(t, ctx, db.Client, 2500)
	if ids := qtInsertScheduled(t, ctx, db, qtScheduledRuns(fx, "big", 0, 2500, base)); len(ids) != 0 {
		t.Fatalf("second call inserted %d, want 0", len(ids))
	}
}

// ---------------------------------------------------------------------------
// Notifications (§6.3, §6.4)

// qtNotif is a fixture for the notification tests: runs with states and
// policies.
type qtNotif struct {
	*qtFix
	c *ent.Client
}

func (n *qtNotif) run(t *testing.T, ctx context.Context, name string, tags ...string) *ent.FlowRun {
	t.Helper()
	return n.c.FlowRun.Create().SetName(name).SetFlowID(n.flow.ID).SetTags(append([]string{}, tags...)).
		SetParameters(map[string]any{"x": 1.0}).SaveX(ctx)
}

func (n *qtNotif) state(t *testing.T, ctx context.Context, r *ent.FlowRun, st types.StateType, name string, at time.Time) *ent.FlowRunState {
	t.Helper()
	return n.c.FlowRunState.Create().SetFlowRunID(r.ID).SetType(st).SetName(name).SetTimestamp(at).SetMessage("msg " + name).SaveX(ctx)
}

func (n *qtNotif) policy(t *testing.T, ctx context.Context, active bool, states, tags []string) *ent.FlowRunNotificationPolicy {
	t.Helper()
	return n.c.FlowRunNotificationPolicy.Create().SetBlockDocumentID(n.block.ID).SetIsActive(active).
		SetStateNames(states).SetTags(tags).SetMessageTemplate("{flow_run_name} is {flow_run_state_name}").SaveX(ctx)
}

// notificationRelease is the newest Prefect release with flow run
// notification policies: Prefect 3.4.0 turned them into automations and
// dropped their tables, so their query components are tested on a database
// pinned to 3.3.x.
const notificationRelease = "3.3"

func testQueriesQueueFlowRunNotifications(t *testing.T, db *testutil.DB) {
	at := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	cases := []struct {
		name     string
		policies [][2][]string // state names, tags
		inactive bool
		runTags  []string
		state    string
		want     int
	}{
		{name: "one match", policies: [][2][]string{{{"Completed"}, nil}}, state: "Completed", want: 1},
		{name: "state does not match", policies: [][2][]string{{{"Failed"}, nil}}, state: "Completed", want: 0},
		{name: "empty state names match any state", policies: [][2][]string{{{}, nil}}, state: "Whatever", want: 1},
		{name: "one of two policies matches", policies: [][2][]string{{{"Completed"}, nil}, {{"Failed"}, nil}}, state: "Completed", want: 1},
		{name: "tag mismatch", policies: [][2][]string{{{"Completed"}, {"db"}}}, runTags: []string{"ETL"}, state: "Completed", want: 0},
		{name: "overlapping tags", policies: [][2][]string{{{"Completed"}, {"ETL", "another tag"}}}, runTags: []string{"ETL"}, state: "Completed", want: 1},
		{name: "policy with tags, run without", policies: [][2][]string{{{}, {"ETL"}}}, state: "Completed", want: 0},
		{name: "two policies match", policies: [][2][]string{{{"Completed"}, nil}, {{}, nil}}, state: "Completed", want: 2},
		{name: "inactive policy", policies: [][2][]string{{{"Completed"}, nil}}, inactive: true, state: "Completed", want: 0},
		{name: "state name is not a substring match", policies: [][2][]string{{{"Complete"}, nil}}, state: "Completed", want: 0},
	}
	ctx := testutil.Context(t)
	qs := qtQueries(t, db)
	n := &qtNotif{qtFix: qtFixture(t, ctx, db.Client), c: db.Client}
	for k, c := range cases {
		db.Client.FlowRunNotificationQueue.Delete().ExecX(ctx)
		db.Client.FlowRunNotificationPolicy.Delete().ExecX(ctx)
		var policyIDs []uuid.UUID
		for _, p := range c.policies {
			states, tags := p[0], p[1]
			if tags == nil {
				tags = []string{}
			}
			policyIDs = append(policyIDs, n.policy(t, ctx, !c.inactive, states, tags).ID)
		}
		r := n.run(t, ctx, fmt.Sprintf("run-%d", k), c.runTags...)
		s := n.state(t, ctx, r, types.StateCompleted, c.state, at)
		before := time.Now().Add(-time.Second)
		got, err := qs.QueueFlowRunNotifications(ctx, db.SQL, dialects.RunEnteredState{FlowRunID: r.ID, StateID: s.ID, StateName: c.state, Tags: c.runTags})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != int64(c.want) {
			t.Errorf("%s: queued %d, want %d", c.name, got, c.want)
		}
		entries := db.Client.FlowRunNotificationQueue.Query().AllX(ctx)
		if len(entries) != c.want {
			t.Errorf("%s: %d queue rows, want %d", c.name, len(entries), c.want)
		}
		for _, e := range entries {
			if e.FlowRunStateID != s.ID || !slices.Contains(policyIDs, e.FlowRunNotificationPolicyID) ||
				e.Created.Before(before) || !e.Updated.Equal(e.Created) || e.ID == uuid.Nil {
				t.Errorf("%s: queue row %+v", c.name, e)
			}
		}
	}

	// Two state changes give two entries with different states.
	db.Client.FlowRunNotificationQueue.Delete().ExecX(ctx)
	db.Client.FlowRunNotificationPolicy.Delete().ExecX(ctx)
	n.policy(t, ctx, true, []string{}, []string{})
	r := n.run(t, ctx, "two-changes")
	for k, name := range []string{"Pending", "Running"} {
		s := n.state(t, ctx, r, types.StatePending, name, at.Add(time.Duration(k)*time.Second))
		if got, err := qs.QueueFlowRunNotifications(ctx, db.SQL, dialects.RunEnteredState{FlowRunID: r.ID, StateID: s.ID, StateName: name, Tags: nil}); err != nil || got != 1 {
			t.Fatalf("state %s: %d, %v", name, got, err)
		}
	}
	states := map[uuid.UUID]bool{}
	for _, e := range db.Client.FlowRunNotificationQueue.Query().AllX(ctx) {
		states[e.FlowRunStateID] = true
	}
	if len(states) != 2 {
		t.Errorf("two state changes: %d distinct states queued, want 2", len(states))
	}
}

// qtQueue adds a queue entry with the given updated time.
func qtQueue(t *testing.T, ctx context.Context, c *ent.Client, policy, state uuid.UUID, updated time.Time) uuid.UUID {
	t.Helper()
	return c.FlowRunNotificationQueue.Create().SetFlowRunNotificationPolicyID(policy).SetFlowRunStateID(state).
		SetCreated(updated).SetUpdated(updated).SaveX(ctx).ID
}

// qtTake runs GetFlowRunNotificationsFromQueue in a committed transaction.
func qtTake(t *testing.T, ctx context.Context, db *testutil.DB, limit int) []dialects.QueuedNotification {
	t.Helper()
	tx := qtMustBegin(t, ctx, db)
	got, err := qtQueries(t, db).GetFlowRunNotificationsFromQueue(ctx, tx, limit)
	if err != nil {
		t.Fatalf("take %d: %v", limit, err)
	}
	if err := tx.commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	return got
}

func testQueriesGetFlowRunNotificationsFromQueue(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	c := db.Client
	n := &qtNotif{qtFix: qtFixture(t, ctx, c), c: c}
	base := time.Date(2024, 2, 3, 4, 5, 6, 123456000, time.UTC)
	pol := n.policy(t, ctx, true, []string{}, []string{})
	r := n.run(t, ctx, "the-run")
	var states []*ent.FlowRunState
	for k := range 3 {
		states = append(states, n.state(t, ctx, r, types.StateCompleted, fmt.Sprintf("Completed-%d", k), base.Add(time.Duration(k)*time.Second)))
	}
	q0 := qtQueue(t, ctx, c, pol.ID, states[0].ID, base)
	q1 := qtQueue(t, ctx, c, pol.ID, states[1].ID, base.Add(time.Minute))
	q2 := qtQueue(t, ctx, c, pol.ID, states[2].ID, base.Add(2*time.Minute))

	// limit 0 takes nothing.
	if got := qtTake(t, ctx, db, 0); len(got) != 0 {
		t.Fatalf("limit 0 returned %d", len(got))
	}
	// Oldest first, with every field.
	got := qtTake(t, ctx, db, 1)
	if len(got) != 1 {
		t.Fatalf("limit 1 returned %d", len(got))
	}
	tmpl := "{flow_run_name} is {flow_run_state_name}"
	msg := "msg Completed-0"
	want := dialects.QueuedNotification{
		QueueID: q0, FlowRunNotificationPolicyID: pol.ID, FlowRunNotificationPolicyMessageTemplate: &tmpl,
		BlockDocumentID: n.block.ID, FlowID: n.flow.ID, FlowName: "qt-flow", FlowRunID: r.ID, FlowRunName: "the-run",
		FlowRunParameters: map[string]any{"x": 1.0}, FlowRunStateType: types.StateCompleted,
		FlowRunStateName: "Completed-0", FlowRunStateTimestamp: base, FlowRunStateMessage: &msg,
	}
	if !reflect.DeepEqual(got[0], want) {
		t.Errorf("notification =\n%+v\nwant\n%+v", got[0], want)
	}
	if c.FlowRunNotificationQueue.Query().Where(flowrunnotificationqueue.ID(q0)).ExistX(ctx) {
		t.Error("taken entry still queued")
	}
	// limit larger than the queue: the rest, in order; then empty.
	got = qtTake(t, ctx, db, 10)
	if len(got) != 2 || got[0].QueueID != q1 || got[1].QueueID != q2 {
		t.Fatalf("rest = %v", qtQueueIDs(got))
	}
	if got := qtTake(t, ctx, db, 1); len(got) != 0 {
		t.Fatalf("empty queue returned %d", len(got))
	}

	// A rollback puts the entries back.
	q3 := qtQueue(t, ctx, c, pol.ID, states[0].ID, base)
	tx := qtMustBegin(t, ctx, db)
	if got, err := qtQueries(t, db).GetFlowRunNotificationsFromQueue(ctx, tx, 5); err != nil || len(got) != 1 {
		t.Fatalf("take in rolled back tx: %d, %v", len(got), err)
	}
	tx.rollback()
	if got := qtTake(t, ctx, db, 5); len(got) != 1 || got[0].QueueID != q3 {
		t.Fatalf("after rollback: %v", qtQueueIDs(got))
	}
}

func qtQueueIDs(ns []dialects.QueuedNotification) []uuid.UUID {
	out := make([]uuid.UUID, len(ns))
	for k, n := range ns {
		out[k] = n.QueueID
	}
	return out
}

func testQueriesNotificationOrphans(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	c := db.Client
	n := &qtNotif{qtFix: qtFixture(t, ctx, c), c: c}
	base := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	pol := n.policy(t, ctx, true, []string{}, []string{})
	goneFlow := c.Flow.Create().SetName("gone-flow").SaveX(ctx)
	r := n.run(t, ctx, "valid")
	good := n.state(t, ctx, r, types.StateCompleted, "Completed", base)
	good2 := n.state(t, ctx, r, types.StateFailed, "Failed", base.Add(time.Second))

	goneRun := n.run(t, ctx, "gone-run")
	sGoneRun := n.state(t, ctx, goneRun, types.StateCompleted, "Completed", base)
	rGoneFlow := c.FlowRun.Create().SetName("run-of-gone-flow").SetFlowID(goneFlow.ID).SaveX(ctx)
	sGoneFlow := n.state(t, ctx, rGoneFlow, types.StateCompleted, "Completed", base)
	goneState := n.state(t, ctx, r, types.StatePending, "Pending", base.Add(2*time.Second))
	gonePolicy := n.policy(t, ctx, true, []string{}, []string{})

	// Orphans are the oldest entries; valid ones come after them.
	orphans := []uuid.UUID{
		qtQueue(t, ctx, c, gonePolicy.ID, good.ID, base),                  // policy deleted
		qtQueue(t, ctx, c, pol.ID, goneState.ID, base.Add(1*time.Second)), // state deleted
		qtQueue(t, ctx, c, pol.ID, sGoneRun.ID, base.Add(2*time.Second)),  // run deleted
		qtQueue(t, ctx, c, pol.ID, sGoneFlow.ID, base.Add(3*time.Second)), // flow deleted
		qtQueue(t, ctx, c, pol.ID, uuid.New(), base.Add(4*time.Second)),   // state never existed
		qtQueue(t, ctx, c, uuid.New(), good.ID, base.Add(5*time.Second)),  // policy never existed
	}
	valid1 := qtQueue(t, ctx, c, pol.ID, good.ID, base.Add(time.Minute))
	valid2 := qtQueue(t, ctx, c, pol.ID, good2.ID, base.Add(2*time.Minute))
	c.FlowRunNotificationPolicy.DeleteOneID(gonePolicy.ID).ExecX(ctx)
	c.FlowRun.UpdateOneID(r.ID).ClearStateID().ExecX(ctx)
	c.FlowRunState.DeleteOneID(goneState.ID).ExecX(ctx)
	c.FlowRun.DeleteOneID(goneRun.ID).ExecX(ctx)
	c.Flow.DeleteOneID(goneFlow.ID).ExecX(ctx)
	if c.FlowRunState.Query().Where(flowrunstate.ID(sGoneFlow.ID)).ExistX(ctx) ||
		c.FlowRun.Query().Where(flowrun.ID(rGoneFlow.ID)).ExistX(ctx) {
		t.Fatal("cascade did not remove the gone flow's run and state")
	}

	// limit 1 with six orphans first still returns the valid entry, and
	// the orphans met on the way are deleted.
	got := qtTake(t, ctx, db, 1)
	if len(got) != 1 || got[0].QueueID != valid1 {
		t.Fatalf("limit 1 = %v, want [%s]", qtQueueIDs(got), valid1)
	}
	left := c.FlowRunNotificationQueue.Query().IDsX(ctx)
	if !slices.Equal(left, []uuid.UUID{valid2}) {
		t.Fatalf("left in queue = %v, want only %s (orphans %v deleted)", left, valid2, orphans)
	}

	// Only orphans: nothing returned, all deleted.
	c.FlowRunNotificationQueue.Delete().ExecX(ctx)
	for k := range 3 {
		qtQueue(t, ctx, c, uuid.New(), good.ID, base.Add(time.Duration(k)*time.Second))
	}
	if got := qtTake(t, ctx, db, 2); len(got) != 0 {
		t.Fatalf("orphans returned: %v", qtQueueIDs(got))
	}
	if left := c.FlowRunNotificationQueue.Query().CountX(ctx); left != 0 {
		t.Fatalf("%d orphans left", left)
	}
}

func testQueriesNotificationsExactlyOnce(t *testing.T, db *testutil.DB) {
	const (
		entries = 200
		takers  = 8
	)
	ctx := testutil.Context(t)
	c := db.Client
	n := &qtNotif{qtFix: qtFixture(t, ctx, c), c: c}
	base := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	pol := n.policy(t, ctx, true, []string{}, []string{})
	r := n.run(t, ctx, "busy")
	want := map[uuid.UUID]bool{}
	for k := range entries {
		s := n.state(t, ctx, r, types.StateRunning, fmt.Sprintf("s%d", k), base.Add(time.Duration(k)*time.Millisecond))
		want[qtQueue(t, ctx, c, pol.ID, s.ID, base.Add(time.Duration(k%17)*time.Second))] = true
	}

	qs := qtQueries(t, db)
	var (
		mu        sync.Mutex
		delivered []uuid.UUID
		wg        sync.WaitGroup
		errs      = make(chan error, takers)
	)
	for range takers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				tx, err := qtBegin(ctx, db)
				if err != nil {
					errs <- err
					return
				}
				got, err := qs.GetFlowRunNotificationsFromQueue(ctx, tx, 1)
				if err != nil {
					tx.rollback()
					errs <- err
					return
				}
				if len(got) > 1 {
					tx.rollback()
					errs <- fmt.Errorf("limit 1 returned %d", len(got))
					return
				}
				if err := tx.commit(); err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				delivered = append(delivered, got[0].QueueID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("taker: %v", err)
	}
	seen := map[uuid.UUID]int{}
	for _, id := range delivered {
		seen[id]++
		if seen[id] == 2 {
			t.Errorf("entry %s delivered twice", id)
		}
		if !want[id] {
			t.Errorf("unknown entry %s delivered", id)
		}
	}
	if len(seen) != entries || len(delivered) != entries {
		t.Errorf("delivered %d entries (%d distinct), want %d", len(delivered), len(seen), entries)
	}
	if left := c.FlowRunNotificationQueue.Query().CountX(ctx); left != 0 {
		t.Errorf("%d entries left in the queue", left)
	}
}

// ---------------------------------------------------------------------------
// Configuration cache (§6.7)

func testQueriesConfigurationCache(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	c := db.Client
	cache := dialects.NewConfigurationCache()

	// A miss is not cached: the value written afterwards is seen.
	if v, ok, err := cache.ReadConfigurationValue(ctx, db.SQL, "ENCRYPTION_KEY"); err != nil || ok || v != nil {
		t.Fatalf("missing key: %s, %v, %v", v, ok, err)
	}
	if cache.Len() != 0 {
		t.Fatalf("a miss was cached")
	}
	row := c.Configuration.Create().SetKey("ENCRYPTION_KEY").SetValue(json.RawMessage(`{"fernet_key": "abc"}`)).SaveX(ctx)
	v, ok, err := cache.ReadConfigurationValue(ctx, db.SQL, "ENCRYPTION_KEY")
	if err != nil || !ok {
		t.Fatalf("read after write: %v, %v", ok, err)
	}
	var got map[string]string
	if err := json.Unmarshal(v, &got); err != nil || got["fernet_key"] != "abc" {
		t.Fatalf("value %s (%v)", v, err)
	}

	// A hit does not touch the database.
	v[0] = 'X' // the caller's copy
	v2, ok, err := cache.ReadConfigurationValue(ctx, nil, "ENCRYPTION_KEY")
	if err != nil || !ok || !json.Valid(v2) {
		t.Fatalf("hit without a database: %s, %v, %v", v2, ok, err)
	}
	// Without a database a miss is an error, not a silent "missing".
	if _, _, err := cache.ReadConfigurationValue(ctx, nil, "other"); err == nil {
		t.Error("miss without a database gave no error")
	}

	// A write is not seen until the key is cleared.
	c.Configuration.UpdateOne(row).SetValue(json.RawMessage(`{"fernet_key": "def"}`)).ExecX(ctx)
	v, _, _ = cache.ReadConfigurationValue(ctx, db.SQL, "ENCRYPTION_KEY")
	if err := json.Unmarshal(v, &got); err != nil || got["fernet_key"] != "abc" {
		t.Fatalf("cached value %s changed before clear", v)
	}
	cache.ClearConfigurationValueCacheForKey("ENCRYPTION_KEY")
	cache.ClearConfigurationValueCacheForKey("never-cached") // not an error
	v, _, _ = cache.ReadConfigurationValue(ctx, db.SQL, "ENCRYPTION_KEY")
	if err := json.Unmarshal(v, &got); err != nil || got["fernet_key"] != "def" {
		t.Fatalf("after clear: %s", v)
	}

	// Inside a transaction, through the dialect's usual Querier.
	tx := qtMustBegin(t, ctx, db)
	cache.ClearConfigurationValueCacheForKey("ENCRYPTION_KEY")
	if _, ok, err := cache.ReadConfigurationValue(ctx, tx, "ENCRYPTION_KEY"); err != nil || !ok {
		t.Fatalf("read in a transaction: %v, %v", ok, err)
	}
	if err := tx.commit(); err != nil {
		t.Fatal(err)
	}
}

func testQueriesConfigurationCacheLimits(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	for k := range 101 {
		db.Client.Configuration.Create().SetKey(fmt.Sprintf("k%03d", k)).SetValue(json.RawMessage(fmt.Sprintf(`{"n": %d}`, k))).ExecX(ctx)
	}
	var (
		mu  sync.Mutex
		now = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	cache := dialects.NewConfigurationCacheWithOptions(dialects.ConfigurationCacheOptions{Now: clock})
	read := func(q dialects.Querier, key string) (json.RawMessage, bool, error) {
		return cache.ReadConfigurationValue(ctx, q, key)
	}

	// TTL: served for an hour, then read again.
	if _, ok, err := read(db.SQL, "k000"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	advance(59 * time.Minute)
	if _, ok, err := read(nil, "k000"); !ok || err != nil {
		t.Fatalf("before the TTL: %v, %v", ok, err)
	}
	advance(time.Minute)
	if _, _, err := read(nil, "k000"); err == nil {
		t.Fatal("expired value still served without the database")
	}
	db.Client.Configuration.Update().Where(configuration.Key("k000")).SetValue(json.RawMessage(`{"n": "new"}`)).ExecX(ctx)
	v, ok, err := read(db.SQL, "k000")
	var fresh struct{ N string }
	if !ok || err != nil || json.Unmarshal(v, &fresh) != nil || fresh.N != "new" {
		t.Fatalf("after the TTL the database was not read: %s, %v, %v", v, ok, err)
	}

	// Size: 100 keys at most; the least recently used goes first.
	for k := range 100 {
		if _, ok, err := read(db.SQL, fmt.Sprintf("k%03d", k)); !ok || err != nil {
			t.Fatal(k, ok, err)
		}
	}
	if cache.Len() != 100 {
		t.Fatalf("%d keys cached, want 100", cache.Len())
	}
	if _, ok, err := read(nil, "k000"); !ok || err != nil { // k000 is now the most recent
		t.Fatal(ok, err)
	}
	if _, ok, err := read(db.SQL, "k100"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if cache.Len() != 100 {
		t.Fatalf("%d keys cached after the 101st, want 100", cache.Len())
	}
	if _, _, err := read(nil, "k001"); err == nil {
		t.Error("least recently used key k001 was not evicted")
	}
	for _, k := range []string{"k000", "k002", "k099", "k100"} {
		if _, ok, err := read(nil, k); !ok || err != nil {
			t.Errorf("%s evicted: %v", k, err)
		}
	}
	// Expired keys are dropped before live ones.
	advance(30 * time.Minute)
	cache.ClearConfigurationValueCacheForKey("k002")
	if _, ok, err := read(db.SQL, "k002"); !ok || err != nil { // fresh for another hour
		t.Fatal(ok, err)
	}
	advance(45 * time.Minute) // everything but k002 expired
	if _, ok, err := read(db.SQL, "k001"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, ok, err := read(nil, "k002"); !ok || err != nil {
		t.Errorf("live key evicted before expired ones: %v", err)
	}
}

func testQueriesConfigurationCacheConcurrent(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	for k := range 20 {
		db.Client.Configuration.Create().SetKey(fmt.Sprintf("c%d", k)).SetValue(json.RawMessage(fmt.Sprintf(`{"n": %d}`, k))).ExecX(ctx)
	}
	cache := dialects.NewConfigurationCacheWithOptions(dialects.ConfigurationCacheOptions{MaxKeys: 8})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				key := fmt.Sprintf("c%d", (g*7+i)%20)
				if i%13 == 0 {
					cache.ClearConfigurationValueCacheForKey(key)
					continue
				}
				v, ok, err := cache.ReadConfigurationValue(ctx, db.SQL, key)
				if err != nil || !ok {
					errs <- fmt.Errorf("%s: %v, %v", key, ok, err)
					return
				}
				var got struct{ N int }
				if err := json.Unmarshal(v, &got); err != nil || fmt.Sprintf("c%d", got.N) != key {
					errs <- fmt.Errorf("%s: value %s", key, v)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := cache.Len(); n > 8 {
		t.Errorf("%d keys cached, max 8", n)
	}
}
