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

// AutomationRelatedResource holds the schema of the automation_related_resource table.
type AutomationRelatedResource struct {
	ent.Schema
}

// Annotations of the AutomationRelatedResource.
func (AutomationRelatedResource) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("automation_related_resource")}
}

// Mixin of the AutomationRelatedResource.
func (AutomationRelatedResource) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the AutomationRelatedResource.
func (AutomationRelatedResource) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("automation_id", uuid.UUID{}),
		field.String("resource_id").Optional().Nillable(),
		field.Bool("automation_owned_by_resource").Default(false).
			Annotations(storage.Default("false")),
	}
}

// Edges of the AutomationRelatedResource.
func (AutomationRelatedResource) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("automation", Automation.Type).Ref("related_resources").Field("automation_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
	}
}

// Indexes of the AutomationRelatedResource.
func (AutomationRelatedResource) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("resource_id").StorageKey("ix_automation_related_resource__resource_id"),
		index.Fields("updated").StorageKey("ix_automation_related_resource__updated"),
		index.Fields("automation_id", "resource_id").StorageKey("uq_automation_related_resource__automation_id__resource_id").Unique(),
	}
}
