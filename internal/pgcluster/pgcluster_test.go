package pgcluster_test

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/prefectdb/prefectdb/internal/pgcluster"
)

// TestStartStopRestart: the cluster answers on its URL, not after a stop
// (fast or immediate), and again after a start; a crash keeps committed
// rows.
func TestStartStopRestart(t *testing.T) {
	c := pgcluster.Start(t)
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", c.URL())
		if err != nil {
			return err
		}
		defer db.Close()
		return db.PingContext(ctx)
	}
	exec := func(q string) {
		t.Helper()
		db, err := sql.Open("pgx", c.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := ping(); err != nil {
		t.Fatalf("fresh cluster: %v", err)
	}
	exec("CREATE TABLE kept (x int); INSERT INTO kept VALUES (1)")
	for _, mode := range []pgcluster.Mode{pgcluster.Fast, pgcluster.Immediate} {
		if err := c.Stop(mode); err != nil {
			t.Fatal(err)
		}
		if c.Running() || ping() == nil {
			t.Fatalf("stopped (%s) cluster still answers", mode)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		if err := ping(); err != nil {
			t.Fatalf("restarted after %s stop: %v", mode, err)
		}
	}
	exec("DO $$ BEGIN IF (SELECT count(*) FROM kept) <> 1 THEN RAISE 'lost the row'; END IF; END $$")
}

// connect opens a pgx connection to url, giving up after 5 s.
func connect(t *testing.T, url string) (*pgx.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn, nil
}

// mustConnect is connect, failing the test on an error.
func mustConnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := connect(t, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	return conn
}

// withQuery returns rawURL with its query parameters changed: a key with
// value "" is removed, others are set.
func withQuery(t *testing.T, rawURL string, kv ...string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// sqlState is the SQLSTATE of a server error, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// sslDN returns whether the connection uses TLS and the client
// certificate's DN (or "").
func sslDN(t *testing.T, conn *pgx.Conn) (bool, string) {
	t.Helper()
	var ssl bool
	var dn *string
	if err := conn.QueryRow(context.Background(),
		"SELECT ssl, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl, &dn); err != nil {
		t.Fatalf("pg_stat_ssl: %v", err)
	}
	if dn == nil {
		return ssl, ""
	}
	return ssl, *dn
}

// TestTLS: a TLS cluster's URL (verify-full against localhost with the
// cluster's CA) connects over TLS; the server's key is 0600 and owned by
// the server's user; trusting an unrelated CA fails the
// certificate check; a connection without TLS over TCP is refused by
// pg_hba.conf.
func TestTLS(t *testing.T) {
	c := pgcluster.StartWith(t, pgcluster.Options{TLS: true})
	u, err := url.Parse(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); u.Hostname() != "localhost" || q.Get("sslmode") != "verify-full" ||
		q.Get("sslrootcert") != c.CAFile() || q.Has("sslcert") || q.Has("sslkey") {
		t.Fatalf("URL %s: want localhost, sslmode=verify-full, sslrootcert=%s, no sslcert/sslkey", c.URL(), c.CAFile())
	}
	conn := mustConnect(t, c.URL())
	if ssl, dn := sslDN(t, conn); !ssl || dn != "" {
		t.Fatalf("pg_stat_ssl: ssl %v, client_dn %q; want TLS without a client certificate", ssl, dn)
	}

	var keyFile string
	if err := conn.QueryRow(context.Background(), "SHOW ssl_key_file").Scan(&keyFile); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	wantUID := os.Geteuid()
	if wantUID == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		wantUID, _ = strconv.Atoi(u.Uid)
	}
	if uid := int(fi.Sys().(*syscall.Stat_t).Uid); fi.Mode().Perm() != 0o600 || uid != wantUID {
		t.Fatalf("server key %s: mode %v owner %d, want 0600 owned by the server's user %d", keyFile, fi.Mode().Perm(), uid, wantUID)
	}

	_, err = connect(t, withQuery(t, c.URL(), "sslrootcert", c.OtherCAFile()))
	var unknownCA x509.UnknownAuthorityError
	if !errors.As(err, &unknownCA) {
		t.Fatalf("trusting an unrelated CA: got %v, want an x509.UnknownAuthorityError", err)
	}
	t.Logf("unrelated CA: %v", err)

	plain := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port())
	_, err = connect(t, plain)
	if sqlState(err) != "28000" || !strings.Contains(err.Error(), "no pg_hba.conf entry") {
		t.Fatalf("sslmode=disable over TCP: got %v, want SQLSTATE 28000 no pg_hba.conf entry", err)
	}
}

// TestTLSClientCert: with ClientCert, the URL (with the client certificate)
// connects as CN postgres; the same URL without the certificate is refused;
// the client key is private to us.
func TestTLSClientCert(t *testing.T) {
	c := pgcluster.StartWith(t, pgcluster.Options{TLS: true, ClientCert: true})
	for _, f := range []string{c.ClientKeyFile(), c.ClientCertFile()} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if f == c.ClientKeyFile() && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, fi.Mode().Perm())
		}
		if int(st.Uid) != os.Geteuid() {
			t.Errorf("%s: owner %d, want us (%d)", f, st.Uid, os.Geteuid())
		}
	}
	q, _ := url.Parse(c.URL())
	if q.Query().Get("sslcert") != c.ClientCertFile() || q.Query().Get("sslkey") != c.ClientKeyFile() {
		t.Fatalf("URL %s: want sslcert and sslkey", c.URL())
	}
	conn := mustConnect(t, c.URL())
	if ssl, dn := sslDN(t, conn); !ssl || dn != "/CN=postgres" {
		t.Fatalf("pg_stat_ssl: ssl %v, client_dn %q; want TLS with /CN=postgres", ssl, dn)
	}

	_, err := connect(t, withQuery(t, c.URL(), "sslcert", "", "sslkey", ""))
	if sqlState(err) != "28000" {
		t.Fatalf("without a client certificate: got %v, want SQLSTATE 28000", err)
	}
	t.Logf("without a client certificate: %v", err)
}

// TestStandby: a standby of a Replication primary receives its commits
// (within 10 s), refuses writes (25006 read_only_sql_transaction), and once
// the primary is stopped and the standby promoted, accepts writes and has
// the primary's rows. Also with TLS and client certificates, where the
// replication connection uses hostssl.
func TestStandby(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts pgcluster.Options
	}{
		{"plain", pgcluster.Options{Replication: true}},
		{"tls", pgcluster.Options{Replication: true, TLS: true, ClientCert: true}},
	} {
		opts := tc.opts
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			p := pgcluster.StartWith(t, opts)
			s := p.StartStandby(t)
			if s.Port() == p.Port() {
				t.Fatalf("standby on the primary's port %d", p.Port())
			}
			pc := mustConnect(t, p.URL())
			if _, err := pc.Exec(ctx, "CREATE TABLE r (x int); INSERT INTO r VALUES (42)"); err != nil {
				t.Fatal(err)
			}
			sc := mustConnect(t, s.URL())
			var inRecovery bool
			if err := sc.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || !inRecovery {
				t.Fatalf("standby pg_is_in_recovery: %v, %v; want true", inRecovery, err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				var n int
				err := sc.QueryRow(ctx, "SELECT count(*) FROM r WHERE x = 42").Scan(&n)
				if err == nil && n == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the row committed on the primary is not on the standby after 10 s: %d rows, %v", n, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if _, err := sc.Exec(ctx, "INSERT INTO r VALUES (1)"); sqlState(err) != "25006" {
				t.Fatalf("write on the standby: got %v, want SQLSTATE 25006", err)
			}

			if err := p.Stop(pgcluster.Fast); err != nil {
				t.Fatal(err)
			}
			if err := s.Promote(); err != nil {
				t.Fatal(err)
			}
			if err := s.Promote(); err == nil {
				t.Fatal("promoting a promoted standby: no error")
			}
			sc = mustConnect(t, s.URL())
			if _, err := sc.Exec(ctx, "INSERT INTO r VALUES (1)"); err != nil {
				t.Fatalf("write on the promoted standby: %v", err)
			}
			var sum int
			if err := sc.QueryRow(ctx, "SELECT sum(x) FROM r").Scan(&sum); err != nil || sum != 43 {
				t.Fatalf("promoted standby: sum %d, %v; want 43 (the primary's row and ours)", sum, err)
			}
		})
	}
}
