package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	entdialect "entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/types"
)

// openURL parses raw and opens it, closing the pool at the end of the test.
func openURL(t *testing.T, raw string, o config.Options) *sql.DB {
	t.Helper()
	target, err := config.ParseURL(raw)
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", raw, err)
	}
	db, err := Open(t.Context(), target, o)
	if err != nil {
		t.Fatalf("Open(%q): %v", raw, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return db
}

// openFile opens a fresh database file in a temporary directory.
func openFile(t *testing.T) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prefect.db")
	return openURL(t, "sqlite+aiosqlite:///"+path, config.Options{})
}

// holdConns pins n distinct connections of db.
func holdConns(t *testing.T, db *sql.DB, n int) []*sql.Conn {
	t.Helper()
	conns := make([]*sql.Conn, n)
	seen := map[any]bool{}
	for k := range conns {
		c, err := db.Conn(t.Context())
		if err != nil {
			t.Fatalf("conn %d: %v", k, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		if err := c.Raw(func(dc any) error {
			if seen[dc] {
				return errors.New("connection handed out twice")
			}
			seen[dc] = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		conns[k] = c
	}
	return conns
}

func pragma(t *testing.T, c *sql.Conn, name string) string {
	t.Helper()
	var v string
	if err := c.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestFilePragmasOnEveryConnection(t *testing.T) {
	t.Parallel()
	db := openFile(t)
	want := map[string]string{
		"busy_timeout":       "60000",
		"foreign_keys":       "1",
		"journal_mode":       "wal",
		"synchronous":        "1", // NORMAL
		"cache_size":         "20000",
		"legacy_alter_table": "0",
		"wal_autocheckpoint": strconv.Itoa(WALAutocheckpoint),
	}
	for k, c := range holdConns(t, db, 3) {
		for name, w := range want {
			if got := pragma(t, c, name); got != w {
				t.Errorf("conn %d: PRAGMA %s = %s, want %s", k, name, got, w)
			}
		}
	}
}

// TestWriterCacheSize: the writer connection that EntDriver opens has a
// cache of WriterCacheSize pages, and the pool beside it keeps Prefect's
// CacheSize. Both checkpoint at WALAutocheckpoint pages.
func TestWriterCacheSize(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	target, err := config.ParseURL("sqlite:///" + filepath.Join(t.TempDir(), "prefect.db"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, target, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	drv, err := Dialect{}.EntDriver(ctx, target, config.Options{}, db)
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	pragmaOf := func(q entdialect.ExecQuerier, name string) string {
		var rows entsql.Rows
		if err := q.Query(ctx, "PRAGMA "+name, []any{}, &rows); err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var v string
		if !rows.Next() {
			t.Fatalf("PRAGMA %s returned no row", name)
		}
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	tx, err := drv.Tx(ctx) // every transaction runs on the writer
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pragmaOf(tx, "cache_size"), strconv.Itoa(WriterCacheSize); got != want {
		t.Errorf("writer: cache_size = %s, want %s", got, want)
	}
	if got, want := pragmaOf(tx, "wal_autocheckpoint"), strconv.Itoa(WALAutocheckpoint); got != want {
		t.Errorf("writer: wal_autocheckpoint = %s, want %s", got, want)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	for _, c := range holdConns(t, db, 2) {
		if got := pragma(t, c, "cache_size"); got != strconv.Itoa(CacheSize) {
			t.Errorf("pool: cache_size = %s, want %d", got, CacheSize)
		}
	}
}

// TestWALAutocheckpointFromURL: a URL that sets wal_autocheckpoint keeps its
// value on every connection, in either of modernc's forms, with or without
// a schema.
func TestWALAutocheckpointFromURL(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"wal_autocheckpoint(500)", "WAL_AUTOCHECKPOINT=500", "main.wal_autocheckpoint(500)", `"main"."wal_autocheckpoint"=500`} {
		path := filepath.Join(t.TempDir(), "prefect.db")
		db := openURL(t, "sqlite:///"+path+"?_pragma="+url.QueryEscape(p), config.Options{})
		for k, c := range holdConns(t, db, 2) {
			if got := pragma(t, c, "wal_autocheckpoint"); got != "500" {
				t.Errorf("%s: conn %d: wal_autocheckpoint = %s, want 500", p, k, got)
			}
		}
	}
}

func TestBusyTimeoutFromOptions(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.sqlite")
	db := openURL(t, path, config.Options{BusyTimeout: 5 * time.Second})
	for _, c := range holdConns(t, db, 2) {
		if got := pragma(t, c, "busy_timeout"); got != "5000" {
			t.Errorf("busy_timeout = %s, want 5000", got)
		}
	}
}

func TestForeignKeysEnforced(t *testing.T) {
	t.Parallel()
	db := openFile(t)
	ctx := t.Context()
	for _, q := range []string{
		"CREATE TABLE parent (id INTEGER PRIMARY KEY)",
		"CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id))",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range holdConns(t, db, 3) {
		if _, err := c.ExecContext(ctx, "INSERT INTO child (parent_id) VALUES (42)"); err == nil {
			t.Error("insert violating a foreign key succeeded")
		}
	}
}

func TestInMemorySharedAcrossConnections(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"sqlite+aiosqlite:///:memory:",
		"sqlite://",
		"sqlite+aiosqlite:///file::memory:?cache=shared&uri=true&check_same_thread=false",
		":memory:",
	} {
		t.Run(raw, func(t *testing.T) {
			db := openURL(t, raw, config.Options{})
			ctx := t.Context()
			conns := holdConns(t, db, 4)
			if _, err := conns[0].ExecContext(ctx, "CREATE TABLE shared (v TEXT)"); err != nil {
				t.Fatal(err)
			}
			if _, err := conns[1].ExecContext(ctx, "INSERT INTO shared VALUES ('x')"); err != nil {
				t.Fatal(err)
			}
			for k, c := range conns {
				var n int
				if err := c.QueryRowContext(ctx, "SELECT count(*) FROM shared").Scan(&n); err != nil {
					t.Fatalf("conn %d: %v", k, err)
				}
				if n != 1 {
					t.Errorf("conn %d sees %d rows, want 1", k, n)
				}
				if got := pragma(t, c, "journal_mode"); got != "memory" {
					t.Errorf("conn %d: journal_mode = %s, want memory", k, got)
				}
				if got := pragma(t, c, "foreign_keys"); got != "1" {
					t.Errorf("conn %d: foreign_keys = %s, want 1", k, got)
				}
			}

			// The database survives the pool closing all its connections.
			for _, c := range conns {
				_ = c.Close()
			}
			db.SetMaxIdleConns(0)
			db.SetMaxIdleConns(2)
			var n int
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM shared").Scan(&n); err != nil || n != 1 {
				t.Errorf("after the pool closed its connections: %d rows, %v", n, err)
			}
		})
	}
}

func TestAnonymousInMemoryDatabasesAreDistinct(t *testing.T) {
	t.Parallel()
	a := openURL(t, "sqlite://", config.Options{})
	b := openURL(t, "sqlite://", config.Options{})
	if _, err := a.ExecContext(t.Context(), "CREATE TABLE only_in_a (v)"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ExecContext(t.Context(), "SELECT * FROM only_in_a"); err == nil {
		t.Error("a table created in one anonymous in-memory database is visible in another")
	}
}

func TestNamedInMemoryDatabaseIsShared(t *testing.T) {
	t.Parallel()
	name := "file:prefectdb-test-" + uuid.NewString() + "?mode=memory"
	a := openURL(t, name, config.Options{})
	b := openURL(t, name, config.Options{})
	if _, err := a.ExecContext(t.Context(), "CREATE TABLE named (v)"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ExecContext(t.Context(), "SELECT * FROM named"); err != nil {
		t.Errorf("named in-memory database not shared between pools: %v", err)
	}
}

func TestRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	db := openURL(t, "sqlite:///rel.db", config.Options{})
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE x (v)"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "rel.db")); err != nil {
		t.Errorf("relative database not created in the working directory: %v", err)
	}
}

func TestTimestampStorage(t *testing.T) {
	t.Parallel()
	db := openFile(t)
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, "CREATE TABLE ev (id INTEGER PRIMARY KEY, ts DATETIME)"); err != nil {
		t.Fatal(err)
	}
	zone := time.FixedZone("IST", 5*3600+1800)
	in := time.Date(2024, 3, 9, 1, 2, 3, 123456789, zone) // 2024-03-08 19:32:03.123456789 UTC
	if _, err := db.ExecContext(ctx, "INSERT INTO ev (id, ts) VALUES (1, ?)", in); err != nil {
		t.Fatal(err)
	}

	var text, typ string
	if err := db.QueryRowContext(ctx, "SELECT CAST(ts AS TEXT), typeof(ts) FROM ev WHERE id = 1").Scan(&text, &typ); err != nil {
		t.Fatal(err)
	}
	if text != "2024-03-08 19:32:03.123456" || typ != "text" {
		t.Errorf("stored %q (%s), want \"2024-03-08 19:32:03.123456\" (text)", text, typ)
	}

	// modernc decodes the DATETIME text itself: time.Time, UTC, microseconds kept.
	var raw any
	if err := db.QueryRowContext(ctx, "SELECT ts FROM ev WHERE id = 1").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	got, ok := raw.(time.Time)
	if !ok {
		t.Fatalf("driver returned %T, want time.Time", raw)
	}
	want := in.Truncate(time.Microsecond)
	if !got.Equal(want) || got.Location() != time.UTC || got.Nanosecond() != 123456000 {
		t.Errorf("read back %v (%v), want %v in UTC", got, got.Location(), want.UTC())
	}

	// A pointer, a nil pointer and a Valuer producing a time.Time.
	ptr := &in
	var nilPtr *time.Time
	for id, v := range map[int]any{2: ptr, 3: nilPtr, 4: sql.NullTime{Time: in, Valid: true}, 5: sql.NullTime{}} {
		if _, err := db.ExecContext(ctx, "INSERT INTO ev (id, ts) VALUES (?, ?)", id, v); err != nil {
			t.Fatalf("insert %T: %v", v, err)
		}
	}
	rows, err := db.QueryContext(ctx, "SELECT id, CAST(ts AS TEXT) FROM ev WHERE id > 1 ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	wantText := map[int]sql.NullString{
		2: {String: "2024-03-08 19:32:03.123456", Valid: true},
		3: {},
		4: {String: "2024-03-08 19:32:03.123456", Valid: true},
		5: {},
	}
	for rows.Next() {
		var id int
		var s sql.NullString
		if err := rows.Scan(&id, &s); err != nil {
			t.Fatal(err)
		}
		if s != wantText[id] {
			t.Errorf("id %d stored %+v, want %+v", id, s, wantText[id])
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	// Query arguments are converted too, so comparisons are in time order.
	var n int
	later := in.Add(time.Microsecond).In(time.FixedZone("PST", -8*3600))
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM ev WHERE ts < ?", later).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("count(ts < later) = %d, want 3", n)
	}
}

func TestTimestampOrderAcrossZones(t *testing.T) {
	t.Parallel()
	db := openFile(t)
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, "CREATE TABLE ev (name TEXT, ts DATETIME)"); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	// Written in an order and in zones where the local wall-clock text would
	// sort wrongly.
	values := []struct {
		name string
		ts   time.Time
	}{
		{"c", base.Add(2 * time.Hour).In(time.FixedZone("W", -10*3600))}, // 04:00 local
		{"a", base.In(time.FixedZone("E", 13*3600))},                     // 01:00 next day local
		{"d", base.Add(2*time.Hour + time.Microsecond)},                  // UTC
		{"b", base.Add(time.Hour + 500*time.Millisecond).In(time.FixedZone("X", 3600))},
		{"e", base.Add(24 * time.Hour).In(time.FixedZone("Y", -3*3600-1800))}, // previous wall-clock day
	}
	for _, v := range values {
		if _, err := db.ExecContext(ctx, "INSERT INTO ev VALUES (?, ?)", v.name, v.ts); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.QueryContext(ctx, "SELECT name, ts FROM ev ORDER BY ts")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var order []string
	var prev time.Time
	for rows.Next() {
		var name string
		var ts time.Time
		if err := rows.Scan(&name, &ts); err != nil {
			t.Fatal(err)
		}
		if ts.Before(prev) {
			t.Errorf("%s at %v sorts after %v", name, ts, prev)
		}
		prev = ts
		order = append(order, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ""); got != "abcde" {
		t.Errorf("ORDER BY ts gave %s, want abcde", got)
	}
}

func TestUUIDStorage(t *testing.T) {
	t.Parallel()
	db := openFile(t)
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, "CREATE TABLE r (id CHAR(36) PRIMARY KEY, other CHAR(36))"); err != nil {
		t.Fatal(err)
	}
	id := uuid.MustParse("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")
	var nilID *uuid.UUID
	if _, err := db.ExecContext(ctx, "INSERT INTO r VALUES (?, ?)", id, nilID); err != nil {
		t.Fatal(err)
	}
	var text, typ string
	var other sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT id, typeof(id), other FROM r").Scan(&text, &typ, &other); err != nil {
		t.Fatal(err)
	}
	if text != "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" || typ != "text" || other.Valid {
		t.Errorf("stored %q (%s), other %+v", text, typ, other)
	}
	var back uuid.UUID
	if err := db.QueryRowContext(ctx, "SELECT id FROM r WHERE id = ?", &id).Scan(&back); err != nil {
		t.Fatal(err)
	}
	if back != id {
		t.Errorf("read back %v, want %v", back, id)
	}
}

func TestIntervalStorage(t *testing.T) {
	t.Parallel()
	db := openFile(t)
	ctx := t.Context()
	if _, err := db.ExecContext(ctx,
		"CREATE TABLE iv (id INTEGER PRIMARY KEY, d DATETIME DEFAULT '0' NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   time.Duration
		text string
		back time.Duration
	}{
		{0, "1970-01-01 00:00:00.000000", 0},
		{3500 * time.Millisecond, "1970-01-01 00:00:03.500000", 3500 * time.Millisecond},
		{-3 * time.Second, "1969-12-31 23:59:57.000000", -3 * time.Second},
		{-time.Microsecond, "1969-12-31 23:59:59.999999", -time.Microsecond},
		{-(3*time.Second + time.Microsecond), "1969-12-31 23:59:56.999999", -(3*time.Second + time.Microsecond)},
		{3*24*time.Hour + 5*time.Minute, "1970-01-04 00:05:00.000000", 3*24*time.Hour + 5*time.Minute},
		{1500 * time.Nanosecond, "1970-01-01 00:00:00.000001", time.Microsecond},
	}
	for k, c := range cases {
		id := k + 1
		if _, err := db.ExecContext(ctx, "INSERT INTO iv (id, d) VALUES (?, ?)", id, types.Interval(c.in)); err != nil {
			t.Fatal(err)
		}
		var text string
		var back types.Interval
		if err := db.QueryRowContext(ctx, "SELECT CAST(d AS TEXT), d FROM iv WHERE id = ?", id).Scan(&text, &back); err != nil {
			t.Fatal(err)
		}
		if text != c.text {
			t.Errorf("%v stored as %q, want %q", c.in, text, c.text)
		}
		if time.Duration(back) != c.back {
			t.Errorf("%v read back as %v, want %v", c.in, time.Duration(back), c.back)
		}
	}

	// Pointers.
	iv := types.Interval(time.Minute)
	var nilIV *types.Interval
	if _, err := db.ExecContext(ctx, "INSERT INTO iv (id, d) VALUES (100, ?)", &iv); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO iv (id, d) VALUES (101, ?)", nilIV); err == nil {
		t.Error("NULL into a NOT NULL column succeeded; the nil *Interval was not bound as NULL")
	}

	// The column default '0' is stored as the integer 0 (NUMERIC affinity)
	// and reads back as the zero interval.
	if _, err := db.ExecContext(ctx, "INSERT INTO iv (id) VALUES (200)"); err != nil {
		t.Fatal(err)
	}
	var typ string
	var zero types.Interval = 99
	if err := db.QueryRowContext(ctx, "SELECT typeof(d), d FROM iv WHERE id = 200").Scan(&typ, &zero); err != nil {
		t.Fatal(err)
	}
	if typ != "integer" || zero != 0 {
		t.Errorf("default interval: typeof %s, value %v; want integer, 0", typ, time.Duration(zero))
	}

	// Prefect's SQL interval arithmetic (interval_add) yields text without a
	// declared type; it scans too.
	var sum types.Interval
	err := db.QueryRowContext(ctx,
		"SELECT strftime('%Y-%m-%d %H:%M:%f000', julianday(?) + julianday(?) - 2440587.5)",
		types.Interval(3*time.Second), types.Interval(time.Minute)).Scan(&sum)
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(sum) != time.Minute+3*time.Second {
		t.Errorf("interval_add = %v, want 1m3s", time.Duration(sum))
	}
}

func TestConvertValue(t *testing.T) {
	t.Parallel()
	// Values that are not Prefect types fall through to database/sql.
	for _, v := range []any{1, int64(2), "s", 1.5, true, nil} {
		if _, ok, err := ConvertValue(v); ok || err != nil {
			t.Errorf("ConvertValue(%#v) = ok %v, err %v; want fall-through", v, ok, err)
		}
	}
	// Bytes are JSON documents in Prefect's schema: they are stored as text.
	for _, v := range []any{[]byte(`{"b":1}`), json.RawMessage(`{"b":1}`)} {
		if out, ok, err := ConvertValue(v); !ok || err != nil || out != `{"b":1}` {
			t.Errorf("ConvertValue(%#v) = %#v, ok %v, err %v; want the text", v, out, ok, err)
		}
	}
	// database/sql's default conversion still applies: named types over
	// basic kinds, and Valuers that return basic values.
	db := openFile(t)
	type myString string
	var s string
	if err := db.QueryRowContext(t.Context(), "SELECT ?", myString("hello")).Scan(&s); err != nil || s != "hello" {
		t.Errorf("named string type: %q, %v", s, err)
	}
	if err := db.QueryRowContext(t.Context(), "SELECT ?", sql.NullString{String: "v", Valid: true}).Scan(&s); err != nil || s != "v" {
		t.Errorf("sql.NullString: %q, %v", s, err)
	}
	if _, err := db.ExecContext(t.Context(), "SELECT ?", struct{}{}); err == nil {
		t.Error("binding a struct{} succeeded")
	}
}

func TestPreparedStatementsConvert(t *testing.T) {
	t.Parallel()
	db := openFile(t)
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, "CREATE TABLE p (ts DATETIME, id CHAR(36))"); err != nil {
		t.Fatal(err)
	}
	st, err := db.PrepareContext(ctx, "INSERT INTO p VALUES (?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ts := time.Date(2020, 2, 2, 2, 2, 2, 2000, time.FixedZone("Z1", 3600))
	if _, err := st.ExecContext(ctx, ts, uuid.Nil); err != nil {
		t.Fatal(err)
	}
	var text, id string
	if err := db.QueryRowContext(ctx, "SELECT CAST(ts AS TEXT), id FROM p").Scan(&text, &id); err != nil {
		t.Fatal(err)
	}
	if text != "2020-02-02 01:02:02.000002" || id != "00000000-0000-0000-0000-000000000000" {
		t.Errorf("prepared insert stored %q, %q", text, id)
	}
}

func TestEchoLogsStatements(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db := openURL(t, "sqlite://", config.Options{Echo: true, Logger: logger})
	if _, err := db.ExecContext(t.Context(), "SELECT ?", "marker-arg"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"SELECT ?", "nargs=1", "BEGIN", "COMMIT", "level=DEBUG"} {
		if !strings.Contains(out, want) {
			t.Errorf("echo log lacks %q:\n%s", want, out)
		}
	}
	// Values are secrets or personal data: logged only when asked for.
	if strings.Contains(out, "marker-arg") {
		t.Errorf("echo logged an argument's value without EchoValues:\n%s", out)
	}
	buf.Reset()
	withValues := openURL(t, "sqlite://", config.Options{Echo: true, EchoValues: true, Logger: logger})
	if _, err := withValues.ExecContext(t.Context(), "SELECT ?", "marker-arg"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "marker-arg") {
		t.Errorf("EchoValues did not log the value:\n%s", buf.String())
	}

	buf.Reset()
	quiet := openURL(t, "sqlite://", config.Options{Logger: logger})
	if _, err := quiet.ExecContext(t.Context(), "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("statements logged without Echo:\n%s", buf.String())
	}
}

func TestPoolLimits(t *testing.T) {
	t.Parallel()
	db := openURL(t, "sqlite://", config.Options{PoolSize: 2, MaxOverflow: 3})
	if got := db.Stats().MaxOpenConnections; got != 5 {
		t.Errorf("MaxOpenConnections = %d, want 5", got)
	}
	def := openURL(t, "sqlite://", config.Options{})
	if got := def.Stats().MaxOpenConnections; got != 15 {
		t.Errorf("default MaxOpenConnections = %d, want 15", got)
	}
}

func TestLibraryVersion(t *testing.T) {
	t.Parallel()
	db := openURL(t, "sqlite://", config.Options{})
	var v string
	if err := db.QueryRowContext(t.Context(), "select sqlite_version()").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if err := CheckVersion(v); err != nil {
		t.Errorf("linked SQLite %s: %v", v, err)
	}
	t.Logf("SQLite %s", v)
}

func TestCheckVersion(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"3.35.0", "3.35.5", "3.50.4", "4.0.0", "3.36"} {
		if err := CheckVersion(v); err != nil {
			t.Errorf("CheckVersion(%q) = %v", v, err)
		}
	}
	for _, v := range []string{"3.34.1", "3.24.0", "3.23.1", "3.7.17", "2.8.17", "3"} {
		var ve *VersionError
		err := CheckVersion(v)
		if !errors.As(err, &ve) {
			t.Errorf("CheckVersion(%q) = %v, want *VersionError", v, err)
			continue
		}
		if want := "requires sqlite >= 3.35.0 but found version " + v; !strings.Contains(err.Error(), want) {
			t.Errorf("CheckVersion(%q) message %q", v, err)
		}
	}
	if err := CheckVersion("three"); err == nil {
		t.Error("CheckVersion(\"three\") succeeded")
	}
}

func TestOpenRejectsOtherDialects(t *testing.T) {
	t.Parallel()
	target, err := config.ParseURL("postgresql+asyncpg://u:secret@localhost/db")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), target, config.Options{})
	if err == nil {
		t.Fatal("Open accepted a PostgreSQL target")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "missing", "dir", "x.db")
	target, err := config.ParseURL(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(t.Context(), target, config.Options{})
	if err == nil {
		_ = db.Close()
		t.Fatal("Open succeeded in a missing directory")
	}
}
