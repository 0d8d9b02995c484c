package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	atlaspg "ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"

	"github.com/prefectdb/prefectdb/dialects"
)

// migrationLockKey names the transaction-level advisory lock that
// serialises migration steps of one database across processes.
const migrationLockKey = "prefectdb.migrate"

// AtlasDriver returns Atlas's PostgreSQL driver bound to q.
func (Dialect) AtlasDriver(_ context.Context, q schema.ExecQuerier) (atlasmigrate.Driver, error) {
	drv, err := atlaspg.Open(q)
	if err != nil {
		return nil, fmt.Errorf("postgres: open atlas driver: %w", err)
	}
	return drv, nil
}

// LockMigrations implements dialects.Dialect. PostgreSQL's migration lock
// is transaction-level (see BeginMigration), so there is nothing to take
// here: a session-level lock would not survive a transaction pooler, which
// may run each transaction on another server connection (and would leave
// the lock behind on the one that took it).
func (Dialect) LockMigrations(context.Context, *sql.Conn) (func(context.Context) error, error) {
	return func(context.Context) error { return nil }, nil
}

// BeginMigration starts a READ COMMITTED transaction on conn and takes the
// transaction-level advisory lock that serialises migrations of one
// database across processes, waiting for a migration step running
// elsewhere to commit; everything the step then reads (the applied
// revisions included) is what that step committed. The statement timeout
// of API queries does not apply: the transaction has its own (SET LOCAL),
// timeout, none by default, since creating indexes on a large table may
// take longer than an API query may.
func (Dialect) BeginMigration(ctx context.Context, conn *sql.Conn, timeout time.Duration) (dialects.MigrationTx, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin migration: %w", err)
	}
	setTimeout := fmt.Sprintf("SET LOCAL statement_timeout = %d", max(timeout.Milliseconds(), 0))
	for _, q := range []string{setTimeout, "SELECT pg_advisory_xact_lock(hashtext('" + migrationLockKey + "'))"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			_ = tx.Rollback()
			return nil, fmt.Errorf("postgres: begin migration: take the migration lock: %w", err)
		}
	}
	return migrationTx{tx}, nil
}

type migrationTx struct{ *sql.Tx }

func (t migrationTx) Commit(context.Context) error   { return t.Tx.Commit() }
func (t migrationTx) Rollback(context.Context) error { return t.Tx.Rollback() }
