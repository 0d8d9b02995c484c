package sqlite

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	entdialect "entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/prefectdb/prefectdb/config"
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
func (Dialect) EntDriver(ctx context.Context, t *config.Target, o config.Options, db *stdsql.DB) (entdialect.Driver, error) {
	reader := entsql.OpenDB(entdialect.SQLite, db)
	if t.Memory {
		return reader, nil
	}
	wo := o
	wo.PoolSize, wo.MaxOverflow = 1, -1
	w, err := open(ctx, t, wo, WriterCacheSize)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer connection: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	return &splitDriver{reader: reader, writer: entsql.OpenDB(entdialect.SQLite, w), owner: db,
		gate: newWriterGate(o.WithDefaults().PoolTimeout)}, nil
}

// splitDriver sends reads to a pool and everything else to a single writer.
// Every use of the writer goes through gate: a write from the goroutine
// whose transaction holds the writer is refused at once, and any other
// wait is bounded by Options.PoolTimeout, both with a
// *dialects.WriterBusyError.
type splitDriver struct {
	reader *entsql.Driver
	writer *entsql.Driver
	owner  *stdsql.DB // the interface's pool, which marks its transactions' contexts
	gate   *writerGate
}

// writerGate is the one writer connection, as a lock whose holder is known.
type writerGate struct {
	sem     chan struct{}
	timeout time.Duration
	mu      sync.Mutex
	holder  string
	since   time.Time
}

func newWriterGate(timeout time.Duration) *writerGate {
	return &writerGate{sem: make(chan struct{}, 1), timeout: timeout}
}

// acquire takes the writer for what ("a transaction", "a statement") and
// returns the function that gives it back.
func (g *writerGate) acquire(ctx context.Context, what string) (func(), error) {
	select {
	case g.sem <- struct{}{}:
	default:
		start := time.Now()
		timer := time.NewTimer(g.timeout)
		defer timer.Stop()
		select {
		case g.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timer.C:
			return nil, &dialects.WriterBusyError{Holder: g.describe(), Waited: time.Since(start)}
		}
	}
	g.mu.Lock()
	g.holder, g.since = what, time.Now()
	g.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { <-g.sem }) }, nil
}

// describe says what holds the writer now.
func (g *writerGate) describe() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return fmt.Sprintf("%s begun %v ago", g.holder, time.Since(g.since).Round(time.Millisecond))
}

// refuseOwnTransaction fails a write made outside the transaction that ctx
// belongs to, which holds the writer: it could only wait for itself.
func (d *splitDriver) refuseOwnTransaction(ctx context.Context) error {
	if d.owner != nil && dialects.InTransactionOf(ctx, d.owner) {
		return &dialects.WriterBusyError{Holder: d.gate.describe()}
	}
	return nil
}

// withWriter runs fn, one autocommitted statement, holding the writer. A
// statement that another process's writer made SQLite refuse (SQLITE_BUSY,
// including SQLITE_BUSY_SNAPSHOT, which busy_timeout does not wait out) had
// no effect, so it is run again, for up to the pool timeout.
func (d *splitDriver) withWriter(ctx context.Context, fn func() error) error {
	if err := d.refuseOwnTransaction(ctx); err != nil {
		return err
	}
	release, err := d.gate.acquire(ctx, "a statement")
	if err != nil {
		return err
	}
	defer release()
	deadline := time.Now().Add(d.gate.timeout)
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !(Dialect{}).IsRetryable(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-time.After(time.Duration(min(attempt, 20)) * time.Millisecond):
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		}
	}
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

// Exec implements dialect.ExecQuerier.
func (d *splitDriver) Exec(ctx context.Context, query string, args, v any) error {
	if readOnly(query) {
		return d.reader.Exec(ctx, query, args, v)
	}
	return d.withWriter(ctx, func() error { return d.writer.Exec(ctx, query, args, v) })
}

// Query implements dialect.ExecQuerier. Ent runs INSERT/UPDATE ... RETURNING
// through Query; those go to the writer.
func (d *splitDriver) Query(ctx context.Context, query string, args, v any) error {
	if readOnly(query) {
		return d.reader.Query(ctx, query, args, v)
	}
	return d.withWriter(ctx, func() error { return d.writer.Query(ctx, query, args, v) })
}

// ExecContext runs a raw statement (Ent's sql/execquery feature).
func (d *splitDriver) ExecContext(ctx context.Context, query string, args ...any) (res stdsql.Result, err error) {
	if readOnly(query) {
		return d.reader.ExecContext(ctx, query, args...)
	}
	err = d.withWriter(ctx, func() error {
		res, err = d.writer.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// QueryContext runs a raw query (Ent's sql/execquery feature).
func (d *splitDriver) QueryContext(ctx context.Context, query string, args ...any) (rows *stdsql.Rows, err error) {
	if readOnly(query) {
		return d.reader.QueryContext(ctx, query, args...)
	}
	err = d.withWriter(ctx, func() error {
		rows, err = d.writer.QueryContext(ctx, query, args...)
		return err
	})
	return rows, err
}

// Tx implements dialect.Driver: transactions run on the writer connection.
func (d *splitDriver) Tx(ctx context.Context) (entdialect.Tx, error) {
	return d.BeginTx(ctx, nil)
}

// BeginTx starts a transaction with options on the writer connection, which
// it holds until Commit or Rollback. Unless it is read-only, the transaction
// takes SQLite's write lock at once (BEGIN IMMEDIATE): a transaction that
// reads and then writes could otherwise be refused with SQLITE_BUSY_SNAPSHOT
// ("database is locked") when another process wrote in between, which no
// wait cures. Within the process the writer connection serialises
// transactions anyway, so this costs nothing there.
func (d *splitDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (entdialect.Tx, error) {
	if err := d.refuseOwnTransaction(ctx); err != nil {
		return nil, err
	}
	if opts == nil || !opts.ReadOnly {
		ctx = dialects.WithWriteLock(ctx)
	}
	release, err := d.gate.acquire(ctx, "a transaction")
	if err != nil {
		return nil, err
	}
	tx, err := d.writer.BeginTx(ctx, opts)
	if err != nil {
		release()
		return nil, err
	}
	etx, ok := tx.(*entsql.Tx)
	if !ok {
		release()
		_ = tx.Rollback()
		return nil, fmt.Errorf("sqlite: unexpected transaction type %T", tx)
	}
	return &gatedTx{Tx: etx, release: release}, nil
}

// gatedTx gives the writer back when the transaction ends. It keeps the
// methods of Ent's transaction (ExecContext and QueryContext included).
type gatedTx struct {
	*entsql.Tx
	release func()
}

// Commit implements dialect.Tx.
func (t *gatedTx) Commit() error {
	defer t.release()
	return t.Tx.Commit()
}

// Rollback implements dialect.Tx.
func (t *gatedTx) Rollback() error {
	defer t.release()
	return t.Tx.Rollback()
}

// Close closes the writer connection and the reader pool.
func (d *splitDriver) Close() error {
	return errors.Join(d.writer.Close(), d.reader.Close())
}

// Dialect implements dialect.Driver.
func (d *splitDriver) Dialect() string { return entdialect.SQLite }
