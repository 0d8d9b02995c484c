package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/prefectdb/prefectdb/ent/schema/storage"
)

// Automation holds the schema of the automation table.
type Automation struct {
	ent.Schema
}

// Annotations of the Automation.
func (Automation) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("automation")}
}

// Mixin of the Automation.
func (Automation) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the Automation.
func (Automation) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.String("description"),
		field.Bool("enabled").Default(true).
			Annotations(storage.Default("true")),
		field.JSON("trigger", map[string]any{}),
		field.JSON("actions", []map[string]any{}),
		field.JSON("actions_on_trigger", []map[string]any{}).Default([]map[string]any{}).
			Annotations(storage.DefaultString("[]")),
		field.JSON("actions_on_resolve", []map[string]any{}).Default([]map[string]any{}).
			Annotations(storage.DefaultString("[]")),
		// Optional: added after Prefect 3.0; on older databases the client
		// leaves it out of writes (see dbiface.GateReleases).
		field.JSON("tags", []string{}).Default([]string{}).Optional().
			Annotations(storage.DefaultString("[]")),
	}
}

// Edges of the Automation.
func (Automation) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("buckets", AutomationBucket.Type),
		edge.To("related_resources", AutomationRelatedResource.Type),
		edge.To("child_firings", CompositeTriggerChildFiring.Type),
	}
}

// Indexes of the Automation.
func (Automation) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("updated").StorageKey("ix_automation__updated"),
	}
}
