package dialects

import (
	"context"
	"database/sql"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	entdialect "entgo.io/ent/dialect"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/internal/catalog"
)

// Dialect is everything prefectdb needs to know about one database. It is
// composed of one small interface per concern, so that a package can ask for
// only the part it uses (the migrator: Migrations and CatalogReader; the
// connection opener: Opener): identity, opening, the physical schema and
// its catalog, migrations, the query components, and error
// classification. The PostgreSQL and SQLite packages implement it; nothing
// outside dialects/ switches on the database's name. A new dialect proves
// itself by running the conformance suite (dialects/dialecttest) from its
// own package test.
type Dialect interface {
	Identity
	Opener
	SchemaRenderer
	CatalogReader
	Migrations
	ErrorClassifier
	Maintenance
	QueryComponents
}

// Maintenance is what tools (prefectdb bench, status reports) ask of a
// database besides its schema and queries.
type Maintenance interface {
	// ServerVersion names the database software and its version, e.g.
	// "PostgreSQL 15.20" or "SQLite 3.54.1".
	ServerVersion(ctx context.Context, q Querier) (string, error)
	// Settle makes the database finish what earlier writes left to do
	// later, so that a measurement starts from a known state: PostgreSQL
	// gathers statistics and checkpoints, SQLite checkpoints and truncates
	// its WAL. It needs rights a plain user may lack (CHECKPOINT).
	Settle(ctx context.Context, q Querier) error
}

// QueryComponents are the query components of Prefect's interface
// (db.queries): SQL that Ent cannot express, one behaviour on both
// databases. Each family is its own interface.
type QueryComponents interface {
	Queries
	SchedulingQueries
	GraphQueries
	TransitionQueries
	IngestQueries
}

// Migratable is what the migrator (package migrate) needs of a database:
// its identity, its catalog, and how migrations run there.
type Migratable interface {
	Identity
	CatalogReader
	Migrations
}

// Identity names a database and says what kind of locking it has.
type Identity interface {
	// Kind names the database.
	Kind() config.Kind
	// EntDialect is the dialect name Ent uses ("postgres", "sqlite3").
	EntDialect() string
	// RowLocks reports whether the database locks single rows (SELECT ...
	// FOR UPDATE [SKIP LOCKED]). Where it does not (SQLite), a transaction
	// begun with WithWriteLock holds the whole database's write lock instead.
	RowLocks() bool
}

// Opener opens connection pools and Ent drivers.
type Opener interface {
	// Open opens a connection pool with Prefect's per-connection settings.
	Open(ctx context.Context, t *config.Target, o config.Options) (*sql.DB, error)
	// IsConnectable reports whether the database answers within the
	// connection timeout. It never panics and never returns an error.
	IsConnectable(ctx context.Context, t *config.Target, o config.Options) bool
	// EntDriver returns the Ent driver over db, the pool Open returned.
	// Closing the driver closes db and whatever the driver opened itself.
	EntDriver(ctx context.Context, t *config.Target, o config.Options, db *sql.DB) (entdialect.Driver, error)
}

// SchemaRenderer turns the logical schema into this database's physical one
// and renders its DDL.
type SchemaRenderer interface {
	// Physical turns the logical schema into this database's physical one.
	Physical(logical *catalog.Schema) (*catalog.Schema, error)
	// RenderSchema renders DDL statements that create the schema on an
	// empty database.
	RenderSchema(s *catalog.Schema) []string
	// RenderDropSchema renders DDL statements that drop the schema.
	RenderDropSchema(s *catalog.Schema) []string
}

// CatalogReader reads the live schema.
type CatalogReader interface {
	// ReadCatalog reads the live schema, leaving out the named tables.
	ReadCatalog(ctx context.Context, q catalog.Querier, exclude ...string) (*catalog.Schema, error)
}

// Migrations is how migrations run on the database.
type Migrations interface {
	// AtlasDriver returns Atlas's migration driver bound to q, a connection
	// or a transaction.
	AtlasDriver(ctx context.Context, q schema.ExecQuerier) (migrate.Driver, error)
	// LockMigrations takes the lock that keeps two processes from migrating
	// the same database at once, on conn, and returns its release. (On
	// PostgreSQL the lock is taken by BeginMigration, per transaction, and
	// this does nothing.)
	LockMigrations(ctx context.Context, conn *sql.Conn) (release func(context.Context) error, err error)
	// BeginMigration starts the transaction in which one migration file
	// runs. Its statements are bound by timeout where the database has a
	// statement timeout (PostgreSQL); 0 means none (Prefect's default for
	// migrations, PREFECT_SERVER_DATABASE_MIGRATION_TIMEOUT).
	BeginMigration(ctx context.Context, conn *sql.Conn, timeout time.Duration) (MigrationTx, error)
	// AfterSchemaChange runs after migrations changed the schema of db, so
	// that its connections hold nothing that refers to dropped objects.
	AfterSchemaChange(db *sql.DB)
	// AlembicHead is the alembic revision of a database that Prefect 3.0
	// itself migrated to head on this database, which prefectdb adopts.
	AlembicHead() string
}

// ErrorClassifier says what an error of the database means for the caller.
type ErrorClassifier interface {
	// IsRetryable reports whether err means the database refused a
	// transaction for a reason that retrying it may cure: a deadlock, a
	// serialization failure, a lock timeout, SQLite being busy, or the
	// connection to the server lost or refused (a restart, a terminated
	// backend, too many connections).
	IsRetryable(err error) bool
	// OutcomeUnknown reports whether err means the connection was lost after
	// a statement may have reached the server: a COMMIT or a single
	// autocommitted statement may or may not have taken effect.
	OutcomeUnknown(err error) bool
}

// MigrationTx is the transaction one migration file runs in. Commit verifies
// what the database needs verified before it commits (on SQLite: that every
// foreign key still resolves).
type MigrationTx interface {
	schema.ExecQuerier
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}
