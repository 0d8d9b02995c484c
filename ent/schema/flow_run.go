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

// FlowRun holds the schema of the flow_run table.
type FlowRun struct {
	ent.Schema
}

// Annotations of the FlowRun.
func (FlowRun) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("flow_run")}
}

// Mixin of the FlowRun.
func (FlowRun) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the FlowRun.
func (FlowRun) Fields() []ent.Field {
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
		field.String("flow_version").Optional().Nillable(),
		field.JSON("parameters", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
		field.String("idempotency_key").Optional().Nillable(),
		field.JSON("context", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
		field.JSON("empirical_policy", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
		field.JSON("tags", []string{}).Default([]string{}).
			Annotations(storage.DefaultString("[]")),
		field.Bool("auto_scheduled").Default(false).
			Annotations(storage.Default("false")),
		field.UUID("flow_id", uuid.UUID{}),
		field.UUID("deployment_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("parent_task_run_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("state_id", uuid.UUID{}).Optional().Nillable(),
		field.String("state_name").Optional().Nillable(),
		field.UUID("infrastructure_document_id", uuid.UUID{}).Optional().Nillable(),
		field.String("work_queue_name").Optional().Nillable(),
		field.Time("state_timestamp").Optional().Nillable(),
		field.JSON("created_by", map[string]any{}).Optional(),
		field.String("infrastructure_pid").Optional().Nillable(),
		field.UUID("work_queue_id", uuid.UUID{}).Optional().Nillable(),
		field.JSON("job_variables", map[string]any{}).Default(map[string]any{}).Optional().
			Annotations(storage.DefaultString("{}")),
		field.String("deployment_version").Optional().Nillable(),
		field.JSON("labels", map[string]any{}).Optional(),
	}
}

// Edges of the FlowRun.
func (FlowRun) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("artifacts", Artifact.Type),
		edge.From("flow", Flow.Type).Ref("flow_runs").Field("flow_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
		edge.From("deployment", Deployment.Type).Ref("flow_runs").Field("deployment_id").Unique().
			Annotations(storage.NoForeignKey()),
		edge.To("infrastructure_document", BlockDocument.Type).Field("infrastructure_document_id").Unique().
			Annotations(storage.OnDelete(storage.Cascade)),
		edge.From("parent_task_run", TaskRun.Type).Ref("subflow_run").Field("parent_task_run_id").Unique().
			Annotations(storage.OnDelete(storage.SetNull)),
		edge.To("current_state", FlowRunState.Type).Field("state_id").Unique().
			Annotations(storage.OnDelete(storage.SetNull)),
		edge.From("work_queue", WorkQueue.Type).Ref("flow_runs").Field("work_queue_id").Unique().
			Annotations(storage.OnDelete(storage.SetNull)),
		edge.To("inputs", FlowRunInput.Type),
		edge.To("states", FlowRunState.Type),
		edge.To("logs", LogEntry.Type),
		edge.To("task_runs", TaskRun.Type),
	}
}

// Indexes of the FlowRun.
func (FlowRun) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("deployment_id").StorageKey("ix_flow_run__deployment_id"),
		index.Fields("deployment_version").StorageKey("ix_flow_run__deployment_version"),
		index.Fields("end_time").StorageKey("ix_flow_run__end_time_desc").
			Annotations(entsql.DescColumns("end_time")),
		index.Fields("expected_start_time").StorageKey("ix_flow_run__expected_start_time_desc").
			Annotations(entsql.DescColumns("expected_start_time")),
		index.Fields("flow_id").StorageKey("ix_flow_run__flow_id"),
		index.Fields("flow_version").StorageKey("ix_flow_run__flow_version"),
		index.Fields("infrastructure_document_id").StorageKey("ix_flow_run__infrastructure_document_id"),
		index.Fields("name").StorageKey("ix_flow_run__name"),
		index.Fields("next_scheduled_start_time").StorageKey("ix_flow_run__next_scheduled_start_time_asc"),
		index.Fields("parent_task_run_id").StorageKey("ix_flow_run__parent_task_run_id"),
		index.Fields("start_time").StorageKey("ix_flow_run__start_time"),
		index.Fields("state_id").StorageKey("ix_flow_run__state_id"),
		index.Fields("state_name").StorageKey("ix_flow_run__state_name"),
		index.Fields("state_timestamp").StorageKey("ix_flow_run__state_timestamp"),
		index.Fields("state_type").StorageKey("ix_flow_run__state_type"),
		index.Fields("updated").StorageKey("ix_flow_run__updated"),
		index.Fields("work_queue_id").StorageKey("ix_flow_run__work_queue_id"),
		index.Fields("work_queue_name").StorageKey("ix_flow_run__work_queue_name"),
		index.Fields("flow_id", "idempotency_key").StorageKey("uq_flow_run__flow_id_idempotency_key").Unique(),
	}
}
