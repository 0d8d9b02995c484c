package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
)

// This file holds the per-connection cache of prepared statements.
//
// database/sql, and Ent through it, runs most statements with
// Conn.QueryContext and Conn.ExecContext, handing the driver the SQL text
// every time, and modernc prepares (parses and plans) the text on every
// call. The cache keeps the prepared modernc statement of each recently used
// text instead and runs it again, so that a statement is parsed once per
// connection.
//
// Rules, all conservative:
//
//   - Only single statements whose first keyword is SELECT, INSERT, UPDATE,
//     DELETE, REPLACE or WITH are cached. SQL text holding a ';' anywhere is
//     never cached, so a multi-statement script (of which modernc would keep
//     only the first statement prepared) never is.
//   - Any other statement run through the connection, except transaction
//     control (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE), clears the
//     cache after it has run: it may change the schema (DDL, ATTACH, some
//     PRAGMAs). SQLite re-prepares an expired statement by itself
//     (sqlite3_prepare_v2), so this is a precaution, not a necessity.
//   - A cached statement is used by one call at a time. While rows read from
//     it are open it is busy, and the same text runs uncached meanwhile.
//   - A statement that returned an error is dropped from the cache.
//   - The least recently used statement is closed when the cache is full;
//     an evicted or dropped statement that is busy is closed when its rows
//     close. Closing the connection closes every cached statement.

// Statement cache limits, per connection.
const (
	// stmtCacheEntries is the most statements a connection keeps prepared.
	stmtCacheEntries = 128
	// stmtCacheBytes bounds the total length of the SQL text of the cached
	// statements; a text longer than this on its own is never cached.
	stmtCacheBytes = 4 << 20
)

// stmtCacheability is what the cache does with one SQL text.
type stmtCacheability int

const (
	// stmtCacheable: cache the prepared statement.
	stmtCacheable stmtCacheability = iota
	// stmtUncached: run uncached; the cache stays.
	stmtUncached
	// stmtInvalidating: run uncached, then clear the cache.
	stmtInvalidating
)

// classifyStmt says whether query may be cached and, if not, whether running
// it must clear the cache.
func classifyStmt(query string) stmtCacheability {
	kw := firstKeyword(query)
	switch kw {
	case "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE":
		if strings.IndexByte(query, ';') >= 0 {
			return stmtInvalidating
		}
		return stmtUncached
	case "SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH":
		if strings.IndexByte(query, ';') >= 0 || len(query) > stmtCacheBytes {
			return stmtInvalidating
		}
		return stmtCacheable
	}
	return stmtInvalidating
}

// firstKeyword returns the upper-cased leading run of ASCII letters of query
// after leading white space; a query starting with a comment or anything
// else gives "".
func firstKeyword(query string) string {
	start := 0
	for start < len(query) && isSpace(query[start]) {
		start++
	}
	end := start
	for end < len(query) && isLetter(query[end]) {
		end++
	}
	if end-start > len("SAVEPOINT") {
		return ""
	}
	return strings.ToUpper(query[start:end])
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v'
}
func isLetter(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// cachedStmt is one prepared statement of a stmtCache, in its LRU list.
type cachedStmt struct {
	query string
	inner driver.Stmt

	prev, next *cachedStmt // LRU list; nil when not listed

	busy    bool // rows or a call are using it
	evicted bool // no longer in the cache: close once not busy
	closed  bool
}

// stmtCacheStats counts what a stmtCache did; the tests read it.
type stmtCacheStats struct {
	prepares, hits, busyMisses, closes int
}

// stmtCache is a bounded LRU cache of prepared statements of one
// connection, keyed by SQL text.
type stmtCache struct {
	prepare func(ctx context.Context, query string) (driver.Stmt, error)

	maxEntries int
	maxBytes   int

	mu         sync.Mutex
	byQuery    map[string]*cachedStmt
	head, tail *cachedStmt // most and least recently used
	bytes      int
	closed     bool
	stats      stmtCacheStats
}

// newStmtCache returns an empty cache that prepares statements with prepare.
func newStmtCache(prepare func(ctx context.Context, query string) (driver.Stmt, error)) *stmtCache {
	return &stmtCache{
		prepare:    prepare,
		maxEntries: stmtCacheEntries,
		maxBytes:   stmtCacheBytes,
		byQuery:    make(map[string]*cachedStmt),
	}
}

// acquire returns the cached statement for query, marked busy, preparing and
// caching it if needed. It returns nil, nil when the cached statement is
// busy: the caller then runs query uncached.
func (sc *stmtCache) acquire(ctx context.Context, query string) (*cachedStmt, error) {
	sc.mu.Lock()
	if sc.closed {
		sc.mu.Unlock()
		return nil, driver.ErrBadConn
	}
	if cs := sc.byQuery[query]; cs != nil {
		if cs.busy {
			sc.stats.busyMisses++
			sc.mu.Unlock()
			return nil, nil
		}
		cs.busy = true
		sc.moveToFront(cs)
		sc.stats.hits++
		sc.mu.Unlock()
		return cs, nil
	}
	sc.mu.Unlock()

	inner, err := sc.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{query: query, inner: inner, busy: true}

	sc.mu.Lock()
	sc.stats.prepares++
	var victims []*cachedStmt
	if sc.closed || len(query) > sc.maxBytes || sc.byQuery[query] != nil {
		cs.evicted = true // a one-off, closed by release
	} else {
		sc.byQuery[query] = cs
		sc.pushFront(cs)
		sc.bytes += len(query)
		for len(sc.byQuery) > sc.maxEntries || sc.bytes > sc.maxBytes {
			victims = append(victims, sc.evict(sc.tail)...)
		}
	}
	sc.mu.Unlock()
	if err := closeStmts(victims); err != nil {
		return nil, errors.Join(err, sc.release(cs, false))
	}
	return cs, nil
}

// acquireAs is acquire for a statement that must implement T (an optional
// driver.Stmt interface). It returns a nil statement, to run query uncached,
// when the cached one is busy or does not implement T.
func acquireAs[T any](ctx context.Context, sc *stmtCache, query string) (*cachedStmt, T, error) {
	var none T
	cs, err := sc.acquire(ctx, query)
	if err != nil || cs == nil {
		return nil, none, err
	}
	s, ok := cs.inner.(T)
	if !ok {
		return nil, none, sc.release(cs, true)
	}
	return cs, s, nil
}

// release ends a use of cs begun by acquire. A failed use (failed true)
// drops cs from the cache. cs is closed if it is no longer cached.
func (sc *stmtCache) release(cs *cachedStmt, failed bool) error {
	sc.mu.Lock()
	cs.busy = false
	var victims []*cachedStmt
	if failed && !cs.evicted {
		victims = sc.evict(cs)
	} else if cs.evicted && !cs.closed {
		cs.closed = true
		sc.stats.closes++
		victims = []*cachedStmt{cs}
	}
	sc.mu.Unlock()
	return closeStmts(victims)
}

// clear evicts every statement, closing those not busy.
func (sc *stmtCache) clear() error {
	sc.mu.Lock()
	var victims []*cachedStmt
	for sc.tail != nil {
		victims = append(victims, sc.evict(sc.tail)...)
	}
	sc.mu.Unlock()
	return closeStmts(victims)
}

// close clears the cache for good: statements acquired later are not cached.
func (sc *stmtCache) close() error {
	sc.mu.Lock()
	sc.closed = true
	sc.mu.Unlock()
	return sc.clear()
}

// statistics returns the counters and the number of cached statements.
func (sc *stmtCache) statistics() (stmtCacheStats, int) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.stats, len(sc.byQuery)
}

// evict removes cs from the cache (sc.mu held) and returns it if it must be
// closed now (not busy); a busy one is closed by release.
func (sc *stmtCache) evict(cs *cachedStmt) []*cachedStmt {
	if cs.evicted {
		return nil
	}
	cs.evicted = true
	delete(sc.byQuery, cs.query)
	sc.unlink(cs)
	sc.bytes -= len(cs.query)
	if cs.busy {
		return nil
	}
	cs.closed = true
	sc.stats.closes++
	return []*cachedStmt{cs}
}

// pushFront puts cs at the head of the LRU list (sc.mu held).
func (sc *stmtCache) pushFront(cs *cachedStmt) {
	cs.prev, cs.next = nil, sc.head
	if sc.head != nil {
		sc.head.prev = cs
	}
	sc.head = cs
	if sc.tail == nil {
		sc.tail = cs
	}
}

// unlink takes cs out of the LRU list (sc.mu held).
func (sc *stmtCache) unlink(cs *cachedStmt) {
	if cs.prev != nil {
		cs.prev.next = cs.next
	} else {
		sc.head = cs.next
	}
	if cs.next != nil {
		cs.next.prev = cs.prev
	} else {
		sc.tail = cs.prev
	}
	cs.prev, cs.next = nil, nil
}

// moveToFront marks cs as the most recently used (sc.mu held).
func (sc *stmtCache) moveToFront(cs *cachedStmt) {
	if sc.head == cs {
		return
	}
	sc.unlink(cs)
	sc.pushFront(cs)
}

// closeStmts closes the statements of victims, outside the cache's lock
// (they are marked closed already).
func closeStmts(victims []*cachedStmt) error {
	var errs []error
	for _, cs := range victims {
		if err := cs.inner.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sqlite: close cached statement: %w", err))
		}
	}
	return errors.Join(errs...)
}

// cachedRows are the rows of a cached statement: closing them releases it.
// The column type methods forward to the driver's rows, with database/sql's
// defaults where the driver has none.
type cachedRows struct {
	inner    driver.Rows
	cache    *stmtCache
	stmt     *cachedStmt
	failed   bool
	released bool
}

var (
	_ driver.Rows                           = (*cachedRows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*cachedRows)(nil)
	_ driver.RowsColumnTypeLength           = (*cachedRows)(nil)
	_ driver.RowsColumnTypeNullable         = (*cachedRows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*cachedRows)(nil)
	_ driver.RowsColumnTypeScanType         = (*cachedRows)(nil)
)

// Columns implements driver.Rows.
func (r *cachedRows) Columns() []string { return r.inner.Columns() }

// Next implements driver.Rows. An error other than the end of the rows
// drops the statement from the cache when the rows close.
func (r *cachedRows) Next(dest []driver.Value) error {
	err := r.inner.Next(dest)
	if err != nil && !errors.Is(err, io.EOF) {
		r.failed = true
	}
	return err
}

// Close implements driver.Rows: it resets the statement for its next use
// and releases it.
func (r *cachedRows) Close() error {
	err := r.inner.Close()
	if r.released {
		return err
	}
	r.released = true
	return errors.Join(err, r.cache.release(r.stmt, r.failed || err != nil))
}

// ColumnTypeDatabaseTypeName implements driver.RowsColumnTypeDatabaseTypeName.
func (r *cachedRows) ColumnTypeDatabaseTypeName(index int) string {
	if x, ok := r.inner.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return x.ColumnTypeDatabaseTypeName(index)
	}
	return ""
}

// ColumnTypeLength implements driver.RowsColumnTypeLength.
func (r *cachedRows) ColumnTypeLength(index int) (int64, bool) {
	if x, ok := r.inner.(driver.RowsColumnTypeLength); ok {
		return x.ColumnTypeLength(index)
	}
	return 0, false
}

// ColumnTypeNullable implements driver.RowsColumnTypeNullable.
func (r *cachedRows) ColumnTypeNullable(index int) (nullable, ok bool) {
	if x, isX := r.inner.(driver.RowsColumnTypeNullable); isX {
		return x.ColumnTypeNullable(index)
	}
	return false, false
}

// ColumnTypePrecisionScale implements driver.RowsColumnTypePrecisionScale.
func (r *cachedRows) ColumnTypePrecisionScale(index int) (precision, scale int64, ok bool) {
	if x, isX := r.inner.(driver.RowsColumnTypePrecisionScale); isX {
		return x.ColumnTypePrecisionScale(index)
	}
	return 0, 0, false
}

// ColumnTypeScanType implements driver.RowsColumnTypeScanType.
func (r *cachedRows) ColumnTypeScanType(index int) reflect.Type {
	if x, ok := r.inner.(driver.RowsColumnTypeScanType); ok {
		return x.ColumnTypeScanType(index)
	}
	return reflect.TypeFor[any]()
}
