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

// CompositeTriggerChildFiring holds the schema of the composite_trigger_child_firing table.
type CompositeTriggerChildFiring struct {
	ent.Schema
}

// Annotations of the CompositeTriggerChildFiring.
func (CompositeTriggerChildFiring) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("composite_trigger_child_firing")}
}

// Mixin of the CompositeTriggerChildFiring.
func (CompositeTriggerChildFiring) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the CompositeTriggerChildFiring.
func (CompositeTriggerChildFiring) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("automation_id", uuid.UUID{}),
		field.UUID("parent_trigger_id", uuid.UUID{}),
		field.UUID("child_trigger_id", uuid.UUID{}),
		field.UUID("child_firing_id", uuid.UUID{}),
		field.Time("child_fired_at").Optional().Nillable(),
		field.JSON("child_firing", map[string]any{}),
	}
}

// Edges of the CompositeTriggerChildFiring.
func (CompositeTriggerChildFiring) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("automation", Automation.Type).Ref("child_firings").Field("automation_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
	}
}

// Indexes of the CompositeTriggerChildFiring.
func (CompositeTriggerChildFiring) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("updated").StorageKey("ix_composite_trigger_child_firing__updated"),
		index.Fields("automation_id", "parent_trigger_id", "child_trigger_id").StorageKey("uq_composite_trigger_child_firing__a_id__pt_id__ct__id").Unique(),
	}
}
