package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	atlaspg "ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"

	"github.com/prefectdb/prefectdb/dialects"
)

// migrationLockKey names the session-level advisory lock that serialises
// migrations of one database across processes.
const migrationLockKey = "prefectdb.migrate"

// AtlasDriver returns Atlas's PostgreSQL driver bound to q.
func (Dialect) AtlasDriver(_ context.Context, q schema.ExecQuerier) (atlasmigrate.Driver, error) {
	drv, err := atlaspg.Open(q)
	if err != nil {
		return nil, fmt.Errorf("postgres: open atlas driver: %w", err)
	}
	return drv, nil
}

// LockMigrations takes a session-level advisory lock on conn, waiting for a
// migration running elsewhere to finish. Migrations are not subject to the
// statement timeout while the lock is held: creating indexes on a large table
// may take longer than an API query may.
func (Dialect) LockMigrations(ctx context.Context, conn *sql.Conn) (func(context.Context) error, error) {
	if _, err := conn.ExecContext(ctx, "SET statement_timeout = 0"); err != nil {
		return nil, fmt.Errorf("postgres: lift statement timeout for migrations: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext($1))", migrationLockKey); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "RESET statement_timeout")
		return nil, fmt.Errorf("postgres: take migration lock: %w", err)
	}
	return func(ctx context.Context) error {
		ctx = context.WithoutCancel(ctx)
		_, err1 := conn.ExecContext(ctx, "SELECT pg_advisory_unlock(hashtext($1))", migrationLockKey)
		_, err2 := conn.ExecContext(ctx, "RESET statement_timeout")
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("postgres: release migration lock: %w", err)
		}
		return nil
	}, nil
}

// BeginMigration starts a READ COMMITTED transaction on conn.
func (Dialect) BeginMigration(ctx context.Context, conn *sql.Conn) (dialects.MigrationTx, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin migration: %w", err)
	}
	return migrationTx{tx}, nil
}

type migrationTx struct{ *sql.Tx }

func (t migrationTx) Commit(context.Context) error   { return t.Tx.Commit() }
func (t migrationTx) Rollback(context.Context) error { return t.Tx.Rollback() }
