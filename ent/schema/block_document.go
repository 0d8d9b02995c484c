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

// BlockDocument holds the schema of the block_document table.
type BlockDocument struct {
	ent.Schema
}

// Annotations of the BlockDocument.
func (BlockDocument) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("block_document")}
}

// Mixin of the BlockDocument.
func (BlockDocument) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the BlockDocument.
func (BlockDocument) Fields() []ent.Field {
	return []ent.Field{
		field.String("name"),
		field.JSON("data", map[string]any{}).Default(map[string]any{}).
			Annotations(storage.DefaultString("{}")),
		field.UUID("block_schema_id", uuid.UUID{}),
		field.UUID("block_type_id", uuid.UUID{}),
		field.Bool("is_anonymous").Default(false).
			Annotations(storage.Default("false")),
		field.String("block_type_name").Optional().Nillable(),
	}
}

// Edges of the BlockDocument.
func (BlockDocument) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("block_schema", BlockSchema.Type).Ref("block_documents").Field("block_schema_id").Unique().Required().
			Annotations(storage.ForeignKey{OnDelete: storage.Cascade, Symbol: "fk_block__block_schema_id__block_schema"}),
		edge.From("block_type", BlockType.Type).Ref("block_documents").Field("block_type_id").Unique().Required().
			Annotations(storage.OnDelete(storage.Cascade)),
		edge.To("references_as_parent", BlockDocumentReference.Type),
		edge.To("references_as_child", BlockDocumentReference.Type),
		edge.To("notification_policies", FlowRunNotificationPolicy.Type),
	}
}

// Indexes of the BlockDocument.
func (BlockDocument) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("is_anonymous").StorageKey("ix_block_document__is_anonymous"),
		index.Fields("name").StorageKey("ix_block_document__name"),
		index.Fields("updated").StorageKey("ix_block_document__updated"),
		index.Fields("block_type_id", "name").StorageKey("uq_block__type_id_name").Unique(),
	}
}
