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

// TaskRun holds the schema of the task_run table.
type TaskRun struct {
	ent.Schema
}

// Annotations of the TaskRun.
func (TaskRun) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("task_run")}
}

// Mixin of the TaskRun.
func (TaskRun) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the TaskRun.
func (TaskRun) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.Enum("state_type").GoType(types.StateType("")).Optional().Nillable().
			Annotations(storage.Enum("state_type")),
		field.Int("run_count").Default(0).
			Annotations(storage.Default("0")),
		field.Time("expected_start_time").Optional().Nillable(),
		field.Time("next_scheduled_start_time").Optional().Nillable(),
		field.Time("start_time").Optional().Nillable(),
		field.Time("end_time").Optional().Nillable(),
		field.Int64("total_run_time").GoType(types.Interval(0)).Default(0).
			Annotations(storage.Kind(storage.KindInterval), storage.Default(storage.DefaultIntervalZero)),
		field.String("task_key"),
		field.String("dynamic_key"),
		field.String("cache_key").Optional().Nillable(),
		field.Time("cache_expiration").Optional().Nillable(),
		field.String("task_version").Optional().Nillable(),
		field.JSON("empirical_policy", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
		field.JSON("task_inputs", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
		field.JSON("tags", []string{}).Default([]string{}).
			Annotations(storage.DefaultString("[]")),
		field.UUID("flow_run_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("state_id", uuid.UUID{}).Optional().Nillable(),
		field.String("state_name").Optional().Nillable(),
		field.Time("state_timestamp").Optional().Nillable(),
		field.Int("flow_run_run_count").Default(0).
			Annotations(storage.Default("0")),
		field.JSON("labels", map[string]any{}).Optional(),
	}
}

// Edges of the TaskRun.
func (TaskRun) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("artifacts", Artifact.Type),
		edge.To("subflow_run", FlowRun.Type).Unique(),
		edge.To("logs", LogEntry.Type),
		edge.From("flow_run", FlowRun.Type).Ref("task_runs").Field("flow_run_id").Unique().
			Annotations(storage.OnDelete(storage.Cascade)),
		// No foreign key since Prefect 3.4.7 (Alembic 3b86c5ea017a / 8bb517bae6f9).
		edge.To("current_state", TaskRunState.Type).Field("state_id").Unique().
			Annotations(storage.NoForeignKey()),
		edge.To("states", TaskRunState.Type),
	}
}

// Indexes of the TaskRun.
func (TaskRun) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("end_time").StorageKey("ix_task_run__end_time_desc").
			Annotations(entsql.DescColumns("end_time")),
		index.Fields("expected_start_time").StorageKey("ix_task_run__expected_start_time_desc").
			Annotations(entsql.DescColumns("expected_start_time")),
		index.Fields("flow_run_id").StorageKey("ix_task_run__flow_run_id"),
		index.Fields("name").StorageKey("ix_task_run__name"),
		index.Fields("next_scheduled_start_time").StorageKey("ix_task_run__next_scheduled_start_time_asc"),
		index.Fields("start_time").StorageKey("ix_task_run__start_time"),
		index.Fields("state_id").StorageKey("ix_task_run__state_id"),
		index.Fields("state_name").StorageKey("ix_task_run__state_name"),
		index.Fields("state_timestamp").StorageKey("ix_task_run__state_timestamp"),
		index.Fields("state_type").StorageKey("ix_task_run__state_type"),
		index.Fields("updated").StorageKey("ix_task_run__updated"),
		index.Fields("state_type", "start_time").StorageKey("ix_task_run__state_type_start_time"),
		index.Fields("flow_run_id", "task_key", "dynamic_key").StorageKey("uq_task_run__flow_run_id_task_key_dynamic_key").Unique(),
	}
}
