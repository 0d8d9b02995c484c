package postgres

import (
	"context"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/prefectdb/prefectdb/config"
)

// livenessWait polls cond until it holds or the test's context ends: the
// events below (a notification delivered, a backend gone) take the server
// an unknown time, and the test waits for the event, not for a duration.
func livenessWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-t.Context().Done():
			t.Fatalf("gave up waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestShouldPingSeesTheSocket: a pooled connection is pinged before use
// only when its socket is not quiet or it sat idle for pingAfterIdle. An
// idle healthy connection is not pinged; one with a message waiting (a
// notification) is, and the ping reads the message and keeps it; one whose
// backend was terminated is, and the ping fails, so the pool drops it.
// Over TCP and, where the server has one, its Unix socket.
func TestShouldPingSeesTheSocket(t *testing.T) {
	target := openTestTarget(t)
	dsns := map[string]string{"tcp": target.PostgresDSN()}
	if _, err := os.Stat("/var/run/postgresql/.s.PGSQL.5432"); err == nil {
		dsns["unix"] = "host=/var/run/postgresql port=5432 user=postgres dbname=postgres sslmode=disable"
		if u := os.Getenv("PREFECTDB_TEST_POSTGRES_URL"); u != "" {
			delete(dsns, "unix") // another server: its socket is not known
		}
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.WithoutCancel(ctx))
			other, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close(context.WithoutCancel(ctx))
			ping := func() bool { return shouldPing(ctx, pgxpool.ShouldPingParams{Conn: conn}) }
			quiet := func() bool { return socketQuiet(conn.PgConn().Conn()) }

			if ping() {
				t.Fatal("a healthy idle connection would be pinged")
			}
			if !shouldPing(ctx, pgxpool.ShouldPingParams{Conn: conn, IdleDuration: pingAfterIdle}) {
				t.Fatalf("a connection idle for %s would not be pinged", pingAfterIdle)
			}

			channel := "liveness_" + uuid.NewString()[:8]
			if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
				t.Fatal(err)
			}
			if _, err := other.Exec(ctx, "NOTIFY "+channel); err != nil {
				t.Fatal(err)
			}
			livenessWait(t, "the notification on the socket", func() bool { return !quiet() })
			if !ping() {
				t.Fatal("a connection with a message waiting would not be pinged")
			}
			if err := conn.Ping(ctx); err != nil {
				t.Fatalf("ping after a notification: %v", err)
			}
			if !quiet() || ping() {
				t.Fatal("after the ping read the notification, the socket is not quiet")
			}

			pid := conn.PgConn().PID()
			if _, err := other.Exec(ctx, "SELECT pg_terminate_backend($1)", int32(pid)); err != nil {
				t.Fatal(err)
			}
			livenessWait(t, "the terminated backend's goodbye on the socket", func() bool { return !quiet() })
			if !ping() {
				t.Fatal("a connection whose backend was terminated would not be pinged")
			}
			if err := conn.Ping(ctx); err == nil {
				t.Fatal("ping of a terminated connection succeeded")
			}
		})
	}
}

// TestTerminatedConnectionsAreNotHandedOut: when the server ends every
// idle connection of a pool (pg_terminate_backend), the next operations
// all succeed: none is given a dead connection.
func TestTerminatedConnectionsAreNotHandedOut(t *testing.T) {
	target := openTestTarget(t)
	app := "prefectdb-liveness-" + uuid.NewString()[:8]
	db := openTestPool(t, target, config.Options{ApplicationName: app, PoolSize: 4, MaxOverflow: 0})
	observer := openTestPool(t, target, config.Options{ApplicationName: "prefectdb-observer"})
	ctx := t.Context()
	count := func() int {
		var n int
		if err := observer.QueryRowContext(ctx,
			"SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for round := range 3 {
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := db.ExecContext(ctx, "SELECT pg_sleep(0.02)"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := count(); n == 0 {
			t.Fatal("no pooled connection to terminate")
		}
		if _, err := observer.ExecContext(ctx,
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", app); err != nil {
			t.Fatal(err)
		}
		livenessWait(t, "the pool's backends to end", func() bool { return count() == 0 })
		for k := range 8 {
			if _, err := db.ExecContext(ctx, "SELECT 1"); err != nil {
				t.Fatalf("round %d, operation %d after the pool's connections were terminated: %v", round, k, err)
			}
		}
	}
}

// TestShouldPingBesideAParkedReader: pgconn may leave a background reader
// parked in a read of an idle connection's socket (after a slow write,
// until the next bytes arrive). The check must answer beside it, not wait
// for it: a bench run hung in the pool's acquire when the peek took the
// socket's read lock.
func TestShouldPingBesideAParkedReader(t *testing.T) {
	target := openTestTarget(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, target.PostgresDSN())
	if err != nil {
		t.Fatal(err)
	}
	raw := conn.PgConn().Conn()
	parked := make(chan error, 1)
	go livenessParkedRead(raw, parked)
	// The reader holds the socket's read lock once it waits for the socket
	// in the runtime's poller ("IO wait").
	livenessWait(t, "the reader to park on the socket", func() bool {
		buf := make([]byte, 1<<20)
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "[IO wait") && strings.Contains(g, "livenessParkedRead") {
				return true
			}
		}
		return false
	})
	answered := make(chan bool, 1)
	go func() { answered <- shouldPing(ctx, pgxpool.ShouldPingParams{Conn: conn}) }()
	select {
	case ping := <-answered:
		if ping {
			t.Error("an idle healthy connection with a parked reader would be pinged")
		}
	case <-ctx.Done():
		t.Fatal("shouldPing is waiting for the reader parked on the socket")
	}
	_ = raw.Close()
	<-parked
}

// livenessParkedRead reads one byte from c, as pgconn's background reader
// does, and sends the error on done.
func livenessParkedRead(c net.Conn, done chan<- error) {
	var buf [1]byte
	_, err := c.Read(buf[:])
	done <- err
}
