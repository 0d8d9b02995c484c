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

// LogEntry holds the schema of the log table.
type LogEntry struct {
	ent.Schema
}

// Annotations of the LogEntry.
func (LogEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("log")}
}

// Mixin of the LogEntry.
func (LogEntry) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the LogEntry.
func (LogEntry) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.Int16("level"),
		field.UUID("flow_run_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("task_run_id", uuid.UUID{}).Optional().Nillable(),
		field.Text("message").
			Annotations(storage.Kind(storage.KindText)),
		field.Time("timestamp"),
	}
}

// Edges of the LogEntry.
func (LogEntry) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("flow_run", FlowRun.Type).Ref("logs").Field("flow_run_id").Unique().
			Annotations(storage.NoForeignKey()),
		edge.From("task_run", TaskRun.Type).Ref("logs").Field("task_run_id").Unique().
			Annotations(storage.NoForeignKey()),
	}
}

// Indexes of the LogEntry.
func (LogEntry) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("flow_run_id").StorageKey("ix_log__flow_run_id"),
		index.Fields("flow_run_id", "timestamp").StorageKey("ix_log__flow_run_id_timestamp"),
		index.Fields("level").StorageKey("ix_log__level"),
		index.Fields("task_run_id").StorageKey("ix_log__task_run_id"),
		index.Fields("timestamp").StorageKey("ix_log__timestamp"),
		index.Fields("updated").StorageKey("ix_log__updated"),
	}
}
