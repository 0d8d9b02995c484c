package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// AutomationEventFollower holds the schema of the automation_event_follower table.
type AutomationEventFollower struct {
	ent.Schema
}

// Annotations of the AutomationEventFollower.
func (AutomationEventFollower) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("automation_event_follower")}
}

// Mixin of the AutomationEventFollower.
func (AutomationEventFollower) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the AutomationEventFollower.
func (AutomationEventFollower) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("leader_event_id", uuid.UUID{}),
		field.UUID("follower_event_id", uuid.UUID{}),
		field.Time("received"),
		field.JSON("follower", map[string]any{}),
		field.String("scope"),
	}
}

// Indexes of the AutomationEventFollower.
func (AutomationEventFollower) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("leader_event_id").StorageKey("ix_automation_event_follower__leader_event_id"),
		index.Fields("received").StorageKey("ix_automation_event_follower__received"),
		index.Fields("scope").StorageKey("ix_automation_event_follower__scope"),
		index.Fields("updated").StorageKey("ix_automation_event_follower__updated"),
		index.Fields("scope", "leader_event_id").StorageKey("ix_ae_follower_scope_leader"),
		index.Fields("scope", "follower_event_id").StorageKey("uq_follower_for_scope").Unique(),
	}
}
