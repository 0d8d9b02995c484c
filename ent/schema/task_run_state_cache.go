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

// TaskRunStateCache holds the schema of the task_run_state_cache table.
type TaskRunStateCache struct {
	ent.Schema
}

// Annotations of the TaskRunStateCache.
func (TaskRunStateCache) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("task_run_state_cache")}
}

// Mixin of the TaskRunStateCache.
func (TaskRunStateCache) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the TaskRunStateCache.
func (TaskRunStateCache) Fields() []ent.Field {
	return []ent.Field{
		field.String("cache_key"),
		field.Time("cache_expiration").Optional().Nillable(),
		field.UUID("task_run_state_id", uuid.UUID{}),
	}
}

// Edges of the TaskRunStateCache.
func (TaskRunStateCache) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("task_run_state", TaskRunState.Type).Ref("cache_entries").Field("task_run_state_id").Unique().Required().
			Annotations(storage.NoForeignKey()),
	}
}

// Indexes of the TaskRunStateCache.
func (TaskRunStateCache) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("cache_key", "created").StorageKey("ix_task_run_state_cache__cache_key_created_desc").
			Annotations(entsql.DescColumns("created")),
		index.Fields("updated").StorageKey("ix_task_run_state_cache__updated"),
	}
}
