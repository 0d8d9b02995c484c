package types

// Fuzz tests of the value types (issue 6, item 8): interval text in both
// dialects' forms, timestamp parsing (naive timestamps are refused), and the
// NaN/Infinity JSON sanitiser. Corpora are in testdata/fuzz/<FuzzName>; CI
// runs each target for a few seconds (.ci/run). To fuzz longer:
//
//	go test -run='^$' -fuzz='^FuzzInterval$' -fuzztime=30s ./types

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// FuzzInterval: every interval survives both storage forms truncated to
// microseconds, and any text ParseInterval accepts re-renders to text that
// parses to the same interval. Nothing panics.
func FuzzInterval(f *testing.F) {
	f.Add(int64(0), "00:00:00")
	f.Add(int64(3500*time.Millisecond), "00:00:03.5")
	f.Add(int64(-3*time.Second-time.Microsecond), "-00:00:03.000001")
	f.Add(int64(math.MaxInt64), "1 day 02:00:00")
	f.Add(int64(math.MinInt64), "-1 days +23:59:57")
	f.Add(int64(1), "@ 1 day 2 hours 3 mins 4.5 secs ago")
	f.Add(int64(-999), "2562047:47:16.854775807")
	f.Add(int64(86400e9*365*292), "-2562047:47:16.854775808")
	f.Add(int64(7), "1 mon")
	f.Add(int64(7), "1e308")
	f.Add(int64(7), "NaN")
	f.Add(int64(7), "9223372036.854775807")
	f.Add(int64(7), "1970-01-01 00:00:03.500000")
	f.Add(int64(7), "3 weeks -1 ms 5 us")
	f.Fuzz(func(t *testing.T, d int64, text string) {
		fuzzIntervalRoundTrip(t, Interval(d))

		iv, err := ParseInterval(text)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "parse interval ") {
				t.Fatalf("ParseInterval(%q): error %q does not say what failed", text, err)
			}
		} else {
			fuzzIntervalRoundTrip(t, iv)
		}

		// Scan takes the same text (and SQLite DATETIME text) without
		// panicking, and leaves the receiver alone on error.
		sentinel := Interval(12345)
		got := sentinel
		if err := got.Scan(text); err != nil && got != sentinel {
			t.Fatalf("Scan(%q) failed (%v) but changed the receiver to %v", text, err, got)
		}
		got = sentinel
		if err := got.Scan([]byte(text)); err != nil && got != sentinel {
			t.Fatalf("Scan([]byte(%q)) failed (%v) but changed the receiver to %v", text, err, got)
		}
	})
}

// fuzzIntervalRoundTrip checks that iv's PostgreSQL and SQLite text both
// read back as iv truncated toward zero to whole microseconds.
func fuzzIntervalRoundTrip(t *testing.T, iv Interval) {
	t.Helper()
	want := time.Duration(iv).Truncate(time.Microsecond)
	pg := iv.PostgresText()
	back, err := ParseInterval(pg)
	if err != nil || time.Duration(back) != want {
		t.Fatalf("ParseInterval(PostgresText(%d) = %q) = %d, %v; want %d", int64(iv), pg, int64(back), err, int64(want))
	}
	if v, err := iv.Value(); err != nil || v != pg {
		t.Fatalf("Value(%d) = %v, %v; want %q", int64(iv), v, err, pg)
	}
	var scanned Interval
	if err := scanned.Scan(pg); err != nil || time.Duration(scanned) != want {
		t.Fatalf("Scan(%q) = %d, %v; want %d", pg, int64(scanned), err, int64(want))
	}
	lite := iv.SQLiteText()
	if len(lite) != len(SQLiteTimestampLayout) {
		t.Fatalf("SQLiteText(%d) = %q: not %d characters wide", int64(iv), lite, len(SQLiteTimestampLayout))
	}
	scanned = 0
	if err := scanned.Scan(lite); err != nil || time.Duration(scanned) != want {
		t.Fatalf("Scan(SQLiteText(%d) = %q) = %d, %v; want %d", int64(iv), lite, int64(scanned), err, int64(want))
	}
}

// FuzzParseTimestamp: ParseTimestamp never panics, accepts only text with a
// zone (Z or a numeric offset), refuses zone-less text with an error that
// wraps ErrNaiveTimestamp, and returns UTC instants that survive formatting.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{
		"2024-01-02T03:04:05.123456Z",
		"2024-01-02 03:04:05.123456+00:00",
		"2024-01-02 03:04:05.123456+00",
		"2024-01-01 22:04:05.123456-0500",
		"2024-01-02 03:04:05.123456 +0000 UTC",
		"2024-01-02 03:04:05",
		"2024-01-02T03:04",
		"2024-01-02",
		"0001-01-01T00:00:00+14:00",
		"9999-12-31T23:59:59.999999999-14:00",
		"2024-02-30T00:00:00Z",
		"yesterday",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTimestamp(s)
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Fatalf("ParseTimestamp(%q): error %q does not quote the input", s, err)
			}
			if errors.Is(err, ErrNaiveTimestamp) {
				if _, zoned, ok := parseTimestampText(s); !ok || zoned {
					t.Fatalf("ParseTimestamp(%q): naive-timestamp error for text that is not a naive timestamp", s)
				}
			}
			return
		}
		if ts.Location() != time.UTC {
			t.Fatalf("ParseTimestamp(%q) = %v, not in UTC", s, ts)
		}
		v := strings.TrimSpace(s)
		if len(v) < 10 || !strings.ContainsAny(v[10:], "Z+-") {
			t.Fatalf("ParseTimestamp(%q) accepted text without a zone: %v", s, ts)
		}
		// A zone can move the instant out of the years 0001-9999 (e.g.
		// "9999-12-31T23:59:59-14:00" is in the year 10000 in UTC); such
		// instants have no four-digit text form, and the SQLite driver
		// refuses to store them (dialects/sqlite ConvertValue).
		if y := ts.Year(); y >= 1 && y <= 9999 {
			again, err := ParseTimestamp(ts.Format(time.RFC3339Nano))
			if err != nil || !again.Equal(ts) {
				t.Fatalf("ParseTimestamp(%q) = %v, which does not survive RFC 3339: %v, %v", s, ts, again, err)
			}
			text := FormatSQLiteTimestamp(ts)
			back, err := parseSQLiteTimestamp(text)
			if err != nil || !back.Equal(ts.Truncate(time.Microsecond)) {
				t.Fatalf("SQLite text %q of %v reads back as %v, %v", text, ts, back, err)
			}
		}
	})
}

// FuzzWithoutNonFinite: the sanitiser replaces exactly the NaN and infinite
// numbers with nil, leaves its input untouched, keeps map and list-of-map
// types, and its result always encodes as JSON.
func FuzzWithoutNonFinite(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{1, 3, 'a', 0, 0xff, 0xf8, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{2, 3, 0, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0, 4, 0x00, 0xf0})
	f.Add([]byte{3, 2, 1, 1, 'k', 0, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1, 1, 1, 'x', 5})
	f.Add([]byte{4, 4, 0x7f, 0x80, 0, 1, 0xff, 0x80, 0, 0})
	f.Add([]byte("\x01\x05\x02a\x02\x03\x00\xff\xf0\x00\x00\x00\x00\x00\x00\x06b\x05"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &fuzzJSONGen{data: data}
		in := g.value(0)
		before := fmt.Sprintf("%#v", in)
		nonFinite, nils := fuzzCount(in)

		out, changed := WithoutNonFinite(in)
		if after := fmt.Sprintf("%#v", in); after != before {
			t.Fatalf("WithoutNonFinite modified its input:\n%s\n%s", before, after)
		}
		if changed != (nonFinite > 0) {
			t.Fatalf("WithoutNonFinite(%s): changed = %v with %d non-finite numbers", before, changed, nonFinite)
		}
		outNonFinite, outNils := fuzzCount(out)
		if outNonFinite != 0 || outNils != nils+nonFinite {
			t.Fatalf("WithoutNonFinite(%s) = %#v: %d non-finite left, %d nils (want %d)",
				before, out, outNonFinite, outNils, nils+nonFinite)
		}
		if !changed && fmt.Sprintf("%#v", out) != before {
			t.Fatalf("WithoutNonFinite(%s) reports no change but returned %#v", before, out)
		}
		switch in.(type) {
		case map[string]any:
			if _, ok := out.(map[string]any); !ok {
				t.Fatalf("a map came back as %T", out)
			}
		case []map[string]any:
			if _, ok := out.([]map[string]any); !ok {
				t.Fatalf("a list of maps came back as %T", out)
			}
		}
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("WithoutNonFinite(%s) = %#v, which does not encode: %v", before, out, err)
		}
	})
}

// fuzzJSONGen builds a JSON-shaped Go value from fuzz bytes: the shapes Ent
// fields and raw-SQL helpers hand to the sanitiser, with float64 and float32
// numbers taken from raw bits (so NaN and infinities occur).
type fuzzJSONGen struct {
	data []byte
	pos  int
}

func (g *fuzzJSONGen) byte() byte {
	if g.pos >= len(g.data) {
		return 0
	}
	b := g.data[g.pos]
	g.pos++
	return b
}

func (g *fuzzJSONGen) float64() float64 {
	var bits uint64
	for range 8 {
		bits = bits<<8 | uint64(g.byte())
	}
	return math.Float64frombits(bits)
}

func (g *fuzzJSONGen) float32() float32 {
	var bits uint32
	for range 4 {
		bits = bits<<8 | uint32(g.byte())
	}
	return math.Float32frombits(bits)
}

func (g *fuzzJSONGen) str() string {
	n := int(g.byte() % 8)
	var b strings.Builder
	for range n {
		b.WriteByte('a' + g.byte()%26)
	}
	return b.String()
}

func (g *fuzzJSONGen) value(depth int) any {
	kind := g.byte() % 10
	if depth >= 4 && kind < 5 {
		kind += 5 // no deeper containers
	}
	switch kind {
	case 0, 1:
		m := map[string]any{}
		for range int(g.byte() % 5) {
			m[g.str()] = g.value(depth + 1)
		}
		return m
	case 2:
		l := make([]any, int(g.byte()%5))
		for k := range l {
			l[k] = g.value(depth + 1)
		}
		return l
	case 3:
		l := make([]map[string]any, int(g.byte()%4))
		for k := range l {
			m := map[string]any{}
			for range int(g.byte() % 3) {
				m[g.str()] = g.value(depth + 1)
			}
			l[k] = m
		}
		return l
	case 4:
		l := make([]float64, int(g.byte()%5))
		for k := range l {
			l[k] = g.float64()
		}
		return l
	case 5:
		return g.float64()
	case 6:
		return g.float32()
	case 7:
		return g.str()
	case 8:
		return nil
	default:
		return g.byte()%2 == 0
	}
}

// fuzzCount counts the non-finite numbers and the nils in v.
func fuzzCount(v any) (nonFinite, nils int) {
	add := func(e any) {
		a, b := fuzzCount(e)
		nonFinite += a
		nils += b
	}
	switch x := v.(type) {
	case nil:
		return 0, 1
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 1, 0
		}
	case float32:
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return 1, 0
		}
	case map[string]any:
		for _, e := range x {
			add(e)
		}
	case []any:
		for _, e := range x {
			add(e)
		}
	case []map[string]any:
		for _, e := range x {
			add(e)
		}
	case []float64:
		for _, e := range x {
			add(e)
		}
	}
	return nonFinite, nils
}
