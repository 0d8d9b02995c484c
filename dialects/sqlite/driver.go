package sqlite

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/types"
)

// This file holds the database/sql driver layer that prefectdb puts around
// modernc.org/sqlite:
//
//   - connector runs the per-connection pragmas on every new connection and,
//     for in-memory databases, keeps one extra connection open for as long
//     as the pool lives (closing the *sql.DB closes it: database/sql calls
//     Close on a connector that implements io.Closer);
//   - conn implements driver.NamedValueChecker and converts bound values to
//     Prefect's SQLite storage forms (see ConvertValue); it forwards every
//     optional interface modernc's connections implement, and Unwrap, so
//     modernc helpers such as sqlite.Limit still reach the real connection;
//   - conn keeps a bounded LRU cache of prepared statements, so that
//     QueryContext and ExecContext parse each SQL text once per connection
//     (see stmtcache.go);
//   - stmt and tx only add Echo logging.
//
// Reading needs no wrapper: modernc decodes DATETIME/TIMESTAMP/DATE text in
// Prefect's layout ("2006-01-02 15:04:05.000000", read as UTC) to time.Time
// with the microseconds intact (verified by the tests).

// connector is a driver.Connector over modernc's connector.
type connector struct {
	base    driver.Connector
	pragmas []string
	logger  *slog.Logger
	echo    bool
	values  bool         // log argument values (Options.EchoValues)
	tracer  trace.Tracer // statement spans (Options.TracerProvider); nil: none

	mu     sync.Mutex
	keeper driver.Conn // in-memory databases only: holds the database open
	closed bool
}

var (
	_ driver.Connector           = (*connector)(nil)
	_ interface{ Close() error } = (*connector)(nil)
)

// Connect opens a modernc connection and runs the pragmas on it.
func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	execer, ok := inner.(driver.ExecerContext)
	if !ok {
		_ = inner.Close()
		return nil, fmt.Errorf("sqlite: driver connection %T cannot execute statements", inner)
	}
	for _, p := range c.pragmas {
		if _, err := execer.ExecContext(ctx, p, nil); err != nil {
			// A database this user may not write keeps its journal mode:
			// reading it needs no switch, and a write fails on its own.
			if p == pragmaWAL && isReadOnlyError(err) && resultCode(err) != codeReadOnlyDirectory {
				continue
			}
			_ = inner.Close()
			return nil, err
		}
	}
	return newConn(inner, c), nil
}

// Driver returns a driver.Driver whose Open ignores its name argument and
// opens a connection through this connector.
func (c *connector) Driver() driver.Driver { return connectorDriver{c} }

// keepAlive opens the connection that keeps an in-memory database alive.
func (c *connector) keepAlive(ctx context.Context) error {
	kc, err := c.Connect(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = kc.Close()
		return errors.New("sqlite: connector is closed")
	}
	c.keeper = kc
	return nil
}

// Close releases the keep-alive connection of an in-memory database. It is
// called by (*sql.DB).Close.
func (c *connector) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.keeper == nil {
		return nil
	}
	err := c.keeper.Close()
	c.keeper = nil
	return err
}

// logQuery logs a statement when echo is on.
func (c *connector) logQuery(ctx context.Context, query string, args []driver.NamedValue) {
	if !c.echo {
		return
	}
	if len(args) == 0 {
		c.logger.DebugContext(ctx, "sql", "dialect", "sqlite", "query", query)
		return
	}
	if !c.values {
		c.logger.DebugContext(ctx, "sql", "dialect", "sqlite", "query", query, "nargs", len(args))
		return
	}
	vals := make([]any, len(args))
	for k, a := range args {
		vals[k] = a.Value
	}
	c.logger.DebugContext(ctx, "sql", "dialect", "sqlite", "query", query, "args", vals)
}

// connectorDriver adapts a connector to driver.Driver.
type connectorDriver struct{ c *connector }

// Open implements driver.Driver.
func (d connectorDriver) Open(string) (driver.Conn, error) {
	return d.c.Connect(context.Background())
}

// conn wraps one modernc connection.
type conn struct {
	inner     driver.Conn
	connector *connector
	stmts     *stmtCache // prepared statements of QueryContext and ExecContext
}

// newConn wraps inner, with an empty statement cache (see stmtcache.go).
func newConn(inner driver.Conn, c *connector) *conn {
	cn := &conn{inner: inner, connector: c}
	cn.stmts = newStmtCache(cn.prepareInner)
	return cn
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
)

// Unwrap returns the modernc connection (modernc's helpers look for it).
func (c *conn) Unwrap() driver.Conn { return c.inner }

// Prepare implements driver.Conn.
func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext implements driver.ConnPrepareContext. Statements prepared
// here are the caller's and are not cached.
func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.prepareInner(ctx, query)
	if err != nil {
		return nil, err
	}
	if classifyStmt(query) == stmtInvalidating {
		// It may change the schema when it runs; clear the cache now,
		// as a precaution (see stmtcache.go).
		if err := c.stmts.clear(); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return &stmt{inner: s, query: query, connector: c.connector}, nil
}

// prepareInner prepares query on the modernc connection.
func (c *conn) prepareInner(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.inner.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.inner.Prepare(query)
}

// Close implements driver.Conn: it closes the cached statements, then the
// modernc connection.
func (c *conn) Close() error {
	cacheErr := c.stmts.close()
	if err := c.inner.Close(); err != nil {
		return err
	}
	return cacheErr
}

// Begin implements driver.Conn.
func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx implements driver.ConnBeginTx.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var (
		t   driver.Tx
		err error
	)
	if dialects.WriteLockRequested(ctx) {
		t, err = c.beginImmediate(ctx, opts)
	} else if b, ok := c.inner.(driver.ConnBeginTx); ok {
		t, err = b.BeginTx(ctx, opts)
	} else {
		//lint:ignore SA1019 fallback for drivers without BeginTx
		t, err = c.inner.Begin()
	}
	if err != nil {
		return nil, err
	}
	if !c.connector.echo {
		return t, nil
	}
	c.connector.logQuery(ctx, "BEGIN", nil)
	return &tx{inner: t, connector: c.connector}, nil
}

// beginImmediate begins a transaction that takes the write lock at once
// (BEGIN IMMEDIATE), waiting up to busy_timeout for other writers.
func (c *conn) beginImmediate(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.ReadOnly {
		return nil, errors.New("sqlite: a read-only transaction cannot take the write lock")
	}
	e, ok := c.inner.(driver.ExecerContext)
	if !ok {
		return nil, errors.New("sqlite: driver connection cannot execute statements")
	}
	if _, err := e.ExecContext(ctx, "BEGIN IMMEDIATE", nil); err != nil {
		return nil, err
	}
	return &immediateTx{exec: e}, nil
}

// immediateTx ends a transaction begun by beginImmediate.
type immediateTx struct{ exec driver.ExecerContext }

// Commit implements driver.Tx.
func (t *immediateTx) Commit() error {
	_, err := t.exec.ExecContext(context.Background(), "COMMIT", nil)
	return err
}

// Rollback implements driver.Tx.
func (t *immediateTx) Rollback() error {
	_, err := t.exec.ExecContext(context.Background(), "ROLLBACK", nil)
	return err
}

// ExecContext implements driver.ExecerContext. It runs query with the
// connection's cached prepared statement where it can (see stmtcache.go).
func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.inner.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	ctx, end := c.connector.startQuery(ctx, query, args)
	res, err := c.execContext(ctx, e, query, args)
	end(err)
	return res, err
}

func (c *conn) execContext(ctx context.Context, e driver.ExecerContext, query string, args []driver.NamedValue) (driver.Result, error) {
	switch classifyStmt(query) {
	case stmtCacheable:
		cs, se, err := acquireAs[driver.StmtExecContext](ctx, c.stmts, query)
		if err != nil {
			return nil, err
		}
		if cs == nil { // busy: run it uncached
			break
		}
		res, err := se.ExecContext(ctx, args)
		if relErr := c.stmts.release(cs, err != nil); err == nil && relErr != nil {
			return nil, relErr
		}
		return res, err
	case stmtInvalidating:
		res, err := e.ExecContext(ctx, query, args)
		if clearErr := c.stmts.clear(); err == nil && clearErr != nil {
			return nil, clearErr
		}
		return res, err
	}
	return e.ExecContext(ctx, query, args)
}

// QueryContext implements driver.QueryerContext. It runs query with the
// connection's cached prepared statement where it can (see stmtcache.go).
func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.inner.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	ctx, end := c.connector.startQuery(ctx, query, args)
	rows, err := c.queryContext(ctx, q, query, args)
	end(err)
	return rows, err
}

func (c *conn) queryContext(ctx context.Context, q driver.QueryerContext, query string, args []driver.NamedValue) (driver.Rows, error) {
	switch classifyStmt(query) {
	case stmtCacheable:
		cs, sq, err := acquireAs[driver.StmtQueryContext](ctx, c.stmts, query)
		if err != nil {
			return nil, err
		}
		if cs == nil { // busy: run it uncached
			break
		}
		rows, err := sq.QueryContext(ctx, args)
		if err != nil {
			_ = c.stmts.release(cs, true) // the query's error matters more
			return nil, err
		}
		return &cachedRows{inner: rows, cache: c.stmts, stmt: cs}, nil
	case stmtInvalidating:
		rows, err := q.QueryContext(ctx, query, args)
		if clearErr := c.stmts.clear(); err == nil && clearErr != nil {
			_ = rows.Close()
			return nil, clearErr
		}
		return rows, err
	}
	return q.QueryContext(ctx, query, args)
}

// Ping implements driver.Pinger.
func (c *conn) Ping(ctx context.Context) error {
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// ResetSession implements driver.SessionResetter.
func (c *conn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// IsValid implements driver.Validator.
func (c *conn) IsValid() bool {
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// CheckNamedValue implements driver.NamedValueChecker. Values that Prefect
// stores in a particular text form (see ConvertValue) are converted here.
// Anything else goes to the wrapped connection's own checker if it has one,
// and otherwise back to database/sql's default conversion (driver.ErrSkip),
// which also applies driver.Valuer.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	v, ok, err := ConvertValue(nv.Value)
	if err != nil {
		return err
	}
	if ok {
		nv.Value = v
		return nil
	}
	if chk, isChecker := c.inner.(driver.NamedValueChecker); isChecker {
		return chk.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// ConvertValue converts a bound argument to the form Prefect stores on
// SQLite and reports whether it did:
//
//   - time.Time: UTC text "2006-01-02 15:04:05.000000"
//     (types.FormatSQLiteTimestamp), so text order is time order; a time
//     outside the years 0001-9999 (UTC) is an error;
//   - uuid.UUID: lower-case hyphenated text;
//   - types.Interval: the DATETIME text of 1970-01-01 00:00:00 + interval
//     (types.Interval.SQLiteText);
//   - pointers to these: nil gives NULL;
//   - any other driver.Valuer: its Value, and if that is a time.Time (as for
//     sql.NullTime) the timestamp text; a nil pointer whose Value method has
//     a value receiver gives NULL, as in database/sql.
//
// For other values ok is false and the caller should apply the default
// conversion.
func ConvertValue(v any) (out any, ok bool, err error) {
	switch x := v.(type) {
	case time.Time:
		s, err := timestampText(x)
		return s, true, err
	case *time.Time:
		if x == nil {
			return nil, true, nil
		}
		s, err := timestampText(*x)
		return s, true, err
	case uuid.UUID:
		return x.String(), true, nil
	case *uuid.UUID:
		if x == nil {
			return nil, true, nil
		}
		return x.String(), true, nil
	case json.RawMessage:
		// Ent encodes JSON fields as json.RawMessage. Store them as TEXT,
		// as Prefect does: SQLite's JSON functions would take a BLOB for
		// binary JSONB.
		if x == nil {
			return nil, true, nil
		}
		return string(x), true, nil
	case []byte:
		// Prefect's schema has no binary columns: bytes are JSON text too.
		if x == nil {
			return nil, true, nil
		}
		return string(x), true, nil
	case types.Interval:
		return x.SQLiteText(), true, nil
	case *types.Interval:
		if x == nil {
			return nil, true, nil
		}
		return x.SQLiteText(), true, nil
	case driver.Valuer:
		rv := reflect.ValueOf(x)
		if rv.Kind() == reflect.Pointer && rv.IsNil() &&
			rv.Type().Elem().Implements(reflect.TypeFor[driver.Valuer]()) {
			return nil, true, nil
		}
		val, err := x.Value()
		if err != nil {
			return nil, true, err
		}
		if t, isTime := val.(time.Time); isTime {
			s, err := timestampText(t)
			return s, true, err
		}
		if !driver.IsValue(val) {
			return nil, true, fmt.Errorf("non-Value type %T returned from Value", val)
		}
		return val, true, nil
	}
	return nil, false, nil
}

// timestampText returns t in Prefect's SQLite form
// (types.FormatSQLiteTimestamp). Instants outside the years 0001-9999 in UTC
// are refused: their text would be wider or start with '-', so text order
// would no longer be time order, SQLite's date functions and the driver
// would not read them back as times, and Prefect (Python's datetime) cannot
// hold them.
func timestampText(t time.Time) (string, error) {
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return "", fmt.Errorf("sqlite: cannot store the timestamp %s: it is outside the years 0001-9999 (UTC)",
			t.UTC().Format("2006-01-02 15:04:05.999999999Z07:00"))
	}
	return types.FormatSQLiteTimestamp(t), nil
}

// stmt wraps a modernc prepared statement to log executions when echo is on.
type stmt struct {
	inner     driver.Stmt
	query     string
	connector *connector
}

var (
	_ driver.Stmt             = (*stmt)(nil)
	_ driver.StmtExecContext  = (*stmt)(nil)
	_ driver.StmtQueryContext = (*stmt)(nil)
)

// Close implements driver.Stmt.
func (s *stmt) Close() error { return s.inner.Close() }

// NumInput implements driver.Stmt.
func (s *stmt) NumInput() int { return s.inner.NumInput() }

// Exec implements driver.Stmt.
func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), toNamed(args))
}

// Query implements driver.Stmt.
func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), toNamed(args))
}

// ExecContext implements driver.StmtExecContext.
func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	ctx, end := s.connector.startQuery(ctx, s.query, args)
	if e, ok := s.inner.(driver.StmtExecContext); ok {
		res, err := e.ExecContext(ctx, args)
		end(err)
		return res, err
	}
	end(nil)
	vals, err := toValues(args)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 fallback for drivers without StmtExecContext
	return s.inner.Exec(vals)
}

// QueryContext implements driver.StmtQueryContext.
func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	ctx, end := s.connector.startQuery(ctx, s.query, args)
	if q, ok := s.inner.(driver.StmtQueryContext); ok {
		rows, err := q.QueryContext(ctx, args)
		end(err)
		return rows, err
	}
	end(nil)
	vals, err := toValues(args)
	if err != nil {
		return nil, err
	}
	//lint:ignore SA1019 fallback for drivers without StmtQueryContext
	return s.inner.Query(vals)
}

// toNamed converts positional values to ordinal named values.
func toNamed(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for k, v := range args {
		out[k] = driver.NamedValue{Ordinal: k + 1, Value: v}
	}
	return out
}

// toValues converts named values to positional ones, rejecting names.
func toValues(args []driver.NamedValue) ([]driver.Value, error) {
	out := make([]driver.Value, len(args))
	for k, a := range args {
		if a.Name != "" {
			return nil, fmt.Errorf("sqlite: named argument %q is not supported here", a.Name)
		}
		out[k] = a.Value
	}
	return out, nil
}

// tx wraps a transaction to log COMMIT and ROLLBACK when echo is on.
type tx struct {
	inner     driver.Tx
	connector *connector
}

// Commit implements driver.Tx.
func (t *tx) Commit() error {
	t.connector.logQuery(context.Background(), "COMMIT", nil)
	return t.inner.Commit()
}

// Rollback implements driver.Tx.
func (t *tx) Rollback() error {
	t.connector.logQuery(context.Background(), "ROLLBACK", nil)
	return t.inner.Rollback()
}
