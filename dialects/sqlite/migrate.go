package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	atlassqlite "ariga.io/atlas/sql/sqlite"

	"github.com/prefectdb/prefectdb/dialects"
)

// AtlasDriver returns Atlas's SQLite driver bound to q.
func (Dialect) AtlasDriver(_ context.Context, q schema.ExecQuerier) (atlasmigrate.Driver, error) {
	drv, err := atlassqlite.Open(q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open atlas driver: %w", err)
	}
	return drv, nil
}

// LockMigrations needs no lock of its own on SQLite: every migration file
// runs in a BEGIN IMMEDIATE transaction, which holds the database's write
// lock, and the runner re-reads the applied revisions inside it.
func (Dialect) LockMigrations(context.Context, *sql.Conn) (func(context.Context) error, error) {
	return func(context.Context) error { return nil }, nil
}

// BeginMigration turns foreign keys off on conn and begins an IMMEDIATE
// transaction. Foreign keys must be off outside the transaction (the pragma
// is a no-op inside one): table rebuilds drop and re-create tables, and with
// foreign keys on, dropping a parent table would cascade-delete or null its
// children's rows. Commit checks that every foreign key still resolves.
// SQLite has no statement timeout: timeout is not used.
func (Dialect) BeginMigration(ctx context.Context, conn *sql.Conn, _ time.Duration) (dialects.MigrationTx, error) {
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return nil, fmt.Errorf("sqlite: turn foreign keys off for migration: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
		return nil, fmt.Errorf("sqlite: begin migration: %w", err)
	}
	return &migrationTx{conn: conn}, nil
}

type migrationTx struct {
	conn *sql.Conn
	done bool
}

func (t *migrationTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.conn.ExecContext(ctx, query, args...)
}

func (t *migrationTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.conn.QueryContext(ctx, query, args...)
}

// Commit verifies foreign keys, commits, and turns foreign keys back on. If
// any foreign key no longer resolves, it rolls back instead.
func (t *migrationTx) Commit(ctx context.Context) error {
	if t.done {
		return errors.New("sqlite: migration transaction already finished")
	}
	count, samples, err := foreignKeyViolations(ctx, t.conn)
	if err != nil {
		return errors.Join(err, t.Rollback(ctx))
	}
	if count > 0 {
		return errors.Join(fmt.Errorf("sqlite: migration would leave %d broken foreign key(s) (%s); rolled back",
			count, strings.Join(samples, "; ")), t.Rollback(ctx))
	}
	t.done = true
	_, err = t.conn.ExecContext(ctx, "COMMIT")
	_, errFK := t.conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
	if err != nil {
		return errors.Join(fmt.Errorf("sqlite: commit migration: %w", err), t.rollbackAfterFailedCommit(ctx))
	}
	if errFK != nil {
		return fmt.Errorf("sqlite: turn foreign keys back on: %w", errFK)
	}
	return nil
}

func (t *migrationTx) rollbackAfterFailedCommit(ctx context.Context) error {
	_, _ = t.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	return nil
}

// Rollback rolls back and turns foreign keys back on.
func (t *migrationTx) Rollback(ctx context.Context) error {
	if t.done {
		return nil
	}
	t.done = true
	ctx = context.WithoutCancel(ctx)
	_, err1 := t.conn.ExecContext(ctx, "ROLLBACK")
	_, err2 := t.conn.ExecContext(ctx, "PRAGMA foreign_keys = ON")
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("sqlite: roll back migration: %w", err)
	}
	return nil
}

// foreignKeyViolations runs PRAGMA foreign_key_check and returns the number
// of violations with a description of the first few.
func foreignKeyViolations(ctx context.Context, conn *sql.Conn) (int, []string, error) {
	rows, err := conn.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return 0, nil, fmt.Errorf("sqlite: foreign key check: %w", err)
	}
	defer rows.Close()
	count, samples := 0, []string(nil)
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fkid int64
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return 0, nil, fmt.Errorf("sqlite: foreign key check: %w", err)
		}
		if count++; count <= 5 {
			samples = append(samples, fmt.Sprintf("%s row %d -> %s", table, rowid.Int64, parent))
		}
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("sqlite: foreign key check: %w", err)
	}
	return count, samples, nil
}
