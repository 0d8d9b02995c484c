package sqlite

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"strings"

	entdialect "entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/prefectdb/prefectdb/dialects"
)

// EntDriver implements dialects.Dialect. It returns the Ent driver prefectdb
// uses on SQLite: statements that only read (SELECT) run on db, whose
// connections read concurrently in WAL mode; every other statement and every
// transaction runs on one writer connection of its own. Writers of this
// process therefore queue for that connection in Go instead of competing for
// SQLite's write lock, and none of them is refused with "database is locked"
// (SQLITE_BUSY): a transaction that reads and then writes cannot find that
// another connection of the process wrote in between. An in-memory database
// keeps one pool for both.
func (Dialect) EntDriver(ctx context.Context, t *dialects.Target, o dialects.Options, db *stdsql.DB) (entdialect.Driver, error) {
	reader := entsql.OpenDB(entdialect.SQLite, db)
	if t.Memory {
		return reader, nil
	}
	wo := o
	wo.PoolSize, wo.MaxOverflow = 1, -1
	w, err := Open(ctx, t, wo)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer connection: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	return &splitDriver{reader: reader, writer: entsql.OpenDB(entdialect.SQLite, w)}, nil
}

// splitDriver sends reads to a pool and everything else to a single writer.
type splitDriver struct {
	reader *entsql.Driver
	writer *entsql.Driver
}

var _ entdialect.Driver = (*splitDriver)(nil)

// readOnly reports whether a statement only reads: it starts with SELECT
// (after white space, comments' absence assumed, and opening parentheses).
// WITH statements may write (WITH ... DELETE ... RETURNING) and go to the
// writer.
func readOnly(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	return len(q) >= 6 && strings.EqualFold(q[:6], "SELECT")
}

func (d *splitDriver) route(query string) *entsql.Driver {
	if readOnly(query) {
		return d.reader
	}
	return d.writer
}

// Exec implements dialect.ExecQuerier.
func (d *splitDriver) Exec(ctx context.Context, query string, args, v any) error {
	return d.route(query).Exec(ctx, query, args, v)
}

// Query implements dialect.ExecQuerier. Ent runs INSERT/UPDATE ... RETURNING
// through Query; those go to the writer.
func (d *splitDriver) Query(ctx context.Context, query string, args, v any) error {
	return d.route(query).Query(ctx, query, args, v)
}

// ExecContext runs a raw statement (Ent's sql/execquery feature).
func (d *splitDriver) ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error) {
	return d.route(query).ExecContext(ctx, query, args...)
}

// QueryContext runs a raw query (Ent's sql/execquery feature).
func (d *splitDriver) QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error) {
	return d.route(query).QueryContext(ctx, query, args...)
}

// Tx implements dialect.Driver: transactions run on the writer connection.
func (d *splitDriver) Tx(ctx context.Context) (entdialect.Tx, error) {
	return d.writer.Tx(ctx)
}

// BeginTx starts a transaction with options on the writer connection.
func (d *splitDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (entdialect.Tx, error) {
	return d.writer.BeginTx(ctx, opts)
}

// Close closes the writer connection and the reader pool.
func (d *splitDriver) Close() error {
	return errors.Join(d.writer.Close(), d.reader.Close())
}

// Dialect implements dialect.Driver.
func (d *splitDriver) Dialect() string { return entdialect.SQLite }
