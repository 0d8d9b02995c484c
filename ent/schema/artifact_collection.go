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

// ArtifactCollection holds the schema of the artifact_collection table.
type ArtifactCollection struct {
	ent.Schema
}

// Annotations of the ArtifactCollection.
func (ArtifactCollection) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("artifact_collection")}
}

// Interceptors of the ArtifactCollection: traversals to it must not use SELECT DISTINCT on
// PostgreSQL (see groupTraversalsByID).
func (ArtifactCollection) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{groupTraversalsByID("id")}
}

// Mixin of the ArtifactCollection.
func (ArtifactCollection) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the ArtifactCollection.
func (ArtifactCollection) Fields() []ent.Field {
	return []ent.Field{
		field.String("key"),
		// NOT NULL since Prefect 3.1.6 (Alembic 5d03c01be85e) on PostgreSQL, always on SQLite.
		field.UUID("latest_id", uuid.UUID{}),
		field.UUID("task_run_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("flow_run_id", uuid.UUID{}).Optional().Nillable(),
		field.String("type").Optional().Nillable(),
		field.JSON("data", json.RawMessage{}).Optional().
			Annotations(storage.Kind(storage.KindJSON)),
		field.String("description").Optional().Nillable(),
		field.JSON("metadata", json.RawMessage{}).Optional().StorageKey("metadata_").
			Annotations(storage.Kind(storage.KindJSON)),
	}
}

// Edges of the ArtifactCollection.
func (ArtifactCollection) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("latest", Artifact.Type).Field("latest_id").Unique().Required().
			Annotations(storage.NoForeignKey()),
		edge.To("flow_run", FlowRun.Type).Field("flow_run_id").Unique().
			Annotations(storage.NoForeignKey()),
		edge.To("task_run", TaskRun.Type).Field("task_run_id").Unique().
			Annotations(storage.NoForeignKey()),
	}
}

// Indexes of the ArtifactCollection.
func (ArtifactCollection) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("key").StorageKey("uq_artifact_collection__key").Unique().
			Annotations(storage.Constraint()),
		index.Fields("key", "latest_id").StorageKey("ix_artifact_collection__key_latest_id"),
		index.Fields("updated").StorageKey("ix_artifact_collection__updated"),
	}
}
