// Package postgres is prefectdb's PostgreSQL adapter (pgx v5): connection
// setup, Prefect's physical schema and its DDL on PostgreSQL, the catalog
// reader, migration locking, and the raw SQL that Ent cannot express.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

	entdialect "entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/internal/catalog"
)

// AlembicHead is the alembic revision of a database that Prefect 3.0
// migrated to head on PostgreSQL.
const AlembicHead = "97429116795e"

// Dialect is the PostgreSQL implementation of dialects.Dialect.
type Dialect struct{}

// New returns the PostgreSQL dialect.
func New() Dialect { return Dialect{} }

// Kind implements dialects.Dialect.
func (Dialect) Kind() config.Kind { return config.Postgres }

// EntDialect implements dialects.Dialect.
func (Dialect) EntDialect() string { return "postgres" }

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

// IsConnectable implements dialects.Dialect.
func (Dialect) IsConnectable(ctx context.Context, t *config.Target, o config.Options) bool {
	return IsConnectable(ctx, t, o)
}

// AfterSchemaChange implements dialects.Dialect: it resets the connections of
// db (see ResetConnections).
func (Dialect) AfterSchemaChange(db *sql.DB) { ResetConnections(db) }

// RowLocks implements dialects.Dialect.
func (Dialect) RowLocks() bool { return true }

// EntDriver implements dialects.Dialect: PostgreSQL needs no more than the
// pool itself.
func (Dialect) EntDriver(_ context.Context, _ *config.Target, _ config.Options, db *sql.DB) (entdialect.Driver, error) {
	return entsql.OpenDB(entdialect.Postgres, db), nil
}

// retryableCodes are the SQLSTATEs of failures that a retry may cure:
// serialization_failure, deadlock_detected, lock_not_available; the server
// shutting down, crashing or starting (admin_shutdown, crash_shutdown,
// cannot_connect_now), too_many_connections, and connection exceptions
// (class 08).
var retryableCodes = map[string]bool{
	"40001": true, "40P01": true, "55P03": true,
	"57P01": true, "57P02": true, "57P03": true, "53300": true,
	"08000": true, "08001": true, "08003": true, "08004": true, "08006": true,
}

// IsRetryable implements dialects.Dialect. Besides the SQLSTATEs above, a
// connection that could not be made, or that broke, is retryable: the
// transaction it carried was rolled back by the server (or never began).
func (d Dialect) IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return retryableCodes[pgErr.Code]
	}
	return connectionLost(err)
}

// OutcomeUnknown implements dialects.Dialect: the connection broke after
// the statement may have been sent (pgconn.SafeToRetry is false).
func (Dialect) OutcomeUnknown(err error) bool {
	var pgErr *pgconn.PgError
	if err == nil || errors.As(err, &pgErr) {
		return false // the server answered
	}
	return connectionLost(err) && !pgconn.SafeToRetry(err)
}

// connectionLost reports a failure to reach the server or a connection that
// broke: no server answer at all.
func connectionLost(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || pgconn.SafeToRetry(err)
}
