package config

// Fuzz tests of URL parsing and redaction (issue 6, items 8 and 9): any input
// is parsed without a panic into a Target or a typed error, and a password
// written in a URL never shows in Redacted, String, GoString, LogValue or in
// an error message.
//
// The committed corpus is in testdata/fuzz/FuzzParseURL; `go test` runs it,
// and CI runs the target for a few seconds (.ci/run). To fuzz longer:
//
//	go test -run='^$' -fuzz='^FuzzParseURL$' -fuzztime=30s ./dialects

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// fuzzSecret and fuzzSecretEnd mark a password: the fuzzed password text is
// put between them, so that wherever the password's text ends up, a marker
// goes with it.
const (
	fuzzSecret    = "Zq7sEcReT"
	fuzzSecretEnd = "Wx4tAiL"
)

// fuzzSchemes are the schemes the structured half of FuzzParseURL puts in
// front of its URLs: every supported one, in odd cases, an unsupported one
// and a malformed one.
var fuzzSchemes = []string{
	"postgresql+asyncpg", "postgresql", "postgres", "sqlite+aiosqlite", "sqlite",
	"PostgreSQL+AsyncPG", "mysql+aiomysql", "1bad", "file",
}

func FuzzParseURL(f *testing.F) {
	// form, user, password, host, rest, query key, query value
	f.Add(uint8(0), "prefect", "pw", "db:5432", "/prefect", "password", "x")
	f.Add(uint8(1), "u", "p@ss:word", "h", "/db", "sslpassword", "y")
	f.Add(uint8(2), "u", "a/b?c:d", "[::1]:5432", "/db?sslmode=disable", "application_name", "a@b")
	f.Add(uint8(3), "", "", "", "/rel.db", "uri", "true")
	f.Add(uint8(4), "u", "%40%3A", "h", "", "mode", "memory")
	f.Add(uint8(5), "u", "pw", "h:99999", "/db", "PassWord", "z")
	f.Add(uint8(6), "u", "pw", "h", "/db", "pass%77ord", "z")
	f.Add(uint8(7), "u", "pw", "h", "/db", "ssl%70assword", "z")
	f.Add(uint8(8), "user", "pw", "host", "/path.db", "password", "q@r")
	f.Add(uint8(0), "u:x@y", "pw", "h", "/db", "k", "v")
	f.Add(uint8(0), "u", "pw", "h", "/db", "password", "q@r")
	f.Add(uint8(0), "u", "pw", "h", "/db?flag", "password", "v;w")
	f.Add(uint8(0), "0", "://", "0", "", "k", "v") // a key=value string whose password holds "://"
	f.Fuzz(func(t *testing.T, form uint8, user, password, host, rest, qkey, qval string) {
		// Any text: no panic, a Target or a typed error.
		for _, raw := range []string{user, password, host, rest, qkey, host + rest} {
			fuzzCheckAny(t, raw)
		}

		scheme := fuzzSchemes[int(form)%len(fuzzSchemes)]
		outside := scheme + user + host + rest + qkey + qval
		if strings.Contains(outside, fuzzSecret[:4]) || strings.Contains(outside, fuzzSecretEnd[:4]) {
			return // the marker must occur only where we put it
		}

		// A password in the user-info part.
		raw := scheme + "://" + user + ":" + fuzzSecret + password + fuzzSecretEnd + "@" + host + rest
		fuzzCheckAny(t, raw)
		fuzzCheckHidden(t, raw, fuzzSecret, fuzzSecretEnd)

		// Malformed URLs, which ParseURL refuses, and key=value connection
		// strings: their password must not show either.
		for _, malformed := range []string{
			scheme + "//" + user + ":" + fuzzSecret + password + fuzzSecretEnd + "@" + host + rest,
			scheme + ":///" + user + ":" + fuzzSecret + password + fuzzSecretEnd + "@" + host + rest,
			scheme + ":/" + user + ":" + fuzzSecret + password + fuzzSecretEnd + "@" + host + rest,
			user + ":" + fuzzSecret + password + fuzzSecretEnd + "@" + host + rest,
		} {
			if !strings.ContainsAny(password+user, "@?") && !strings.Contains(password+user, "//") {
				fuzzCheckAny(t, malformed)
				fuzzCheckHidden(t, malformed, fuzzSecret, fuzzSecretEnd)
			}
		}
		if !strings.ContainsAny(password, " \t\n\r\v\f'\\") && !strings.Contains(strings.ToLower(user+host), "password") {
			dsn := "host=" + host + " user=" + user + " password=" + fuzzSecret + password + fuzzSecretEnd + " dbname=x"
			fuzzCheckAny(t, dsn)
			fuzzCheckHidden(t, dsn, fuzzSecret, fuzzSecretEnd)
		}

		// A password in a query parameter (libpq's password= and
		// sslpassword=, which pgx reads), with the key written in any way
		// that decodes to one of them. It is checked where the URL's own
		// split (SQLAlchemy's) reads it as such a parameter.
		sep := "?"
		if strings.Contains(rest, "?") {
			sep = "&"
		}
		raw = scheme + "://" + user + "@h" + rest + sep + qkey + "=" + fuzzSecret + qval
		fuzzCheckAny(t, raw)
		p, ok := splitURL(strings.TrimSpace(raw))
		if !ok {
			return
		}
		for _, pair := range strings.Split(p.query, "&") {
			k, v, _ := strings.Cut(pair, "=")
			key := strings.ToLower(pyUnquote(strings.ReplaceAll(k, "+", " ")))
			if (key == "password" || key == "sslpassword") && strings.HasPrefix(v, fuzzSecret) {
				// Only the start of the value is checked: Redact ends a
				// value at '#' or ';' as well as at '&', while ParseURL
				// keeps both in the password, so what follows them shows
				// (a known gap, reported with issue 6).
				fuzzCheckHidden(t, raw, fuzzSecret)
			}
		}
	})
}

// fuzzCheckAny parses raw and checks what must hold for any input: no
// panic, either a Target of a known kind or one of the two typed errors with
// a message, and Redact and the Target's printers agree.
func fuzzCheckAny(t *testing.T, raw string) {
	t.Helper()
	_ = Redact(raw)
	target, err := ParseURL(raw)
	if err != nil {
		if target != nil {
			t.Fatalf("ParseURL(%q) returned both a target and the error %v", raw, err)
		}
		var invalid *InvalidURLError
		var unsupported *UnsupportedDialectError
		switch {
		case errors.As(err, &invalid):
			if invalid.URL != Redact(raw) {
				t.Fatalf("ParseURL(%q): InvalidURLError.URL = %q, want Redact(raw) = %q", raw, invalid.URL, Redact(raw))
			}
		case errors.As(err, &unsupported):
			if unsupported.Scheme == "" {
				t.Fatalf("ParseURL(%q): UnsupportedDialectError without a scheme: %v", raw, err)
			}
		default:
			t.Fatalf("ParseURL(%q): error of type %T, want *InvalidURLError or *UnsupportedDialectError: %v", raw, err, err)
		}
		if err.Error() == "" {
			t.Fatalf("ParseURL(%q): empty error message", raw)
		}
		return
	}
	if target == nil {
		t.Fatalf("ParseURL(%q) returned neither a target nor an error", raw)
	}
	switch target.Kind {
	case Postgres:
		if target.PostgresDSN() == "" {
			t.Fatalf("ParseURL(%q): PostgreSQL target without a DSN", raw)
		}
	case SQLite:
		if target.PostgresDSN() != "" {
			t.Fatalf("ParseURL(%q): SQLite target with a PostgreSQL DSN", raw)
		}
		if !target.Memory && target.Path == "" {
			t.Fatalf("ParseURL(%q): SQLite target is neither in memory nor a file", raw)
		}
	default:
		t.Fatalf("ParseURL(%q): unknown kind %q", raw, target.Kind)
	}
	if target.String() != Redact(raw) || target.Redacted() != Redact(raw) {
		t.Fatalf("ParseURL(%q): String %q, Redacted %q, want Redact(raw) %q", raw, target.String(), target.Redacted(), Redact(raw))
	}
}

// fuzzCheckHidden checks that nothing ParseURL gives back for raw, which
// holds the markers inside a password, shows any of them.
func fuzzCheckHidden(t *testing.T, raw string, markers ...string) {
	t.Helper()
	show := func(what, s string) {
		t.Helper()
		for _, m := range markers {
			if strings.Contains(s, m) {
				t.Fatalf("the password of %q shows in %s: %q", raw, what, s)
			}
		}
	}
	show("Redact", Redact(raw))
	target, err := ParseURL(raw)
	if err != nil {
		show("the error", err.Error())
		show("the error (%+v)", fmt.Sprintf("%+v", err))
		return
	}
	show("Redacted", target.Redacted())
	show("String", target.String())
	show("%v", fmt.Sprintf("%v", target))
	show("%+v", fmt.Sprintf("%+v", *target))
	show("%#v", fmt.Sprintf("%#v", target))
	show("LogValue", target.LogValue().String())
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("db", "target", target)
	show("a slog record", b.String())
}

// BenchmarkRedactManyAts: Redact reads its input once; a string of 40,000
// ':' and '@' took a second when it did not (2026-12-07).
func BenchmarkRedactManyAts(b *testing.B) {
	in := "postgresql://" + strings.Repeat(":@", 20000)
	for b.Loop() {
		_ = Redact(in)
	}
}
