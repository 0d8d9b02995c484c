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
)

// Artifact holds the schema of the artifact table.
type Artifact struct {
	ent.Schema
}

// Annotations of the Artifact.
func (Artifact) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("artifact")}
}

// Interceptors of the Artifact: traversals to it must not use SELECT DISTINCT on
// PostgreSQL (see groupTraversalsByID).
func (Artifact) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{groupTraversalsByID("id")}
}

// Mixin of the Artifact.
func (Artifact) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the Artifact.
func (Artifact) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").Optional().Nillable(),
		field.String("type").Optional().Nillable(),
		field.JSON("data", json.RawMessage{}).Optional().
			Annotations(storage.Kind(storage.KindJSON)),
		field.JSON("metadata", json.RawMessage{}).Optional().StorageKey("metadata_").
			Annotations(storage.Kind(storage.KindJSON)),
		field.UUID("task_run_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("flow_run_id", uuid.UUID{}).Optional().Nillable(),
		field.String("description").Optional().Nillable(),
	}
}

// Edges of the Artifact.
func (Artifact) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("flow_run", FlowRun.Type).Ref("artifacts").Field("flow_run_id").Unique().
			Annotations(storage.NoForeignKey()),
		edge.From("task_run", TaskRun.Type).Ref("artifacts").Field("task_run_id").Unique().
			Annotations(storage.NoForeignKey()),
	}
}

// Indexes of the Artifact.
func (Artifact) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("flow_run_id").StorageKey("ix_artifact__flow_run_id"),
		index.Fields("key").StorageKey("ix_artifact__key"),
		index.Fields("task_run_id").StorageKey("ix_artifact__task_run_id"),
		index.Fields("updated").StorageKey("ix_artifact__updated"),
	}
}
