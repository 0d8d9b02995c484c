// Package connect opens a prefectdb database from a connection URL: it
// parses the URL (Prefect's forms included), picks the dialect the URL
// names and opens a connection pool with Prefect's settings.
package connect

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/postgres"
	"github.com/prefectdb/prefectdb/dialects/sqlite"
)

// URLVariable is the environment variable Prefect reads the database URL
// from.
const URLVariable = "PREFECT_API_DATABASE_CONNECTION_URL"

// Dialect returns the dialect of the given kind.
func Dialect(k dialects.Kind) (dialects.Dialect, error) {
	switch k {
	case dialects.Postgres:
		return postgres.New(), nil
	case dialects.SQLite:
		return sqlite.New(), nil
	}
	return nil, &dialects.UnsupportedDialectError{Scheme: string(k)}
}

// Database is an open database with its dialect.
type Database struct {
	Dialect dialects.Dialect
	Target  *dialects.Target
	DB      *sql.DB
}

// Close closes the connection pool.
func (d *Database) Close() error { return d.DB.Close() }

// Open parses rawURL, opens the database it names and checks that it answers
// within the connection timeout. For a SQLite file whose directory does not
// exist yet, the directory is created.
func Open(ctx context.Context, rawURL string, o dialects.Options) (*Database, error) {
	db, err := OpenLazy(ctx, rawURL, o)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, o.WithDefaults().ConnectTimeout)
	defer cancel()
	if err := db.DB.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("cannot connect to %s (is the server running and the URL right?): %w", db.Target.Redacted(), err)
	}
	return db, nil
}

// OpenLazy is Open without the check: a PostgreSQL server is contacted on
// first use, so a server that is down now does not make it fail.
func OpenLazy(ctx context.Context, rawURL string, o dialects.Options) (*Database, error) {
	t, err := dialects.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	d, err := Dialect(t.Kind)
	if err != nil {
		return nil, err
	}
	if t.Path != "" && !t.Memory {
		if err := os.MkdirAll(filepath.Dir(t.Path), 0o755); err != nil {
			return nil, fmt.Errorf("create directory for SQLite database %s: %w", t.Path, err)
		}
	}
	db, err := d.Open(ctx, t, o)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", t.Redacted(), err)
	}
	return &Database{Dialect: d, Target: t, DB: db}, nil
}

// DefaultURL returns the database URL Prefect would use: the value of
// PREFECT_API_DATABASE_CONNECTION_URL, or else a SQLite database named
// prefect.db in PREFECT_HOME (default ~/.prefect).
func DefaultURL(getenv func(string) string) (string, error) {
	if u := getenv(URLVariable); u != "" {
		return u, nil
	}
	home := getenv("PREFECT_HOME")
	if home == "" {
		userHome, err := os.UserHomeDir()
		if err != nil {
			return "", errors.New("cannot find the default database: set PREFECT_API_DATABASE_CONNECTION_URL or PREFECT_HOME, or pass --url")
		}
		home = filepath.Join(userHome, ".prefect")
	}
	return "sqlite+aiosqlite:///" + filepath.Join(home, "prefect.db"), nil
}
