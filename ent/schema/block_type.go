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

// BlockType holds the schema of the block_type table.
type BlockType struct {
	ent.Schema
}

// Annotations of the BlockType.
func (BlockType) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("block_type")}
}

// Mixin of the BlockType.
func (BlockType) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the BlockType.
func (BlockType) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.String("logo_url").Optional().Nillable(),
		field.String("documentation_url").Optional().Nillable(),
		field.String("description").Optional().Nillable(),
		field.String("code_example").Optional().Nillable(),
		field.Bool("is_protected").Default(false).
			Annotations(storage.Default("false")),
		field.String("slug"),
	}
}

// Edges of the BlockType.
func (BlockType) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("block_documents", BlockDocument.Type),
		edge.To("block_schemas", BlockSchema.Type),
	}
}

// Indexes of the BlockType.
func (BlockType) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("updated").StorageKey("ix_block_type__updated"),
		index.Fields("slug").StorageKey("uq_block_type__slug").Unique(),
	}
}
