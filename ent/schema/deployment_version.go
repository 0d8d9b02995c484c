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

// DeploymentVersion holds the schema of the deployment_version table, added
// in Prefect 3.2.15 (Alembic 06b7c293bc69 / bbca16f6f218). Prefect's ORM has
// no model for it; its migrations create it, and deployment.version_id names
// a deployment's current version.
//
// On SQLite, Prefect's migration gave id, created and updated the defaults
// GEN_RANDOM_UUID() (a function SQLite lacks) and CURRENT_TIMESTAMP (in a
// format that is not Prefect's): the client always supplies all three, as it
// does for every table.
type DeploymentVersion struct {
	ent.Schema
}

// Annotations of the DeploymentVersion.
func (DeploymentVersion) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("deployment_version")}
}

// Mixin of the DeploymentVersion.
func (DeploymentVersion) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the DeploymentVersion.
func (DeploymentVersion) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("deployment_id", uuid.UUID{}),
		field.String("branch").Optional().Nillable(),
		field.JSON("version_info", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
		field.Text("description").Optional().Nillable().
			Annotations(storage.Kind(storage.KindText)),
		field.JSON("tags", []string{}).Default([]string{}).
			Annotations(storage.DefaultString("[]")),
		field.JSON("labels", map[string]any{}).Optional(),
		field.String("entrypoint").Optional().Nillable(),
		field.JSON("pull_steps", []map[string]any{}).Optional(),
		field.JSON("parameters", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
		field.JSON("parameter_openapi_schema", map[string]any{}).Optional(),
		field.Bool("enforce_parameter_schema").Default(false).
			Annotations(storage.Default("false")),
		field.UUID("work_queue_id", uuid.UUID{}).Optional().Nillable(),
		field.String("work_queue_name").Optional().Nillable(),
		field.JSON("infra_overrides", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
	}
}

// Edges of the DeploymentVersion.
func (DeploymentVersion) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("deployment", Deployment.Type).Ref("versions").Field("deployment_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
		edge.From("work_queue", WorkQueue.Type).Ref("deployment_versions").Field("work_queue_id").Unique().
			Annotations(storage.OnDelete(storage.SetNull)),
		// Deployments whose current version this is (deployment.version_id).
		edge.From("current_of", Deployment.Type).Ref("current_version"),
	}
}

// Indexes of the DeploymentVersion.
func (DeploymentVersion) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("deployment_id").StorageKey("ix_deployment_version__deployment_id"),
		index.Fields("updated").StorageKey("ix_deployment_version__updated"),
		index.Fields("work_queue_id").StorageKey("ix_deployment_version__work_queue_id"),
		index.Fields("work_queue_name").StorageKey("ix_deployment_version__work_queue_name"),
		index.Fields("deployment_id", "branch").StorageKey("uq_deployment_version__deployment__branch").Unique(),
	}
}
