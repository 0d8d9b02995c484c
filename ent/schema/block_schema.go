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

// BlockSchema holds the schema of the block_schema table.
type BlockSchema struct {
	ent.Schema
}

// Annotations of the BlockSchema.
func (BlockSchema) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("block_schema")}
}

// Mixin of the BlockSchema.
func (BlockSchema) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the BlockSchema.
func (BlockSchema) Fields() []ent.Field {
	return []ent.Field{
		field.JSON("fields", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
		field.String("checksum"),
		field.UUID("block_type_id", uuid.UUID{}),
		field.JSON("capabilities", []string{}).Default([]string{}).
			Annotations(storage.DefaultString("[]")),
		field.String("version").Default("non-versioned").
			Annotations(storage.DefaultString("non-versioned")),
	}
}

// Edges of the BlockSchema.
func (BlockSchema) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("block_documents", BlockDocument.Type),
		edge.From("block_type", BlockType.Type).Ref("block_schemas").Field("block_type_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
		edge.To("references_as_parent", BlockSchemaReference.Type),
		edge.To("references_as_child", BlockSchemaReference.Type),
	}
}

// Indexes of the BlockSchema.
func (BlockSchema) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("block_type_id").StorageKey("ix_block_schema__block_type_id"),
		index.Fields("created").StorageKey("ix_block_schema__created"),
		index.Fields("updated").StorageKey("ix_block_schema__updated"),
		index.Fields("checksum", "version").StorageKey("uq_block_schema__checksum_version").Unique(),
	}
}
