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

// WorkPool holds the schema of the work_pool table.
type WorkPool struct {
	ent.Schema
}

// Annotations of the WorkPool.
func (WorkPool) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("work_pool")}
}

// Mixin of the WorkPool.
func (WorkPool) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the WorkPool.
func (WorkPool) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.String("description").Optional().Nillable(),
		field.String("type"),
		field.JSON("base_job_template", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
		field.Bool("is_paused").Default(false).
			Annotations(storage.Default("false")),
		field.Int("concurrency_limit").Optional().Nillable(),
		field.UUID("default_queue_id", uuid.UUID{}).Optional().Nillable(),
		field.Enum("status").GoType(types.WorkPoolStatus("")).Default("NOT_READY").
			Annotations(storage.Enum("work_pool_status"), storage.DefaultString("NOT_READY")),
		field.Time("last_transitioned_status_at").Optional().Nillable(),
		field.UUID("last_status_event_id", uuid.UUID{}).Optional().Nillable(),
		// Optional: added after Prefect 3.0; on older databases the client
		// leaves it out of writes (see dbiface.GateReleases).
		field.JSON("storage_configuration", map[string]any{}).Default(map[string]any{}).Optional().
			Annotations(storage.DefaultString("{}")),
	}
}

// Edges of the WorkPool.
func (WorkPool) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("default_queue", WorkQueue.Type).Field("default_queue_id").Unique().
			Annotations(storage.OnDelete(storage.Restrict)),
		edge.To("work_queues", WorkQueue.Type),
		edge.To("workers", Worker.Type),
		edge.To("last_status_event", Event.Type).Field("last_status_event_id").Unique().
			Annotations(storage.NoForeignKey()),
	}
}

// Indexes of the WorkPool.
func (WorkPool) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("name").StorageKey("uq_work_pool__name").Unique().
			Annotations(storage.Constraint()),
		index.Fields("type").StorageKey("ix_work_pool__type"),
		index.Fields("updated").StorageKey("ix_work_pool__updated"),
	}
}
