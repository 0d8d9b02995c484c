package types

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// InvalidValueError is a value that one of the two databases cannot store
// as the other does: prefectdb refuses it on both, naming the field, so that
// they behave the same.
type InvalidValueError struct {
	// Field names the field ("flow.name", "state type").
	Field string
	// Reason says what is wrong, without the value itself.
	Reason string
}

func (e *InvalidValueError) Error() string {
	return fmt.Sprintf("invalid value for %s: %s", e.Field, e.Reason)
}

// Years both databases store: SQLite's text timestamps and PostgreSQL's
// timestamptz agree on 0001 to 9999.
const (
	MinYear = 1
	MaxYear = 9999
)

// CheckValue reports why v cannot be stored alike on both databases: text
// with a NUL byte (PostgreSQL refuses it) or that is not UTF-8 (PostgreSQL
// refuses it, SQLite stores it), a time outside years 1 to 9999 (SQLite's
// text form cannot order it), and the same inside JSON values and their
// keys. It returns "" for a value that is fine.
func CheckValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return checkText(v)
	case *string:
		if v == nil {
			return ""
		}
		return checkText(*v)
	case time.Time:
		return checkTime(v)
	case *time.Time:
		if v == nil {
			return ""
		}
		return checkTime(*v)
	case json.RawMessage:
		var doc any
		if len(v) == 0 || json.Unmarshal(v, &doc) != nil {
			return checkText(string(v))
		}
		return CheckValue(doc)
	}
	return checkJSON(v, 0)
}

func checkText(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "text contains a NUL byte"
	case !utf8.ValidString(s):
		return "text is not valid UTF-8"
	}
	return ""
}

func checkTime(t time.Time) string {
	if y := t.UTC().Year(); y < MinYear || y > MaxYear {
		return fmt.Sprintf("year %d is outside %d to %d", y, MinYear, MaxYear)
	}
	return ""
}

// checkJSON walks a JSON value: the shapes Ent's JSON fields hold, and any
// other value through its JSON encoding.
func checkJSON(v any, depth int) string {
	if depth > 100 {
		return ""
	}
	switch v := v.(type) {
	case nil, bool, float64, int, int64, json.Number:
		return ""
	case string:
		return checkText(v)
	case map[string]any:
		for k, e := range v {
			if r := checkText(k); r != "" {
				return "a key: " + r
			}
			if r := checkJSON(e, depth+1); r != "" {
				return r
			}
		}
		return ""
	case []any:
		for _, e := range v {
			if r := checkJSON(e, depth+1); r != "" {
				return r
			}
		}
		return ""
	case []string:
		for _, e := range v {
			if r := checkText(e); r != "" {
				return r
			}
		}
		return ""
	case []map[string]any:
		for _, e := range v {
			if r := checkJSON(e, depth+1); r != "" {
				return r
			}
		}
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return ""
	}
	return checkJSON(doc, depth+1)
}

// MaxIndexedTextBytes is the longest text, in bytes, that prefectdb stores
// in a column that a B-tree index covers. PostgreSQL refuses an index entry
// over 2,704 bytes (after compression, so whether a value fits depends on
// its content), SQLite has no such limit; refusing longer values on both
// keeps them alike. Two such columns and an id fit in one index entry.
const MaxIndexedTextBytes = 1300

// CheckIndexedText reports why s cannot be stored in an indexed column
// (CheckValue's reasons, or its length), or "".
func CheckIndexedText(s string) string {
	if r := checkText(s); r != "" {
		return r
	}
	if len(s) > MaxIndexedTextBytes {
		return fmt.Sprintf("text is %d bytes; an indexed column takes at most %d", len(s), MaxIndexedTextBytes)
	}
	return ""
}
