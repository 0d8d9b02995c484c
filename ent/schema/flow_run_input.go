package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/ent/schema/storage"
)

// FlowRunInput holds the schema of the flow_run_input table.
type FlowRunInput struct {
	ent.Schema
}

// Annotations of the FlowRunInput.
func (FlowRunInput) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("flow_run_input")}
}

// Mixin of the FlowRunInput.
func (FlowRunInput) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the FlowRunInput.
func (FlowRunInput) Fields() []ent.Field {
	return []ent.Field{
		field.String("key"),
		field.Text("value").
			Annotations(storage.Kind(storage.KindText)),
		field.UUID("flow_run_id", uuid.UUID{}),
		field.String("sender").Optional().Nillable(),
	}
}

// Edges of the FlowRunInput.
func (FlowRunInput) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("flow_run", FlowRun.Type).Ref("inputs").Field("flow_run_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
	}
}

// Indexes of the FlowRunInput.
func (FlowRunInput) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("flow_run_id", "key").StorageKey("uq_flow_run_input__flow_run_id_key").Unique().
			Annotations(storage.Constraint()),
		index.Fields("updated").StorageKey("ix_flow_run_input__updated"),
	}
}
