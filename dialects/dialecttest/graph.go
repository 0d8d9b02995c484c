package dialecttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// The tests in this file port Prefect 3.0's
// tests/server/orchestration/api/test_flow_run_graph_v2.py (the cases that
// reach the database) to GraphQueries.FlowRunGraph, and add the decisions
// prefectdb made on top: one order of parents, children and encapsulating
// lists on both databases (the related node's start time, then id), each id
// once, decoded Go values on both.

// graphEnv is one test database with a flow and the graph queries.
type graphEnv struct {
	t    *testing.T
	ctx  context.Context
	db   *testutil.DB
	q    dialects.GraphQueries
	c    *ent.Client
	flow *ent.Flow
	// base is Prefect's base_time: five minutes before the test started,
	// in UTC and to the microsecond.
	base time.Time
	// names maps ids to names in failure messages.
	names map[uuid.UUID]string
}

// newGraphEnv type-asserts the dialect's graph queries and creates a flow.
func newGraphEnv(t *testing.T, db *testutil.DB) *graphEnv {
	t.Helper()
	q, ok := db.Dialect.(dialects.GraphQueries)
	if !ok {
		t.Fatalf("dialect %T does not implement dialects.GraphQueries", db.Dialect)
	}
	e := &graphEnv{
		t: t, ctx: testutil.Context(t), db: db, q: q, c: db.Client,
		base:  time.Now().UTC().Truncate(time.Microsecond).Add(-5 * time.Minute),
		names: map[uuid.UUID]string{},
	}
	f, err := e.c.Flow.Create().SetName("graph-flow").Save(e.ctx)
	if err != nil {
		t.Fatalf("create flow: %v", err)
	}
	e.flow = f
	return e
}

// at returns base + d.
func (e *graphEnv) at(d time.Duration) time.Time { return e.base.Add(d) }

// atp returns a pointer to base + d.
func (e *graphEnv) atp(d time.Duration) *time.Time { t := e.at(d); return &t }

// graphRunSpec describes a flow run to create.
type graphRunSpec struct {
	name                 string
	expected, start, end *time.Time
	parentTaskRunID      *uuid.UUID
	stateType            types.StateType
}

// flowRun creates a flow run of e.flow.
func (e *graphEnv) flowRun(s graphRunSpec) *ent.FlowRun {
	e.t.Helper()
	if s.name == "" {
		s.name = "flow-run"
	}
	if s.stateType == "" {
		s.stateType = types.StateCompleted
	}
	fr, err := e.c.FlowRun.Create().SetName(s.name).SetFlowID(e.flow.ID).
		SetStateType(s.stateType).SetStateName("Irrelevant").
		SetNillableExpectedStartTime(s.expected).SetNillableStartTime(s.start).SetNillableEndTime(s.end).
		SetNillableParentTaskRunID(s.parentTaskRunID).
		Save(e.ctx)
	if err != nil {
		e.t.Fatalf("create flow run %s: %v", s.name, err)
	}
	e.names[fr.ID] = s.name
	return fr
}

// mainRun creates Prefect's flow_run fixture: expected base−1s, started at
// base, ended at base+5m.
func (e *graphEnv) mainRun() *ent.FlowRun {
	return e.flowRun(graphRunSpec{
		expected: e.atp(-time.Second), start: e.atp(0), end: e.atp(5 * time.Minute),
	})
}

// graphTaskSpec describes a task run to create.
type graphTaskSpec struct {
	name                 string
	state                types.StateType // "" with noState: NULL
	noState              bool
	expected, start, end *time.Time
	inputs               map[string]any
}

// task creates a task run of flow run fr.
func (e *graphEnv) task(fr *ent.FlowRun, s graphTaskSpec) *ent.TaskRun {
	e.t.Helper()
	cr := e.c.TaskRun.Create().SetFlowRunID(fr.ID).SetName(s.name).
		SetTaskKey(s.name).SetDynamicKey(s.name).
		SetNillableExpectedStartTime(s.expected).SetNillableStartTime(s.start).SetNillableEndTime(s.end)
	if !s.noState {
		st := s.state
		if st == "" {
			st = types.StateCompleted
		}
		cr.SetStateType(st).SetStateName("Irrelevant")
	}
	if s.inputs != nil {
		cr.SetTaskInputs(s.inputs)
	}
	tr, err := cr.Save(e.ctx)
	if err != nil {
		e.t.Fatalf("create task run %s: %v", s.name, err)
	}
	e.names[tr.ID] = s.name
	return tr
}

// completedTask creates a COMPLETED task run named name that was expected
// at base+i s−1µs, started at base+i s and ended at base+1m+i s, like
// Prefect's fixtures.
func (e *graphEnv) completedTask(fr *ent.FlowRun, name string, i int, inputs map[string]any) *ent.TaskRun {
	sec := time.Duration(i) * time.Second
	return e.task(fr, graphTaskSpec{
		name: name, expected: e.atp(sec - time.Microsecond), start: e.atp(sec),
		end: e.atp(time.Minute + sec), inputs: inputs,
	})
}

// graph reads the graph of flow run id with the default limits.
func (e *graphEnv) graph(id uuid.UUID, since time.Time) *dialects.Graph {
	e.t.Helper()
	return e.graphLimited(id, since, dialects.DefaultGraphMaxNodes, dialects.DefaultGraphMaxArtifacts)
}

// graphLimited reads the graph of flow run id and fails the test on error.
func (e *graphEnv) graphLimited(id uuid.UUID, since time.Time, maxNodes, maxArtifacts int) *dialects.Graph {
	e.t.Helper()
	g, err := e.q.FlowRunGraph(e.ctx, e.db.SQL, dialects.GraphQuery{FlowRunID: id, Since: since, MaxNodes: maxNodes, MaxArtifacts: maxArtifacts})
	if err != nil {
		e.t.Fatalf("FlowRunGraph(%s): %v", id, err)
	}
	if g == nil {
		e.t.Fatalf("FlowRunGraph(%s): nil graph", id)
	}
	if g.RootNodeIDs == nil || g.Nodes == nil || g.Artifacts == nil || g.States == nil {
		e.t.Errorf("FlowRunGraph(%s): nil slices in %+v; want empty ones", id, g)
	}
	for _, n := range g.Nodes {
		if n.Parents == nil || n.Children == nil || n.Encapsulating == nil || n.Artifacts == nil {
			e.t.Errorf("node %s: nil slices in %+v; want empty ones", e.name(n.ID), n)
		}
	}
	return g
}

// name returns the test's name for id.
func (e *graphEnv) name(id uuid.UUID) string {
	if n, ok := e.names[id]; ok {
		return n
	}
	return id.String()
}

// nameList names ids.
func (e *graphEnv) nameList(ids []uuid.UUID) string {
	out := make([]string, len(ids))
	for k, id := range ids {
		out[k] = e.name(id)
	}
	return "[" + strings.Join(out, " ") + "]"
}

// rel renders t relative to base (or "nil").
func (e *graphEnv) rel(t *time.Time) string {
	if t == nil {
		return "nil"
	}
	return fmt.Sprintf("%+v(%s)", t.Sub(e.base), t.Location())
}

// describeNode renders a node with names and times relative to base.
func (e *graphEnv) describeNode(n dialects.GraphNode) string {
	st := "nil"
	if n.StateType != nil {
		st = string(*n.StateType)
	}
	start := n.StartTime
	arts := make([]string, len(n.Artifacts))
	for k, a := range n.Artifacts {
		arts[k] = e.describeArtifact(a)
	}
	return fmt.Sprintf("%s %s label=%q state=%s start=%s end=%s parents=%s children=%s encapsulating=%s artifacts=%v",
		n.Kind, e.name(n.ID), n.Label, st, e.rel(&start), e.rel(n.EndTime),
		e.nameList(n.Parents), e.nameList(n.Children), e.nameList(n.Encapsulating), arts)
}

// describeArtifact renders an artifact; Data is compacted so that equal
// JSON compares equal.
func (e *graphEnv) describeArtifact(a dialects.GraphArtifact) string {
	key := "nil"
	if a.Key != nil {
		key = *a.Key
	}
	data := "nil"
	if a.Data != nil {
		var v any
		if err := json.Unmarshal(a.Data, &v); err != nil {
			data = "invalid JSON " + string(a.Data)
		} else {
			b, _ := json.Marshal(v)
			data = string(b)
		}
	}
	created := a.Created
	return fmt.Sprintf("{%s created=%s key=%s type=%s latest=%t data=%s}",
		e.name(a.ID), e.rel(&created), key, a.Type, a.IsLatest, data)
}

// checkNodes compares the nodes with want, in order.
func (e *graphEnv) checkNodes(g *dialects.Graph, want []dialects.GraphNode) {
	e.t.Helper()
	got := make([]string, len(g.Nodes))
	for k, n := range g.Nodes {
		got[k] = e.describeNode(n)
	}
	exp := make([]string, len(want))
	for k, n := range want {
		exp[k] = e.describeNode(n)
	}
	if !slices.Equal(got, exp) {
		e.t.Errorf("nodes:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(exp, "\n     "))
	}
}

// checkRoots compares the root node ids with want, in order.
func (e *graphEnv) checkRoots(g *dialects.Graph, want ...uuid.UUID) {
	e.t.Helper()
	if !slices.Equal(g.RootNodeIDs, want) {
		e.t.Errorf("root node ids = %s, want %s", e.nameList(g.RootNodeIDs), e.nameList(want))
	}
}

// checkTimes compares the graph's start and end times.
func (e *graphEnv) checkTimes(g *dialects.Graph, start, end *time.Time) {
	e.t.Helper()
	if !graphTimeEq(g.StartTime, start) || !graphTimeEq(g.EndTime, end) {
		e.t.Errorf("graph start, end = %s, %s; want %s, %s", e.rel(g.StartTime), e.rel(g.EndTime), e.rel(start), e.rel(end))
	}
	for _, t := range []*time.Time{g.StartTime, g.EndTime} {
		if t != nil && t.Location() != time.UTC {
			e.t.Errorf("graph time %v is not in UTC", t)
		}
	}
}

// graphTimeEq compares optional times as instants.
func graphTimeEq(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// graphNode builds an expected node of a task run (kind "task-run", label
// the task's name, state COMPLETED) with empty lists.
func graphNode(tr *ent.TaskRun, start time.Time, end *time.Time) dialects.GraphNode {
	st := types.StateCompleted
	if tr.StateType != nil {
		st = *tr.StateType
	}
	return dialects.GraphNode{
		Kind: dialects.GraphNodeTaskRun, ID: tr.ID, Label: tr.Name, StateType: &st,
		StartTime: start.UTC(), EndTime: graphUTCPtr(end),
		Parents: []uuid.UUID{}, Children: []uuid.UUID{}, Encapsulating: []uuid.UUID{},
		Artifacts: []dialects.GraphArtifact{},
	}
}

// graphUTCPtr returns t in UTC, or nil (so that the rendered zone is UTC).
func graphUTCPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// ranNode is graphNode with the task's own start and end times.
func ranNode(tr *ent.TaskRun) dialects.GraphNode { return graphNode(tr, *tr.StartTime, tr.EndTime) }

// graphIDList is a shorthand for a list of task run ids.
func graphIDList(trs ...*ent.TaskRun) []uuid.UUID {
	out := make([]uuid.UUID, len(trs))
	for k, tr := range trs {
		out[k] = tr.ID
	}
	return out
}

// graphTaskInput is the task_inputs value that references task runs.
func graphTaskInput(trs ...*ent.TaskRun) []any {
	out := make([]any, len(trs))
	for k, tr := range trs {
		out[k] = map[string]any{"input_type": "task_run", "id": tr.ID.String()}
	}
	return out
}

// TestFlowRunGraphNotFound checks that an unknown flow run gives ErrFlowRunNotFound, as a *FlowRunNotFoundError
// saying "flow run <id> not found" (test_reading_graph_for_nonexistant_flow_run).
func testFlowRunGraphNotFound(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	id := uuid.New()
	g, err := e.q.FlowRunGraph(e.ctx, db.SQL, dialects.GraphQuery{FlowRunID: id, Since: time.Time{}, MaxNodes: 10, MaxArtifacts: 10})
	if !errors.Is(err, dialects.ErrFlowRunNotFound) {
		t.Fatalf("FlowRunGraph(unknown) = %v, %v; want ErrFlowRunNotFound", g, err)
	}
	var nf *dialects.FlowRunNotFoundError
	if !errors.As(err, &nf) || nf.ID != id {
		t.Errorf("error %#v is not a *FlowRunNotFoundError for %s", err, id)
	}
	if want := "flow run " + id.String() + " not found"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

// TestFlowRunGraphNegativeLimits checks that negative max nodes or max artifacts are refused.
func testFlowRunGraphNegativeLimits(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	for _, lim := range [][2]int{{-1, 10}, {10, -1}} {
		if _, err := e.q.FlowRunGraph(e.ctx, db.SQL, dialects.GraphQuery{FlowRunID: fr.ID, Since: time.Time{}, MaxNodes: lim[0], MaxArtifacts: lim[1]}); err == nil {
			t.Errorf("FlowRunGraph(max nodes %d, max artifacts %d): no error", lim[0], lim[1])
		}
	}
}

// TestFlowRunGraphUnstartedFlowRun checks that the graph of a flow run that has not started starts at
// its expected start time and has nothing in it.
func testFlowRunGraphUnstartedFlowRun(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.flowRun(graphRunSpec{expected: e.atp(-time.Second)})
	g := e.graph(fr.ID, time.Time{})
	e.checkTimes(g, fr.ExpectedStartTime, nil)
	e.checkRoots(g)
	e.checkNodes(g, nil)
	if len(g.Artifacts) != 0 || len(g.States) != 0 {
		t.Errorf("artifacts, states = %v, %v; want none", g.Artifacts, g.States)
	}
}

// TestFlowRunGraphNoTasks checks that a flow run without task runs has the run's times and no nodes.
func testFlowRunGraphNoTasks(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	g := e.graph(fr.ID, time.Time{})
	e.checkTimes(g, fr.StartTime, fr.EndTime)
	e.checkRoots(g)
	e.checkNodes(g, nil)
}

// flatTasks is Prefect's flat_tasks fixture: task-0 … task-4, of which task-2
// is cached (COMPLETED without start and end times), plus a PENDING task, a
// RUNNING task without any times and (prefectdb's addition) a task with a
// NULL state type, which are all left out.
func (e *graphEnv) flatTasks(fr *ent.FlowRun) []*ent.TaskRun {
	var trs []*ent.TaskRun
	for i := range 5 {
		if i == 2 {
			trs = append(trs, e.task(fr, graphTaskSpec{
				name: "task-2", expected: e.atp(2*time.Second - time.Microsecond),
			}))
			continue
		}
		trs = append(trs, e.completedTask(fr, fmt.Sprintf("task-%d", i), i, nil))
	}
	e.task(fr, graphTaskSpec{
		name: "task-pending", state: types.StatePending,
		expected: e.atp(3*time.Second - time.Microsecond), start: e.atp(3 * time.Second),
		end: e.atp(time.Minute + 3*time.Second),
	})
	e.task(fr, graphTaskSpec{name: "task-running", state: types.StateRunning})
	e.task(fr, graphTaskSpec{
		name: "task-null-state", noState: true,
		expected: e.atp(3*time.Second - time.Microsecond), start: e.atp(3 * time.Second),
	})
	return trs
}

// TestFlowRunGraphIncludesPendingFrom375: with IncludePendingTaskRuns, as
// Prefect 3.7.5 and later read the graph, the PENDING task and the task
// without a state are nodes too; the RUNNING task without any times is still
// left out (no start time).
func testFlowRunGraphIncludesPendingFrom375(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	e.flatTasks(fr)
	g, err := e.q.FlowRunGraph(e.ctx, db.SQL, dialects.GraphQuery{FlowRunID: fr.ID, MaxNodes: 100, MaxArtifacts: 100,
		IncludePendingTaskRuns: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range g.Nodes {
		names = append(names, n.Label)
	}
	slices.Sort(names)
	want := []string{"task-0", "task-1", "task-2", "task-3", "task-4", "task-null-state", "task-pending"}
	if !slices.Equal(names, want) {
		t.Fatalf("nodes = %v, want %v", names, want)
	}
}

// TestFlowRunGraphFlatTasks checks that unrelated tasks are all roots, in start-time order; a cached
// task starts and ends at its expected start; PENDING, NULL-state and RUNNING
// tasks without times are left out.
func testFlowRunGraphFlatTasks(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	trs := e.flatTasks(fr)
	g := e.graph(fr.ID, time.Time{})
	e.checkTimes(g, fr.StartTime, fr.EndTime)
	// Every task is a root: none has data dependencies.
	e.checkRoots(g, graphIDList(trs...)...)
	cachedAt := e.at(2*time.Second - time.Microsecond)
	e.checkNodes(g, []dialects.GraphNode{
		ranNode(trs[0]),
		ranNode(trs[1]),
		// The cached task starts and ends at its expected start time.
		graphNode(trs[2], cachedAt, &cachedAt),
		ranNode(trs[3]),
		ranNode(trs[4]),
	})
	for _, n := range g.Nodes {
		if n.StartTime.Location() != time.UTC || (n.EndTime != nil && n.EndTime.Location() != time.UTC) {
			t.Errorf("node %s: times %v, %v not in UTC", e.name(n.ID), n.StartTime, n.EndTime)
		}
	}
}

// TestFlowRunGraphNestedTasks checks that "__parents__" inputs are encapsulating links, not parents.
func testFlowRunGraphNestedTasks(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	// flow
	//  └── task-0
	//       └── task-1 -> task-2
	t0 := e.completedTask(fr, "task-0", 1, map[string]any{})
	t1 := e.completedTask(fr, "task-1", 2, map[string]any{"__parents__": graphTaskInput(t0)})
	t2 := e.completedTask(fr, "task-2", 3, map[string]any{
		"x":           graphTaskInput(t1),
		"__parents__": graphTaskInput(t0),
	})
	g := e.graph(fr.ID, time.Time{})
	e.checkTimes(g, fr.StartTime, fr.EndTime)
	// task-1 is a root: encapsulation is not a data dependency.
	e.checkRoots(g, t0.ID, t1.ID)
	n0, n1, n2 := ranNode(t0), ranNode(t1), ranNode(t2)
	n1.Children, n1.Encapsulating = graphIDList(t2), graphIDList(t0)
	n2.Parents, n2.Encapsulating = graphIDList(t1), graphIDList(t0)
	e.checkNodes(g, []dialects.GraphNode{n0, n1, n2})
}

// linkedTasks is Prefect's linked_tasks fixture: task-0 … task-3 at the top
// level; task-4 takes x from task-0 and y from task-1, task-5 takes x from
// task-2 and y from task-3. A PENDING task is mixed in and left out.
func (e *graphEnv) linkedTasks(fr *ent.FlowRun) []*ent.TaskRun {
	var trs []*ent.TaskRun
	for i := range 4 {
		trs = append(trs, e.completedTask(fr, fmt.Sprintf("task-%d", i), i, nil))
	}
	for j := range 2 {
		trs = append(trs, e.completedTask(fr, fmt.Sprintf("task-%d", 4+j), 4+j, map[string]any{
			"x": graphTaskInput(trs[2*j]),
			"y": graphTaskInput(trs[2*j+1]),
		}))
	}
	e.task(fr, graphTaskSpec{
		name: "task-pending", state: types.StatePending,
		expected: e.atp(3*time.Second - time.Microsecond), start: e.atp(3 * time.Second),
		end: e.atp(time.Minute + 3*time.Second),
	})
	return trs
}

// linkedNodes is the expected graph of linkedTasks, with the given start
// times.
func linkedNodes(trs []*ent.TaskRun, start func(tr *ent.TaskRun) time.Time) []dialects.GraphNode {
	ns := make([]dialects.GraphNode, len(trs))
	for k, tr := range trs {
		ns[k] = graphNode(tr, start(tr), tr.EndTime)
	}
	ns[0].Children = graphIDList(trs[4])
	ns[1].Children = graphIDList(trs[4])
	ns[2].Children = graphIDList(trs[5])
	ns[3].Children = graphIDList(trs[5])
	ns[4].Parents = graphIDList(trs[0], trs[1])
	ns[5].Parents = graphIDList(trs[2], trs[3])
	return ns
}

// TestFlowRunGraphLinkedTasks checks that data dependencies give parents and children in start-time
// order.
func testFlowRunGraphLinkedTasks(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	trs := e.linkedTasks(fr)
	g := e.graph(fr.ID, time.Time{})
	e.checkTimes(g, fr.StartTime, fr.EndTime)
	e.checkRoots(g, graphIDList(trs[:4]...)...)
	e.checkNodes(g, linkedNodes(trs, func(tr *ent.TaskRun) time.Time { return *tr.StartTime }))
}

// TestFlowRunGraphLinkedUnstartedTasks checks that tasks without start times use their expected start
// times, for the nodes and for the order of the edges.
func testFlowRunGraphLinkedUnstartedTasks(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	trs := e.linkedTasks(fr)
	for _, tr := range trs {
		if err := e.c.TaskRun.UpdateOneID(tr.ID).ClearStartTime().Exec(e.ctx); err != nil {
			t.Fatalf("clear start time: %v", err)
		}
	}
	g := e.graph(fr.ID, time.Time{})
	e.checkTimes(g, fr.StartTime, fr.EndTime)
	e.checkRoots(g, graphIDList(trs[:4]...)...)
	e.checkNodes(g, linkedNodes(trs, func(tr *ent.TaskRun) time.Time { return *tr.ExpectedStartTime }))
}

// TestFlowRunGraphIncremental checks that since drops the nodes that ended before it but keeps edges
// to them; it is compared as an instant, inclusively.
func testFlowRunGraphIncremental(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	trs := e.linkedTasks(fr)
	started := func(tr *ent.TaskRun) time.Time { return *tr.StartTime }

	// since just after task-1 ended: task-2 … task-5 remain, and task-4
	// still names task-0 and task-1 as parents.
	since := e.at(time.Minute + time.Second + time.Millisecond)
	if !trs[1].EndTime.Before(since) || !since.Before(*trs[2].EndTime) {
		t.Fatalf("setup: since %v is not between the end of task-1 and task-2", since)
	}
	// The same instant in another zone selects the same nodes: since is
	// compared as a time.
	for _, s := range []time.Time{since, since.In(time.FixedZone("UTC+5", 5*3600))} {
		g := e.graph(fr.ID, s)
		e.checkTimes(g, fr.StartTime, fr.EndTime)
		e.checkRoots(g, trs[2].ID, trs[3].ID)
		e.checkNodes(g, linkedNodes(trs, started)[2:])
	}

	// since equal to task-2's end keeps task-2 (end_time >= since).
	g := e.graph(fr.ID, *trs[2].EndTime)
	e.checkNodes(g, linkedNodes(trs, started)[2:])
	// One microsecond later drops it; its edges stay on task-5.
	g = e.graph(fr.ID, trs[2].EndTime.Add(time.Microsecond))
	e.checkRoots(g, trs[3].ID)
	e.checkNodes(g, linkedNodes(trs, started)[3:])
}

// subflowRun is Prefect's subflow_run fixture: the wrapper task task-0 (run
// from base+1s to base+1m) whose subflow run started at base and ended at
// base+5m.
func (e *graphEnv) subflowRun(fr *ent.FlowRun) *ent.FlowRun {
	wrapper := e.task(fr, graphTaskSpec{
		name: "task-0", expected: e.atp(-time.Microsecond), start: e.atp(time.Second), end: e.atp(time.Minute),
	})
	return e.flowRun(graphRunSpec{
		name: "subflow-run", expected: e.atp(-time.Microsecond), start: e.atp(0), end: e.atp(5 * time.Minute),
		parentTaskRunID: &wrapper.ID,
	})
}

// subflowNode is the expected node of a subflow run.
func (e *graphEnv) subflowNode(sub *ent.FlowRun, start time.Time) dialects.GraphNode {
	st := types.StateCompleted
	return dialects.GraphNode{
		Kind: dialects.GraphNodeFlowRun, ID: sub.ID, Label: "graph-flow / subflow-run", StateType: &st,
		StartTime: start.UTC(), EndTime: graphUTCPtr(sub.EndTime),
		Parents: []uuid.UUID{}, Children: []uuid.UUID{}, Encapsulating: []uuid.UUID{},
		Artifacts: []dialects.GraphArtifact{},
	}
}

// TestFlowRunGraphSubflow checks that a task run with a subflow run is shown as the subflow run.
func testFlowRunGraphSubflow(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	sub := e.subflowRun(fr)
	g := e.graph(fr.ID, time.Time{})
	e.checkTimes(g, fr.StartTime, fr.EndTime)
	e.checkRoots(g, sub.ID)
	e.checkNodes(g, []dialects.GraphNode{e.subflowNode(sub, *sub.StartTime)})
	// The state type is the enum type (test_state_types_are_true_state_type_enums).
	if len(g.Nodes) > 0 {
		if st := g.Nodes[0].StateType; st == nil || *st != types.StateCompleted {
			t.Errorf("state type = %v, want COMPLETED", st)
		}
	}
}

// TestFlowRunGraphUnstartedSubflow checks that an unstarted subflow run starts at its expected start
// time.
func testFlowRunGraphUnstartedSubflow(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	sub := e.subflowRun(fr)
	if err := e.c.FlowRun.UpdateOneID(sub.ID).ClearStartTime().Exec(e.ctx); err != nil {
		t.Fatalf("clear start time: %v", err)
	}
	g := e.graph(fr.ID, time.Time{})
	e.checkRoots(g, sub.ID)
	e.checkNodes(g, []dialects.GraphNode{e.subflowNode(sub, *sub.ExpectedStartTime)})
}

// graphArtifactFixture is Prefect's flow_run_artifacts and
// flow_run_task_artifacts fixtures over flatTasks.
type graphArtifactFixture struct {
	fr      *ent.FlowRun
	trs     []*ent.TaskRun
	top     dialects.GraphArtifact                 // the flow run's own markdown artifact
	perTask map[uuid.UUID][]dialects.GraphArtifact // expected, sorted by created
}

// artifact creates an artifact created at base+created.
func (e *graphEnv) artifact(name string, fr uuid.UUID, tr *uuid.UUID, typ *string, key *string, data json.RawMessage, created time.Duration) *ent.Artifact {
	e.t.Helper()
	cr := e.c.Artifact.Create().SetFlowRunID(fr).SetNillableTaskRunID(tr).SetNillableType(typ).SetNillableKey(key).
		SetCreated(e.at(created))
	if data != nil {
		cr.SetData(data)
	}
	a, err := cr.Save(e.ctx)
	if err != nil {
		e.t.Fatalf("create artifact %s: %v", name, err)
	}
	e.names[a.ID] = name
	return a
}

// collection creates the artifact collection of key with latest artifact a.
func (e *graphEnv) collection(key string, a *ent.Artifact) {
	e.t.Helper()
	cr := e.c.ArtifactCollection.Create().SetKey(key).SetLatestID(a.ID).SetNillableType(a.Type).
		SetNillableFlowRunID(a.FlowRunID).SetNillableTaskRunID(a.TaskRunID)
	if _, err := cr.Save(e.ctx); err != nil {
		e.t.Fatalf("create artifact collection %s: %v", key, err)
	}
}

// artifactFixture creates the flow run, flatTasks and their artifacts.
func (e *graphEnv) artifactFixture() *graphArtifactFixture {
	fr := e.mainRun()
	trs := e.flatTasks(fr)
	s := func(v string) *string { return &v }
	f := &graphArtifactFixture{fr: fr, trs: trs, perTask: map[uuid.UUID][]dialects.GraphArtifact{}}
	want := func(a *ent.Artifact, latest bool) dialects.GraphArtifact {
		ga := dialects.GraphArtifact{ID: a.ID, Created: a.Created.UTC(), Key: a.Key, Type: *a.Type, IsLatest: latest}
		if *a.Type == "progress" {
			ga.Data = a.Data
		}
		return ga
	}
	add := func(a *ent.Artifact, latest bool) {
		ga := want(a, latest)
		f.perTask[*a.TaskRunID] = append(f.perTask[*a.TaskRunID], ga)
	}

	// The flow run's own artifacts: a markdown one without a key (at the
	// graph's root; its data is not included) and a result (left out).
	top := e.artifact("flow-markdown", fr.ID, nil, s("markdown"), nil, json.RawMessage(`"# report"`), 1*time.Second)
	f.top = want(top, true)
	e.artifact("flow-result", fr.ID, nil, s("result"), nil, nil, 2*time.Second)

	// Task artifacts. Created times are explicit and the rows are inserted
	// out of created order.
	tableLater := e.artifact("task4-table-later", fr.ID, &trs[4].ID, s("table"), nil, nil, 20*time.Second)
	tableEarlier := e.artifact("task4-table-earlier", fr.ID, &trs[4].ID, s("table"), nil, nil, 10*time.Second)
	markdown0 := e.artifact("task0-markdown", fr.ID, &trs[0].ID, s("markdown"), nil, nil, 3*time.Second)
	notLatest := e.artifact("task1-not-latest", fr.ID, &trs[1].ID, s("markdown"), s("collection-key--not-latest"), nil, 4*time.Second)
	// The latest of that key belongs to another flow run.
	otherRun := e.artifact("other-run-latest", uuid.New(), graphPtr(uuid.New()), s("markdown"), s("collection-key--not-latest"), nil, 5*time.Second)
	e.collection("collection-key--not-latest", otherRun)
	latest := e.artifact("task2-latest", fr.ID, &trs[2].ID, s("markdown"), s("collection-key--latest"), nil, 6*time.Second)
	e.collection("collection-key--latest", latest)
	link := e.artifact("task3-link", fr.ID, &trs[3].ID, s("link"), nil, json.RawMessage(`"https://example.com"`), 7*time.Second)
	e.artifact("task1-result", fr.ID, &trs[1].ID, s("result"), nil, nil, 8*time.Second)
	progress := e.artifact("task0-progress", fr.ID, &trs[0].ID, s("progress"), nil, json.RawMessage(`0.0`), 9*time.Second)
	// prefectdb's additions: an artifact without a type is left out (type
	// <> 'result' is not true for NULL), and an artifact of a task run that
	// is not a node (the PENDING one) is dropped.
	e.artifact("task0-untyped", fr.ID, &trs[0].ID, nil, nil, nil, 11*time.Second)
	var pendingID uuid.UUID
	for id, n := range e.names {
		if n == "task-pending" {
			pendingID = id
		}
	}
	e.artifact("pending-markdown", fr.ID, &pendingID, s("markdown"), nil, nil, 12*time.Second)

	add(markdown0, true)
	add(notLatest, false)
	add(latest, true)
	add(link, true)
	add(progress, true)
	add(tableEarlier, true)
	add(tableLater, true)
	return f
}

// graphPtr returns a pointer to v.
func graphPtr[T any](v T) *T { return &v }

// TestFlowRunGraphArtifacts checks that the flow run's own artifacts are at the root, task
// artifacts on their nodes sorted by created; results are left out, is_latest
// follows the key's collection, and only progress artifacts carry data.
func testFlowRunGraphArtifacts(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	f := e.artifactFixture()
	g := e.graph(f.fr.ID, time.Time{})

	describe := func(as []dialects.GraphArtifact) string {
		out := make([]string, len(as))
		for k, a := range as {
			out[k] = e.describeArtifact(a)
		}
		return strings.Join(out, " ")
	}
	if got, want := describe(g.Artifacts), describe([]dialects.GraphArtifact{f.top}); got != want {
		t.Errorf("graph artifacts:\n got %s\nwant %s", got, want)
	}
	for _, n := range g.Nodes {
		if got, want := describe(n.Artifacts), describe(f.perTask[n.ID]); got != want {
			t.Errorf("artifacts of %s:\n got %s\nwant %s", e.name(n.ID), got, want)
		}
	}
	// The progress artifact's data is the JSON number 0 (SQLite's JSON
	// columns have NUMERIC affinity and may keep it as 0).
	for _, a := range g.Nodes[0].Artifacts {
		if a.Type == "progress" && !(bytes.Equal(a.Data, []byte("0")) || bytes.Equal(a.Data, []byte("0.0"))) {
			t.Errorf("progress data = %q, want 0", a.Data)
		}
	}
}

// TestFlowRunGraphMaxArtifacts checks that max artifacts keeps the earliest created artifacts.
func testFlowRunGraphMaxArtifacts(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	f := e.artifactFixture()
	g := e.graphLimited(f.fr.ID, time.Time{}, dialects.DefaultGraphMaxNodes, 2)
	total := len(g.Artifacts)
	var names []string
	for _, a := range g.Artifacts {
		names = append(names, e.name(a.ID))
	}
	for _, n := range g.Nodes {
		total += len(n.Artifacts)
		for _, a := range n.Artifacts {
			names = append(names, e.name(a.ID))
		}
	}
	if total > 2 {
		t.Errorf("%d artifacts, want at most 2", total)
	}
	// The two earliest created (the result at +2s is not counted).
	slices.Sort(names)
	if want := []string{"flow-markdown", "task0-markdown"}; !slices.Equal(names, want) {
		t.Errorf("artifacts = %v, want %v", names, want)
	}
	if g = e.graphLimited(f.fr.ID, time.Time{}, dialects.DefaultGraphMaxNodes, 0); len(g.Artifacts) != 0 {
		t.Errorf("max artifacts 0: graph artifacts %v", g.Artifacts)
	}
}

// TestFlowRunGraphStates checks that the flow run's states come sorted by timestamp.
func testFlowRunGraphStates(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	now := time.Now().UTC().Truncate(time.Microsecond)
	specs := []struct {
		st   types.StateType
		name string
		at   time.Time
	}{
		{types.StateRunning, "Running", now.Add(-time.Minute)},
		{types.StateCompleted, "Completed", now},
		{types.StateScheduled, "Scheduled", now.Add(-3 * time.Minute)},
		{types.StatePending, "Pending", now.Add(-2 * time.Second)},
	}
	var want []dialects.GraphState
	for _, s := range specs {
		st, err := e.c.FlowRunState.Create().SetFlowRunID(fr.ID).SetType(s.st).SetName(s.name).
			SetTimestamp(s.at).Save(e.ctx)
		if err != nil {
			t.Fatalf("create state: %v", err)
		}
		want = append(want, dialects.GraphState{ID: st.ID, Timestamp: s.at, Type: string(s.st), Name: s.name})
	}
	slices.SortFunc(want, func(a, b dialects.GraphState) int { return a.Timestamp.Compare(b.Timestamp) })
	g := e.graph(fr.ID, time.Time{})
	render := func(ss []dialects.GraphState) string {
		var b strings.Builder
		for _, s := range ss {
			fmt.Fprintf(&b, "{%s %s %s %s %s} ", s.ID, s.Timestamp.Format(time.RFC3339Nano), s.Timestamp.Location(), s.Type, s.Name)
		}
		return b.String()
	}
	if got, w := render(g.States), render(want); got != w {
		t.Errorf("states:\n got %s\nwant %s", got, w)
	}
}

// TestFlowRunGraphTooManyNodes checks that more than max nodes nodes is a *GraphTooLargeError.
func testFlowRunGraphTooManyNodes(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	e.linkedTasks(fr) // 6 nodes
	g, err := e.q.FlowRunGraph(e.ctx, db.SQL, dialects.GraphQuery{FlowRunID: fr.ID, Since: time.Time{}, MaxNodes: 4, MaxArtifacts: 10})
	var tl *dialects.GraphTooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("FlowRunGraph(max nodes 4) = %v, %v; want *GraphTooLargeError", g, err)
	}
	if tl.FlowRunID != fr.ID || tl.MaxNodes != 4 {
		t.Errorf("error fields = %+v", tl)
	}
	if !strings.Contains(err.Error(), "has more than 4 nodes") {
		t.Errorf("error %q does not say it has more than 4 nodes", err)
	}
	if want := fmt.Sprintf("The graph of flow run %s has more than 4 nodes.", fr.ID); err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	// Exactly max nodes is fine; one fewer is not.
	if g := e.graphLimited(fr.ID, time.Time{}, 6, 10); len(g.Nodes) != 6 {
		t.Errorf("max nodes 6: %d nodes, want 6", len(g.Nodes))
	}
	if _, err := e.q.FlowRunGraph(e.ctx, db.SQL, dialects.GraphQuery{FlowRunID: fr.ID, Since: time.Time{}, MaxNodes: 5, MaxArtifacts: 10}); !errors.As(err, &tl) {
		t.Errorf("max nodes 5: err = %v, want *GraphTooLargeError", err)
	}
	// Nodes left out by since do not count.
	if g := e.graphLimited(fr.ID, e.at(time.Minute+time.Second+time.Millisecond), 4, 10); len(g.Nodes) != 4 {
		t.Errorf("incremental with max nodes 4: %d nodes, want 4", len(g.Nodes))
	}
}

// TestFlowRunGraphDeduplicatesAndOrdersEdges checks that each related id appears once in parents,
// children and encapsulating, however often the task inputs name it, ordered
// by the related node's start time, then id; nodes with equal times are
// ordered by id.
func testFlowRunGraphDeduplicatesAndOrdersEdges(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	param := map[string]any{"input_type": "parameter", "name": "p"}
	constant := map[string]any{"input_type": "constant", "type": "int"}
	// wrapper encapsulates everything; early and late are two wrappers
	// listed in reverse start order.
	wrapper := e.completedTask(fr, "wrapper", 0, nil)
	late := e.completedTask(fr, "late", 2, nil)
	early := e.completedTask(fr, "early", 1, nil)
	// source has three input keys, so it has three edge rows of its own.
	source := e.completedTask(fr, "source", 3, map[string]any{
		"a":           []any{param},
		"b":           []any{constant},
		"__parents__": graphTaskInput(wrapper),
	})
	// twinA and twinB start at the same instant: ordered by id.
	twinA := e.completedTask(fr, "twin-a", 4, nil)
	twinB := e.completedTask(fr, "twin-b", 4, map[string]any{"q": []any{param}})
	// sink names source under two keys and twice in one key, the twins in
	// reverse id order, and each wrapper twice, in reverse start order.
	twins := []*ent.TaskRun{twinA, twinB}
	slices.SortFunc(twins, func(a, b *ent.TaskRun) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	sink := e.completedTask(fr, "sink", 5, map[string]any{
		"x":           graphTaskInput(source, source),
		"y":           graphTaskInput(source),
		"z":           graphTaskInput(twins[1], twins[0]),
		"__parents__": graphTaskInput(late, early, late, early),
	})
	// second also takes source's result: source's children are ordered
	// by start time.
	second := e.completedTask(fr, "second", 6, map[string]any{"x": graphTaskInput(source)})

	g := e.graph(fr.ID, time.Time{})
	nWrapper, nLate, nEarly, nSource := ranNode(wrapper), ranNode(late), ranNode(early), ranNode(source)
	nA, nB, nSink, nSecond := ranNode(twinA), ranNode(twinB), ranNode(sink), ranNode(second)
	nSource.Encapsulating = graphIDList(wrapper)
	nSource.Children = graphIDList(sink, second)
	nSink.Parents = graphIDList(source, twins[0], twins[1])
	nSink.Encapsulating = graphIDList(early, late)
	nSecond.Parents = graphIDList(source)
	for _, n := range []*dialects.GraphNode{&nA, &nB} {
		n.Children = graphIDList(sink)
	}
	// Nodes with equal start and end times are ordered by id.
	pair := []dialects.GraphNode{nA, nB}
	slices.SortFunc(pair, func(a, b dialects.GraphNode) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	e.checkNodes(g, []dialects.GraphNode{nWrapper, nEarly, nLate, nSource, pair[0], pair[1], nSink, nSecond})
	e.checkRoots(g, wrapper.ID, early.ID, late.ID, source.ID, pair[0].ID, pair[1].ID)
}

// TestFlowRunGraphNodeOrderAndOpenNodes checks that nodes that have not ended come after those that
// have, for equal start times, and are returned whatever since is.
func testFlowRunGraphNodeOrderAndOpenNodes(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	// Same start: the one that ended comes first, the running one (no
	// end) last, as on PostgreSQL (NULLS LAST).
	running := e.task(fr, graphTaskSpec{name: "running", state: types.StateRunning, start: e.atp(time.Second)})
	done := e.task(fr, graphTaskSpec{name: "done", start: e.atp(time.Second), end: e.atp(2 * time.Second)})
	first := e.task(fr, graphTaskSpec{name: "first", start: e.atp(0), end: e.atp(10 * time.Second)})
	st := types.StateRunning
	nRunning := ranNode(running)
	nRunning.StateType = &st
	g := e.graph(fr.ID, time.Time{})
	e.checkNodes(g, []dialects.GraphNode{ranNode(first), ranNode(done), nRunning})
	// A node that has not ended is returned whatever since is.
	g = e.graph(fr.ID, e.at(time.Hour))
	e.checkNodes(g, []dialects.GraphNode{nRunning})
	e.checkRoots(g, running.ID)
}

// TestFlowRunGraphUnusualInputs checks that task inputs that are not task-run references link
// nothing and fail nothing, on both databases.
func testFlowRunGraphUnusualInputs(t *testing.T, db *testutil.DB) {
	e := newGraphEnv(t, db)
	fr := e.mainRun()
	parent := e.completedTask(fr, "parent", 0, nil)
	// Inputs that are not lists, elements that are not objects, objects
	// without an id or with one that is not a UUID, an id of a task run of
	// another flow run: none of them links anything, and none fails. An
	// upper-case id still links its task run.
	other := e.mainRun()
	stranger := e.completedTask(other, "stranger", 0, nil)
	child := e.completedTask(fr, "child", 1, map[string]any{
		"scalar":   "text",
		"object":   map[string]any{"id": parent.ID.String()},
		"elements": []any{"text", 1, nil, []any{}, map[string]any{"input_type": "parameter"}},
		"bad-id":   []any{map[string]any{"input_type": "task_run", "id": "not-a-uuid"}},
		"number":   []any{map[string]any{"input_type": "task_run", "id": 7}},
		"other":    graphTaskInput(stranger),
		"upper":    []any{map[string]any{"input_type": "task_run", "id": strings.ToUpper(parent.ID.String())}},
	})
	g := e.graph(fr.ID, time.Time{})
	nParent, nChild := ranNode(parent), ranNode(child)
	nParent.Children = graphIDList(child)
	nChild.Parents = graphIDList(parent)
	e.checkNodes(g, []dialects.GraphNode{nParent, nChild})
	e.checkRoots(g, parent.ID)
}
