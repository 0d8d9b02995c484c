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

// BlockDocumentReference holds the schema of the block_document_reference table.
type BlockDocumentReference struct {
	ent.Schema
}

// Annotations of the BlockDocumentReference.
func (BlockDocumentReference) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("block_document_reference")}
}

// Mixin of the BlockDocumentReference.
func (BlockDocumentReference) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the BlockDocumentReference.
func (BlockDocumentReference) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.UUID("parent_block_document_id", uuid.UUID{}),
		field.UUID("reference_block_document_id", uuid.UUID{}),
	}
}

// Edges of the BlockDocumentReference.
func (BlockDocumentReference) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("parent_block_document", BlockDocument.Type).Ref("references_as_parent").Field("parent_block_document_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
		edge.From("reference_block_document", BlockDocument.Type).Ref("references_as_child").Field("reference_block_document_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
	}
}

// Indexes of the BlockDocumentReference.
func (BlockDocumentReference) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("updated").StorageKey("ix_block_document_reference__updated"),
	}
}
