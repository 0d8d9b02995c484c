package types

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestIntervalPostgresText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "00:00:00"},
		{3500 * time.Millisecond, "00:00:03.500000"},
		{-(3*time.Second + time.Microsecond), "-00:00:03.000001"},
		{26 * time.Hour, "26:00:00"},
		{time.Hour + 2*time.Minute + 3*time.Second + 4*time.Microsecond, "01:02:03.000004"},
		{1500 * time.Nanosecond, "00:00:00.000001"},   // truncated toward zero
		{-1500 * time.Nanosecond, "-00:00:00.000001"}, // truncated toward zero
		{999 * time.Nanosecond, "00:00:00"},
		{math.MinInt64, "-2562047:47:16.854775"},
		{math.MaxInt64, "2562047:47:16.854775"},
	}
	for _, c := range cases {
		if got := Interval(c.d).PostgresText(); got != c.want {
			t.Errorf("Interval(%v).PostgresText() = %q, want %q", c.d, got, c.want)
		}
		v, err := Interval(c.d).Value()
		if err != nil || v != c.want {
			t.Errorf("Interval(%v).Value() = %v, %v", c.d, v, err)
		}
	}
}

func TestIntervalSQLiteText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "1970-01-01 00:00:00.000000"},
		{3500 * time.Millisecond, "1970-01-01 00:00:03.500000"},
		{-3 * time.Second, "1969-12-31 23:59:57.000000"},
		{-time.Microsecond, "1969-12-31 23:59:59.999999"},
		{3*24*time.Hour + 5*time.Minute, "1970-01-04 00:05:00.000000"},
		{-1500 * time.Nanosecond, "1969-12-31 23:59:59.999999"},
	}
	for _, c := range cases {
		if got := Interval(c.d).SQLiteText(); got != c.want {
			t.Errorf("Interval(%v).SQLiteText() = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestParseInterval(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"00:00:00", 0},
		{"00:00:03.5", 3500 * time.Millisecond},
		{"-00:00:03", -3 * time.Second},
		{"-00:00:03.000001", -(3*time.Second + time.Microsecond)},
		{"3 days", 72 * time.Hour},
		{"1 day", 24 * time.Hour},
		{"1 day 02:00:00", 26 * time.Hour},
		{"1 day -00:00:01", 24*time.Hour - time.Second},
		{"-1 days +23:59:57", -3 * time.Second},
		{"26:00:00", 26 * time.Hour},
		{"2562047:47:16.854775", 2562047*time.Hour + 47*time.Minute + 16*time.Second + 854775*time.Microsecond},
		{"3.5 seconds", 3500 * time.Millisecond},
		{"@ 1 day 2 hours 3 mins 4.5 secs ago", -(26*time.Hour + 3*time.Minute + 4500*time.Millisecond)},
		{"2 weeks", 14 * 24 * time.Hour},
		{"1.5 days", 36 * time.Hour},
		{"250 ms", 250 * time.Millisecond},
		{"0", 0},
		{"12.25", 12250 * time.Millisecond},
		{"01:30", 90 * time.Minute},
	}
	for _, c := range cases {
		got, err := ParseInterval(c.in)
		if err != nil {
			t.Errorf("ParseInterval(%q): %v", c.in, err)
			continue
		}
		if time.Duration(got) != c.want {
			t.Errorf("ParseInterval(%q) = %v, want %v", c.in, time.Duration(got), c.want)
		}
	}
}

func TestParseIntervalErrors(t *testing.T) {
	t.Parallel()
	months := []string{"1 year", "2 mons", "1 mon 2 days", "1 year 2 mons 3 days 04:05:06"}
	for _, in := range months {
		_, err := ParseInterval(in)
		if !errors.Is(err, ErrIntervalHasMonths) {
			t.Errorf("ParseInterval(%q) error = %v, want ErrIntervalHasMonths", in, err)
		}
	}
	bad := []string{"", "P1D", "3 fortnights", "x days", "1:2:3:4", "00:0a:00", "5 days 3",
		"00:00:03.", "99999999999 days", "9999999999:00:00", "nan"}
	for _, in := range bad {
		if _, err := ParseInterval(in); err == nil {
			t.Errorf("ParseInterval(%q) succeeded, want an error", in)
		} else if !strings.Contains(err.Error(), "parse interval") {
			t.Errorf("ParseInterval(%q) error %q lacks context", in, err)
		}
	}
}

func TestIntervalScan(t *testing.T) {
	t.Parallel()
	epoch := time.Unix(0, 0).UTC()
	cases := []struct {
		name string
		src  any
		want time.Duration
	}{
		{"nil", nil, 0},
		{"int64 zero", int64(0), 0},
		{"int64 seconds", int64(90), 90 * time.Second},
		{"float64 zero", float64(0), 0},
		{"float64 seconds", 1.25, 1250 * time.Millisecond},
		{"pg string", "1 day -00:00:01", 24*time.Hour - time.Second},
		{"pg bytes", []byte("-00:00:03.000001"), -(3*time.Second + time.Microsecond)},
		{"sqlite text", "1970-01-01 00:00:03.500000", 3500 * time.Millisecond},
		{"sqlite text negative", "1969-12-31 23:59:57.000000", -3 * time.Second},
		{"sqlite text T", "1970-01-02T00:00:00", 24 * time.Hour},
		{"time.Time", epoch.Add(-time.Microsecond), -time.Microsecond},
		{"time.Time other zone", epoch.Add(time.Hour).In(time.FixedZone("X", 5*3600)), time.Hour},
		{"duration", 5 * time.Second, 5 * time.Second},
	}
	for _, c := range cases {
		var iv Interval = 42
		if err := iv.Scan(c.src); err != nil {
			t.Errorf("%s: Scan(%#v): %v", c.name, c.src, err)
			continue
		}
		if time.Duration(iv) != c.want {
			t.Errorf("%s: Scan(%#v) = %v, want %v", c.name, c.src, time.Duration(iv), c.want)
		}
	}

	for _, src := range []any{true, "1 mon", math.NaN(), int64(math.MaxInt64), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		iv := Interval(7)
		if err := iv.Scan(src); err == nil {
			t.Errorf("Scan(%#v) succeeded, want an error", src)
		} else if iv != 7 {
			t.Errorf("Scan(%#v) changed the receiver on error", src)
		}
	}
}

func TestIntervalTextRoundTrip(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{0, time.Microsecond, -time.Microsecond, 3500 * time.Millisecond,
		-3*time.Second - time.Microsecond, 49*time.Hour + 59*time.Minute + 59*time.Second + 999999*time.Microsecond,
		-100 * 24 * time.Hour} {
		var a, b Interval
		if err := a.Scan(Interval(d).PostgresText()); err != nil || time.Duration(a) != d {
			t.Errorf("PG text round trip of %v: got %v, %v", d, time.Duration(a), err)
		}
		if err := b.Scan(Interval(d).SQLiteText()); err != nil || time.Duration(b) != d {
			t.Errorf("SQLite text round trip of %v: got %v, %v", d, time.Duration(b), err)
		}
	}
}
