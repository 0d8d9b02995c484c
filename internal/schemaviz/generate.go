package schemaviz

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"entgo.io/ent"
	"entgo.io/ent/entc/gen"
	"entgo.io/ent/entc/load"

	"github.com/prefectdb/prefectdb/ent/schema"
)

// Output file names, in the docs directory.
const (
	HTMLFile     = "schema.html"
	MarkdownFile = "schema.md"
)

// schemas lists every Ent schema type of package ent/schema, for
// CompiledGraph. TestCompiledGraphMatchesSource fails when an entity is
// added to ent/schema but not here.
var schemas = []ent.Interface{
	schema.Agent{},
	schema.Artifact{},
	schema.ArtifactCollection{},
	schema.Automation{},
	schema.AutomationBucket{},
	schema.AutomationEventFollower{},
	schema.AutomationRelatedResource{},
	schema.BlockDocument{},
	schema.BlockDocumentReference{},
	schema.BlockSchema{},
	schema.BlockSchemaReference{},
	schema.BlockType{},
	schema.CompositeTriggerChildFiring{},
	schema.ConcurrencyLimit{},
	schema.ConcurrencyLimitV2{},
	schema.Configuration{},
	schema.CsrfToken{},
	schema.Deployment{},
	schema.DeploymentSchedule{},
	schema.DeploymentVersion{},
	schema.Event{},
	schema.EventResource{},
	schema.Flow{},
	schema.FlowRun{},
	schema.FlowRunInput{},
	schema.FlowRunNotificationPolicy{},
	schema.FlowRunNotificationQueue{},
	schema.FlowRunState{},
	schema.LogEntry{},
	schema.SavedSearch{},
	schema.TaskRun{},
	schema.TaskRunState{},
	schema.TaskRunStateCache{},
	schema.Variable{},
	schema.WorkPool{},
	schema.WorkQueue{},
	schema.Worker{},
}

// CompiledGraph builds the Ent schema graph from the schema compiled into
// this binary, the way entc.LoadGraph does from source (each schema is
// marshalled with load.MarshalSchema and read back), so that a binary can
// draw its own schema without the Go toolchain or the source tree.
func CompiledGraph() (*gen.Graph, error) {
	specs := make([]*load.Schema, 0, len(schemas))
	for _, s := range schemas {
		b, err := load.MarshalSchema(s)
		if err != nil {
			return nil, fmt.Errorf("schemaviz: marshal schema %T: %w", s, err)
		}
		spec, err := load.UnmarshalSchema(b)
		if err != nil {
			return nil, fmt.Errorf("schemaviz: unmarshal schema %T: %w", s, err)
		}
		specs = append(specs, spec)
	}
	g, err := gen.NewGraph(&gen.Config{
		Schema:  "github.com/prefectdb/prefectdb/ent/schema",
		Package: "github.com/prefectdb/prefectdb/ent",
	}, specs...)
	if err != nil {
		return nil, fmt.Errorf("schemaviz: build graph: %w", err)
	}
	return g, nil
}

// Files renders the documents drawn from the graph, by file name.
func Files(ctx context.Context, g *gen.Graph) (map[string][]byte, error) {
	m, err := Build(g)
	if err != nil {
		return nil, err
	}
	page, err := HTML(ctx, m)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{HTMLFile: page, MarkdownFile: Markdown(m)}, nil
}

// Write renders the documents drawn from the graph into dir, creating it
// if needed, and returns the paths written, sorted.
func Write(ctx context.Context, g *gen.Graph, dir string) ([]string, error) {
	files, err := Files(ctx, g)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("schemaviz: create %s: %w", dir, err)
	}
	var paths []string
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, fmt.Errorf("schemaviz: write %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths, nil
}
