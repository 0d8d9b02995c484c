package types

import (
	"errors"
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	t.Parallel()
	want := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
	ok := []string{
		"2024-01-02T03:04:05.123456Z",
		"2024-01-02 03:04:05.123456+00:00",
		"2024-01-02T05:04:05.123456+02:00",
		"2024-01-02 03:04:05.123456+00",
		"2024-01-01 22:04:05.123456-0500",
		"2024-01-02 03:04:05.123456 +0000 UTC",
		" 2024-01-02T03:04:05.123456Z ",
	}
	for _, s := range ok {
		got, err := ParseTimestamp(s)
		if err != nil {
			t.Errorf("ParseTimestamp(%q): %v", s, err)
			continue
		}
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, want %v in UTC", s, got, want)
		}
	}
	if got, err := ParseTimestamp("2024-01-02T03:04Z"); err != nil || !got.Equal(time.Date(2024, 1, 2, 3, 4, 0, 0, time.UTC)) {
		t.Errorf("ParseTimestamp minutes: %v, %v", got, err)
	}

	for _, s := range []string{"2024-01-02 03:04:05", "2024-01-02T03:04:05.123456", "2024-01-02"} {
		_, err := ParseTimestamp(s)
		if !errors.Is(err, ErrNaiveTimestamp) {
			t.Errorf("ParseTimestamp(%q) error = %v, want ErrNaiveTimestamp", s, err)
		}
	}
	for _, s := range []string{"", "yesterday", "2024-13-02T03:04:05Z"} {
		_, err := ParseTimestamp(s)
		if err == nil || errors.Is(err, ErrNaiveTimestamp) {
			t.Errorf("ParseTimestamp(%q) error = %v, want a format error", s, err)
		}
	}
}

func TestFormatSQLiteTimestamp(t *testing.T) {
	t.Parallel()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	cases := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024-01-02 03:04:05.000000"},
		{time.Date(2024, 1, 2, 8, 34, 5, 123456789, zone), "2024-01-02 03:04:05.123456"},
		{time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), "1969-12-31 23:59:59.999999"},
	}
	for _, c := range cases {
		if got := FormatSQLiteTimestamp(c.in); got != c.want {
			t.Errorf("FormatSQLiteTimestamp(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
