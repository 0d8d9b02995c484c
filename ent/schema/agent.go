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

// Agent holds the schema of the agent table.
type Agent struct {
	ent.Schema
}

// Annotations of the Agent.
func (Agent) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("agent")}
}

// Mixin of the Agent.
func (Agent) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the Agent.
func (Agent) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.Time("last_activity_time").Default(now).
			Annotations(storage.Default(storage.DefaultNow)),
		field.UUID("work_queue_id", uuid.UUID{}),
	}
}

// Edges of the Agent.
func (Agent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("work_queue", WorkQueue.Type).Ref("agents").Field("work_queue_id").Unique().Required().
			Annotations(storage.OnDelete(storage.NoAction)),
	}
}

// Indexes of the Agent.
func (Agent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("name").StorageKey("uq_agent__name").Unique().
			Annotations(storage.Constraint()),
		index.Fields("updated").StorageKey("ix_agent__updated"),
		index.Fields("work_queue_id").StorageKey("ix_agent__work_queue_id"),
	}
}
