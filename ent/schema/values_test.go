package schema_test

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/flow"
	"github.com/prefectdb/prefectdb/ent/flowrun"
	"github.com/prefectdb/prefectdb/ent/flowrunstate"
	"github.com/prefectdb/prefectdb/ent/workpool"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// TestTimestampsRoundTripAndOrder writes times in several zones with
// nanoseconds and reads them back as the same instants in UTC, truncated to
// microseconds; ORDER BY and comparisons against bound times follow time
// order on both databases, whatever zone the values were written in.
func TestTimestampsRoundTripAndOrder(t *testing.T) {
	testutil.ForEachDialect(t, func(t *testing.T, db *testutil.DB) {
		ctx := testutil.Context(t)
		f := seed(t, db, "ts")
		zones := []*time.Location{time.UTC, time.FixedZone("IST", 5*3600+1800), time.FixedZone("PST", -8*3600), time.FixedZone("NPT", 5*3600+2700)}
		base := time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC)
		var want []time.Time
		for i := 0; i < 12; i++ {
			// Values close together but written in different zones: their
			// local wall clocks sort differently from their instants.
			instant := base.Add(time.Duration(i*37-200) * time.Minute).Add(time.Duration(i) * 1234567)
			in := instant.In(zones[i%len(zones)])
			r, err := db.Client.FlowRun.Create().SetName("ts").SetFlow(f.Flow).SetExpectedStartTime(in).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.Client.FlowRun.Get(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			exp := instant.Truncate(time.Microsecond)
			if !got.ExpectedStartTime.Equal(exp) || got.ExpectedStartTime.Location().String() != "UTC" {
				t.Fatalf("wrote %v, read %v (%v); want %v in UTC", in, got.ExpectedStartTime, got.ExpectedStartTime.Location(), exp)
			}
			want = append(want, exp)
		}
		slices.SortFunc(want, func(a, b time.Time) int { return a.Compare(b) })
		runs, err := db.Client.FlowRun.Query().Where(flowrun.Name("ts")).Order(ent.Asc(flowrun.FieldExpectedStartTime)).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range runs {
			if !r.ExpectedStartTime.Equal(want[i]) {
				t.Fatalf("ORDER BY position %d: %v, want %v", i, r.ExpectedStartTime, want[i])
			}
		}
		pivot := want[6].In(time.FixedZone("X", -11*3600))
		n, err := db.Client.FlowRun.Query().Where(flowrun.Name("ts"), flowrun.ExpectedStartTimeGT(pivot)).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 5 {
			t.Fatalf("runs after %v: %d, want 5", pivot, n)
		}
	})
}

// TestValuesRoundTrip covers JSON (objects, lists, raw values), UUIDs that
// look like numbers, intervals (sub-second, negative, days) and enums.
func TestValuesRoundTrip(t *testing.T) {
	testutil.ForEachDialect(t, func(t *testing.T, db *testutil.DB) {
		ctx := testutil.Context(t)
		f := seed(t, db, "values")
		params := map[string]any{
			"unicode": "Grüße, 世界 ✓", "quote": `it's "quoted"`, "nested": map[string]any{"list": []any{1.0, "two", nil, true}},
			"big": 1e300, "neg": -0.5, "empty": map[string]any{}, "null": nil,
		}
		intervals := []time.Duration{0, time.Microsecond, 3*time.Second + 500*time.Millisecond, -3 * time.Second,
			26*time.Hour + 3*time.Minute + 4*time.Second + 5*time.Microsecond, 100 * 24 * time.Hour, -(49*time.Hour + time.Microsecond)}
		for i, d := range intervals {
			id := uuid.MustParse("12345678-1234-4123-8123-0000000000e" + string(rune('0'+i)))
			r, err := db.Client.FlowRun.Create().SetID(id).SetName("values").SetFlow(f.Flow).SetParameters(params).
				SetTags([]string{"a", "b", "ü"}).SetTotalRunTime(types.Interval(d)).SetStateType(types.StateCancelling).
				Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.Client.FlowRun.Query().Where(flowrun.ID(id)).Only(ctx)
			if err != nil {
				t.Fatalf("query by uuid %s: %v", id, err)
			}
			if got.ID != r.ID || time.Duration(got.TotalRunTime) != d {
				t.Fatalf("interval %v read back as %v", d, time.Duration(got.TotalRunTime))
			}
			if !reflect.DeepEqual(got.Parameters, params) || !slices.Equal(got.Tags, []string{"a", "b", "ü"}) {
				t.Fatalf("json read back as %#v / %v", got.Parameters, got.Tags)
			}
			if got.StateType == nil || *got.StateType != types.StateCancelling {
				t.Fatalf("state type read back as %v", got.StateType)
			}
		}
		for _, raw := range []string{`"value2"`, `"\"value2\""`, `[1,2,3]`, `{"a":{"b":null}}`, `42`, `null`} {
			v, err := db.Client.Variable.Create().SetName("var " + raw).SetValue(json.RawMessage(raw)).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, err := db.Client.Variable.Get(ctx, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			if err := json.Unmarshal(got.Value, &a); err != nil {
				t.Fatalf("stored %s, read %s: %v", raw, got.Value, err)
			}
			_ = json.Unmarshal([]byte(raw), &b)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("stored %s, read %s", raw, got.Value)
			}
		}
		// JSON is stored as text, as Prefect stores it (on SQLite, not as a
		// BLOB), so the database's own JSON functions work on it.
		var viaSQL int
		q0, args0 := entsql.Dialect(db.Dialect.EntDialect()).Select(entsql.Count("*")).From(entsql.Table("flow_run")).
			Where(entsql.And(entsql.EQ("name", "values"), entsql.P(func(b *entsql.Builder) {
				b.WriteString("CAST(parameters AS TEXT) LIKE ").Arg("%Grüße%")
			}))).Query()
		if err := db.SQL.QueryRowContext(ctx, q0, args0...).Scan(&viaSQL); err != nil || viaSQL != len(intervals) {
			t.Fatalf("rows whose JSON text holds the value: %d, %v; want %d", viaSQL, err, len(intervals))
		}
		// A variable without a value is SQL NULL, not JSON null.
		v, err := db.Client.Variable.Create().SetName("no value").Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var nulls int
		q, args := entsql.Dialect(db.Dialect.EntDialect()).Select(entsql.Count("*")).From(entsql.Table("variable")).
			Where(entsql.And(entsql.EQ("id", v.ID), entsql.IsNull("value"))).Query()
		if err := db.SQL.QueryRowContext(ctx, q, args...).Scan(&nulls); err != nil || nulls != 1 {
			t.Fatalf("rows with value IS NULL = %d, %v; want 1", nulls, err)
		}
	})
}

// TestNonFiniteNumbersInJSONAreStoredAsNull: NaN and infinities, which JSON
// cannot hold, are stored as null (Prefect's rule), and the caller's map is
// left as it was.
func TestNonFiniteNumbersInJSONAreStoredAsNull(t *testing.T) {
	testutil.ForEachDialect(t, func(t *testing.T, db *testutil.DB) {
		ctx := testutil.Context(t)
		f := seed(t, db, "nan")
		params := map[string]any{"nan": math.NaN(), "list": []any{-1.0, math.Inf(1), 1.0, math.Inf(-1)},
			"nested": map[string]any{"x": math.NaN(), "ok": 2.5}}
		r, err := db.Client.FlowRun.Create().SetName("nan").SetFlow(f.Flow).SetParameters(params).Save(ctx)
		if err != nil {
			t.Fatalf("create with NaN parameters: %v", err)
		}
		got, err := db.Client.FlowRun.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"nan": nil, "list": []any{-1.0, nil, 1.0, nil}, "nested": map[string]any{"x": nil, "ok": 2.5}}
		if !reflect.DeepEqual(got.Parameters, want) {
			t.Fatalf("stored %#v, want %#v", got.Parameters, want)
		}
		if !math.IsNaN(params["nan"].(float64)) {
			t.Fatal("the caller's map was modified")
		}
		if err := db.Client.FlowRun.UpdateOneID(r.ID).SetContext(map[string]any{"inf": math.Inf(1)}).Exec(ctx); err != nil {
			t.Fatalf("update with an infinity: %v", err)
		}
	})
}

// TestServerDefaults inserts rows with plain SQL that names only the
// required columns, the way another writer (Prefect itself) may, and reads
// them through the client: the database fills in ids, timestamps, intervals,
// JSON and enum defaults.
func TestServerDefaults(t *testing.T) {
	testutil.ForEachDialect(t, func(t *testing.T, db *testutil.DB) {
		ctx := testutil.Context(t)
		d := db.Dialect.EntDialect()
		before := time.Now().UTC().Add(-time.Second)
		q, args := entsql.Dialect(d).Insert("flow").Columns("name").Values("raw flow").Query()
		if _, err := db.SQL.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
		fl, err := db.Client.Flow.Query().Where(flow.Name("raw flow")).Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fl.ID.Version() != 4 || fl.ID.Variant() != uuid.RFC4122 {
			t.Fatalf("server-generated id %s is not a version 4 UUID", fl.ID)
		}
		if fl.Created.Before(before) || fl.Updated.Before(before) || fl.Tags == nil || len(fl.Tags) != 0 {
			t.Fatalf("defaults: created %v updated %v tags %#v", fl.Created, fl.Updated, fl.Tags)
		}
		q, args = entsql.Dialect(d).Insert("flow_run").Columns("name", "flow_id").Values("raw run", fl.ID).Query()
		if _, err := db.SQL.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
		r, err := db.Client.FlowRun.Query().Where(flowrun.Name("raw run")).Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.TotalRunTime != 0 || r.RunCount != 0 || r.AutoScheduled || r.Parameters == nil || r.JobVariables == nil || r.StateType != nil {
			t.Fatalf("flow run defaults: %+v", r)
		}
		q, args = entsql.Dialect(d).Insert("work_pool").Columns("name", "type").Values("raw pool", "process").Query()
		if _, err := db.SQL.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
		p, err := db.Client.WorkPool.Query().Where(workpool.Name("raw pool")).Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != types.WorkPoolNotReady || p.IsPaused {
			t.Fatalf("work pool defaults: status %q paused %v", p.Status, p.IsPaused)
		}
	})
}

// TestEdgeTraversals walks the graph: a flow's runs' current states, a run's
// state history, a pool's queues' runs, subflows, blocks, automations,
// events, and references that Prefect keeps without a foreign key.
func TestEdgeTraversals(t *testing.T) {
	testutil.ForEachDialect(t, func(t *testing.T, db *testutil.DB) {
		ctx := testutil.Context(t)
		f := seed(t, db, "edges")
		c := db.Client
		states, err := c.Flow.Query().Where(flow.ID(f.Flow.ID)).QueryFlowRuns().QueryCurrentState().All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(states) != 1 || states[0].ID != f.FlowRunStates[2].ID || states[0].Type != types.StateRunning {
			t.Fatalf("flow's runs' current states = %v", states)
		}
		history, err := f.FlowRun.QueryStates().Order(ent.Asc(flowrunstate.FieldTimestamp)).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range history {
			names = append(names, s.Name)
		}
		if !slices.Equal(names, []string{"SCHEDULED", "PENDING", "RUNNING"}) {
			t.Fatalf("state history = %v", names)
		}
		runs, err := c.WorkPool.Query().Where(workpool.ID(f.WorkPool.ID)).QueryWorkQueues().QueryFlowRuns().All(ctx)
		if err != nil || len(runs) != 1 || runs[0].ID != f.FlowRun.ID {
			t.Fatalf("pool's queues' runs = %v, %v", runs, err)
		}
		if dq, err := f.WorkPool.QueryDefaultQueue().Only(ctx); err != nil || dq.ID != f.WorkQueue.ID {
			t.Fatalf("default queue = %v, %v", dq, err)
		}
		if sub, err := f.TaskRun.QuerySubflowRun().Only(ctx); err != nil || sub.ID != f.Subflow.ID {
			t.Fatalf("task run's subflow = %v, %v", sub, err)
		}
		if parent, err := f.Subflow.QueryParentTaskRun().QueryFlowRun().Only(ctx); err != nil || parent.ID != f.FlowRun.ID {
			t.Fatalf("subflow's parent run = %v, %v", parent, err)
		}
		if n, err := f.FlowRun.QueryLogs().Count(ctx); err != nil || n != 1 {
			t.Fatalf("run's logs (no foreign key) = %d, %v", n, err)
		}
		if n, err := f.FlowRun.QueryArtifacts().Count(ctx); err != nil || n != 1 {
			t.Fatalf("run's artifacts (no foreign key) = %d, %v", n, err)
		}
		if latest, err := f.ArtifactCollection.QueryLatest().Only(ctx); err != nil || latest.ID != f.Artifact.ID {
			t.Fatalf("collection's latest artifact = %v, %v", latest, err)
		}
		// Three states share one result artifact: the traversal returns it
		// once (on PostgreSQL without SELECT DISTINCT over its json columns).
		arts, err := f.FlowRun.QueryStates().QueryResultArtifact().All(ctx)
		if err != nil || len(arts) != 1 || arts[0].ID != f.Artifact.ID {
			t.Fatalf("states' result artifacts = %v, %v; want the one artifact once", arts, err)
		}
		if n, err := f.FlowRun.QueryStates().QueryResultArtifact().Count(ctx); err != nil || n != 1 {
			t.Fatalf("count of states' result artifacts = %d, %v", n, err)
		}
		if only, err := f.FlowRun.QueryStates().QueryResultArtifact().Only(ctx); err != nil || only.ID != f.Artifact.ID {
			t.Fatalf("only result artifact = %v, %v", only, err)
		}
		if n, err := f.BlockType.QueryBlockSchemas().QueryBlockDocuments().Count(ctx); err != nil || n != 2 {
			t.Fatalf("block type's schemas' documents = %d, %v", n, err)
		}
		if ref, err := f.BlockDocument.QueryReferencesAsParent().QueryReferenceBlockDocument().Only(ctx); err != nil || ref.ID != f.ChildBlockDocument.ID {
			t.Fatalf("block document's child = %v, %v", ref, err)
		}
		if n, err := f.Automation.QueryBuckets().Count(ctx); err != nil || n != 1 {
			t.Fatalf("automation's buckets = %d, %v", n, err)
		}
		if n, err := f.Automation.QueryRelatedResources().Count(ctx); err != nil || n != 1 {
			t.Fatalf("automation's related resources = %d, %v", n, err)
		}
		if n, err := f.Automation.QueryChildFirings().Count(ctx); err != nil || n != 1 {
			t.Fatalf("automation's child firings = %d, %v", n, err)
		}
		if n, err := f.Event.QueryResources().Count(ctx); err != nil || n != 1 {
			t.Fatalf("event's resources = %d, %v", n, err)
		}
		// References Prefect keeps without a foreign key.
		if r, err := f.ArtifactCollection.QueryFlowRun().Only(ctx); err != nil || r.ID != f.FlowRun.ID {
			t.Fatalf("collection's flow run = %v, %v", r, err)
		}
		next, err := c.Event.Create().SetOccurred(f.Event.Occurred).SetEvent("prefect.flow-run.Completed").
			SetResourceID(f.Event.ResourceID).SetResource(f.Event.Resource).SetPayload(f.Event.Payload).
			SetReceived(f.Event.Received).SetRecorded(f.Event.Recorded).SetFollowsEvent(f.Event).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if prev, err := next.QueryFollowsEvent().Only(ctx); err != nil || prev.ID != f.Event.ID {
			t.Fatalf("event's preceding event = %v, %v", prev, err)
		}
		if err := c.WorkPool.UpdateOneID(f.WorkPool.ID).SetLastStatusEvent(next).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if ev, err := f.WorkPool.QueryLastStatusEvent().Only(ctx); err != nil || ev.ID != next.ID {
			t.Fatalf("pool's last status event = %v, %v", ev, err)
		}
		// deployment_version (Prefect 3.2.15 and later): both directions of
		// the versions edge, and the current version Prefect keeps in
		// deployment.version_id without a foreign key.
		if v, err := f.Deployment.QueryCurrentVersion().Only(ctx); err != nil || v.ID != f.DeploymentVersion.ID {
			t.Fatalf("deployment's current version = %v, %v", v, err)
		}
		if n, err := f.Deployment.QueryVersions().Count(ctx); err != nil || n != 1 {
			t.Fatalf("deployment's versions = %d, %v", n, err)
		}
		if d, err := f.DeploymentVersion.QueryDeployment().Only(ctx); err != nil || d.ID != f.Deployment.ID {
			t.Fatalf("version's deployment = %v, %v", d, err)
		}
		if q, err := f.DeploymentVersion.QueryWorkQueue().Only(ctx); err != nil || q.ID != f.WorkQueue.ID {
			t.Fatalf("version's work queue = %v, %v", q, err)
		}
		if err := c.Deployment.UpdateOneID(f.Deployment.ID).SetGlobalConcurrencyLimit(f.ConcurrencyLimitV2).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := f.ConcurrencyLimitV2.QueryDeployments().Count(ctx); err != nil || n != 1 {
			t.Fatalf("limit's deployments = %d, %v", n, err)
		}
		// Eager loading of several edges at once.
		r, err := c.FlowRun.Query().Where(flowrun.ID(f.FlowRun.ID)).WithFlow().WithCurrentState().WithTaskRuns().
			WithWorkQueue(func(q *ent.WorkQueueQuery) { q.WithWorkPool() }).Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Edges.Flow.ID != f.Flow.ID || r.Edges.CurrentState.ID != f.FlowRunStates[2].ID || len(r.Edges.TaskRuns) != 1 ||
			r.Edges.WorkQueue.Edges.WorkPool.ID != f.WorkPool.ID {
			t.Fatalf("eager-loaded edges = %+v", r.Edges)
		}
	})
}
