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

// WorkQueue holds the schema of the work_queue table.
type WorkQueue struct {
	ent.Schema
}

// Annotations of the WorkQueue.
func (WorkQueue) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("work_queue")}
}

// Mixin of the WorkQueue.
func (WorkQueue) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the WorkQueue.
func (WorkQueue) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.JSON("filter", map[string]any{}).Optional(),
		field.String("description").Default("").
			Annotations(storage.DefaultString("")),
		field.Bool("is_paused").Default(false).
			Annotations(storage.Default("false")),
		field.Int("concurrency_limit").Optional().Nillable(),
		field.Time("last_polled").Optional().Nillable(),
		field.Int("priority").Default(1).
			Annotations(storage.Default("1")),
		field.UUID("work_pool_id", uuid.UUID{}),
		field.Enum("status").GoType(types.WorkQueueStatus("")).Default("NOT_READY").
			Annotations(storage.Enum("work_queue_status"), storage.DefaultString("NOT_READY")),
	}
}

// Edges of the WorkQueue.
func (WorkQueue) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("agents", Agent.Type),
		edge.To("deployments", Deployment.Type),
		edge.To("deployment_versions", DeploymentVersion.Type),
		edge.To("flow_runs", FlowRun.Type),
		edge.From("work_pool", WorkPool.Type).Ref("work_queues").Field("work_pool_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
	}
}

// Indexes of the WorkQueue.
func (WorkQueue) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("work_pool_id", "name").StorageKey("uq_work_queue__work_pool_id_name").Unique().
			Annotations(storage.Constraint()),
		index.Fields("updated").StorageKey("ix_work_queue__updated"),
		index.Fields("work_pool_id").StorageKey("ix_work_queue__work_pool_id"),
		index.Fields("work_pool_id", "priority").StorageKey("ix_work_queue__work_pool_id_priority"),
	}
}
