package dbiface

import (
	"context"
	"errors"

	entschema "entgo.io/ent/dialect/sql/schema"
)

// ErrAutoMigrate is returned by Schema.Create: Ent's auto-migration would
// build tables that differ from Prefect's (names, types, indexes) and leave
// no migration history, after which CreateDB refuses the database. Use
// CreateDB or RunMigrationsUpgradeTo.
var ErrAutoMigrate = errors.New("dbiface: Ent's auto-migration (Schema.Create) is not available: " +
	"prefectdb databases are migrated with CreateDB / RunMigrationsUpgradeTo (or `prefectdb migrate up`), " +
	"which build Prefect's exact schema and keep Alembic's revision")

// RefusedSchema stands in for the Ent client's Schema field on Interface and
// Session, so that db.Schema.Create(ctx) fails with ErrAutoMigrate instead of
// running Ent's auto-migration on a database that prefectdb manages.
type RefusedSchema struct{}

// Create returns ErrAutoMigrate and changes nothing.
func (RefusedSchema) Create(context.Context, ...entschema.MigrateOption) error { return ErrAutoMigrate }
