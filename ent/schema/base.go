// Package schema holds the Ent schema of every table in Prefect 3.0's
// orchestration database: one file per table, with the table and column
// names, types, nullability, server defaults, foreign keys, uniqueness rules
// and indexes of Prefect's own migrated schema, and the edges between them.
//
// What Ent's schema API cannot say (jsonb versus json, intervals, named enum
// types, server defaults, foreign-key names and ON DELETE actions, Prefect's
// references without a constraint, UNIQUE constraints versus unique indexes)
// is carried by the annotations of package storage. Facts that exist on one
// database only (PostgreSQL trigram indexes, SQLite's history of lost DESC
// keys, ...) live in the dialect packages, not here.
package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/ent/schema/storage"
)

// now is the client-side default of every timestamp: the current time in
// UTC, truncated to the microsecond precision that both databases keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Base is the mixin of every table: the UUID primary key id and the created
// and updated timestamps. updated is refreshed on every update made through
// the client, as Prefect's ORM does.
type Base struct {
	mixin.Schema
}

// Fields of the Base mixin.
func (Base) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable().
			Annotations(storage.Default(storage.DefaultGenerateUUID)),
		field.Time("created").Default(now).Immutable().
			Annotations(storage.Default(storage.DefaultNow)),
		field.Time("updated").Default(now).UpdateDefault(now).
			Annotations(storage.Default(storage.DefaultNow)),
	}
}

// Hooks of the Base mixin: every mutation of every table stores NaN and
// infinities inside JSON values as null, and refuses values that the two
// databases would not store alike.
func (Base) Hooks() []ent.Hook {
	return []ent.Hook{finiteJSON, validValues}
}

// Interceptors of the Base mixin: a negative Limit or Offset is refused on
// both databases.
func (Base) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{nonNegativeLimits()}
}
