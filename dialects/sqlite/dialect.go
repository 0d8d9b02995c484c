// Package sqlite is prefectdb's SQLite adapter (modernc.org/sqlite, pure Go): connection
// setup, Prefect's physical schema and its DDL on SQLite, the catalog
// reader, migration locking, and the raw SQL that Ent cannot express.
package sqlite

import (
	"context"
	"database/sql"
	"errors"

	sqlitedrv "modernc.org/sqlite"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/internal/catalog"
)

// AlembicHead is the alembic revision of a database that Prefect 3.0
// migrated to head on SQLite.
const AlembicHead = "f93e1439f022"

// Dialect is the SQLite implementation of dialects.Dialect.
type Dialect struct{}

// New returns the SQLite dialect.
func New() Dialect { return Dialect{} }

// Kind implements dialects.Dialect.
func (Dialect) Kind() config.Kind { return config.SQLite }

// EntDialect implements dialects.Dialect.
func (Dialect) EntDialect() string { return "sqlite3" }

// AlembicHead implements dialects.Dialect.
func (Dialect) AlembicHead() string { return AlembicHead }

// Physical implements dialects.Dialect.
func (Dialect) Physical(logical *catalog.Schema) (*catalog.Schema, error) { return Physical(logical) }

// RenderSchema implements dialects.Dialect.
func (Dialect) RenderSchema(s *catalog.Schema) []string { return RenderSchema(s) }

// RenderDropSchema implements dialects.Dialect.
func (Dialect) RenderDropSchema(s *catalog.Schema) []string { return RenderDropSchema(s) }

// ReadCatalog implements dialects.Dialect.
func (Dialect) ReadCatalog(ctx context.Context, q catalog.Querier, exclude ...string) (*catalog.Schema, error) {
	return ReadCatalog(ctx, q, exclude...)
}

// Open implements dialects.Dialect.
func (Dialect) Open(ctx context.Context, t *config.Target, o config.Options) (*sql.DB, error) {
	return Open(ctx, t, o)
}

// IsConnectable implements dialects.Dialect: the database file can be
// opened (or created) and answers a query within the connection timeout.
func (Dialect) IsConnectable(ctx context.Context, t *config.Target, o config.Options) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	o = o.WithDefaults()
	if o.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.ConnectTimeout)
		defer cancel()
	}
	db, err := Open(ctx, t, o)
	if err != nil {
		return false
	}
	defer db.Close()
	return db.PingContext(ctx) == nil
}

// AfterSchemaChange implements dialects.Dialect. SQLite re-prepares
// statements by itself when the schema changes, so there is nothing to do.
func (Dialect) AfterSchemaChange(*sql.DB) {}

// RowLocks implements dialects.Dialect.
func (Dialect) RowLocks() bool { return false }

// SQLite result codes that a retry may cure (extended codes keep them in
// their low byte).
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

// OutcomeUnknown implements dialects.Dialect: SQLite runs in the process, so
// a statement's outcome is never unknown.
func (Dialect) OutcomeUnknown(error) bool { return false }

// IsRetryable implements dialects.Dialect: the database was busy or locked.
func (Dialect) IsRetryable(err error) bool {
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code() & 0xff
	return code == sqliteBusy || code == sqliteLocked
}
