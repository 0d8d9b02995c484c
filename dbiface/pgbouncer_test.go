package dbiface_test

// PostgreSQL behind PgBouncer in transaction pooling mode (issue 12): a
// real PgBouncer (Debian's, 1.18: no protocol-level prepared statements)
// started by the test in front of the test server.

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects/connect"
	"github.com/prefectdb/prefectdb/dialects/postgres"
	"github.com/prefectdb/prefectdb/internal/pgbouncer"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
)

// startBouncer puts a PgBouncer in transaction mode in front of the test
// server and returns it with the server's host and port.
func startBouncer(t *testing.T, opts pgbouncer.Options) *pgbouncer.Bouncer {
	t.Helper()
	admin := testutil.RequirePostgres(t)
	host, port := serverAddress(t, admin)
	return pgbouncer.Start(t, host, port, opts)
}

func serverAddress(t *testing.T, admin string) (string, int) {
	t.Helper()
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Host, int(cfg.Port)
}

// viaBouncer rewrites a test database URL to reach it through b.
func viaBouncer(t *testing.T, b *pgbouncer.Bouncer, url string, query string) string {
	t.Helper()
	i := strings.Index(url, "@")
	j := strings.Index(url[i:], "/")
	u := url[:i+1] + "127.0.0.1:" + strconv.Itoa(b.Port()) + url[i+j:]
	if k := strings.Index(u, "?"); k >= 0 {
		u = u[:k]
	}
	if query != "" {
		u += "?" + query
	}
	return u
}

// TestPgBouncerConformance runs the PostgreSQL half of the conformance
// suite (dialects/dialecttest, as dialects/postgres runs it) and of
// dbiface's own tests (transitions,
// polls with FOR UPDATE SKIP LOCKED, COPY, events, upserts, migrations of
// fresh databases) through a PgBouncer in transaction mode, every test
// database reached with statement_cache_size=0 as Prefect's users write it.
func TestPgBouncerConformance(t *testing.T) {
	if os.Getenv(testutil.PoolerVariable) != "" {
		t.Skip("already running behind the pooler")
	}
	if testing.Short() {
		t.Skip("skipping in -short: runs two packages' tests again")
	}
	b := startBouncer(t, pgbouncer.Options{DefaultPoolSize: 20})
	began := time.Now()
	var out []byte
	for _, args := range [][]string{
		{"-run", "TestConformance", "../dialects/postgres"}, // the suite, as the PostgreSQL dialect runs it
		{"-run", "/postgres$", "."},                         // dbiface's tests, PostgreSQL half
	} {
		cmd := exec.Command("go", append([]string{"test", "-count=1"}, args...)...)
		cmd.Env = append(os.Environ(), testutil.PoolerVariable+"=127.0.0.1:"+strconv.Itoa(b.Port()))
		o, err := cmd.CombinedOutput()
		out = append(out, o...)
		if err != nil {
			t.Fatalf("the PostgreSQL tests through PgBouncer failed (go test %v): %v\n%s", args, err, o)
		}
	}
	t.Logf("conformance and dbiface PostgreSQL tests through PgBouncer (transaction mode): passed in %s\n%s",
		time.Since(began).Round(time.Millisecond), out)
}

// TestPgBouncerMisconfigured: without the pooler setting, PgBouncer refuses
// prefectdb's startup parameters, and the error says what to set.
func TestPgBouncerMisconfigured(t *testing.T) {
	if os.Getenv(testutil.PoolerVariable) != "" {
		t.Skip("already running behind the pooler")
	}
	t.Parallel()
	b := startBouncer(t, pgbouncer.Options{})
	url := viaBouncer(t, b, testutil.MigratedPostgres(t), "sslmode=disable")
	r := dbiface.NewRegistry()
	t.Cleanup(func() { _ = r.CloseAll() })
	iface, err := r.Provide(testutil.Context(t), dbiface.Config{URL: url})
	if err == nil {
		_, err = iface.Flow.Query().Count(testutil.Context(t))
	}
	var pe *postgres.PoolerError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "statement_cache_size=0") {
		t.Fatalf("default settings through PgBouncer: %v; want a *postgres.PoolerError saying statement_cache_size=0", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the error is not one line: %q", err)
	}
	// search_path cannot travel as a startup parameter through the pooler.
	pooled := viaBouncer(t, b, testutil.MigratedPostgres(t), "sslmode=disable&statement_cache_size=0")
	_, err = dbiface.Open(testutil.Context(t), dbiface.Config{URL: pooled, Options: config.Options{SearchPath: "prefect, public"}})
	if err == nil || !strings.Contains(err.Error(), "ALTER ROLE") {
		t.Errorf("search_path behind the pooler: %v; want the advice to set it for the role", err)
	}
}

// TestPgBouncerMigrations: migrations run through the pooler: three
// migrators at once bring a fresh database to head, each migration once,
// and no advisory lock is left behind on any server connection (a
// session-level lock would be, on the connection that took it).
func TestPgBouncerMigrations(t *testing.T) {
	if os.Getenv(testutil.PoolerVariable) != "" {
		t.Skip("already running behind the pooler")
	}
	t.Parallel()
	b := startBouncer(t, pgbouncer.Options{DefaultPoolSize: 4})
	empty := testutil.EmptyPostgres(t)
	url := viaBouncer(t, b, empty, "sslmode=disable&statement_cache_size=0")
	ctx := testutil.Context(t)
	var wg sync.WaitGroup
	applied := make([]int, 3)
	errs := make([]error, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := connect.Open(ctx, url, config.Options{})
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			steps, err := migrate.New(db.DB, db.Dialect, migrate.Options{}).UpTo(ctx, migrate.Head)
			applied[i], errs[i] = len(steps), err
		}()
	}
	wg.Wait()
	total := 0
	for i := range 3 {
		if errs[i] != nil {
			t.Fatalf("migrator %d through PgBouncer: %v", i, errs[i])
		}
		total += applied[i]
	}
	direct, err := connect.Open(ctx, empty, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	st, err := migrate.New(direct.DB, direct.Dialect, migrate.Options{}).Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Pending) != 0 || total != len(st.Applied) {
		t.Fatalf("three migrators applied %v (%d in all); the database has %d applied, %d pending", applied, total, len(st.Applied), len(st.Pending))
	}
	var locks int
	if err := direct.DB.QueryRowContext(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").Scan(&locks); err != nil || locks != 0 {
		t.Fatalf("advisory locks left after migrating through PgBouncer: %d, %v", locks, err)
	}
}
