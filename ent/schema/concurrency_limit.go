package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/prefectdb/prefectdb/ent/schema/storage"
)

// ConcurrencyLimit holds the schema of the concurrency_limit table.
type ConcurrencyLimit struct {
	ent.Schema
}

// Annotations of the ConcurrencyLimit.
func (ConcurrencyLimit) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("concurrency_limit")}
}

// Mixin of the ConcurrencyLimit.
func (ConcurrencyLimit) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the ConcurrencyLimit.
func (ConcurrencyLimit) Fields() []ent.Field {
	return []ent.Field{
		field.String("tag"),
		field.Int("concurrency_limit"),
		field.JSON("active_slots", []string{}).Default([]string{}).
			Annotations(storage.DefaultString("[]")),
	}
}

// Indexes of the ConcurrencyLimit.
func (ConcurrencyLimit) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("updated").StorageKey("ix_concurrency_limit__updated"),
		index.Fields("tag").StorageKey("uq_concurrency_limit__tag").Unique(),
	}
}
