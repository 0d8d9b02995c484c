// Package connect opens a prefectdb database from a connection URL: it
// parses the URL (Prefect's forms included), picks the dialect the URL
// names and opens a connection pool with Prefect's settings.
package connect

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/postgres"
	"github.com/prefectdb/prefectdb/dialects/sqlite"
)

// URLVariables are the environment variables Prefect reads the database URL
// from, in Prefect's order of precedence: PREFECT_SERVER_DATABASE_CONNECTION_URL
// (the name since Prefect 3.1), then its older alias.
var URLVariables = []string{"PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL"}

// Dialect returns the dialect of the given kind.
func Dialect(k config.Kind) (dialects.Dialect, error) {
	switch k {
	case config.Postgres:
		return postgres.New(), nil
	case config.SQLite:
		return sqlite.New(), nil
	}
	return nil, &config.UnsupportedDialectError{Scheme: string(k)}
}

// Database is an open database with its dialect.
type Database struct {
	Dialect dialects.Dialect
	Target  *config.Target
	DB      *sql.DB
}

// Close closes the connection pool.
func (d *Database) Close() error { return d.DB.Close() }

// Open parses rawURL, opens the database it names and checks that it answers
// within the connection timeout. For a SQLite file whose directory does not
// exist yet, the directory is created.
func Open(ctx context.Context, rawURL string, o config.Options) (*Database, error) {
	return open(ctx, rawURL, o, true)
}

// OpenExisting is Open for commands that only read or remove: a SQLite file
// that does not exist is an error (*NoDatabaseError), and neither it nor its
// directory is created.
func OpenExisting(ctx context.Context, rawURL string, o config.Options) (*Database, error) {
	return open(ctx, rawURL, o, false)
}

// NoDatabaseError is returned by OpenExisting for a SQLite file that does not
// exist.
type NoDatabaseError struct{ Path string }

func (e *NoDatabaseError) Error() string {
	return fmt.Sprintf("no SQLite database at %s (check the path; `prefectdb migrate up` creates one)", e.Path)
}

func open(ctx context.Context, rawURL string, o config.Options, create bool) (*Database, error) {
	db, err := openLazy(ctx, rawURL, o, create)
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
func OpenLazy(ctx context.Context, rawURL string, o config.Options) (*Database, error) {
	return openLazy(ctx, rawURL, o, true)
}

func openLazy(ctx context.Context, rawURL string, o config.Options, create bool) (*Database, error) {
	t, err := config.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	d, err := Dialect(t.Kind)
	if err != nil {
		return nil, err
	}
	if t.Path != "" && !t.Memory {
		if st, err := os.Stat(t.Path); err == nil && st.IsDir() {
			return nil, fmt.Errorf("%s is a directory, not a SQLite database file", t.Path)
		}
		if !create {
			if _, err := os.Stat(t.Path); errors.Is(err, fs.ErrNotExist) {
				return nil, &NoDatabaseError{Path: t.Path}
			}
		} else {
			if err := os.MkdirAll(filepath.Dir(t.Path), 0o755); err != nil {
				return nil, fmt.Errorf("create directory for SQLite database %s: %w", t.Path, err)
			}
			// A new database file is its owner's only (SQLite gives its
			// -wal and -shm files the same mode); an existing one is left
			// as it is.
			f, err := os.OpenFile(t.Path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			switch {
			case err == nil:
				_ = f.Close()
			case !errors.Is(err, fs.ErrExist):
				return nil, fmt.Errorf("create SQLite database %s: %w", t.Path, err)
			}
		}
	}
	db, err := d.Open(ctx, t, o)
	if err != nil {
		return nil, err // the dialect's error names the database already
	}
	return &Database{Dialect: d, Target: t, DB: db}, nil
}

// DefaultURL returns the database URL Prefect would use: the value of
// PREFECT_SERVER_DATABASE_CONNECTION_URL or its alias
// PREFECT_API_DATABASE_CONNECTION_URL, or else a SQLite database named
// prefect.db in PREFECT_HOME (default ~/.prefect).
func DefaultURL(getenv func(string) string) (string, error) {
	u, _, err := DefaultURLSource(getenv)
	return u, err
}

// DefaultURLSource is DefaultURL, and says where the URL came from: the
// variable's name, or "PREFECT_HOME" for the default SQLite file.
func DefaultURLSource(getenv func(string) string) (url, source string, err error) {
	for _, name := range URLVariables {
		if u := strings.TrimSpace(getenv(name)); u != "" {
			return u, name, nil
		}
	}
	home := strings.TrimSpace(getenv("PREFECT_HOME"))
	if home == "" || home == "~" || strings.HasPrefix(home, "~/") {
		// Prefect expands ~ in PREFECT_HOME; so does prefectdb.
		userHome, err := os.UserHomeDir()
		if err != nil {
			return "", "", errors.New("cannot find the default database: set PREFECT_SERVER_DATABASE_CONNECTION_URL or PREFECT_HOME, or pass --url")
		}
		switch home {
		case "":
			home = filepath.Join(userHome, ".prefect")
		default:
			home = filepath.Join(userHome, strings.TrimPrefix(home, "~"))
		}
	}
	return "sqlite+aiosqlite:///" + filepath.Join(home, "prefect.db"), "PREFECT_HOME", nil
}
