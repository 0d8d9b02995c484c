package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/prefectdb/prefectdb/ent/schema/storage"
)

// CsrfToken holds the schema of the csrf_token table.
type CsrfToken struct {
	ent.Schema
}

// Annotations of the CsrfToken.
func (CsrfToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("csrf_token")}
}

// Mixin of the CsrfToken.
func (CsrfToken) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the CsrfToken.
func (CsrfToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("token"),
		field.String("client"),
		field.Time("expiration"),
	}
}

// Indexes of the CsrfToken.
func (CsrfToken) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("client").StorageKey("uq_csrf_token__client").Unique().
			Annotations(storage.Constraint()),
		index.Fields("updated").StorageKey("ix_csrf_token__updated"),
	}
}
