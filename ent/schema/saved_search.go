package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/prefectdb/prefectdb/ent/schema/storage"
)

// SavedSearch holds the schema of the saved_search table.
type SavedSearch struct {
	ent.Schema
}

// Annotations of the SavedSearch.
func (SavedSearch) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("saved_search")}
}

// Mixin of the SavedSearch.
func (SavedSearch) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the SavedSearch.
func (SavedSearch) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.JSON("filters", []map[string]any{}).Default([]map[string]any{}).
			Annotations(storage.DefaultString("[]")),
	}
}

// Indexes of the SavedSearch.
func (SavedSearch) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("name").StorageKey("uq_saved_search__name").Unique().
			Annotations(storage.Constraint()),
		index.Fields("updated").StorageKey("ix_saved_search__updated"),
	}
}
