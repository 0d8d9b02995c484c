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

// BlockSchemaReference holds the schema of the block_schema_reference table.
type BlockSchemaReference struct {
	ent.Schema
}

// Annotations of the BlockSchemaReference.
func (BlockSchemaReference) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("block_schema_reference")}
}

// Mixin of the BlockSchemaReference.
func (BlockSchemaReference) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the BlockSchemaReference.
func (BlockSchemaReference) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.UUID("parent_block_schema_id", uuid.UUID{}),
		field.UUID("reference_block_schema_id", uuid.UUID{}),
	}
}

// Edges of the BlockSchemaReference.
func (BlockSchemaReference) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("parent_block_schema", BlockSchema.Type).Ref("references_as_parent").Field("parent_block_schema_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
		edge.From("reference_block_schema", BlockSchema.Type).Ref("references_as_child").Field("reference_block_schema_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
	}
}

// Indexes of the BlockSchemaReference.
func (BlockSchemaReference) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("updated").StorageKey("ix_block_schema_reference__updated"),
	}
}
