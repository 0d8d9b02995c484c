package schema

import (
	"encoding/json"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/prefectdb/prefectdb/ent/schema/storage"
)

// Configuration holds the schema of the configuration table.
type Configuration struct {
	ent.Schema
}

// Annotations of the Configuration.
func (Configuration) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("configuration")}
}

// Mixin of the Configuration.
func (Configuration) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the Configuration.
func (Configuration) Fields() []ent.Field {
	return []ent.Field{
		field.String("key"),
		field.JSON("value", json.RawMessage{}),
	}
}

// Indexes of the Configuration.
func (Configuration) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("key").StorageKey("uq_configuration__key").Unique().
			Annotations(storage.Constraint()),
		index.Fields("key").StorageKey("ix_configuration__key"),
		index.Fields("updated").StorageKey("ix_configuration__updated"),
	}
}
