package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/types"
)

// openTestDefaultURL is used when PREFECTDB_TEST_POSTGRES_URL is not set.
const openTestDefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// openTestTarget returns the test server's target. It skips the test when the
// server is unreachable, except on CI (CI=true), where that is a failure.
func openTestTarget(t *testing.T) *config.Target {
	t.Helper()
	raw := os.Getenv("PREFECTDB_TEST_POSTGRES_URL")
	if raw == "" {
		raw = openTestDefaultURL
	}
	target, err := config.ParseURL(raw)
	if err != nil {
		t.Fatalf("PREFECTDB_TEST_POSTGRES_URL: %v", err)
	}
	if !IsConnectable(t.Context(), target, config.Options{ConnectTimeout: 3 * time.Second}) {
		msg := "PostgreSQL at " + target.Redacted() + " is unreachable; set PREFECTDB_TEST_POSTGRES_URL to run the PostgreSQL tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return target
}

// openTestWithQuery returns target's URL with extra query parameters, re-parsed.
func openTestWithQuery(t *testing.T, target *config.Target, extra string) *config.Target {
	t.Helper()
	dsn := target.PostgresDSN()
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	out, err := config.ParseURL(dsn + sep + extra)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func openTestPool(t *testing.T, target *config.Target, o config.Options) *sql.DB {
	t.Helper()
	db, err := Open(t.Context(), target, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return db
}

func openTestShow(t *testing.T, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) string {
	t.Helper()
	var v string
	if err := q.QueryRowContext(t.Context(), "SHOW "+name).Scan(&v); err != nil {
		t.Fatalf("SHOW %s: %v", name, err)
	}
	return v
}

func TestRuntimeParameters(t *testing.T) {
	db := openTestPool(t, openTestTarget(t), config.Options{})
	want := map[string]string{
		"application_name":              "prefectdb",
		"statement_timeout":             "10s",
		"TimeZone":                      "UTC",
		"default_transaction_isolation": "read committed",
		"jit":                           "off",
	}
	// Several distinct connections held at once.
	conns := make([]*sql.Conn, 3)
	pids := map[int]bool{}
	for k := range conns {
		c, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var pid int
		if err := c.QueryRowContext(t.Context(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			t.Fatal(err)
		}
		pids[pid] = true
		for name, w := range want {
			if got := openTestShow(t, c, name); got != w {
				t.Errorf("conn %d: SHOW %s = %q, want %q", k, name, got, w)
			}
		}
	}
	if len(pids) != 3 {
		t.Errorf("held connections share backends: %v", pids)
	}
	if got := poolMaxConns(db); got != 15 {
		t.Errorf("pool max conns = %d, want 15", got)
	}
}

func TestOptionsAndURLParameters(t *testing.T) {
	target := openTestTarget(t)
	db := openTestPool(t, target, config.Options{
		StatementTimeout: 1500 * time.Millisecond,
		ApplicationName:  "custom-app",
		PoolSize:         2,
		MaxOverflow:      1,
	})
	if got := openTestShow(t, db, "statement_timeout"); got != "1500ms" {
		t.Errorf("statement_timeout = %q, want 1500ms", got)
	}
	if got := openTestShow(t, db, "application_name"); got != "custom-app" {
		t.Errorf("application_name = %q, want custom-app", got)
	}
	if got := poolMaxConns(db); got != 3 {
		t.Errorf("pool max conns = %d, want 3", got)
	}

	// Parameters in the URL win over Options, except TimeZone and the
	// isolation level, which prefectdb needs.
	fromURL := openTestWithQuery(t, target, "application_name=from-url&statement_timeout=2500&timezone=Europe/Paris&pool_max_conns=4")
	db2 := openTestPool(t, fromURL, config.Options{ApplicationName: "ignored"})
	if got := openTestShow(t, db2, "application_name"); got != "from-url" {
		t.Errorf("application_name = %q, want from-url", got)
	}
	if got := openTestShow(t, db2, "statement_timeout"); got != "2500ms" {
		t.Errorf("statement_timeout = %q, want 2500ms", got)
	}
	if got := openTestShow(t, db2, "TimeZone"); got != "UTC" {
		t.Errorf("TimeZone = %q, want UTC", got)
	}
	if got := poolMaxConns(db2); got != 4 {
		t.Errorf("pool max conns = %d, want 4 (pool_max_conns)", got)
	}

	db3 := openTestPool(t, target, config.Options{StatementTimeout: -1})
	if got := openTestShow(t, db3, "statement_timeout"); got != "0" {
		t.Errorf("statement_timeout with a negative timeout = %q, want 0", got)
	}
}

func TestStatementTimeoutEnforced(t *testing.T) {
	db := openTestPool(t, openTestTarget(t), config.Options{StatementTimeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := db.ExecContext(t.Context(), "SELECT pg_sleep(5)")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Fatalf("pg_sleep(5) under a 200 ms timeout: %v, want SQLSTATE 57014", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestCloseClosesPool(t *testing.T) {
	target := openTestTarget(t)
	app := "prefectdb-close-" + uuid.NewString()[:8]
	db, err := Open(t.Context(), target, config.Options{ApplicationName: app})
	if err != nil {
		t.Fatal(err)
	}
	observer := openTestPool(t, target, config.Options{ApplicationName: "prefectdb-observer"})
	count := func() int {
		var n int
		if err := observer.QueryRowContext(t.Context(),
			"SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	conns := make([]*sql.Conn, 3)
	for k := range conns {
		if conns[k], err = db.Conn(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := conns[k].PingContext(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range conns {
		_ = c.Close()
	}
	// Released connections stay open in the pgx pool.
	if n := count(); n != 3 {
		t.Errorf("%d server connections before Close, want 3", n)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for count() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d server connections remain after Close: the pool was not closed", count())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestIntervalRoundTrip(t *testing.T) {
	db := openTestPool(t, openTestTarget(t), config.Options{})
	ctx := t.Context()
	cases := []struct {
		in   time.Duration
		text string // PostgreSQL's own rendering of the stored interval
		back time.Duration
	}{
		{0, "00:00:00", 0},
		{3500 * time.Millisecond, "00:00:03.5", 3500 * time.Millisecond},
		{-3 * time.Second, "-00:00:03", -3 * time.Second},
		{-(3*time.Second + time.Microsecond), "-00:00:03.000001", -(3*time.Second + time.Microsecond)},
		{time.Microsecond, "00:00:00.000001", time.Microsecond},
		{26 * time.Hour, "26:00:00", 26 * time.Hour},
		{-(49*time.Hour + 59*time.Minute + 59*time.Second + 999999*time.Microsecond), "-49:59:59.999999",
			-(49*time.Hour + 59*time.Minute + 59*time.Second + 999999*time.Microsecond)},
		{1500 * time.Nanosecond, "00:00:00.000001", time.Microsecond},
		{2562047*time.Hour + 47*time.Minute + 16*time.Second + 854775*time.Microsecond, "2562047:47:16.854775",
			2562047*time.Hour + 47*time.Minute + 16*time.Second + 854775*time.Microsecond},
	}

	for _, c := range cases {
		var text string
		var back types.Interval
		if err := db.QueryRowContext(ctx, "SELECT $1::interval::text, $1::interval", types.Interval(c.in)).Scan(&text, &back); err != nil {
			t.Errorf("select %v: %v", c.in, err)
			continue
		}
		if text != c.text {
			t.Errorf("%v: PostgreSQL stored %q, want %q", c.in, text, c.text)
		}
		if time.Duration(back) != c.back {
			t.Errorf("%v: read back %v, want %v", c.in, time.Duration(back), c.back)
		}
	}

	// Through a table, on one pinned connection (temporary tables are per
	// session).
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx,
		"CREATE TEMP TABLE iv (id int PRIMARY KEY, d interval DEFAULT '00:00:00'::interval NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for k, c := range cases {
		if _, err := conn.ExecContext(ctx, "INSERT INTO iv (id, d) VALUES ($1, $2)", k, types.Interval(c.in)); err != nil {
			t.Fatalf("insert %v: %v", c.in, err)
		}
	}
	nilIV := (*types.Interval)(nil)
	iv := types.Interval(time.Minute)
	if _, err := conn.ExecContext(ctx, "INSERT INTO iv (id, d) VALUES (100, $1)", &iv); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO iv (id, d) VALUES (101, $1)", nilIV); err == nil {
		t.Error("nil *Interval was not bound as NULL")
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO iv (id) VALUES (200)"); err != nil {
		t.Fatal(err)
	}
	for k, c := range cases {
		var back types.Interval
		var eq bool
		if err := conn.QueryRowContext(ctx, "SELECT d, d = $2::interval FROM iv WHERE id = $1", k, c.text).Scan(&back, &eq); err != nil {
			t.Fatal(err)
		}
		if time.Duration(back) != c.back || !eq {
			t.Errorf("table round trip of %v: %v (equal to %q: %v)", c.in, time.Duration(back), c.text, eq)
		}
	}
	var def, minute types.Interval = 7, 0
	if err := conn.QueryRowContext(ctx, "SELECT (SELECT d FROM iv WHERE id = 200), (SELECT d FROM iv WHERE id = 100)").Scan(&def, &minute); err != nil {
		t.Fatal(err)
	}
	if def != 0 || time.Duration(minute) != time.Minute {
		t.Errorf("default %v, pointer %v", time.Duration(def), time.Duration(minute))
	}

	// Intervals PostgreSQL normalises with days, as Prefect (asyncpg) writes them.
	for in, want := range map[string]time.Duration{
		"1 day 02:00:00":    26 * time.Hour,
		"-1 days +23:59:57": -3 * time.Second,
		"3 days":            72 * time.Hour,
		"1 day -00:00:01":   24*time.Hour - time.Second,
	} {
		var back types.Interval
		if err := db.QueryRowContext(ctx, "SELECT $1::interval", in).Scan(&back); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if time.Duration(back) != want {
			t.Errorf("%s read back as %v, want %v", in, time.Duration(back), want)
		}
	}
	var months types.Interval
	err = db.QueryRowContext(ctx, "SELECT '1 mon'::interval").Scan(&months)
	if !errors.Is(err, types.ErrIntervalHasMonths) {
		t.Errorf("scanning '1 mon': %v, want ErrIntervalHasMonths", err)
	}
}

func TestUUIDAndTimestamp(t *testing.T) {
	db := openTestPool(t, openTestTarget(t), config.Options{})
	id := uuid.New()
	ts := time.Date(2024, 3, 9, 1, 2, 3, 123456789, time.FixedZone("IST", 5*3600+1800))
	var backID uuid.UUID
	var backTS time.Time
	var text string
	if err := db.QueryRowContext(t.Context(), "SELECT $1::uuid, $2::timestamptz, $2::timestamptz::text", id, ts).
		Scan(&backID, &backTS, &text); err != nil {
		t.Fatal(err)
	}
	if backID != id || !backTS.Equal(ts.Truncate(time.Microsecond)) {
		t.Errorf("read back %v %v", backID, backTS)
	}
	if text != "2024-03-08 19:32:03.123457+00" && text != "2024-03-08 19:32:03.123456+00" {
		t.Errorf("timestamptz text in session time zone = %q, want UTC", text)
	}
	if parsed, err := types.ParseTimestamp(text); err != nil || parsed.Sub(ts).Abs() > time.Microsecond {
		t.Errorf("ParseTimestamp(%q) = %v, %v", text, parsed, err)
	}
}

func TestEcho(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db := openTestPool(t, openTestTarget(t), config.Options{Echo: true, Logger: logger})
	if _, err := db.ExecContext(t.Context(), "SELECT $1::text", "marker-arg"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"SELECT $1::text", "nargs=1", "level=DEBUG"} {
		if !strings.Contains(out, want) {
			t.Errorf("echo log lacks %q:\n%s", want, out)
		}
	}
	// Values are secrets or personal data: logged only when asked for.
	if strings.Contains(out, "marker-arg") {
		t.Errorf("echo logged an argument's value without EchoValues:\n%s", out)
	}
	buf.Reset()
	withValues := openTestPool(t, openTestTarget(t), config.Options{Echo: true, EchoValues: true, Logger: logger})
	if _, err := withValues.ExecContext(t.Context(), "SELECT $1::text", "marker-arg"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "marker-arg") {
		t.Errorf("EchoValues did not log the value:\n%s", buf.String())
	}
}

func TestIsConnectable(t *testing.T) {
	target := openTestTarget(t)
	if !IsConnectable(t.Context(), target, config.Options{}) {
		t.Error("IsConnectable = false for the test server")
	}

	closed, err := config.ParseURL("postgresql+asyncpg://postgres:secret@127.0.0.1:1/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if IsConnectable(t.Context(), closed, config.Options{ConnectTimeout: time.Second}) {
		t.Error("IsConnectable = true for a closed port")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("IsConnectable took %v for a closed port with a 1 s timeout", d)
	}

	// A server that accepts connections on loopback and never answers: the
	// attempt hangs until the connect timeout.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = silent.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	mute, err := config.ParseURL("postgres://postgres@" + silent.Addr().String() + "/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if IsConnectable(t.Context(), mute, config.Options{ConnectTimeout: 500 * time.Millisecond}) {
		t.Error("IsConnectable = true for a server that never answers")
	}
	if d := time.Since(start); d < 400*time.Millisecond || d > 2*time.Second {
		t.Errorf("IsConnectable took %v with a 500 ms timeout against a silent server", d)
	}

	sqliteTarget, err := config.ParseURL("sqlite://")
	if err != nil {
		t.Fatal(err)
	}
	if IsConnectable(t.Context(), sqliteTarget, config.Options{}) || IsConnectable(t.Context(), nil, config.Options{}) {
		t.Error("IsConnectable = true for a non-PostgreSQL target")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if IsConnectable(ctx, target, config.Options{}) {
		t.Error("IsConnectable = true with a cancelled context")
	}
}

func TestOpenErrorsHidePassword(t *testing.T) {
	const secret = "Pa55w0rd-xyz"
	for _, raw := range []string{
		"postgresql+asyncpg://u:" + secret + "@h/db?pool_max_conns=abc",
		"postgres://u:" + secret + "@h/db?connect_timeout=soon",
		"postgres://u@h/db?password=" + secret + "&sslmode=bogus",
	} {
		target, err := config.ParseURL(raw)
		if err != nil {
			t.Fatalf("ParseURL(%q): %v", raw, err)
		}
		db, err := Open(context.Background(), target, config.Options{})
		if err == nil {
			_ = db.Close()
			t.Errorf("Open(%s) succeeded", target)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open error leaks the password: %v", err)
		}
	}

	sqliteTarget, err := config.ParseURL("sqlite://")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), sqliteTarget, config.Options{}); err == nil {
		t.Error("Open accepted an SQLite target")
	}
}

// poolMaxConns is the connection limit of the pgx pool behind db (the
// *sql.DB itself does not limit connections; see Open).
func poolMaxConns(db *sql.DB) int {
	d, ok := db.Driver().(poolDriver)
	if !ok {
		return -1
	}
	return int(d.pool.Config().MaxConns)
}
