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

// EventResource holds the schema of the event_resources table.
type EventResource struct {
	ent.Schema
}

// Annotations of the EventResource.
func (EventResource) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("event_resources")}
}

// Interceptors of the EventResource: traversals to it must not use SELECT DISTINCT on
// PostgreSQL (see groupTraversalsByID).
func (EventResource) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{groupTraversalsByID("id")}
}

// Mixin of the EventResource.
func (EventResource) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the EventResource.
func (EventResource) Fields() []ent.Field {
	return []ent.Field{
		field.Time("occurred"),
		field.Text("resource_id").
			Annotations(storage.Kind(storage.KindText)),
		field.Text("resource_role").
			Annotations(storage.Kind(storage.KindText)),
		field.JSON("resource", map[string]any{}).
			Annotations(storage.Kind(storage.KindJSON)),
		field.UUID("event_id", uuid.UUID{}),
	}
}

// Edges of the EventResource.
func (EventResource) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("event", Event.Type).Ref("resources").Field("event_id").Unique().Required().
			Annotations(storage.NoForeignKey()),
	}
}

// Indexes of the EventResource.
func (EventResource) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("resource_id", "occurred").StorageKey("ix_event_resources__resource_id__occurred"),
		index.Fields("updated").StorageKey("ix_event_resources__updated"),
		index.Fields("occurred").StorageKey("ix_event_resources__occurred"),
		index.Fields("event_id").StorageKey("ix_event_resources__event_id"),
	}
}
