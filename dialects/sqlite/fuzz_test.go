package sqlite

// Fuzz tests of what prefectdb writes into SQLite (issue 6, item 8):
//
//   - FuzzSQLiteTimestamp: the text a time.Time is stored as (ConvertValue,
//     types.FormatSQLiteTimestamp) has a fixed width, reads back as the same
//     instant truncated to microseconds, and sorts like the instants do, in
//     Go and in SQLite's own comparisons. Instants outside the years
//     0001-9999 (in UTC) are refused with an error.
//   - FuzzBuildJSONObject: any key given to BuildJSONObject is a JSON object
//     key of the result, never SQL: the statement runs, returns one object
//     with exactly the keys given, and changes nothing.
//
// Both run against an in-memory database opened with this package's Open.
// Corpora are in testdata/fuzz/<FuzzName>; CI runs each target for a few
// seconds (.ci/run). To fuzz longer:
//
//	go test -run='^$' -fuzz='^FuzzSQLiteTimestamp$' -fuzztime=30s ./dialects/sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/types"
)

// fuzzDB is one in-memory database per fuzzing process, with a DATETIME
// table for round trips and a guard table whose row must survive every
// input.
var fuzzDB = sync.OnceValues(func() (*sql.DB, error) {
	ctx := context.Background()
	target, err := config.ParseURL(":memory:")
	if err != nil {
		return nil, err
	}
	db, err := Open(ctx, target, config.Options{PoolSize: 1, MaxOverflow: -1})
	if err != nil {
		return nil, err
	}
	for _, stmt := range []string{
		"CREATE TABLE fuzz_ts (d DATETIME)",
		"CREATE TABLE fuzz_guard (n INTEGER)",
		"INSERT INTO fuzz_guard VALUES (1)",
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
})

func fuzzOpen(t *testing.T) *sql.DB {
	t.Helper()
	db, err := fuzzDB()
	if err != nil {
		t.Fatalf("open in-memory database: %v", err)
	}
	return db
}

// fuzzGuardIntact fails the test unless the guard table still has its row.
func fuzzGuardIntact(t *testing.T, db *sql.DB, after string) {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM fuzz_guard").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after %s the guard table has %d rows (%v), want 1", after, n, err)
	}
}

// Unix seconds of 0001-01-01 00:00:00 UTC and of 10000-01-01 00:00:00 UTC:
// the instants SQLite's text form can hold are [fuzzMinUnix, fuzzEndUnix).
const (
	fuzzMinUnix = -62135596800
	fuzzEndUnix = 253402300800
)

// fuzzTime makes a time from fuzz input. Unless raw is set, sec is folded
// into the storable years plus a day on either side, so that most inputs
// test the storable range and its edges rather than the far out-of-range
// values random int64s would mostly be.
func fuzzTime(sec, nsec int64, offsetMinutes int16, raw bool) time.Time {
	if !raw {
		const span = fuzzEndUnix - fuzzMinUnix + 2*86400
		sec = fuzzMinUnix - 86400 + ((sec%span)+span)%span
	}
	zone := time.FixedZone("", int(offsetMinutes%(26*60))*60) // offsets up to ±26 h
	return time.Unix(sec, nsec).In(zone)
}

// fuzzStorable reports whether t is in the years 0001-9999 in UTC.
func fuzzStorable(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1 && y <= 9999
}

func FuzzSQLiteTimestamp(f *testing.F) {
	// sec1, nsec1, offset1 (minutes), sec2, nsec2, offset2, raw
	f.Add(int64(1704164645), int64(123456789), int16(0), int64(1704164645), int64(123456000), int16(330), false)
	f.Add(int64(0), int64(0), int16(0), int64(-1), int64(999999999), int16(-60), false)
	f.Add(int64(fuzzMinUnix), int64(0), int16(0), int64(fuzzMinUnix), int64(1000), int16(0), true)
	f.Add(int64(fuzzEndUnix-1), int64(999999999), int16(0), int64(fuzzEndUnix), int64(0), int16(0), true)
	f.Add(int64(fuzzMinUnix), int64(0), int16(60), int64(fuzzMinUnix-1), int64(0), int16(-60), true)
	f.Add(int64(fuzzEndUnix-1), int64(0), int16(-840), int64(fuzzEndUnix-1), int64(0), int16(840), true)
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), int16(0), int64(math.MinInt64), int64(math.MinInt64), int16(0), true)
	f.Add(int64(-62167219200), int64(0), int16(0), int64(-62198755200), int64(0), int16(0), true) // years 0 and -1
	f.Add(int64(1), int64(-1), int16(32767), int64(1), int64(1), int16(-32768), false)
	f.Fuzz(func(t *testing.T, sec1, nsec1 int64, off1 int16, sec2, nsec2 int64, off2 int16, raw bool) {
		db := fuzzOpen(t)
		t1, t2 := fuzzTime(sec1, nsec1, off1, raw), fuzzTime(sec2, nsec2, off2, raw)
		s1, ok1 := fuzzStore(t, db, t1)
		s2, ok2 := fuzzStore(t, db, t2)
		if !ok1 || !ok2 {
			return
		}
		// Text order is time order, in Go and in SQLite.
		w1, w2 := t1.Truncate(time.Microsecond), t2.Truncate(time.Microsecond)
		want := w1.Compare(w2)
		if got := strings.Compare(s1, s2); got != want {
			t.Fatalf("text %q vs %q compares %d, times %v vs %v compare %d", s1, s2, got, t1, t2, want)
		}
		var less, equal bool
		if err := db.QueryRow("SELECT ?1 < ?2, ?1 = ?2", t1, t2).Scan(&less, &equal); err != nil {
			t.Fatalf("compare %v and %v in SQLite: %v", t1, t2, err)
		}
		if less != (want < 0) || equal != (want == 0) {
			t.Fatalf("SQLite says %v < %v is %v and = is %v; the times compare %d", t1, t2, less, equal, want)
		}
	})
}

// fuzzStore checks how ts is stored: in the years 0001-9999 (UTC) as
// fixed-width text that reads back, through a DATETIME column, as the same
// instant truncated to microseconds; outside them, refused with an error.
// ok reports whether ts was storable; text is its stored form.
func fuzzStore(t *testing.T, db *sql.DB, ts time.Time) (text string, ok bool) {
	t.Helper()
	out, converted, err := ConvertValue(ts)
	if !converted {
		t.Fatalf("ConvertValue(%v) did not convert a time.Time", ts)
	}
	if !fuzzStorable(ts) {
		if err == nil {
			t.Fatalf("ConvertValue(%v) = %q, want an error: the year %d (UTC) cannot be stored", ts, out, ts.UTC().Year())
		}
		if _, err := db.Exec("INSERT INTO fuzz_ts VALUES (?1)", ts); err == nil {
			t.Fatalf("INSERT of %v (year %d in UTC) succeeded, want an error", ts, ts.UTC().Year())
		}
		return "", false
	}
	if err != nil {
		t.Fatalf("ConvertValue(%v): %v", ts, err)
	}
	text, isString := out.(string)
	if !isString || text != types.FormatSQLiteTimestamp(ts) {
		t.Fatalf("ConvertValue(%v) = %#v, want the string %q", ts, out, types.FormatSQLiteTimestamp(ts))
	}
	if len(text) != len(types.SQLiteTimestampLayout) {
		t.Fatalf("%v is stored as %q, not %d characters wide", ts, text, len(types.SQLiteTimestampLayout))
	}
	want := ts.UTC().Truncate(time.Microsecond)
	if back, err := time.Parse(types.SQLiteTimestampLayout, text); err != nil || !back.Equal(want) {
		t.Fatalf("%v is stored as %q, which parses as %v, %v; want %v", ts, text, back, err, want)
	}
	if _, err := db.Exec("DELETE FROM fuzz_ts"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO fuzz_ts VALUES (?1)", ts); err != nil {
		t.Fatalf("INSERT of %v: %v", ts, err)
	}
	var got time.Time
	var stored string
	if err := db.QueryRow("SELECT d, CAST(d AS TEXT) FROM fuzz_ts").Scan(&got, &stored); err != nil {
		t.Fatalf("read back %v (stored as %q): %v", ts, text, err)
	}
	if stored != text || !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("%v: stored %q, read back %v; want %q and %v in UTC", ts, stored, got, text, want)
	}
	return text, true
}

func FuzzBuildJSONObject(f *testing.F) {
	for _, k := range []string{
		"id", "", "'", "''", `"`, `\`, `\'`, "'; DROP TABLE fuzz_guard; --", "') , ('x', 1); --",
		"?1", "$1", "%s", "名前", "🚀", "\u2028", "a\nb", "\t", "\x7f", "a\x00b", "\xff\xfe", "\\u0000",
	} {
		f.Add(k, "flow_run.id", "value")
	}
	f.Add("a", "a", "dup")
	f.Fuzz(func(t *testing.T, k1, k2, value string) {
		db := fuzzOpen(t)
		query := "SELECT " + (Dialect{}).BuildJSONObject(k1, "?1", k2, "?2")
		var text string
		err := db.QueryRow(query, value, 42).Scan(&text)
		fuzzGuardIntact(t, db, query)
		hasNUL := strings.IndexByte(k1+k2, 0) >= 0
		if hasNUL {
			// SQLite ends the statement's text at a NUL byte: the key's
			// literal is cut off and the statement is refused. Not
			// injectable (the cut always falls inside the literal), but
			// an error: NUL cannot be a key on either database.
			if err == nil {
				t.Fatalf("%q with a NUL in a key ran and returned %q; want an error", query, text)
			}
			return
		}
		if err != nil {
			t.Fatalf("BuildJSONObject(%q, %q): %q: %v", k1, k2, query, err)
		}
		valid := utf8.ValidString(k1) && utf8.ValidString(k2) && utf8.ValidString(value)
		if !json.Valid([]byte(text)) {
			if valid {
				t.Fatalf("BuildJSONObject(%q, %q) gave invalid JSON %q", k1, k2, text)
			}
			return // SQLite copies invalid UTF-8 into the JSON text as it is
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(text), &got); err != nil {
			t.Fatalf("BuildJSONObject(%q, %q) gave %q, not a JSON object: %v", k1, k2, text, err)
		}
		if !valid {
			// Decoding replaces invalid bytes with U+FFFD: check the shape.
			if want := map[bool]int{true: 1, false: 2}[k1 == k2]; len(got) > want || len(got) == 0 {
				t.Fatalf("BuildJSONObject(%q, %q) gave %d keys: %q", k1, k2, len(got), text)
			}
			return
		}
		want := map[string]any{k1: value, k2: float64(42)} // a repeated key: the last value wins
		if len(got) != len(want) {
			t.Fatalf("BuildJSONObject(%q, %q) = %q, want the keys %q and %q", k1, k2, text, k1, k2)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("BuildJSONObject(%q, %q) = %q: key %q holds %#v, want %#v", k1, k2, text, k, got[k], v)
			}
		}
	})
}
