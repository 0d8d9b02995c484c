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

// ConcurrencyLimitV2 holds the schema of the concurrency_limit_v2 table.
type ConcurrencyLimitV2 struct {
	ent.Schema
}

// Annotations of the ConcurrencyLimitV2.
func (ConcurrencyLimitV2) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Table("concurrency_limit_v2")}
}

// Mixin of the ConcurrencyLimitV2.
func (ConcurrencyLimitV2) Mixin() []ent.Mixin {
	return []ent.Mixin{Base{}}
}

// Fields of the ConcurrencyLimitV2.
func (ConcurrencyLimitV2) Fields() []ent.Field {
	return []ent.Field{
		field.Bool("active"),
		field.String("name"),
		field.Int("limit"),
		field.Int("active_slots"),
		field.Int("denied_slots"),
		field.Float("slot_decay_per_second"),
		field.Float("avg_slot_occupancy_seconds"),
	}
}

// Edges of the ConcurrencyLimitV2.
func (ConcurrencyLimitV2) Edges() []ent.Edge {
	return []ent.Edge{
		// Deployments whose concurrency this limit enforces (Prefect 3.0.3 and later).
		edge.To("deployments", Deployment.Type),
	}
}

// Indexes of the ConcurrencyLimitV2.
func (ConcurrencyLimitV2) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("name").StorageKey("uq_concurrency_limit_v2__name").Unique().
			Annotations(storage.Constraint()),
		index.Fields("updated").StorageKey("ix_concurrency_limit_v2__updated"),
	}
}
