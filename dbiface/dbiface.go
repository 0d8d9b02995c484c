// Package dbiface is prefectdb's counterpart of Prefect's PrefectDBInterface:
// one object per database configuration that owns the connection pool and
// the Ent client, creates, migrates and drops the database, reports whether
// it is reachable, runs transactions (with row locking), and gives access to
// every model and to the dialect's query components.
//
// Interfaces are shared: Provide returns the same *Interface for the same
// database URL, however many goroutines ask for it first, until it is closed.
// Tests can override what Provide returns with Override.
package dbiface

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/connect"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/migrate"
	"github.com/prefectdb/prefectdb/settings"
)

// Config identifies and configures a database interface.
type Config struct {
	// URL is the database URL in any form ParseURL accepts (Prefect's
	// postgresql+asyncpg:// and sqlite+aiosqlite:// forms included).
	URL string
	// Options are the connection settings (timeouts, pool size, logging).
	Options config.Options
}

// String describes the configuration with the URL's password redacted, so
// that printing a Config (%v, %+v) or logging it never shows the password.
func (c Config) String() string {
	return fmt.Sprintf("dbiface.Config{URL: %s, Options: %+v}", config.Redact(c.URL), c.Options)
}

// GoString implements fmt.GoStringer (%#v) with the password redacted.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer with the password redacted.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// ConfigFromEnv builds the configuration Prefect would use: the URL from
// PREFECT_SERVER_DATABASE_CONNECTION_URL or its older name
// PREFECT_API_DATABASE_CONNECTION_URL (default: SQLite in PREFECT_HOME) and
// the settings from Prefect's environment variables.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	url, err := connect.DefaultURL(getenv)
	if err != nil {
		return Config{}, err
	}
	o, err := config.OptionsFromEnv(getenv)
	if err != nil {
		return Config{}, err
	}
	return Config{URL: url, Options: o}, nil
}

// Interface is one database: its dialect, connection pool and Ent client.
// The embedded *ent.Client gives the model accessors (db.Flow, db.FlowRun,
// db.TaskRunState, ... for all 36 tables). It is safe for concurrent use.
//
// The Ent client's own transactions (db.Tx, db.BeginTx) work too, and on
// SQLite they queue for the one writer as Transaction does; Transaction
// adds Prefect's locking choice (Locking), spans and typed errors
// (RetryableError, OutcomeUnknownError), so prefer it. Schema is shadowed:
// migrations run through CreateDB and RunMigrationsUpgrade only.
type Interface struct {
	*ent.Client
	// Schema shadows the Ent client's auto-migration: Schema.Create
	// returns ErrAutoMigrate. Migrate with CreateDB.
	Schema RefusedSchema

	key      string
	registry *Registry
	dialect  dialects.Dialect
	target   *config.Target
	options  config.Options
	db       *sql.DB
	config   *dialects.ConfigurationCache
	levels   levelCache
	tel      *telemetry
	// group writes concurrent small writes together where the dialect
	// asks for it (dialects.WriteGrouper); nil elsewhere.
	group *writeGroup

	closeOnce sync.Once
	closeErr  error
}

// Open opens a new Interface that no registry knows about. Most programs use
// Provide instead.
func Open(ctx context.Context, cfg Config) (*Interface, error) {
	return open(ctx, cfg, nil, "")
}

func open(ctx context.Context, cfg Config, r *Registry, key string) (*Interface, error) {
	db, err := connect.OpenLazy(ctx, cfg.URL, cfg.Options)
	if err != nil {
		return nil, fmt.Errorf("dbiface: %w", err)
	}
	drv, err := db.Dialect.EntDriver(ctx, db.Target, cfg.Options, db.DB)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("dbiface: %w", err)
	}
	tel, err := newTelemetry(db.DB, string(db.Dialect.Kind()), cfg.Options.TracerProvider, cfg.Options.MeterProvider)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	client := ent.NewClient(ent.Driver(drv))
	i := &Interface{
		Client: client, key: key, registry: r, dialect: db.Dialect, target: db.Target,
		options: cfg.Options, db: db.DB, config: dialects.NewConfigurationCache(), tel: tel,
	}
	i.group = newWriteGroup(i)
	GateReleases(client, i.Level)
	typeErrors(client, db.Dialect)
	return i, nil
}

// Dialect returns the database's dialect.
func (i *Interface) Dialect() dialects.Dialect { return i.dialect }

// URL returns the database URL with its password redacted.
func (i *Interface) URL() string { return i.target.Redacted() }

// String describes the interface by its redacted URL, e.g.
// "dbiface.Interface(postgresql+asyncpg://prefect:xxxxx@db/prefect)".
// String, GoString and LogValue make printing (%v, %+v, %#v) or logging an
// Interface safe: its fields hold the URL with the password.
func (i *Interface) String() string {
	if i == nil {
		return "dbiface.Interface(nil)"
	}
	return "dbiface.Interface(" + i.URL() + ")"
}

// GoString implements fmt.GoStringer; it returns String.
func (i *Interface) GoString() string { return i.String() }

// LogValue implements slog.LogValuer; it logs the redacted URL.
func (i *Interface) LogValue() slog.Value { return slog.StringValue(i.String()) }

// Engine returns the connection pool.
func (i *Interface) Engine() *sql.DB { return i.db }

// Close closes the connection pool and forgets the interface in its registry,
// so that the next Provide opens a new one. Closing twice is harmless.
func (i *Interface) Close() error {
	i.closeOnce.Do(func() {
		if i.registry != nil {
			i.registry.forget(i)
		}
		i.closeErr = errors.Join(i.tel.close(), i.Client.Close(), i.db.Close())
	})
	return i.closeErr
}

// IsDBConnectable reports whether the database answers within the connection
// timeout. It never panics and never returns an error: a server that is down
// or refuses the connection gives false.
func (i *Interface) IsDBConnectable(ctx context.Context) bool {
	return i.dialect.IsConnectable(ctx, i.target, i.options)
}

// migrator returns a migrator of the database.
func (i *Interface) migrator() *migrate.Migrator {
	return migrate.New(i.db, i.dialect, migrate.Options{Logger: i.options.Logger, StatementTimeout: i.options.MigrationTimeout})
}

// CreateDB creates every table by applying all pending migrations (Prefect's
// create_db runs its migrations to head too). A database that a Prefect
// server made is adopted at its release and left there, so that the server
// still starts on it; RunMigrationsUpgrade or RunMigrationsUpgradeTo
// upgrade it.
func (i *Interface) CreateDB(ctx context.Context) error {
	_, err := i.migrator().Up(ctx)
	i.forgetLevel()
	if err != nil {
		return fmt.Errorf("dbiface: migrate up: %w", err)
	}
	return nil
}

// RunMigrationsUpgrade applies every pending migration, up to Prefect's
// newest revision that prefectdb knows.
func (i *Interface) RunMigrationsUpgrade(ctx context.Context) ([]migrate.Step, error) {
	return i.RunMigrationsUpgradeTo(ctx, migrate.Head)
}

// RunMigrationsUpgradeTo applies pending migrations up to target: a Prefect
// release ("3.4.0", or "3.4" for the newest 3.4.x), a Prefect Alembic
// revision, a prefectdb version, or "head". A team that runs Prefect 3.4
// keeps its database there with target "3.4".
func (i *Interface) RunMigrationsUpgradeTo(ctx context.Context, target string) ([]migrate.Step, error) {
	steps, err := i.migrator().UpTo(ctx, target)
	i.forgetLevel()
	if err != nil {
		return steps, fmt.Errorf("dbiface: migrate up: %w", err)
	}
	return steps, nil
}

// RunMigrationsDowngrade reverts migrations: revision "-1" reverts one step,
// "base" reverts all of them, and a Prefect release, Alembic revision or
// prefectdb version reverts every migration newer than it. There is no
// default: "" is an error. A downgrade deletes what the reverted migrations
// drop; migrate.Migrator.DownLosses says what that is beforehand.
func (i *Interface) RunMigrationsDowngrade(ctx context.Context, revision string) ([]migrate.Step, error) {
	steps, err := i.migrator().Down(ctx, revision)
	i.forgetLevel()
	if err != nil {
		return steps, fmt.Errorf("dbiface: migrate down: %w", err)
	}
	return steps, nil
}

// DropDB removes every table of the database: prefectdb's, its revision
// table and Prefect's alembic_version, and on PostgreSQL the enum types, so
// that CreateDB afterwards starts from an empty database. Tables that are
// not part of Prefect's schema are dropped too.
func (i *Interface) DropDB(ctx context.Context) error {
	defer i.forgetLevel()
	if _, err := i.migrator().Down(ctx, migrate.Base); err != nil {
		var unknown *migrate.UnknownRevisionError
		if !errors.As(err, &unknown) {
			return fmt.Errorf("dbiface: drop: %w", err)
		}
	}
	conn, err := i.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("dbiface: drop: %w", err)
	}
	defer conn.Close()
	left, err := i.dialect.ReadCatalog(ctx, conn)
	if err != nil {
		return fmt.Errorf("dbiface: drop: read catalog: %w", err)
	}
	if len(left.Tables) == 0 && len(left.Enums) == 0 {
		return nil
	}
	tx, err := i.dialect.BeginMigration(ctx, conn, i.options.MigrationTimeout)
	if err != nil {
		return fmt.Errorf("dbiface: drop: %w", err)
	}
	for _, stmt := range i.dialect.RenderDropSchema(left) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return errors.Join(fmt.Errorf("dbiface: drop: %s: %w", stmt, err), tx.Rollback(ctx))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("dbiface: drop: %w", err)
	}
	i.dialect.AfterSchemaChange(i.db)
	return nil
}

// Provide returns the interface of the database configured by Prefect's
// settings, from the default registry. The settings are read as Prefect
// reads them (package settings): the environment, then .env, prefect.toml
// and pyproject.toml in the working directory, then the active profile.
func Provide(ctx context.Context) (*Interface, error) {
	st, err := settings.Load(os.Getenv, ".")
	if err != nil {
		return nil, fmt.Errorf("dbiface: %w", err)
	}
	cfg, err := ConfigFromEnv(st.Getenv)
	if err != nil {
		return nil, fmt.Errorf("dbiface: %w", err)
	}
	return Default.Provide(ctx, cfg)
}
