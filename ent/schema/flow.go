package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/prefectdb/prefectdb/ent/schema/storage"
)

// Flow holds the schema of the flow table.
type Flow struct {
	ent.Schema
}

// Annotations of the Flow.
func (Flow) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("flow")}
}

// Mixin of the Flow.
func (Flow) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the Flow.
func (Flow) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.JSON("tags", []string{}).Default([]string{}).
			Annotations(storage.DefaultString("[]")),
		field.JSON("labels", map[string]any{}).Optional(),
	}
}

// Edges of the Flow.
func (Flow) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("deployments", Deployment.Type),
		edge.To("flow_runs", FlowRun.Type),
	}
}

// Indexes of the Flow.
func (Flow) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("name").StorageKey("uq_flow__name").Unique().
			Annotations(storage.Constraint()),
		index.Fields("created").StorageKey("ix_flow__created"),
		index.Fields("updated").StorageKey("ix_flow__updated"),
	}
}
