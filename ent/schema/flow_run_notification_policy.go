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

// FlowRunNotificationPolicy holds the schema of the flow_run_notification_policy table.
type FlowRunNotificationPolicy struct {
	ent.Schema
}

// Annotations of the FlowRunNotificationPolicy.
func (FlowRunNotificationPolicy) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("flow_run_notification_policy")}
}

// Mixin of the FlowRunNotificationPolicy.
func (FlowRunNotificationPolicy) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the FlowRunNotificationPolicy.
func (FlowRunNotificationPolicy) Fields() []ent.Field {
	return []ent.Field{
		field.Bool("is_active").Default(true).
			Annotations(storage.Default("true")),
		field.JSON("state_names", []string{}).Default([]string{}).
			Annotations(storage.DefaultString("[]")),
		field.JSON("tags", []string{}).Default([]string{}).
			Annotations(storage.DefaultString("[]")),
		field.String("message_template").Optional().Nillable(),
		field.UUID("block_document_id", uuid.UUID{}),
	}
}

// Edges of the FlowRunNotificationPolicy.
func (FlowRunNotificationPolicy) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("block_document", BlockDocument.Type).Ref("notification_policies").Field("block_document_id").Unique().Required().
			Annotations(storage.ForeignKey{OnDelete: storage.Cascade, Symbol: "fk_flow_run_alert_policy__block_document_id__block_document"}),
		edge.To("queued_notifications", FlowRunNotificationQueue.Type),
	}
}

// Indexes of the FlowRunNotificationPolicy.
func (FlowRunNotificationPolicy) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("updated").StorageKey("ix_flow_run_notification_policy__updated"),
	}
}
