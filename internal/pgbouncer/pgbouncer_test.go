package pgbouncer_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/prefectdb/prefectdb/internal/pgbouncer"
	"github.com/prefectdb/prefectdb/internal/pgcluster"
)

// TestBouncer: in front of a pgcluster, in transaction mode ignoring
// extra_float_digits, pgx with default_query_exec_mode=exec runs a query
// and a transaction through pgbouncer (on pgbouncer's port, reaching the
// upstream server), also on another database name; a connection sending a startup parameter pgbouncer
// does not know (jit=off) is refused with "unsupported startup parameter".
func TestBouncer(t *testing.T) {
	c := pgcluster.Start(t)
	b := pgbouncer.Start(t, "127.0.0.1", c.Port(), pgbouncer.Options{
		PoolMode:                "transaction",
		IgnoreStartupParameters: []string{"extra_float_digits"},
	})
	if b.Port() == c.Port() {
		t.Fatalf("bouncer on the server's port %d", b.Port())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	url := b.URL("postgres") + "&default_query_exec_mode=exec"
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v\n%s", url, err, b.Log())
	}
	defer conn.Close(context.Background())
	if conn.PgConn().Conn().RemoteAddr().String() != "127.0.0.1:"+strconv.Itoa(b.Port()) {
		t.Fatalf("connected to %v, want pgbouncer's port %d", conn.PgConn().Conn().RemoteAddr(), b.Port())
	}
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 through pgbouncer: %d, %v", one, err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO t VALUES ($1), ($2)", 1, 2); err != nil {
		t.Fatal(err)
	}
	var sum int
	if err := tx.QueryRow(ctx, "SELECT sum(x) FROM t").Scan(&sum); err != nil || sum != 3 {
		t.Fatalf("in the transaction: sum %d, %v; want 3", sum, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// The rows reached the upstream server.
	direct, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close(context.Background())
	if err := direct.QueryRow(ctx, "SELECT sum(x) FROM t").Scan(&sum); err != nil || sum != 3 {
		t.Fatalf("on the server: sum %d, %v; want 3", sum, err)
	}

	// Any database name is forwarded (the wildcard [databases] entry).
	if _, err := direct.Exec(ctx, "CREATE DATABASE other"); err != nil {
		t.Fatal(err)
	}
	other, err := pgx.Connect(ctx, b.URL("other")+"&default_query_exec_mode=exec")
	if err != nil {
		t.Fatalf("connect to database other through pgbouncer: %v\n%s", err, b.Log())
	}
	defer other.Close(context.Background())
	var db string
	if err := other.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil || db != "other" {
		t.Fatalf("current_database through pgbouncer: %q, %v; want other", db, err)
	}

	jit := b.URL("postgres") + "&jit=off"
	refused, err := pgx.Connect(ctx, jit)
	if err == nil {
		refused.Close(context.Background())
		t.Fatalf("connect %s: succeeded; want pgbouncer to refuse the jit startup parameter", jit)
	}
	if !strings.Contains(err.Error(), "unsupported startup parameter") {
		t.Fatalf("connect %s: %v; want \"unsupported startup parameter\"", jit, err)
	}
	t.Logf("jit=off: %v", err)
}
