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

// Variable holds the schema of the variable table.
type Variable struct {
	ent.Schema
}

// Annotations of the Variable.
func (Variable) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("variable")}
}

// Mixin of the Variable.
func (Variable) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the Variable.
func (Variable) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.JSON("tags", []string{}).Default([]string{}).
			Annotations(storage.DefaultString("[]")),
		field.JSON("value", json.RawMessage{}).Optional(),
	}
}

// Indexes of the Variable.
func (Variable) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("name").StorageKey("uq_variable__name").Unique().
			Annotations(storage.Constraint()),
		index.Fields("updated").StorageKey("ix_variable__updated"),
	}
}
