package schema

import (
	"encoding/json"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/ent/schema/storage"
	"github.com/prefectdb/prefectdb/types"
)

// FlowRunState holds the schema of the flow_run_state table.
type FlowRunState struct {
	ent.Schema
}

// Annotations of the FlowRunState.
func (FlowRunState) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("flow_run_state")}
}

// Mixin of the FlowRunState.
func (FlowRunState) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the FlowRunState.
func (FlowRunState) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("type").GoType(types.StateType("")).
			Annotations(storage.Enum("state_type")),
		field.Time("timestamp").Default(now).
			Annotations(storage.Default(storage.DefaultNow)),
		field.String("name"),
		field.String("message").Optional().Nillable(),
		field.JSON("state_details", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
		field.JSON("data", json.RawMessage{}).Optional(),
		field.UUID("flow_run_id", uuid.UUID{}),
		field.UUID("result_artifact_id", uuid.UUID{}).Optional().Nillable(),
	}
}

// Edges of the FlowRunState.
func (FlowRunState) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("flow_run", FlowRun.Type).Ref("states").Field("flow_run_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
		edge.To("result_artifact", Artifact.Type).Field("result_artifact_id").Unique().
			Annotations(storage.OnDelete(storage.SetNull)),
	}
}

// Indexes of the FlowRunState.
func (FlowRunState) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("name").StorageKey("ix_flow_run_state__name"),
		index.Fields("result_artifact_id").StorageKey("ix_flow_run_state__result_artifact_id"),
		index.Fields("type").StorageKey("ix_flow_run_state__type"),
		index.Fields("updated").StorageKey("ix_flow_run_state__updated"),
		index.Fields("flow_run_id", "timestamp").StorageKey("uq_flow_run_state__flow_run_id_timestamp_desc").Unique().
			Annotations(entsql.DescColumns("timestamp")),
	}
}
