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

// AutomationBucket holds the schema of the automation_bucket table.
type AutomationBucket struct {
	ent.Schema
}

// Annotations of the AutomationBucket.
func (AutomationBucket) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("automation_bucket")}
}

// Mixin of the AutomationBucket.
func (AutomationBucket) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the AutomationBucket.
func (AutomationBucket) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("automation_id", uuid.UUID{}),
		field.UUID("trigger_id", uuid.UUID{}),
		field.JSON("bucketing_key", []string{}),
		field.JSON("last_event", map[string]any{}).Optional(),
		field.Time("start"),
		field.Time("end"),
		field.Int("count"),
		field.String("last_operation").Optional().Nillable(),
		field.Time("triggered_at").Optional().Nillable(),
	}
}

// Edges of the AutomationBucket.
func (AutomationBucket) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("automation", Automation.Type).Ref("buckets").Field("automation_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
	}
}

// Indexes of the AutomationBucket.
func (AutomationBucket) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("automation_id", "end").StorageKey("ix_automation_bucket__automation_id__end"),
		index.Fields("updated").StorageKey("ix_automation_bucket__updated"),
		index.Fields("automation_id", "trigger_id", "bucketing_key").StorageKey("uq_automation_bucket__automation_id__trigger_id__bucketing_key").Unique(),
	}
}
