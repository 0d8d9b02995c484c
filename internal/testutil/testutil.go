// Package testutil gives tests real databases: a fresh SQLite file in the
// test's temporary directory, and a fresh PostgreSQL database cloned from a
// migrated template. ForEachDialect runs one test body on both.
//
// PostgreSQL comes from PREFECTDB_TEST_POSTGRES_URL (default: the local
// server as user postgres). Where it cannot be reached the PostgreSQL
// subtests are skipped with a message saying so, except under CI=true, where
// they fail instead: CI never skips.
package testutil

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/connect"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/migrate"
)

// DB is one test's database.
type DB struct {
	// Dialect of the database.
	Dialect dialects.Dialect
	// URL opens the database (it is also what the CLI takes).
	URL string
	// SQL is an open connection pool; closed when the test ends.
	SQL *sql.DB
	// Client is an Ent client over SQL.
	Client *ent.Client
}

// Context returns a context for the test that ends with it. Its budget is
// the test binary's (go test -timeout, 10 minutes by default), not a fixed
// one, so that a slow run (-race on a busy machine) is not cut short: it
// ends a tenth of the remaining time before the binary's deadline, so that
// a hung test fails with its own message instead of the timeout's panic.
// Unlike t.Context, it is still live in the test's Cleanup functions.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := d.Deadline(); ok {
			cancel()
			ctx, cancel = context.WithDeadline(context.Background(), deadline.Add(-time.Until(deadline)/10))
		}
	}
	t.Cleanup(cancel)
	return ctx
}

// Dialect names a database kind that a test can run on.
type Dialect struct {
	// Name is the subtest name.
	Name string
	// Empty returns the URL of a new, empty database for the test.
	Empty func(t *testing.T) string
	// Migrated returns the URL of a new database migrated to head.
	Migrated func(t *testing.T) string
}

// Dialects are the databases every test body runs on.
func Dialects() []Dialect {
	return []Dialect{
		{Name: "sqlite", Empty: EmptySQLite, Migrated: MigratedSQLite},
		{Name: "postgres", Empty: EmptyPostgres, Migrated: MigratedPostgres},
	}
}

// ForEachDialect runs fn as a subtest on a freshly migrated database of
// every dialect.
func ForEachDialect(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			fn(t, Open(t, d.Migrated(t)))
		})
	}
}

// ForEachDialectAt runs fn as a subtest on a database of every dialect
// migrated to target (a Prefect release such as "3.3", an Alembic revision or
// a prefectdb version).
func ForEachDialectAt(t *testing.T, target string, fn func(t *testing.T, db *DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(d.Name, func(t *testing.T) { fn(t, OpenAt(t, d.Empty(t), target)) })
	}
}

// OpenAt opens the empty database at url and migrates it to target (a
// Prefect release such as "3.3", an Alembic revision or a prefectdb
// version).
func OpenAt(t *testing.T, url, target string) *DB {
	t.Helper()
	db := Open(t, url)
	if _, err := db.Migrator().UpTo(Context(t), target); err != nil {
		t.Fatalf("migrate up to %s: %v", target, err)
	}
	return db
}

// ForEachEmptyDialect runs fn as a subtest with the URL of an empty database
// of every dialect.
func ForEachEmptyDialect(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(d.Name, func(t *testing.T) { fn(t, d.Empty(t)) })
	}
}

// Open opens the database at url for the rest of the test.
func Open(t testing.TB, url string) *DB {
	t.Helper()
	db, err := connect.Open(Context(t), url, config.Options{})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	drv, err := db.Dialect.EntDriver(Context(t), db.Target, config.Options{}, db.DB)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	client := ent.NewClient(ent.Driver(drv))
	// The client follows the database's Prefect release as an Interface's
	// does; tests migrate databases up and down, so it is read every time.
	dbiface.GateReleases(client, func(ctx context.Context) (*migrate.Level, error) {
		return migrate.LevelOf(ctx, db.Dialect, db.DB)
	})
	t.Cleanup(func() { _ = client.Close() })
	return &DB{Dialect: db.Dialect, URL: url, SQL: db.DB, Client: client}
}

// Migrator returns a migrator for the database.
func (db *DB) Migrator() *migrate.Migrator {
	return migrate.New(db.SQL, db.Dialect, migrate.Options{})
}

// MigrateUp migrates the database at url to head.
func MigrateUp(t testing.TB, url string) {
	t.Helper()
	db, err := connect.Open(Context(t), url, config.Options{})
	if err != nil {
		t.Fatalf("open database to migrate: %v", err)
	}
	defer db.Close()
	if _, err := migrate.New(db.DB, db.Dialect, migrate.Options{}).Up(Context(t)); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
}
