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

// Event holds the schema of the events table.
type Event struct {
	ent.Schema
}

// Annotations of the Event.
func (Event) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("events")}
}

// Mixin of the Event.
func (Event) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the Event.
func (Event) Fields() []ent.Field {
	return []ent.Field{
		field.Time("occurred"),
		field.Text("event").
			Annotations(storage.Kind(storage.KindText)),
		field.Text("resource_id").
			Annotations(storage.Kind(storage.KindText)),
		field.JSON("resource", map[string]any{}),
		field.JSON("related_resource_ids", []string{}).Default([]string{}).
			Annotations(storage.DefaultString("[]")),
		field.JSON("related", []map[string]any{}).Default([]map[string]any{}).
			Annotations(storage.DefaultString("[]")),
		field.JSON("payload", map[string]any{}),
		field.Time("received"),
		field.Time("recorded"),
		field.UUID("follows", uuid.UUID{}).Optional().Nillable(),
	}
}

// Edges of the Event.
func (Event) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("resources", EventResource.Type),
		// follows is the id of the event this one follows, kept without a
		// foreign key; several events may follow one. (A bare unique To
		// edge to the same type would be Ent's bidirectional O2O, which
		// would also make the followed event follow this one.)
		edge.To("followers", Event.Type).
			From("follows_event").Field("follows").Unique().
			Annotations(storage.NoForeignKey()),
	}
}

// Indexes of the Event.
func (Event) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("event", "id").StorageKey("ix_events__event__id"),
		index.Fields("event", "occurred", "id").StorageKey("ix_events__event_occurred_id"),
		index.Fields("event", "related", "occurred").StorageKey("ix_events__event_related_occurred"),
		index.Fields("event", "resource_id", "occurred").StorageKey("ix_events__event_resource_id_occurred"),
		index.Fields("occurred").StorageKey("ix_events__occurred"),
		index.Fields("occurred", "id").StorageKey("ix_events__occurred_id"),
		index.Fields("related_resource_ids").StorageKey("ix_events__related_resource_ids"),
		index.Fields("updated").StorageKey("ix_events__updated"),
	}
}
