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
	"github.com/prefectdb/prefectdb/types"
)

// Deployment holds the schema of the deployment table.
type Deployment struct {
	ent.Schema
}

// Annotations of the Deployment.
func (Deployment) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("deployment")}
}

// Mixin of the Deployment.
func (Deployment) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the Deployment.
func (Deployment) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.JSON("tags", []string{}).Default([]string{}).
			Annotations(storage.DefaultString("[]")),
		field.JSON("parameters", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
		field.UUID("flow_id", uuid.UUID{}),
		field.UUID("infrastructure_document_id", uuid.UUID{}).Optional().Nillable(),
		field.Text("description").Optional().Nillable().
			Annotations(storage.Kind(storage.KindText)),
		field.JSON("parameter_openapi_schema", map[string]any{}).Optional(),
		field.UUID("storage_document_id", uuid.UUID{}).Optional().Nillable(),
		field.String("version").Optional().Nillable(),
		field.JSON("infra_overrides", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
		field.String("path").Optional().Nillable(),
		field.String("entrypoint").Optional().Nillable(),
		field.String("work_queue_name").Optional().Nillable(),
		field.JSON("created_by", map[string]any{}).Optional(),
		field.JSON("updated_by", map[string]any{}).Optional(),
		field.UUID("work_queue_id", uuid.UUID{}).Optional().Nillable(),
		field.JSON("pull_steps", []map[string]any{}).Optional(),
		field.Bool("enforce_parameter_schema").Default(false).
			Annotations(storage.Default("false")),
		field.Time("last_polled").Optional().Nillable(),
		field.Bool("paused").Default(false).
			Annotations(storage.Default("false")),
		field.Enum("status").GoType(types.DeploymentStatus("")).Default("NOT_READY").
			Annotations(storage.Enum("deployment_status"), storage.DefaultString("NOT_READY")),
		field.Int("concurrency_limit").Optional().Nillable(),
		field.JSON("concurrency_options", map[string]any{}).Optional(),
		field.UUID("concurrency_limit_id", uuid.UUID{}).Optional().Nillable(),
		field.JSON("labels", map[string]any{}).Optional(),
		field.UUID("version_id", uuid.UUID{}).Optional().Nillable(),
	}
}

// Edges of the Deployment.
func (Deployment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("flow", Flow.Type).Ref("deployments").Field("flow_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
		edge.To("infrastructure_document", BlockDocument.Type).Field("infrastructure_document_id").Unique().
			Annotations(storage.OnDelete(storage.Cascade)),
		edge.To("storage_document", BlockDocument.Type).Field("storage_document_id").Unique().
			Annotations(storage.OnDelete(storage.Cascade)),
		edge.From("work_queue", WorkQueue.Type).Ref("deployments").Field("work_queue_id").Unique().
			Annotations(storage.OnDelete(storage.SetNull)),
		edge.From("global_concurrency_limit", ConcurrencyLimitV2.Type).Ref("deployments").Field("concurrency_limit_id").Unique().
			Annotations(storage.OnDelete(storage.SetNull)),
		// The current version: Prefect keeps version_id without a foreign key.
		edge.To("current_version", DeploymentVersion.Type).Field("version_id").Unique().
			Annotations(storage.NoForeignKey()),
		edge.To("versions", DeploymentVersion.Type),
		edge.To("schedules", DeploymentSchedule.Type),
		edge.To("flow_runs", FlowRun.Type),
	}
}

// Indexes of the Deployment.
func (Deployment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("created").StorageKey("ix_deployment__created"),
		index.Fields("flow_id").StorageKey("ix_deployment__flow_id"),
		index.Fields("paused").StorageKey("ix_deployment__paused"),
		index.Fields("updated").StorageKey("ix_deployment__updated"),
		index.Fields("work_queue_id").StorageKey("ix_deployment__work_queue_id"),
		index.Fields("work_queue_name").StorageKey("ix_deployment__work_queue_name"),
		index.Fields("version_id").StorageKey("ix_deployment__version_id"),
		index.Fields("flow_id", "name").StorageKey("uq_deployment__flow_id_name").Unique(),
	}
}
