package testutil

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver for admin connections

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects/postgres"
	"github.com/prefectdb/prefectdb/migrate"
)

// PostgresURLVariable names the environment variable with the URL of a
// PostgreSQL server (any database on it) where tests may create databases.
const PostgresURLVariable = "PREFECTDB_TEST_POSTGRES_URL"

// PoolerVariable names the environment variable with host:port of a
// connection pooler in transaction mode (PgBouncer) in front of the test
// server. When it is set, the databases that tests get are reached through
// it, with statement_cache_size=0 in their URLs as Prefect's users write
// it; creating and dropping them still goes to the server directly.
const PoolerVariable = "PREFECTDB_TEST_POSTGRES_POOLER"

// DefaultPostgresURL is the local server with trust authentication.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// pgServer is the state shared by all tests of one test binary: whether the
// server answered, and the migrated template database to clone.
var pgServer struct {
	once     sync.Once
	admin    string // admin URL
	err      error  // why the server cannot be used
	mu       sync.Mutex
	template string // name of the migrated template database, once made
}

// PostgresAdminURL returns the URL of the test server's admin database.
func PostgresAdminURL() string {
	if u := os.Getenv(PostgresURLVariable); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// RequirePostgres skips the test when no PostgreSQL server can be reached,
// or fails it under CI=true, and returns the admin URL.
func RequirePostgres(t testing.TB) string {
	t.Helper()
	pgServer.once.Do(func() {
		pgServer.admin = PostgresAdminURL()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", pgServer.admin)
		if err == nil {
			err = db.PingContext(ctx)
			db.Close()
		}
		pgServer.err = err
	})
	if pgServer.err != nil {
		msg := fmt.Sprintf("PostgreSQL is not reachable at %s (%v); set %s to a server where tests may create databases",
			config.Redact(pgServer.admin), pgServer.err, PostgresURLVariable)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s (CI=true: PostgreSQL tests must run)", msg)
		}
		t.Skip("skipping: " + msg)
	}
	return pgServer.admin
}

// EmptyPostgres returns the URL of a new, empty PostgreSQL database, dropped
// when the test ends.
func EmptyPostgres(t *testing.T) string {
	t.Helper()
	admin := RequirePostgres(t)
	name := "prefectdb_t_" + randomHex(6)
	adminExec(t, admin, `CREATE DATABASE "`+name+`"`)
	t.Cleanup(func() { dropDatabase(t, admin, name) })
	return databaseURL(t, admin, name)
}

// MigratedPostgres returns the URL of a new PostgreSQL database migrated to
// head, cloned from a template that is migrated once per test binary and
// migration checksum.
func MigratedPostgres(t *testing.T) string {
	t.Helper()
	admin := RequirePostgres(t)
	tmpl := migratedTemplate(t, admin)
	name := "prefectdb_t_" + randomHex(6)
	for attempt := 0; ; attempt++ {
		err := tryAdminExec(admin, `CREATE DATABASE "`+name+`" TEMPLATE "`+tmpl+`"`)
		var pgErr *pgconn.PgError
		// 55006: the template is being accessed by another clone; retry.
		if err != nil && errors.As(err, &pgErr) && pgErr.Code == "55006" && attempt < 100 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf("clone template database: %v", err)
		}
		break
	}
	t.Cleanup(func() { dropDatabase(t, admin, name) })
	return databaseURL(t, admin, name)
}

func migratedTemplate(t *testing.T, admin string) string {
	t.Helper()
	pgServer.mu.Lock()
	defer pgServer.mu.Unlock()
	if pgServer.template != "" {
		return pgServer.template
	}
	dir, err := migrate.Dir(postgres.New())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := dir.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(sum.Sum()))
	name := "prefectdb_tmpl_" + hex.EncodeToString(digest[:8])

	// Several test binaries may start at once: one builds the template while
	// the others wait on an advisory lock.
	ctx := Context(t)
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext('prefectdb.testutil.template'))"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(hashtext('prefectdb.testutil.template'))")
	var ready bool
	err = conn.QueryRowContext(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", name).Scan(&ready)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	if !ready {
		for _, stmt := range []string{
			`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`,
			`CREATE DATABASE "` + name + `"`,
		} {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("build template database: %v", err)
			}
		}
		MigrateUp(t, databaseURL(t, admin, name))
		if _, err := conn.ExecContext(ctx, `ALTER DATABASE "`+name+`" WITH IS_TEMPLATE true`); err != nil {
			t.Fatalf("mark template database: %v", err)
		}
	}
	pgServer.template = name
	return name
}

func databaseURL(t testing.TB, admin, name string) string {
	t.Helper()
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresURLVariable, err)
	}
	u.Path = "/" + name
	if pooler := os.Getenv(PoolerVariable); pooler != "" {
		u.Host = pooler
		q := u.Query()
		q.Set("statement_cache_size", "0")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func adminExec(t testing.TB, admin, stmt string) {
	t.Helper()
	if err := tryAdminExec(admin, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

func tryAdminExec(admin, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

func dropDatabase(t testing.TB, admin, name string) {
	if err := tryAdminExec(admin, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
		t.Errorf("drop test database %s: %v", name, err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
