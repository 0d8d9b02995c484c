// Package types holds the Go value types that prefectdb stores in both
// dialects: enums, intervals and the helpers that define how timestamps are
// written and read.
package types

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Interval is a SQL interval (SQLAlchemy's sa.Interval, Python's timedelta)
// with microsecond precision.
//
// It is a defined type over time.Duration rather than a struct so that
// conversions are free (types.Interval(d), time.Duration(i)) and so that the
// zero value is the zero interval. Its range is therefore time.Duration's,
// about ±292 years. Months and years are not representable: they have no
// fixed length, and Prefect never stores them.
//
// Storage per dialect (see prefect_semantics.md §10.6):
//   - PostgreSQL: a native interval. Value renders "[-]HH:MM:SS[.ffffff]",
//     which both PostgreSQL and pgx's own interval parser read exactly; the
//     whole amount goes into the interval's time field (days and months stay
//     zero), so nothing depends on day/month justification.
//   - SQLite: a DATETIME text holding 1970-01-01 00:00:00 + interval, e.g.
//     "1970-01-01 00:00:03.500000"; a negative interval gives a date before
//     1970. Value does not produce this form: prefectdb's SQLite driver
//     (dialects/sqlite) converts an Interval argument itself, using
//     SQLiteText, before the Valuer is consulted.
//
// Precision: values are truncated toward zero to whole microseconds when
// written, in both dialects.
type Interval time.Duration

// Compile-time checks.
var (
	_ driver.Valuer = Interval(0)
	_ sql.Scanner   = (*Interval)(nil)
)

// intervalEpoch is the origin SQLAlchemy uses to store intervals as
// datetimes on SQLite.
func intervalEpoch() time.Time { return time.Unix(0, 0).UTC() }

// Duration returns the interval as a time.Duration.
func (i Interval) Duration() time.Duration { return time.Duration(i) }

// String returns the interval in Go duration notation, e.g. "1h2m3.5s".
func (i Interval) String() string { return time.Duration(i).String() }

// truncated returns the interval rounded toward zero to whole microseconds.
func (i Interval) truncated() time.Duration {
	return time.Duration(i).Truncate(time.Microsecond)
}

// PostgresText renders the interval as PostgreSQL interval input text in the
// form "[-]HH:MM:SS[.ffffff]", e.g. "00:00:03.5" is written as
// "00:00:03.500000" and -3.000001 s as "-00:00:03.000001". Hours are not
// folded into days, so the text parses into exactly this many microseconds.
func (i Interval) PostgresText() string {
	us := int64(i.truncated() / time.Microsecond)
	neg := us < 0
	abs := uint64(us)
	if neg {
		abs = -abs // two's complement; correct for math.MinInt64 as well
	}
	const (
		usPerSecond = 1_000_000
		usPerMinute = 60 * usPerSecond
		usPerHour   = 60 * usPerMinute
	)
	hours := abs / usPerHour
	minutes := abs % usPerHour / usPerMinute
	seconds := abs % usPerMinute / usPerSecond
	frac := abs % usPerSecond

	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	fmt.Fprintf(&b, "%02d:%02d:%02d", hours, minutes, seconds)
	if frac != 0 {
		fmt.Fprintf(&b, ".%06d", frac)
	}
	return b.String()
}

// SQLiteText renders the interval the way SQLAlchemy stores sa.Interval on
// SQLite: the UTC datetime 1970-01-01 00:00:00 plus the interval, in
// SQLiteTimestampLayout (e.g. "1970-01-01 00:00:03.500000",
// "1969-12-31 23:59:57.000000" for -3 s).
func (i Interval) SQLiteText() string {
	return FormatSQLiteTimestamp(intervalEpoch().Add(i.truncated()))
}

// Value implements driver.Valuer. It returns PostgresText, the form pgx
// sends to PostgreSQL. (On SQLite prefectdb's driver intercepts Interval
// arguments and stores SQLiteText instead.)
func (i Interval) Value() (driver.Value, error) {
	return i.PostgresText(), nil
}

// Scan implements sql.Scanner. It accepts:
//   - nil: the zero interval;
//   - string or []byte: PostgreSQL interval output (see ParseInterval), or
//     SQLite DATETIME text ("1970-01-01 00:00:03.500000"), read as the
//     distance from 1970-01-01 00:00:00 UTC;
//   - time.Time (SQLite DATETIME columns decoded by the driver): the
//     distance from 1970-01-01 00:00:00 UTC;
//   - int64 and float64: seconds (SQLite stores the column default '0' with
//     NUMERIC affinity, i.e. as the integer 0);
//   - time.Duration and Interval.
//
// On error the receiver is left unchanged.
func (i *Interval) Scan(src any) error {
	var (
		d   time.Duration
		err error
	)
	switch v := src.(type) {
	case nil:
		d = 0
	case Interval:
		d = time.Duration(v)
	case time.Duration:
		d = v
	case int64:
		if v > math.MaxInt64/int64(time.Second) || v < math.MinInt64/int64(time.Second) {
			err = fmt.Errorf("%d seconds is out of range", v)
		} else {
			d = time.Duration(v) * time.Second
		}
	case float64:
		d, err = secondsToDuration(v)
	case time.Time:
		d, err = sinceIntervalEpoch(v)
	case []byte:
		d, err = scanIntervalText(string(v))
	case string:
		d, err = scanIntervalText(v)
	default:
		return fmt.Errorf("scan interval: unsupported source type %T", src)
	}
	if err != nil {
		return fmt.Errorf("scan interval: %w", err)
	}
	*i = Interval(d)
	return nil
}

// secondsToDuration converts a number of seconds to a duration, rounded to
// the nanosecond.
func secondsToDuration(s float64) (time.Duration, error) {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return 0, fmt.Errorf("%v seconds is not a finite number", s)
	}
	ns := math.Round(s * float64(time.Second))
	if ns >= math.MaxInt64 || ns < math.MinInt64 {
		return 0, fmt.Errorf("%v seconds is out of range", s)
	}
	return time.Duration(ns), nil
}

// sinceIntervalEpoch returns t − 1970-01-01 00:00:00 UTC, failing instead of
// saturating when the result does not fit a time.Duration.
func sinceIntervalEpoch(t time.Time) (time.Duration, error) {
	epoch := intervalEpoch()
	d := t.Sub(epoch)
	if !epoch.Add(d).Equal(t) {
		return 0, fmt.Errorf("timestamp %s is too far from 1970-01-01 to be an interval", t.UTC().Format(time.RFC3339Nano))
	}
	return d, nil
}

// scanIntervalText decodes interval text from either dialect: SQLite DATETIME
// text (recognised by its leading YYYY-MM-DD) or PostgreSQL interval output.
func scanIntervalText(s string) (time.Duration, error) {
	v := strings.TrimSpace(s)
	if looksLikeDate(v) {
		t, err := parseSQLiteTimestamp(v)
		if err != nil {
			return 0, err
		}
		return sinceIntervalEpoch(t)
	}
	iv, err := ParseInterval(v)
	if err != nil {
		return 0, err
	}
	return time.Duration(iv), nil
}

// looksLikeDate reports whether s starts with "YYYY-MM-DD".
func looksLikeDate(s string) bool {
	if len(s) < 10 {
		return false
	}
	for k := range 10 {
		c := s[k]
		switch k {
		case 4, 7:
			if c != '-' {
				return false
			}
		default:
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// ErrIntervalHasMonths is returned (wrapped) by ParseInterval for intervals
// with a year or month component, which has no fixed length and so cannot be
// an Interval.
var ErrIntervalHasMonths = errors.New("interval has a year or month component, which has no fixed duration")

// ParseInterval parses PostgreSQL interval output text into an Interval.
//
// It reads the default "postgres" IntervalStyle, e.g. "00:00:03.5",
// "-00:00:03", "3 days", "1 day 02:00:00", "1 day -00:00:01",
// "-1 days +23:59:57", "26:00:00", and the unit words of the
// "postgres_verbose" style ("@ 1 day 2 hours 3 mins 4.5 secs ago"): number
// and unit pairs for weeks, days, hours, minutes, seconds, milliseconds and
// microseconds, optionally followed by or mixed with one [+-]H:MM[:SS[.f]]
// clock component. A day is always 24 hours. A bare number is taken as
// seconds. Years and months are rejected with an error wrapping
// ErrIntervalHasMonths; the "sql_standard" and "iso_8601" styles are not
// supported.
func ParseInterval(s string) (Interval, error) {
	d, err := parseInterval(s)
	if err != nil {
		return 0, fmt.Errorf("parse interval %q: %w", s, err)
	}
	return Interval(d), nil
}

func parseInterval(s string) (time.Duration, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return 0, errors.New("empty text")
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return secondsToDuration(f)
	}

	ago := false
	if rest, ok := strings.CutPrefix(v, "@"); ok {
		v = strings.TrimSpace(rest)
	}
	fields := strings.Fields(v)
	if n := len(fields); n > 0 && strings.EqualFold(fields[n-1], "ago") {
		ago = true
		fields = fields[:n-1]
	}
	if len(fields) == 0 {
		return 0, errors.New("no interval components")
	}

	var total time.Duration
	for k := 0; k < len(fields); {
		f := fields[k]
		var (
			part time.Duration
			err  error
		)
		if strings.Contains(f, ":") {
			part, err = parseClock(f)
			k++
		} else {
			if k+1 >= len(fields) {
				return 0, fmt.Errorf("number %q has no unit", f)
			}
			part, err = parseUnitAmount(f, fields[k+1])
			k += 2
		}
		if err != nil {
			return 0, err
		}
		if total, err = addDurations(total, part); err != nil {
			return 0, err
		}
	}
	if ago {
		if total == math.MinInt64 {
			return 0, errors.New("interval out of range")
		}
		total = -total
	}
	return total, nil
}

// parseUnitAmount converts "<number> <unit>" to a duration.
func parseUnitAmount(num, unit string) (time.Duration, error) {
	var (
		suffix string
		factor time.Duration = 1
	)
	switch strings.ToLower(strings.TrimSuffix(unit, ",")) {
	case "year", "years", "yr", "yrs", "y", "mon", "mons", "month", "months",
		"decade", "decades", "century", "centuries", "millennium", "millennia":
		return 0, ErrIntervalHasMonths
	case "week", "weeks", "w":
		suffix, factor = "h", 7*24
	case "day", "days", "d":
		suffix, factor = "h", 24
	case "hour", "hours", "hr", "hrs", "h":
		suffix = "h"
	case "minute", "minutes", "min", "mins", "m":
		suffix = "m"
	case "second", "seconds", "sec", "secs", "s":
		suffix = "s"
	case "millisecond", "milliseconds", "msec", "msecs", "ms":
		suffix = "ms"
	case "microsecond", "microseconds", "usec", "usecs", "us":
		suffix = "us"
	default:
		return 0, fmt.Errorf("unknown interval unit %q", unit)
	}
	if !isDecimal(num) {
		return 0, fmt.Errorf("bad number %q", num)
	}
	d, err := time.ParseDuration(num + suffix)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", num, unit, err)
	}
	return mulDuration(d, factor)
}

// parseClock converts "[+-]H:MM[:SS[.ffffff]]" (hours unbounded) to a
// duration.
func parseClock(f string) (time.Duration, error) {
	sign := ""
	body := f
	if body != "" && (body[0] == '-' || body[0] == '+') {
		sign, body = body[:1], body[1:]
	}
	parts := strings.Split(body, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("bad time component %q", f)
	}
	for k, p := range parts {
		ok := p != "" && isDigits(p)
		if k == 2 {
			whole, frac, hasFrac := strings.Cut(p, ".")
			ok = whole != "" && isDigits(whole) && (!hasFrac || (frac != "" && isDigits(frac)))
		}
		if !ok {
			return 0, fmt.Errorf("bad time component %q", f)
		}
	}
	text := sign + parts[0] + "h" + parts[1] + "m"
	if len(parts) == 3 {
		text += parts[2] + "s"
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return 0, fmt.Errorf("time component %q: %w", f, err)
	}
	return d, nil
}

// isDigits reports whether s is non-empty and all ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isDecimal reports whether s is an optionally signed decimal number such as
// "3", "-1", "+2.5" or ".5".
func isDecimal(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if !hasFrac {
		return isDigits(whole)
	}
	return (whole == "" || isDigits(whole)) && (frac == "" || isDigits(frac)) && whole+frac != ""
}

// addDurations returns a+b or an error on overflow.
func addDurations(a, b time.Duration) (time.Duration, error) {
	sum := a + b
	if (b > 0 && sum < a) || (b < 0 && sum > a) {
		return 0, errors.New("interval out of range")
	}
	return sum, nil
}

// mulDuration returns d*k (k > 0) or an error on overflow.
func mulDuration(d, k time.Duration) (time.Duration, error) {
	if k == 1 {
		return d, nil
	}
	if d > math.MaxInt64/k || d < math.MinInt64/k {
		return 0, errors.New("interval out of range")
	}
	return d * k, nil
}
