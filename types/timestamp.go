package types

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// SQLiteTimestampLayout is the layout in which Prefect stores timestamps in
// SQLite DATETIME columns: UTC, a space between date and time, exactly six
// fractional digits and no zone suffix. Because every stored value has the
// same shape, comparing or sorting the text gives time order.
const SQLiteTimestampLayout = "2006-01-02 15:04:05.000000"

// ErrNaiveTimestamp is returned (wrapped) by ParseTimestamp when the text has
// no time zone. Prefect refuses naive datetimes ("Timestamps must have a
// timezone"), and so do we.
var ErrNaiveTimestamp = errors.New("timestamp has no time zone; a time zone is required")

// ParseTimestamp parses an ISO 8601 / RFC 3339 style timestamp that carries a
// time zone (or "Z") and returns the instant in UTC. Either "T" or a space may
// separate date and time, fractional seconds are optional (up to nanoseconds)
// and offsets may be written "+02:00", "+0200" or "+02" (PostgreSQL's
// timestamptz text). Text without a zone, such as "2024-01-02 03:04:05", is
// rejected with an error wrapping ErrNaiveTimestamp, following Prefect's rule
// that timestamps must have a time zone.
func ParseTimestamp(s string) (time.Time, error) {
	t, zoned, ok := parseTimestampText(s)
	switch {
	case ok && zoned:
		return t, nil
	case ok:
		return time.Time{}, fmt.Errorf("parse timestamp %q: %w", s, ErrNaiveTimestamp)
	default:
		return time.Time{}, fmt.Errorf("parse timestamp %q: not an ISO 8601 timestamp with a time zone", s)
	}
}

// FormatSQLiteTimestamp renders t the way Prefect stores timestamps on
// SQLite: converted to UTC and formatted with SQLiteTimestampLayout, e.g.
// "2024-01-02 03:04:05.123456". Sub-microsecond digits are truncated (the
// format keeps exactly six fractional digits, like Python's datetime).
func FormatSQLiteTimestamp(t time.Time) string {
	return t.UTC().Format(SQLiteTimestampLayout)
}

// parseSQLiteTimestamp parses the DATETIME text SQLite holds: the Prefect
// layout (with any number of fractional digits, or none), optionally with a
// "T" separator and optionally followed by a zone. Zone-less text is taken
// as UTC, which is how Prefect writes it.
func parseSQLiteTimestamp(s string) (time.Time, error) {
	t, _, ok := parseTimestampText(s)
	if !ok {
		return time.Time{}, fmt.Errorf("parse SQLite timestamp %q: unrecognised format", s)
	}
	return t, nil
}

// parseTimestampText parses s with the timestamp layouts this package knows.
// ok reports whether any layout matched; zoned reports whether the text
// carried a time zone. Zone-less text is interpreted as UTC. The result is
// always in UTC.
//
// Zoned layouts: RFC 3339 with either separator, PostgreSQL's timestamptz
// output (which abbreviates a whole-hour offset to "+00"), offsets without a
// colon, and Go's time.Time.String form. Zone-less layouts: date and time
// with either separator and optional fraction, date and minutes, date only.
func parseTimestampText(s string) (t time.Time, zoned, ok bool) {
	v := strings.TrimSpace(s)
	zonedLayouts := [...]string{
		"2006-01-02T15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02 15:04:05.999999999Z0700",
		"2006-01-02T15:04:05.999999999Z07",
		"2006-01-02 15:04:05.999999999Z07",
		"2006-01-02T15:04Z07:00",
		"2006-01-02 15:04Z07:00",
		"2006-01-02 15:04:05.999999999 -0700 MST",
		"2006-01-02 15:04:05.999999999 -0700",
	}
	for _, layout := range zonedLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true, true
		}
	}
	naiveLayouts := [...]string{
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04",
		"2006-01-02T15:04",
		"2006-01-02",
	}
	for _, layout := range naiveLayouts {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, false, true
		}
	}
	return time.Time{}, false, false
}
