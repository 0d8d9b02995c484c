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

// Worker holds the schema of the worker table.
type Worker struct {
	ent.Schema
}

// Annotations of the Worker.
func (Worker) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("worker")}
}

// Mixin of the Worker.
func (Worker) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the Worker.
func (Worker) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.Time("last_heartbeat_time").Default(now).
			Annotations(storage.Default(storage.DefaultNow)),
		field.UUID("work_pool_id", uuid.UUID{}),
		field.Int("heartbeat_interval_seconds").Optional().Nillable(),
		field.Enum("status").GoType(types.WorkerStatus("")).Default("OFFLINE").
			Annotations(storage.Enum("worker_status"), storage.DefaultString("OFFLINE")),
	}
}

// Edges of the Worker.
func (Worker) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("work_pool", WorkPool.Type).Ref("workers").Field("work_pool_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
	}
}

// Indexes of the Worker.
func (Worker) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("work_pool_id", "name").StorageKey("uq_worker__work_pool_id_name").Unique().
			Annotations(storage.Constraint()),
		index.Fields("updated").StorageKey("ix_worker__updated"),
		index.Fields("work_pool_id").StorageKey("ix_worker__work_pool_id"),
		index.Fields("work_pool_id", "last_heartbeat_time").StorageKey("ix_worker__work_pool_id_last_heartbeat_time"),
	}
}
