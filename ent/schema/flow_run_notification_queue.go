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

// FlowRunNotificationQueue holds the schema of the flow_run_notification_queue table.
type FlowRunNotificationQueue struct {
	ent.Schema
}

// Annotations of the FlowRunNotificationQueue.
func (FlowRunNotificationQueue) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("flow_run_notification_queue")}
}

// Mixin of the FlowRunNotificationQueue.
func (FlowRunNotificationQueue) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the FlowRunNotificationQueue.
func (FlowRunNotificationQueue) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("flow_run_notification_policy_id", uuid.UUID{}),
		field.UUID("flow_run_state_id", uuid.UUID{}),
	}
}

// Edges of the FlowRunNotificationQueue.
func (FlowRunNotificationQueue) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("flow_run_notification_policy", FlowRunNotificationPolicy.Type).Ref("queued_notifications").Field("flow_run_notification_policy_id").Unique().Required().
			Annotations(storage.NoForeignKey()),
		edge.To("flow_run_state", FlowRunState.Type).Field("flow_run_state_id").Unique().Required().
			Annotations(storage.NoForeignKey()),
	}
}

// Indexes of the FlowRunNotificationQueue.
func (FlowRunNotificationQueue) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("updated").StorageKey("ix_flow_run_notification_queue__updated"),
	}
}
