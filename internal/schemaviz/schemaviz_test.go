package schemaviz

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

// docsDir is the committed output of `go generate ./...`.
var docsDir = filepath.Join("..", "..", "docs")

var (
	sourceOnce  sync.Once
	sourceGraph *gen.Graph
	sourceErr   error
)

// loadSource loads the Ent graph from the schema's source, as
// `go generate` does, once per test binary.
func loadSource(t *testing.T) *gen.Graph {
	t.Helper()
	sourceOnce.Do(func() {
		sourceGraph, sourceErr = entc.LoadGraph(filepath.Join("..", "..", "ent", "schema"), &gen.Config{})
	})
	if sourceErr != nil {
		t.Fatalf("load ent graph from source: %v", sourceErr)
	}
	return sourceGraph
}

func compiledModel(t *testing.T) *Model {
	t.Helper()
	g, err := CompiledGraph()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(g)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDocsUpToDate regenerates the documents from the schema's source into
// a temporary folder and compares them with the committed docs/: drift
// fails. It also checks that the binary's compiled-in schema draws the same
// bytes, so that `prefectdb graph` and `go generate` agree.
func TestDocsUpToDate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Write(ctx, loadSource(t), dir); err != nil {
		t.Fatal(err)
	}
	compiled, err := CompiledGraph()
	if err != nil {
		t.Fatal(err)
	}
	fromBinary, err := Files(ctx, compiled)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{HTMLFile, MarkdownFile} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join(docsDir, name))
		if err != nil {
			t.Fatalf("%v: run `go generate ./...` and commit docs/", err)
		}
		if !bytes.Equal(got, committed) {
			t.Errorf("docs/%s is stale (%s): run `go generate ./...` and commit it", name, firstDiff(committed, got))
		}
		if !bytes.Equal(fromBinary[name], got) {
			t.Errorf("%s drawn from the compiled schema differs from the source's (%s): is every ent/schema type listed in internal/schemaviz/generate.go?",
				name, firstDiff(got, fromBinary[name]))
		}
	}
}

func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "first difference at line " + strconv.Itoa(i+1) + ": committed " + clip(w) + ", generated " + clip(g)
		}
	}
	return "no line differs"
}

func clip(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return "`" + s + "`"
}

// TestCompiledGraphMatchesSource checks that the schema list used by the
// binary names every entity that the source has.
func TestCompiledGraphMatchesSource(t *testing.T) {
	src := loadSource(t)
	compiled, err := CompiledGraph()
	if err != nil {
		t.Fatal(err)
	}
	names := func(g *gen.Graph) []string {
		var out []string
		for _, n := range g.Nodes {
			out = append(out, n.Name)
		}
		slices.Sort(out)
		return out
	}
	if got, want := names(compiled), names(src); !slices.Equal(got, want) {
		t.Fatalf("internal/schemaviz/generate.go lists %v, ent/schema has %v", got, want)
	}
}

// TestDeterministic renders twice in one process: Graphviz keeps counters
// between layouts, and every id in the drawing must still be the same.
func TestDeterministic(t *testing.T) {
	g, err := CompiledGraph()
	if err != nil {
		t.Fatal(err)
	}
	a, err := Files(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Files(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two renders: %s", name, firstDiff(a[name], b[name]))
		}
	}
}

func TestModel(t *testing.T) {
	m := compiledModel(t)
	// Prefect's newest schema has 35 tables; the two notification tables it
	// removed in 3.4.0 stay entities for databases of older releases.
	if len(m.Entities) != 37 {
		t.Errorf("%d entities, want 37 (Prefect's 35 tables at head and the 2 it removed)", len(m.Entities))
	}
	rel := func(id string) *Relation {
		for _, r := range m.Relations {
			if r.ID == id {
				return r
			}
		}
		t.Fatalf("no relation %s", id)
		return nil
	}
	cases := []struct {
		id, to, cardinality, inverse, holder, column, onDelete, role string
		fk, required                                                 bool
	}{
		{"FlowRun.current_state", "FlowRunState", M2O, "", "FlowRun", "state_id", "SET NULL", RoleCurrentState, true, false},
		{"FlowRun.states", "FlowRunState", O2M, "flow_run", "FlowRunState", "flow_run_id", "CASCADE", RoleHistory, true, true},
		// No foreign key since Prefect 3.4.7.
		{"TaskRun.current_state", "TaskRunState", M2O, "", "TaskRun", "state_id", "", RoleCurrentState, false, false},
		{"Deployment.current_version", "DeploymentVersion", M2O, "current_of", "Deployment", "version_id", "", RoleCurrentState, false, false},
		{"Deployment.versions", "DeploymentVersion", O2M, "deployment", "DeploymentVersion", "deployment_id", "CASCADE", RoleHistory, true, true},
		{"TaskRun.states", "TaskRunState", O2M, "task_run", "TaskRunState", "task_run_id", "CASCADE", RoleHistory, true, true},
		{"Flow.flow_runs", "FlowRun", O2M, "flow", "FlowRun", "flow_id", "CASCADE", "", true, true},
		{"Deployment.flow_runs", "FlowRun", O2M, "deployment", "FlowRun", "deployment_id", "", "", false, false},
		{"FlowRun.logs", "LogEntry", O2M, "flow_run", "LogEntry", "flow_run_id", "", "", false, false},
		{"TaskRun.subflow_run", "FlowRun", O2O, "parent_task_run", "FlowRun", "parent_task_run_id", "SET NULL", "", true, false},
		{"Event.followers", "Event", O2M, "follows_event", "Event", "follows", "", "", false, false},
		{"WorkPool.default_queue", "WorkQueue", M2O, "", "WorkPool", "default_queue_id", "RESTRICT", "", true, false},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			r := rel(c.id)
			got := []any{r.To, r.Cardinality, r.Inverse, r.Holder, r.Column, r.OnDelete, r.Role, r.FK, r.Required}
			want := []any{c.to, c.cardinality, c.inverse, c.holder, c.column, c.onDelete, c.role, c.fk, c.required}
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
	roles := 0
	for _, r := range m.Relations {
		if r.Role != "" {
			roles++
		}
	}
	if roles != 6 {
		t.Errorf("%d relations with a role, want 6 (the current-state pointers of flow and task runs and the current version of a deployment, and their histories)", roles)
	}
	fields := map[string]*Field{}
	for _, f := range m.Entity("FlowRun").Fields {
		fields[f.Name] = f
	}
	for name, want := range map[string]string{
		"id": "PK", "flow_id": "FK", "deployment_id": "ref", "state_type": "", "name": "",
	} {
		if got := flagText(fields[name]); got != want {
			t.Errorf("flow_run.%s flags %q, want %q", name, got, want)
		}
	}
	if !fields["state_type"].Optional || fields["flow_id"].Optional {
		t.Error("flow_run.state_type should be optional and flow_run.flow_id not")
	}
	if f := m.Entity("BlockType").Fields; !slices.ContainsFunc(f, func(f *Field) bool { return f.Name == "slug" && f.Unique }) {
		t.Error("block_type.slug should be marked unique")
	}
}

// TestGroups checks that every table named by a group exists, so that a
// renamed table cannot silently fall into "Other", and that each group
// holds what its title says.
func TestGroups(t *testing.T) {
	m := compiledModel(t)
	tables := map[string]*Entity{}
	for _, e := range m.Entities {
		tables[e.Table] = e
	}
	for _, g := range Groups() {
		for _, table := range g.Tables {
			if tables[table] == nil {
				t.Errorf("group %s lists table %s, which the schema does not have", g.ID, table)
			}
		}
	}
	for table, group := range map[string]string{
		"flow_run": "runs", "task_run_state": "runs", "deployment_schedule": "deployments", "worker": "workpools",
		"block_document": "blocks", "events": "automations", "variable": OtherGroup,
	} {
		if got := tables[table].Group; got != group {
			t.Errorf("%s is in group %s, want %s", table, got, group)
		}
	}
	if len(m.Groups) != 6 {
		t.Errorf("%d groups, want 6", len(m.Groups))
	}
}

// TestDOTQuotesKeywords draws entities named after DOT keywords, which
// unquoted would break the DOT source.
func TestDOTQuotesKeywords(t *testing.T) {
	for _, name := range []string{"Node", "edge", "Graph", "digraph", "subgraph", "strict", `Odd"Name`} {
		t.Run(name, func(t *testing.T) {
			m := &Model{
				Groups:   []*Group{Groups()[len(Groups())-1]},
				Entities: []*Entity{{Name: name, Table: "t", Group: OtherGroup, Fields: []*Field{{Name: "id", Kind: "uuid", PK: true}}}},
				Relations: []*Relation{{ID: name + ".self", From: name, To: name, Name: "self", Cardinality: O2O,
					Holder: name, Column: "id", FK: true, OnDelete: "CASCADE"}},
			}
			svg, err := SVG(context.Background(), DOT(m))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(svg, `class="node entity group&#45;other"`) || !strings.Contains(svg, `class="edge rel o2o fk"`) {
				t.Fatalf("the entity or its edge is missing from the drawing:\n%s", svg)
			}
		})
	}
}

// TestHTMLSelfContained checks that the page loads nothing: no external
// address besides the SVG namespaces, no src or href to a file, and a
// Content-Security-Policy whose hashes match the inline style and script.
func TestHTMLSelfContained(t *testing.T) {
	page, err := os.ReadFile(filepath.Join(docsDir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	// The SVG and XLink namespace names are identifiers, never fetched.
	rest := strings.NewReplacer(`"http://www.w3.org/2000/svg"`, "", `"http://www.w3.org/1999/xlink"`, "").Replace(s)
	for _, bad := range []string{"http:", "https:", "//cdn", " src=", "<link", "@import", "url(", "@font-face", "fetch(", "XMLHttpRequest"} {
		if strings.Contains(rest, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	for _, href := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(s, -1) {
		if !strings.HasPrefix(href[1], "#") {
			t.Errorf("link to %q: only links within the page are allowed", href[1])
		}
	}
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(s)
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindStringSubmatch(s)
	if style == nil || script == nil {
		t.Fatal("no inline style or script")
	}
	csp := "default-src 'none'; style-src '" + cspHash(style[1]) + "'; script-src '" + cspHash(script[1]) + "'"
	if !strings.Contains(s, `content="`+csp+`"`) {
		t.Errorf("the Content-Security-Policy does not match the inline style and script; want %s", csp)
	}
}

// mermaidLine is what the generated erDiagrams may contain: a relation, an
// entity's opening or closing line, an attribute, or a bare entity.
var mermaidLine = regexp.MustCompile(`^(` +
	`    [a-z_0-9]+ (\|\||\|o|\}o)(--|\.\.)(\|\||o\||o\{) [a-z_0-9]+ : "[^"]+"` +
	`|    [a-z_0-9]+ \{|    \}|    [a-z_0-9]+` +
	`|        [A-Za-z_][A-Za-z0-9_]* [A-Za-z_][A-Za-z0-9_]*( (PK|FK|UK)(, (PK|FK|UK))*)?( "[^"]*")?` +
	`)$`)

func TestMermaid(t *testing.T) {
	m := compiledModel(t)
	md := string(Markdown(m))
	blocks := regexp.MustCompile("(?s)```mermaid\nerDiagram\n(.*?)```").FindAllStringSubmatch(md, -1)
	if len(blocks) != 1+len(m.Groups) {
		t.Fatalf("%d mermaid blocks, want an overview and one per group (%d)", len(blocks), 1+len(m.Groups))
	}
	for i, b := range blocks {
		for _, line := range strings.Split(strings.TrimSuffix(b[1], "\n"), "\n") {
			if !mermaidLine.MatchString(line) {
				t.Errorf("block %d: line %q is not in the Mermaid ER syntax we emit", i, line)
			}
		}
	}
	overview := blocks[0][1]
	if n := strings.Count(overview, " : "); n != len(m.Relations) {
		t.Errorf("overview has %d relations, want %d", n, len(m.Relations))
	}
	for _, want := range []string{
		`flow_run }o--o| flow_run_state : "current_state (current state)"`,
		`flow_run ||--o{ flow_run_state : "states (history)"`,
		`deployment |o..o{ flow_run : "flow_runs"`,
		`flow ||--o{ flow_run : "flow_runs"`,
	} {
		if !strings.Contains(overview, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	for _, e := range m.Entities {
		if !strings.Contains(md, "| "+e.Name+" | `"+e.Table+"` |") {
			t.Errorf("the entity table lacks %s", e.Name)
		}
	}
	if !strings.Contains(md, "        state_type state_type \"enum, nullable\"") {
		t.Error("flow_run.state_type should be drawn as the enum type state_type, nullable")
	}
}
