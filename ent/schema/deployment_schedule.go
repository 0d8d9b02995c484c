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

// DeploymentSchedule holds the schema of the deployment_schedule table.
type DeploymentSchedule struct {
	ent.Schema
}

// Annotations of the DeploymentSchedule.
func (DeploymentSchedule) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("deployment_schedule")}
}

// Mixin of the DeploymentSchedule.
func (DeploymentSchedule) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the DeploymentSchedule.
func (DeploymentSchedule) Fields() []ent.Field {
	return []ent.Field{
		field.JSON("schedule", map[string]any{}),
		field.Bool("active"),
		field.UUID("deployment_id", uuid.UUID{}),
		field.Int("max_scheduled_runs").Optional().Nillable(),
		// Optional: added after Prefect 3.0; on older databases the client
		// leaves it out of writes (see dbiface.GateReleases).
		field.JSON("parameters", map[string]any{}).Default(map[string]any{}).Optional().
			Annotations(storage.DefaultString("{}")),
		field.String("slug").Optional().Nillable(),
	}
}

// Edges of the DeploymentSchedule.
func (DeploymentSchedule) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("deployment", Deployment.Type).Ref("schedules").Field("deployment_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
	}
}

// Indexes of the DeploymentSchedule.
func (DeploymentSchedule) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("deployment_id").StorageKey("ix_deployment_schedule__deployment_id"),
		index.Fields("updated").StorageKey("ix_deployment_schedule__updated"),
		index.Fields("slug").StorageKey("ix_deployment_schedule__slug"),
	}
}
