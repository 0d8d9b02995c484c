package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"slices"
	"strings"
	"testing"
)

// These tests run the statement cache on real SQLite file databases. They
// reach the driver connection with sql.Conn.Raw; a closeLog around the
// real modernc statements records which ones the cache closes.

// closeLog records the SQL text of every closed statement it wraps.
type closeLog struct{ closed []string }

// loggedStmt is a real modernc statement whose Close is recorded.
type loggedStmt struct {
	driver.Stmt
	query string
	log   *closeLog
}

// Close closes the statement and records it.
func (s *loggedStmt) Close() error {
	s.log.closed = append(s.log.closed, s.query)
	return s.Stmt.Close()
}

// ExecContext forwards to the modernc statement.
func (s *loggedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

// QueryContext forwards to the modernc statement.
func (s *loggedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

// logCloses makes the cache of cn record the statements it closes.
func logCloses(cn *conn) *closeLog {
	log := &closeLog{}
	cn.stmts.prepare = func(ctx context.Context, query string) (driver.Stmt, error) {
		s, err := cn.prepareInner(ctx, query)
		if err != nil {
			return nil, err
		}
		return &loggedStmt{Stmt: s, query: query, log: log}, nil
	}
	return log
}

// pinnedConn returns one connection of a fresh file database, with a table
// t(id INTEGER PRIMARY KEY, v TEXT) holding (1,'a'), (2,'b'), (3,'c'), and
// its driver connection.
func pinnedConn(t *testing.T) (*sql.Conn, *conn) {
	t.Helper()
	db := openFile(t)
	sc, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sc.Close() })
	var cn *conn
	if err := sc.Raw(func(dc any) error {
		cn = dc.(*conn)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)`,
		`INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')`,
	} {
		if _, err := sc.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return sc, cn
}

// stats returns the counters and size of cn's cache.
func stats(cn *conn) (stmtCacheStats, int) { return cn.stmts.statistics() }

// queryStrings runs query on q and returns the first column of every row.
func queryStrings(t *testing.T, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) []string {
	t.Helper()
	rows, err := q.QueryContext(t.Context(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestClassifyStmt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query string
		want  stmtCacheability
	}{
		{"SELECT 1", stmtCacheable},
		{"  \n\tselect * from t", stmtCacheable},
		{"INSERT INTO t VALUES (?)", stmtCacheable},
		{"update t set v = ?", stmtCacheable},
		{"DELETE FROM t", stmtCacheable},
		{"REPLACE INTO t VALUES (1)", stmtCacheable},
		{"WITH x AS (SELECT 1) SELECT * FROM x", stmtCacheable},
		{"SELECT 1;", stmtInvalidating},
		{"SELECT 1; DROP TABLE t", stmtInvalidating},
		{"INSERT INTO t VALUES ('a;b')", stmtInvalidating}, // conservative
		{"SELECTED", stmtInvalidating},
		{"BEGIN IMMEDIATE", stmtUncached},
		{"commit", stmtUncached},
		{"ROLLBACK TO SAVEPOINT s", stmtUncached},
		{"SAVEPOINT s", stmtUncached},
		{"RELEASE s", stmtUncached},
		{"COMMIT; DROP TABLE t", stmtInvalidating},
		{"PRAGMA foreign_keys = ON", stmtInvalidating},
		{"CREATE TABLE u (x)", stmtInvalidating},
		{"ALTER TABLE t ADD COLUMN w", stmtInvalidating},
		{"DROP TABLE t", stmtInvalidating},
		{"ATTACH 'x.db' AS x", stmtInvalidating},
		{"VACUUM", stmtInvalidating},
		{"-- comment\nSELECT 1", stmtInvalidating},
		{"/* c */ SELECT 1", stmtInvalidating},
		{"", stmtInvalidating},
		{"SELECT '" + strings.Repeat("x", stmtCacheBytes) + "'", stmtInvalidating},
	} {
		if got := classifyStmt(tc.query); got != tc.want {
			t.Errorf("classifyStmt(%.40q) = %d, want %d", tc.query, got, tc.want)
		}
	}
}

// TestStmtCacheHit: statements run again come from the cache and give the
// same results as the first run.
func TestStmtCacheHit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, tc := range []struct {
		name  string
		exec  string // run before the query, twice, with arg
		arg   any
		query string // run with arg if it has a placeholder
		want  []string
	}{
		{name: "select", query: `SELECT v FROM t WHERE id >= ? ORDER BY id`, arg: 2, want: []string{"b", "c"}},
		{name: "with", query: `WITH x AS (SELECT v FROM t WHERE id < ?) SELECT v FROM x ORDER BY v`, arg: 3, want: []string{"a", "b"}},
		{name: "insert", exec: `INSERT INTO t (v) VALUES (?)`, arg: "d", query: `SELECT v FROM t WHERE v >= 'd' ORDER BY v`, want: []string{"d", "d2"}},
		{name: "update", exec: `UPDATE t SET v = v || ? WHERE id = 1`, arg: "x", query: `SELECT v FROM t WHERE id = 1`, want: []string{"axx"}},
		{name: "delete", exec: `DELETE FROM t WHERE v = ?`, arg: "b", query: `SELECT v FROM t ORDER BY id`, want: []string{"a", "c"}},
		{name: "returning", query: `UPDATE t SET v = v || '!' WHERE id = ? RETURNING v`, arg: 3, want: []string{"c!"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, cn := pinnedConn(t)
			if tc.exec != "" {
				for k := range 2 {
					arg := tc.arg
					if k == 1 && tc.name == "insert" {
						arg = "d2"
					}
					if _, err := sc.ExecContext(ctx, tc.exec, arg); err != nil {
						t.Fatalf("%s: %v", tc.exec, err)
					}
				}
				if st, _ := stats(cn); st.hits != 1 {
					t.Errorf("exec twice: %d cache hits, want 1", st.hits)
				}
			}
			var qargs []any
			if strings.Contains(tc.query, "?") {
				qargs = []any{tc.arg}
			}
			before, _ := stats(cn)
			got := queryStrings(t, sc, tc.query, qargs...)
			if tc.name == "returning" {
				// A write: the second run sees the first one's result.
				got = append(got, queryStrings(t, sc, tc.query, qargs...)...)
				if want := []string{"c!", "c!!"}; !slices.Equal(got, want) {
					t.Fatalf("got %q, want %q", got, want)
				}
			} else {
				for range 3 {
					if again := queryStrings(t, sc, tc.query, qargs...); !slices.Equal(again, got) {
						t.Fatalf("cached run gave %q, first run %q", again, got)
					}
				}
				if !slices.Equal(got, tc.want) {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
			}
			after, _ := stats(cn)
			if after.hits <= before.hits || after.prepares != before.prepares+1 {
				t.Errorf("cache: %+v then %+v; want one prepare and hits", before, after)
			}
		})
	}
}

// TestStmtCacheArgs: converted arguments (CheckNamedValue) still apply, and
// a wrong argument count is an error that leaves the cache usable.
func TestStmtCacheArgs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sc, _ := pinnedConn(t)
	if _, err := sc.ExecContext(ctx, `CREATE TABLE j (b TEXT)`); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := sc.ExecContext(ctx, `INSERT INTO j (b) VALUES (?)`, []byte(`{"k":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	if got := queryStrings(t, sc, `SELECT typeof(b) FROM j`); !slices.Equal(got, []string{"text", "text"}) {
		t.Fatalf("typeof = %q, want text twice (bytes bound as text)", got)
	}
	const q = `SELECT v FROM t WHERE id = ?`
	if got := queryStrings(t, sc, q, 1); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("got %q", got)
	}
	if _, err := sc.QueryContext(ctx, q); err == nil {
		t.Fatal("missing argument: no error")
	}
	if got := queryStrings(t, sc, q, 2); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("after an error: got %q", got)
	}
}

// TestStmtCacheInterleaved: the same SQL run again while rows of it are
// still open (a nested query in a transaction) runs uncached, and both
// result sets are right.
func TestStmtCacheInterleaved(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, tc := range []struct {
		name  string
		inner func(t *testing.T, tx *sql.Tx, id int) []string
	}{
		{"query", func(t *testing.T, tx *sql.Tx, id int) []string {
			return queryStrings(t, tx, `SELECT v FROM t WHERE id >= ? ORDER BY id`, id)
		}},
		{"exec", func(t *testing.T, tx *sql.Tx, id int) []string {
			if _, err := tx.ExecContext(ctx, `SELECT v FROM t WHERE id >= ? ORDER BY id`, id); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, cn := pinnedConn(t)
			tx, err := sc.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback() }()
			const q = `SELECT v FROM t WHERE id >= ? ORDER BY id`
			queryStrings(t, tx, q, 1) // cached now
			outer, err := tx.QueryContext(ctx, q, 1)
			if err != nil {
				t.Fatal(err)
			}
			var got, nested []string
			for outer.Next() {
				var v string
				if err := outer.Scan(&v); err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
				nested = append(nested, tc.inner(t, tx, 3)...)
			}
			if err := outer.Err(); err != nil {
				t.Fatal(err)
			}
			if err := outer.Close(); err != nil {
				t.Fatal(err)
			}
			if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
				t.Fatalf("outer rows %q, want %q", got, want)
			}
			if tc.name == "query" && !slices.Equal(nested, []string{"c", "c", "c"}) {
				t.Fatalf("nested rows %q, want c three times", nested)
			}
			st, n := stats(cn)
			if st.busyMisses != 3 || n == 0 {
				t.Errorf("cache %+v, %d statements; want 3 busy misses", st, n)
			}
			// Released: the next run is a hit again.
			queryStrings(t, tx, q, 2)
			if st2, _ := stats(cn); st2.hits != st.hits+1 {
				t.Errorf("after close: hits %d then %d, want one more", st.hits, st2.hits)
			}
		})
	}
}

// TestStmtCacheSchemaChange: a cached SELECT * sees a schema change, whether
// the DDL runs through the wrapper (which clears the cache) or directly on
// the modernc connection (the cached statement survives and SQLite
// re-prepares it).
func TestStmtCacheSchemaChange(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, tc := range []struct {
		name    string
		direct  bool // bypass the wrapper, keeping the cached statement
		ddl     []string
		columns []string
	}{
		{"add column", false, []string{`ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'new'`}, []string{"id", "v", "w"}},
		{"add column direct", true, []string{`ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'new'`}, []string{"id", "v", "w"}},
		{"recreate direct", true, []string{`DROP TABLE t`, `CREATE TABLE t (z TEXT, id INTEGER)`, `INSERT INTO t VALUES ('z', 9)`}, []string{"z", "id"}},
		{"drop column direct", true, []string{`ALTER TABLE t ADD COLUMN w TEXT`, `ALTER TABLE t ADD COLUMN x TEXT`, `ALTER TABLE t DROP COLUMN w`}, []string{"id", "v", "x"}},
		{"create index", false, []string{`CREATE INDEX t_v ON t (v DESC)`}, []string{"id", "v"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, cn := pinnedConn(t)
			const q = `SELECT * FROM t ORDER BY id`
			columns := func() []string {
				rows, err := sc.QueryContext(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				cols, err := rows.Columns()
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					vals := make([]any, len(cols))
					ptrs := make([]any, len(cols))
					for k := range vals {
						ptrs[k] = &vals[k]
					}
					if err := rows.Scan(ptrs...); err != nil {
						t.Fatal(err)
					}
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				return cols
			}
			columns()
			columns()
			for _, ddl := range tc.ddl {
				var err error
				if tc.direct {
					_, err = cn.inner.(driver.ExecerContext).ExecContext(ctx, ddl, nil)
				} else {
					_, err = sc.ExecContext(ctx, ddl)
				}
				if err != nil {
					t.Fatalf("%s: %v", ddl, err)
				}
			}
			_, n := stats(cn)
			if tc.direct != (n > 0) {
				t.Errorf("%d cached statements after the DDL (direct %v)", n, tc.direct)
			}
			if got := columns(); !slices.Equal(got, tc.columns) {
				t.Fatalf("columns %q, want %q", got, tc.columns)
			}
		})
	}
}

// TestStmtCacheMultiStatement: a script runs every statement and is never
// cached.
func TestStmtCacheMultiStatement(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sc, cn := pinnedConn(t)
	queryStrings(t, sc, `SELECT v FROM t`)
	for k := range 2 {
		if _, err := sc.ExecContext(ctx, `INSERT INTO t (v) VALUES ('x'||?); INSERT INTO t (v) VALUES ('y'||?)`, k, k); err != nil {
			t.Fatal(err)
		}
	}
	if got := queryStrings(t, sc, `SELECT v FROM t WHERE id > 3 ORDER BY id`); !slices.Equal(got, []string{"x0", "y0", "x1", "y1"}) {
		t.Fatalf("got %q", got)
	}
	st, n := stats(cn)
	if st.hits != 0 || n != 1 {
		t.Errorf("cache %+v, %d statements; want the script uncached and the cache cleared", st, n)
	}
}

// TestStmtCacheError: a statement that fails is dropped and closed, and
// the same SQL works afterwards.
func TestStmtCacheError(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sc, cn := pinnedConn(t)
	log := logCloses(cn)
	const ins = `INSERT INTO t (v) VALUES (?)`
	if _, err := sc.ExecContext(ctx, ins, "e"); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.ExecContext(ctx, ins, "a"); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("duplicate: %v, want a UNIQUE constraint error", err)
	}
	if !slices.Equal(log.closed, []string{ins}) {
		t.Fatalf("closed %q, want the failed insert", log.closed)
	}
	if _, err := sc.ExecContext(ctx, ins, "f"); err != nil {
		t.Fatal(err)
	}
	if got := queryStrings(t, sc, `SELECT v FROM t WHERE id > 3 ORDER BY id`); !slices.Equal(got, []string{"e", "f"}) {
		t.Fatalf("got %q", got)
	}
}

// TestStmtCacheEviction: the least recently used statement is closed when
// the cache is full, and a busy one once its rows close.
func TestStmtCacheEviction(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	q := func(k string) string { return `SELECT v FROM t WHERE v <> '` + k + `'` }
	for _, tc := range []struct {
		name   string
		run    []string // queries, in order
		want   []string // closed, in order
		cached int
	}{
		{"fits", []string{"a", "b", "a", "b"}, nil, 2},
		{"oldest", []string{"a", "b", "c"}, []string{"a"}, 2},
		{"least recent", []string{"a", "b", "a", "c", "d"}, []string{"b", "a"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, cn := pinnedConn(t)
			cn.stmts.maxEntries = 2
			log := logCloses(cn)
			for _, k := range tc.run {
				queryStrings(t, sc, q(k))
			}
			var want []string
			for _, k := range tc.want {
				want = append(want, q(k))
			}
			if !slices.Equal(log.closed, want) {
				t.Errorf("closed %q, want %q", log.closed, want)
			}
			if _, n := stats(cn); n != tc.cached {
				t.Errorf("%d cached, want %d", n, tc.cached)
			}
		})
	}

	t.Run("busy", func(t *testing.T) {
		sc, cn := pinnedConn(t)
		cn.stmts.maxEntries = 1
		log := logCloses(cn)
		rows, err := sc.QueryContext(ctx, q("a"))
		if err != nil {
			t.Fatal(err)
		}
		queryStrings(t, sc, q("b")) // evicts the busy a
		if len(log.closed) != 0 {
			t.Fatalf("closed %q while its rows are open", log.closed)
		}
		var got []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []string{"b", "c"}) {
			t.Fatalf("rows %q", got)
		}
		if !slices.Equal(log.closed, []string{q("a")}) {
			t.Fatalf("closed %q, want the evicted a once its rows closed", log.closed)
		}
	})
}

// TestStmtCacheConnClose: closing the connection closes every cached
// statement, and the connection is unusable afterwards.
func TestStmtCacheConnClose(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := openFile(t)
	dc, err := db.Driver().Open("")
	if err != nil {
		t.Fatal(err)
	}
	cn := dc.(*conn)
	log := logCloses(cn)
	for _, q := range []string{`SELECT 1`, `SELECT 2`} {
		rows, err := cn.QueryContext(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cn.Close(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(log.closed, []string{`SELECT 1`, `SELECT 2`}) {
		t.Fatalf("closed %q", log.closed)
	}
	if _, err := cn.QueryContext(ctx, `SELECT 1`, nil); !errors.Is(err, driver.ErrBadConn) {
		t.Fatalf("query on a closed connection: %v, want driver.ErrBadConn", err)
	}
}
