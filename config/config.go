// Package config is a database connection's configuration: it parses
// Prefect's database URLs (PREFECT_SERVER_DATABASE_CONNECTION_URL, in
// SQLAlchemy's forms and libpq's) into a Target, redacts their passwords
// for every message, and holds the connection Options with Prefect's
// defaults, read from Prefect's settings (OptionsFromEnv). It knows the
// names of the supported databases (Kind) but nothing of how to reach them:
// opening a connection is the dialects' (dialects/postgres,
// dialects/sqlite, chosen by dialects/connect).
//
// Secrets: String, GoString, LogValue and Redacted methods, and every error
// this package returns, show the URL with the password replaced by
// "xxxxx". The raw driver DSN is only available through
// Target.PostgresDSN.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Kind names a database dialect.
type Kind string

// The supported dialects.
const (
	// Postgres is PostgreSQL, reached through pgx v5.
	Postgres Kind = "postgres"
	// SQLite is SQLite, reached through modernc.org/sqlite (no cgo).
	SQLite Kind = "sqlite"
)

// EntDialect returns the dialect name Ent uses for k ("postgres" or
// "sqlite3"), or "" for an unknown kind.
func (k Kind) EntDialect() string {
	switch k {
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite3"
	default:
		return ""
	}
}

// RedactedPassword replaces passwords in redacted URLs.
const RedactedPassword = "xxxxx"

// supportedForms lists the accepted URL forms, for error messages.
const supportedForms = "postgresql+asyncpg://, postgresql://, postgres://, " +
	"sqlite+aiosqlite://, sqlite://, file: URIs, and bare paths ending in .db, .sqlite or .sqlite3"

// UnsupportedDialectError is returned by ParseURL for a URL whose scheme
// names a database or driver prefectdb does not support, such as
// "mysql+aiomysql://…".
type UnsupportedDialectError struct {
	// Scheme is the URL's scheme as written, e.g. "mysql+aiomysql".
	Scheme string
	// URL is the whole URL with its password redacted.
	URL string
}

// Error implements error.
func (e *UnsupportedDialectError) Error() string {
	if e.URL == "" {
		return fmt.Sprintf("unsupported database URL scheme %q: prefectdb supports %s", e.Scheme, supportedForms)
	}
	return fmt.Sprintf("unsupported database URL scheme %q in %s: prefectdb supports %s",
		e.Scheme, e.URL, supportedForms)
}

// InvalidURLError is returned by ParseURL for a URL that cannot be parsed.
// Its message shows the URL with the password redacted.
type InvalidURLError struct {
	// URL is the URL with its password redacted.
	URL string
	// Err says what is wrong; it never contains the password.
	Err error
}

// Error implements error.
func (e *InvalidURLError) Error() string {
	return fmt.Sprintf("invalid database URL %s: %v", e.URL, e.Err)
}

// Unwrap returns the underlying reason.
func (e *InvalidURLError) Unwrap() error { return e.Err }

// Target is a parsed database URL: which dialect to use and what to hand to
// its driver. Build one with ParseURL.
//
// For PostgreSQL the driver input is a pgx connection URL, available from
// PostgresDSN. For SQLite it is the exported Path / Memory / MemoryName /
// Query fields.
//
// String, GoString and LogValue all return Redacted, so formatting or
// logging a Target (value or pointer) never shows the password.
type Target struct {
	// Kind is the dialect.
	Kind Kind

	// Path is the SQLite database file as written in the URL (SQLite only;
	// empty for in-memory databases). A relative path is relative to the
	// working directory when the database is opened, as with SQLAlchemy.
	Path string
	// Memory reports an in-memory SQLite database (SQLite only): ":memory:",
	// "sqlite://", "file::memory:" or a file URI with mode=memory.
	Memory bool
	// MemoryName is the name of a named in-memory database, e.g. "db1" from
	// "file:db1?mode=memory" (SQLite only). It is empty for anonymous ones
	// (":memory:"), for which the SQLite opener makes up a unique name.
	MemoryName string
	// Query holds the SQLite URI and driver parameters to pass through
	// (e.g. mode=ro, cache=shared, vfs, modernc's _pragma or _txlock).
	// Parameters that only configure Python's sqlite3 module (uri, timeout,
	// check_same_thread, isolation_level, detect_types, cached_statements)
	// are removed. SQLite only; nil for PostgreSQL.
	Query url.Values

	// raw is the URL exactly as given; it may contain the password.
	raw string
	// pgDSN is the pgx connection URL; it may contain the password.
	pgDSN string
	// pooler: the URL set statement_cache_size=0 or
	// prepared_statement_cache_size=0 (PostgreSQL only).
	pooler bool
}

// TransactionPooler reports whether the URL says, the way Prefect users say
// it (statement_cache_size=0 or prepared_statement_cache_size=0), that a
// pooler in transaction mode is in front of the server; see
// Options.TransactionPooler.
func (t Target) TransactionPooler() bool { return t.pooler }

// PostgresDSN returns the connection URL for pgx (PostgreSQL only, "" for
// SQLite): the URL with the scheme normalised to postgres:// (the
// "+asyncpg" driver suffix removed), user name and password percent-encoded
// as pgx expects, and the query parameters passed on (asyncpg's
// ssl=<mode> is renamed to sslmode=<mode>). sslmode defaults are left to
// pgx. The result contains the password: never log it.
func (t Target) PostgresDSN() string { return t.pgDSN }

// IsInMemory reports whether the target is an in-memory SQLite database
// (Prefect's is_inmemory()).
func (t Target) IsInMemory() bool { return t.Kind == SQLite && t.Memory }

// Redacted returns the URL as given with any password replaced by "xxxxx",
// both in the user-info part and in password= / sslpassword= query
// parameters.
func (t Target) Redacted() string { return Redact(t.raw) }

// String implements fmt.Stringer; it returns Redacted.
func (t Target) String() string { return t.Redacted() }

// GoString implements fmt.GoStringer so that %#v does not print the
// password either.
func (t Target) GoString() string {
	return fmt.Sprintf("config.Target{Kind: %q, URL: %q}", t.Kind, t.Redacted())
}

// LogValue implements slog.LogValuer; it logs Redacted.
func (t Target) LogValue() slog.Value { return slog.StringValue(t.Redacted()) }

// Redact returns raw with any password replaced by "xxxxx". It works on
// malformed URLs too and errs on the side of hiding too much: everything
// between the first ':' after "scheme://" and the last '@' is treated as a
// password, and so are the values of password= and sslpassword= query
// parameters, wherever they are (an '@' later in the query does not hide
// them) and however their names are written (in any case, with letters
// percent-encoded, as ParseURL decodes them).
//
// Text that does not parse is redacted as well: before every '@' of the part
// before any '?', whatever follows the first ':' since the last "//" (or the
// start) is taken for a password ("postgresql+asyncpg//alice:pw@host",
// "scheme:///alice:pw@host"), and so are the values of password= and
// sslpassword= in key=value connection strings ("host=h password=pw").
func Redact(raw string) string {
	out := raw
	if start := authorityStart(raw); start >= 0 {
		rest := raw[start:]
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			head := rest[:at]
			if c := strings.IndexByte(head, ':'); c >= 0 {
				out = raw[:start] + head[:c+1] + RedactedPassword + rest[at:]
			}
		}
	}
	// Keyword and query passwords first: their values may hold '@', which
	// the pass before every '@' would otherwise cut in two.
	out = keywordPassword.ReplaceAllString(out, "${1}"+RedactedPassword)
	out = queryPassword.ReplaceAllString(out, "${1}"+RedactedPassword)
	return redactBeforeEveryAt(out)
}

// redactBeforeEveryAt hides, before each '@' that comes before any '?',
// what follows the first ':' since the last "//" (or the start of the
// string): the user info of a URL, however malformed the rest, even when
// the password holds a '/'. It reads s once (linear time, whatever the
// input: a string of many '@' must not take quadratic time).
func redactBeforeEveryAt(s string) string {
	end := len(s)
	if q := strings.IndexByte(s, '?'); q >= 0 {
		end = q
	}
	if !strings.Contains(s[:end], "@") {
		return s
	}
	var b strings.Builder
	written := 0 // s[:written] is in b
	start := 0   // where the current user info may begin: after the last "//", and after written
	colon := -1  // the first ':' at or after start, before i; -1 if none yet
	for i := 0; i < end; i++ {
		switch s[i] {
		case '/':
			if i > 0 && s[i-1] == '/' {
				start, colon = max(i+1, written), -1
			}
		case ':':
			if colon < 0 && i >= start {
				colon = i
			}
		case '@':
			if colon >= 0 && s[colon+1:i] != RedactedPassword {
				b.WriteString(s[written : colon+1])
				b.WriteString(RedactedPassword)
				written = i
				start, colon = i, -1
			}
		}
	}
	b.WriteString(s[written:])
	return b.String()
}

// keywordPassword matches password= and sslpassword= in a key=value
// connection string (libpq's "host=h user=u password=secret"), quoted or
// not, with spaces around '='.
var keywordPassword = regexp.MustCompile(`(?i)((?:^|\s)(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s]*)`)

// queryPassword matches a password= or sslpassword= query parameter up to the
// end of its value. Each letter of the name may be written in either case or
// percent-encoded ("pass%77ord"), since ParseURL decodes names.
var queryPassword = regexp.MustCompile(`([?&;](?:` + anyCaseEncoded("ssl") + `)?` + anyCaseEncoded("password") + `=)[^&]*`)

// anyCaseEncoded returns a regular expression that matches the lower-case
// ASCII word w with each letter in either case or percent-encoded.
func anyCaseEncoded(w string) string {
	var b strings.Builder
	for _, c := range []byte(w) {
		upper := c - 'a' + 'A'
		fmt.Fprintf(&b, "(?:%c|%c|%%%X|%%%x|%%%X|%%%x)", c, upper, c, c, upper, upper)
	}
	return b.String()
}

// authorityStart returns the index just past "scheme:" and any slashes
// that follow it, or -1 if raw does not start with a scheme. It is lenient
// (any number of slashes, even none after "://"-less schemes) so that
// malformed URLs are redacted too.
func authorityStart(raw string) int {
	if i := strings.Index(raw, "://"); i >= 0 {
		return i + 3
	}
	i := strings.IndexByte(raw, ':')
	if i <= 0 || !isScheme(raw[:i]) {
		return -1
	}
	j := i + 1
	for j < len(raw) && raw[j] == '/' {
		j++
	}
	return j
}

// sqlalchemyURL is SQLAlchemy 2.0's URL pattern (sqlalchemy.engine.url
// _parse_url), which is how Prefect reads its connection URLs. Go's regexp
// picks the same leftmost-first match as Python's backtracking engine, so
// the user name, password, host, port, database and query are split
// exactly as Prefect splits them. Notably the password runs up to the
// first '@' and may contain '/', '?' and ':'.
const sqlalchemyURL = `^(?P<name>[\w+]+)://` +
	`(?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?` +
	`(?:(?:\[(?P<ipv6host>[^/?]+)\]|(?P<ipv4host>[^/:?]+))?(?::(?P<port>[^/?]*))?)?` +
	`(?:/(?P<database>[^?]*))?` +
	`(?:\?(?P<query>.*))?`

// urlParts is a URL split the SQLAlchemy way. Absent parts are "".
type urlParts struct {
	scheme               string
	username, password   string
	hasUser, hasPassword bool
	host, port           string
	ipv6                 bool
	database             string
	hasDatabase          bool
	query                string
}

// splitURL splits raw with the SQLAlchemy pattern. ok is false if raw does
// not have the "scheme://" shape at all.
func splitURL(raw string) (p urlParts, ok bool) {
	re := regexp.MustCompile(sqlalchemyURL)
	m := re.FindStringSubmatchIndex(raw)
	if m == nil {
		return p, false
	}
	group := func(name string) (string, bool) {
		k := re.SubexpIndex(name)
		if m[2*k] < 0 {
			return "", false
		}
		return raw[m[2*k]:m[2*k+1]], true
	}
	p.scheme, _ = group("name")
	p.username, p.hasUser = group("username")
	p.password, p.hasPassword = group("password")
	if h, ok := group("ipv6host"); ok {
		p.host, p.ipv6 = h, true
	} else {
		p.host, _ = group("ipv4host")
	}
	p.port, _ = group("port")
	p.database, p.hasDatabase = group("database")
	p.query, _ = group("query")
	return p, true
}

// ParseURL parses a Prefect database connection URL.
//
// PostgreSQL: postgresql+asyncpg://user:pw@host:port/db?…, postgresql://…
// and postgres://…. The URL is split the way SQLAlchemy splits it; user name
// and password are percent-decoded like SQLAlchemy does (and re-encoded for
// pgx). A "+asyncpg" URL's ssl=<mode> parameter becomes sslmode=<mode>
// (ssl=true becomes require, ssl=false disable), and asyncpg-only
// parameters that PostgreSQL would reject as unknown settings
// (prepared_statement_cache_size) are dropped.
//
// SQLite, following SQLAlchemy's rules:
//   - sqlite:// and sqlite:///:memory: (and sqlite:/// with nothing after):
//     an in-memory database;
//   - sqlite:///rel.db: the relative path "rel.db";
//   - sqlite:////abs/path.db: the absolute path "/abs/path.db";
//   - sqlite+aiosqlite://… is read the same way;
//   - with uri=true the database part is an SQLite URI, e.g. Prefect's
//     sqlite+aiosqlite:///file::memory:?cache=shared&uri=true&check_same_thread=false;
//   - a host (sqlite://name.db) is rejected: SQLAlchemy would silently
//     ignore it and open an in-memory database.
//
// Also accepted: SQLite URIs (file:path.db, file:///abs/path.db,
// file:name?mode=memory, file::memory:), a bare ":memory:", and a bare
// filesystem path ending in .db, .sqlite or .sqlite3.
//
// An unknown scheme gives *UnsupportedDialectError; a malformed URL gives
// *InvalidURLError. No error contains the password.
func ParseURL(raw string) (*Target, error) {
	s := strings.TrimSpace(raw)
	invalid := func(format string, args ...any) error {
		for _, a := range args {
			// Before formatting: the message is fixed when the error is made.
			if e, ok := a.(error); ok {
				if fe := (*fragmentError)(nil); errors.As(e, &fe) && Redact(raw) != raw {
					fe.hide = true
				}
			}
		}
		return &InvalidURLError{URL: Redact(raw), Err: fmt.Errorf(format, args...)}
	}
	if s == "" {
		return nil, invalid("empty URL")
	}

	if keywordDSN.MatchString(s) {
		// libpq's "host=h user=u password=pw" form. Refused before any
		// other reading: its values (a password among them) may hold "://"
		// and must not be quoted back as a scheme.
		return nil, invalid("key=value connection strings are not supported; write the URL form, postgresql://user:password@host:port/dbname")
	}
	if strings.HasPrefix(strings.ToLower(s), "file:") {
		t, err := parseSQLiteURI(s)
		if err != nil {
			return nil, invalid("%w", err)
		}
		t.raw = raw
		return t, nil
	}
	if !strings.Contains(s, "://") {
		switch lower := strings.ToLower(s); {
		case s == ":memory:":
			return &Target{Kind: SQLite, Memory: true, Query: url.Values{}, raw: raw}, nil
		case hasSQLiteExtension(lower):
			return &Target{Kind: SQLite, Path: s, Query: url.Values{}, raw: raw}, nil
		}
		if i := strings.IndexByte(s, ':'); i > 0 && isScheme(s[:i]) {
			switch strings.ToLower(s[:i]) {
			case "postgresql+asyncpg", "postgresql", "postgres", "sqlite", "sqlite+aiosqlite":
				return nil, invalid("expected %s:// followed by the rest of the URL", s[:i])
			}
			return nil, &UnsupportedDialectError{Scheme: s[:i], URL: Redact(raw)}
		}
		return nil, invalid("not a URL (expected scheme://…) nor a path ending in .db, .sqlite or .sqlite3")
	}

	p, ok := splitURL(s)
	if !ok {
		scheme := s[:strings.Index(s, "://")]
		if scheme == "" {
			return nil, invalid("missing scheme before ://")
		}
		if !isScheme(scheme) {
			// Not quoted: text that is not a scheme may be anything,
			// a password included.
			return nil, invalid("malformed scheme before :// (expected letters, digits, '+', '-' or '.')")
		}
		return nil, invalid("cannot parse URL")
	}

	var (
		t   *Target
		err error
	)
	switch strings.ToLower(p.scheme) {
	case "postgresql+asyncpg":
		t, err = postgresTarget(p, true)
	case "postgresql", "postgres":
		t, err = postgresTarget(p, false)
	case "sqlite", "sqlite+aiosqlite":
		t, err = sqliteTarget(p)
	default:
		if !isScheme(p.scheme) {
			return nil, invalid("malformed scheme %q", p.scheme)
		}
		return nil, &UnsupportedDialectError{Scheme: p.scheme, URL: Redact(raw)}
	}
	if err != nil {
		return nil, invalid("%w", err)
	}
	t.raw = raw
	return t, nil
}

// keywordDSN matches the start of a libpq key=value connection string
// ("host=h …", "dbname = x …").
var keywordDSN = regexp.MustCompile(`^[A-Za-z_]+\s*=`)

// isScheme reports whether s looks like a URL scheme (SQLAlchemy's [\w+]+,
// starting with a letter).
func isScheme(s string) bool {
	if s == "" {
		return false
	}
	for k, c := range []byte(s) {
		isLetter := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if k == 0 && !isLetter {
			return false
		}
		if !isLetter && !(c >= '0' && c <= '9') && c != '_' && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// hasSQLiteExtension reports whether a (lower-cased) path ends in .db,
// .sqlite or .sqlite3.
func hasSQLiteExtension(lower string) bool {
	switch filepath.Ext(lower) {
	case ".db", ".sqlite", ".sqlite3":
		return true
	}
	return false
}

// postgresTarget builds a PostgreSQL target from SQLAlchemy URL parts.
func postgresTarget(p urlParts, asyncpg bool) (*Target, error) {
	u := &url.URL{Scheme: "postgres"}
	if p.hasUser {
		user := pyUnquote(p.username)
		if p.hasPassword {
			u.User = url.UserPassword(user, pyUnquote(p.password))
		} else {
			u.User = url.User(user)
		}
	}
	host := p.host
	if strings.Contains(host, "@") {
		return nil, errors.New("the host part contains '@': percent-encode '@' in the user name or password as %40")
	}
	if p.ipv6 {
		host = "[" + host + "]"
	}
	if strings.Contains(p.port, "@") {
		// "u:p@ss:word@h": the port holds the rest of the password.
		return nil, errors.New("the port part contains '@': percent-encode '@' in the user name or password as %40")
	}
	switch {
	case strings.Contains(p.port, ","):
		// libpq's multi-host form, "h1:5432,h2:5433,h3": the pattern put
		// everything after the first host's colon into the port.
		hosts, err := hostList(p.host + ":" + p.port)
		if err != nil {
			return nil, err
		}
		host = hosts
	case p.port != "":
		if err := checkPort(p.port); err != nil {
			return nil, err
		}
		host += ":" + p.port
	case strings.Contains(host, ","):
		hosts, err := hostList(host)
		if err != nil {
			return nil, err
		}
		host = hosts
	}
	u.Host = host
	if host == "" && !p.hasUser && strings.Contains(p.database, "@") {
		// "postgresql+asyncpg:///alice:pw@host/db": user info after a third
		// slash. libpq would take it all for a database name on the local
		// socket; it is refused rather than guessed.
		return nil, errors.New("ambiguous URL: user information after a third slash; write scheme://user:password@host/database")
	}
	if p.hasDatabase && p.database != "" {
		u.Path = "/" + p.database
	}
	q, err := parseQuery(p.query)
	if err != nil {
		return nil, err
	}
	if hosts, ok := q["host"]; ok && u.Host == "" && len(hosts) > 0 && !strings.HasPrefix(hosts[0], "/") {
		// SQLAlchemy's multi-host form: ?host=h1:5432&host=h2:5432.
		list, err := hostList(strings.Join(hosts, ","))
		if err != nil {
			return nil, err
		}
		u.Host = list
		delete(q, "host")
	}
	// Prefect's (asyncpg's) statement caches: 0 means a transaction pooler
	// is in front. Not settings PostgreSQL knows, so they are not passed on.
	pooler := false
	for _, k := range []string{"statement_cache_size", "prepared_statement_cache_size"} {
		if v, ok := q[k]; ok {
			if len(v) > 0 && strings.TrimSpace(v[len(v)-1]) == "0" {
				pooler = true
			}
			delete(q, k)
		}
	}
	if asyncpg {
		if v, ok := q["ssl"]; ok {
			delete(q, "ssl")
			if _, set := q["sslmode"]; !set && len(v) > 0 {
				mode := v[len(v)-1]
				switch strings.ToLower(mode) {
				case "true":
					mode = "require"
				case "false":
					mode = "disable"
				}
				q.Set("sslmode", mode)
			}
		}
	}
	u.RawQuery = q.Encode()
	return &Target{Kind: Postgres, pgDSN: u.String(), pooler: pooler}, nil
}

// checkPort refuses a port that is not a number from 1 to 65535.
func checkPort(port string) error {
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return &fragmentError{format: "invalid port %s", fragment: port}
	}
	return nil
}

// hostList checks a comma-separated list of host[:port] (libpq's
// multi-host form) and returns it as pgx reads it.
func hostList(list string) (string, error) {
	parts := strings.Split(list, ",")
	for _, h := range parts {
		name, port := h, ""
		if i := strings.LastIndex(h, ":"); i >= 0 && !strings.HasSuffix(h, "]") {
			name, port = h[:i], h[i+1:]
		}
		if name == "" || strings.ContainsAny(name, "@/?#") {
			return "", &fragmentError{format: "invalid host %s in a host list", fragment: h}
		}
		if port != "" {
			if err := checkPort(port); err != nil {
				return "", err
			}
		}
	}
	return strings.Join(parts, ","), nil
}

// pysqliteParams are SQLAlchemy/pysqlite connect arguments that are not
// SQLite URI parameters.
func isPysqliteParam(key string) bool {
	switch key {
	case "uri", "timeout", "check_same_thread", "isolation_level", "detect_types", "cached_statements", "factory":
		return true
	}
	return false
}

// sqliteTarget builds a SQLite target from SQLAlchemy URL parts.
func sqliteTarget(p urlParts) (*Target, error) {
	if p.hasUser || p.host != "" || p.port != "" {
		return nil, errors.New("a sqlite URL has no host part: write sqlite:///relative.db or sqlite:////absolute/path.db " +
			"(three slashes, then the path)")
	}
	q, err := parseQuery(p.query)
	if err != nil {
		return nil, err
	}
	uri := false
	if v := q.Get("uri"); v != "" {
		b, err := parseBool(v)
		if err != nil {
			return nil, &fragmentError{format: "query parameter uri: %s is not a boolean", fragment: v}
		}
		uri = b
	}
	for key := range q {
		if isPysqliteParam(key) {
			delete(q, key)
		}
	}

	db := p.database
	if uri && strings.HasPrefix(strings.ToLower(db), "file:") {
		t, err := parseSQLiteURI(db)
		if err != nil {
			return nil, err
		}
		for key, vs := range q {
			for _, v := range vs {
				t.Query.Add(key, v)
			}
		}
		if t.Query.Get("mode") == "memory" {
			t.Memory = true
			if t.MemoryName == "" && t.Path != "" {
				t.MemoryName, t.Path = t.Path, ""
			}
		}
		return t, nil
	}
	if db == "" || db == ":memory:" {
		return &Target{Kind: SQLite, Memory: true, Query: q}, nil
	}
	if q.Get("mode") == "memory" {
		return &Target{Kind: SQLite, Memory: true, MemoryName: db, Query: q}, nil
	}
	return &Target{Kind: SQLite, Path: db, Query: q}, nil
}

// parseSQLiteURI parses an SQLite URI filename ("file:…",
// https://sqlite.org/uri.html): an optional empty or "localhost" authority,
// a percent-encoded path and query parameters.
func parseSQLiteURI(s string) (*Target, error) {
	rest := s[len("file:"):]
	path, rawQuery, _ := strings.Cut(rest, "?")
	path, _, _ = strings.Cut(path, "#")
	if strings.HasPrefix(path, "//") {
		auth, p, _ := strings.Cut(path[2:], "/")
		if auth != "" && !strings.EqualFold(auth, "localhost") {
			return nil, &fragmentError{format: "file URI authority %s is not supported (only empty or localhost)", fragment: auth}
		}
		path = "/" + p
	}
	dec, err := url.PathUnescape(path)
	if err != nil {
		return nil, fmt.Errorf("file URI path: %w", err)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("file URI query: %w", err)
	}
	t := &Target{Kind: SQLite, Query: q}
	switch {
	case dec == ":memory:" || dec == "":
		t.Memory = true
	case q.Get("mode") == "memory":
		t.Memory, t.MemoryName = true, dec
	default:
		t.Path = dec
	}
	if dec == "" && q.Get("mode") != "memory" {
		return nil, errors.New("file URI has no path")
	}
	return t, nil
}

// parseQuery parses a query string the way Python's urllib.parse.parse_qsl
// does by default: '&'-separated, '+' means space, blank values are dropped.
func parseQuery(raw string) (url.Values, error) {
	q := url.Values{}
	if raw == "" {
		return q, nil
	}
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, hasEq := strings.Cut(pair, "=")
		if !hasEq {
			return nil, &fragmentError{format: "query parameter %s has no value", fragment: pyUnquote(strings.ReplaceAll(k, "+", " "))}
		}
		key := pyUnquote(strings.ReplaceAll(k, "+", " "))
		val := pyUnquote(strings.ReplaceAll(v, "+", " "))
		if val == "" {
			continue
		}
		q.Add(key, val)
	}
	return q, nil
}

// pyUnquote decodes %XX escapes like Python's urllib.parse.unquote: valid
// escapes are decoded, malformed ones are kept literally, '+' is kept.
func pyUnquote(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	unhex := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	b := make([]byte, 0, len(s))
	for k := 0; k < len(s); k++ {
		if s[k] == '%' && k+2 < len(s) {
			hi, ok1 := unhex(s[k+1])
			lo, ok2 := unhex(s[k+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				k += 2
				continue
			}
		}
		b = append(b, s[k])
	}
	return string(b)
}

// fragmentError is a reason why a URL is invalid that quotes a fragment of
// the URL (a port, a parameter name). ParseURL hides the fragment when the
// URL holds a password (when Redact changes it): the fragment may be part
// of the password, since a malformed URL is not always split where its
// author meant.
type fragmentError struct {
	format   string // with one %s for the fragment
	fragment string
	hide     bool
}

// Error implements error.
func (e *fragmentError) Error() string {
	if e.hide {
		return fmt.Sprintf(e.format, "(not shown: the URL holds a password)")
	}
	return fmt.Sprintf(e.format, strconv.Quote(e.fragment))
}

// parseBool parses a boolean the way Prefect's settings (pydantic) do:
// 1/0, true/false, t/f, yes/no, y/n, on/off, in any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "t", "yes", "y", "on":
		return true, nil
	case "0", "false", "f", "no", "n", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}

// Defaults of the Options fields (Prefect's settings defaults).
const (
	// DefaultStatementTimeout is PREFECT_API_DATABASE_TIMEOUT's default.
	DefaultStatementTimeout = 10 * time.Second
	// DefaultConnectTimeout is PREFECT_API_DATABASE_CONNECTION_TIMEOUT's default.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultPoolSize is SQLAlchemy's default pool_size.
	DefaultPoolSize = 5
	// DefaultMaxOverflow is SQLAlchemy's default max_overflow.
	DefaultMaxOverflow = 10
	// DefaultApplicationName is the PostgreSQL application_name.
	DefaultApplicationName = "prefectdb"
	// DefaultBusyTimeout is the SQLite busy_timeout Prefect sets on every
	// connection (60 s outside Prefect's unit-test mode).
	DefaultBusyTimeout = 60 * time.Second
	// DefaultPoolTimeout is how long an operation waits for a free pooled
	// connection before it fails (SQLAlchemy's pool_timeout).
	DefaultPoolTimeout = 30 * time.Second
	// DefaultPoolRecycle is the age at which a connection is closed
	// (PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_RECYCLE's default).
	DefaultPoolRecycle = time.Hour
)

// Options configures a database connection pool. The zero value of each
// field means "use the default" (see WithDefaults); for the durations and
// MaxOverflow a negative value means "none".
type Options struct {
	// StatementTimeout bounds each statement (PREFECT_API_DATABASE_TIMEOUT,
	// default 10 s). PostgreSQL: the server's statement_timeout. SQLite:
	// not used (Prefect's equivalent, pysqlite's lock-wait timeout, is
	// overridden there by the busy_timeout pragma; see BusyTimeout).
	// Negative: no timeout.
	StatementTimeout time.Duration
	// ConnectTimeout bounds establishing a connection
	// (PREFECT_API_DATABASE_CONNECTION_TIMEOUT, default 5 s). PostgreSQL
	// only. Negative: no timeout.
	ConnectTimeout time.Duration
	// PoolSize is the number of connections kept open
	// (PREFECT_SQLALCHEMY_POOL_SIZE, default 5).
	PoolSize int
	// MaxOverflow is how many connections may be opened beyond PoolSize
	// (PREFECT_SQLALCHEMY_MAX_OVERFLOW, default 10). Negative: none.
	MaxOverflow int
	// ApplicationName is PostgreSQL's application_name (default
	// "prefectdb"); an application_name in the URL takes precedence.
	ApplicationName string
	// BusyTimeout is SQLite's busy_timeout: how long a statement waits for
	// a lock held by another connection (default 60 s, like Prefect).
	// Negative: do not wait.
	BusyTimeout time.Duration
	// PoolTimeout bounds the wait for a free connection when every pooled
	// connection is in use (default 30 s, as SQLAlchemy's pool_timeout);
	// then the operation fails with a *PoolTimeoutError instead of waiting
	// on. PostgreSQL only. Negative: wait as long as the context allows.
	PoolTimeout time.Duration
	// Logger receives echo output and driver warnings. Default:
	// slog.Default() at the time WithDefaults runs.
	Logger *slog.Logger
	// Echo logs every SQL statement at debug level, with the number of its
	// arguments but not their values, which may be secrets or personal data
	// (PREFECT_SERVER_DATABASE_ECHO).
	Echo bool
	// EchoValues makes Echo log the arguments' values too. Off unless asked
	// for.
	EchoValues bool

	// TransactionPooler says that a pooler in transaction mode (PgBouncer
	// before 1.21) sits between prefectdb and PostgreSQL: statements run
	// without named server-side prepared statements (pgx's exec mode), and
	// only the startup parameters a pooler carries (application_name,
	// TimeZone) are sent. Prefect's way to say it, statement_cache_size=0
	// or prepared_statement_cache_size=0 (in the URL, or as
	// PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_*), turns it on too.
	// PostgreSQL only.
	TransactionPooler bool
	// SearchPath is PostgreSQL's search_path for every connection
	// (PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_SEARCH_PATH), e.g.
	// "prefect, public" to keep Prefect's tables in the schema prefect.
	// Empty: the server's default. Behind a transaction pooler it cannot
	// be sent per connection: set it for the role on the server instead.
	SearchPath string
	// TLS configures TLS to PostgreSQL the way Prefect's
	// PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_* settings do.
	// When TLS.Enabled is false, the URL's sslmode, sslrootcert, sslcert
	// and sslkey apply (libpq's names).
	TLS TLSOptions
	// MigrationTimeout bounds each statement of a migration on PostgreSQL
	// (PREFECT_SERVER_DATABASE_MIGRATION_TIMEOUT); 0, the default, means
	// none: creating an index on a large table may take long.
	MigrationTimeout time.Duration
	// PoolRecycle closes a connection once it is this old
	// (PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_RECYCLE, default 3600 s).
	// PostgreSQL only. Negative: never.
	PoolRecycle time.Duration
	// TracerProvider, when set, receives OpenTelemetry spans for
	// transactions and statements (the statement text, never the values of
	// its parameters). Nil: no tracing.
	TracerProvider trace.TracerProvider
	// MeterProvider, when set, receives the connection pool's metrics.
	// Nil: no metrics.
	MeterProvider metric.MeterProvider
}

// TLSOptions is TLS to PostgreSQL as Prefect configures it: the server's
// certificate is always verified (against CAFile, or the system's roots),
// and so is its host name unless SkipHostnameCheck; TLS 1.2 at least; a
// client certificate when CertFile and KeyFile are set.
type TLSOptions struct {
	// Enabled turns TLS on (..._TLS_ENABLED).
	Enabled bool
	// CAFile is the PEM file of the certificate authorities to trust
	// (..._TLS_CA_FILE); empty: the system's.
	CAFile string
	// CertFile and KeyFile are the client certificate and its key
	// (..._TLS_CERT_FILE, ..._TLS_KEY_FILE), for mutual TLS.
	CertFile, KeyFile string
	// SkipHostnameCheck verifies the certificate chain but not that it
	// names the host (..._TLS_CHECK_HOSTNAME=false).
	SkipHostnameCheck bool
}

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.StatementTimeout == 0 {
		o.StatementTimeout = DefaultStatementTimeout
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.PoolSize <= 0 {
		o.PoolSize = DefaultPoolSize
	}
	if o.MaxOverflow == 0 {
		o.MaxOverflow = DefaultMaxOverflow
	}
	if o.ApplicationName == "" {
		o.ApplicationName = DefaultApplicationName
	}
	if o.PoolTimeout == 0 {
		o.PoolTimeout = DefaultPoolTimeout
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	if o.PoolRecycle == 0 {
		o.PoolRecycle = DefaultPoolRecycle
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// MaxOpenConns returns the pool's connection limit, PoolSize + MaxOverflow
// (a negative MaxOverflow counts as 0), after applying the defaults: 15 by
// default.
func (o Options) MaxOpenConns() int {
	o = o.WithDefaults()
	return o.PoolSize + max(o.MaxOverflow, 0)
}

// OptionsFromEnv reads Prefect's database settings through getenv (pass
// os.Getenv) and returns them with the defaults applied:
//
//   - PREFECT_SERVER_DATABASE_TIMEOUT: StatementTimeout, seconds (float);
//   - PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT: ConnectTimeout, seconds (float);
//   - PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE: PoolSize (integer ≥ 1);
//   - PREFECT_SERVER_DATABASE_SQLALCHEMY_MAX_OVERFLOW: MaxOverflow (integer
//     ≥ 0; 0 means no overflow);
//   - PREFECT_SERVER_DATABASE_ECHO: Echo (true/false, 1/0, yes/no, on/off);
//   - PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_TIMEOUT: PoolTimeout, seconds;
//   - PREFECT_SERVER_DATABASE_MIGRATION_TIMEOUT: MigrationTimeout, seconds;
//   - PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_RECYCLE: PoolRecycle, whole
//     seconds (-1: never);
//   - PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_APPLICATION_NAME,
//     _SEARCH_PATH: ApplicationName, SearchPath;
//   - ..._CONNECT_ARGS_STATEMENT_CACHE_SIZE or
//     _PREPARED_STATEMENT_CACHE_SIZE = 0: TransactionPooler;
//   - ..._CONNECT_ARGS_TLS_ENABLED, _TLS_CA_FILE, _TLS_CERT_FILE,
//     _TLS_KEY_FILE, _TLS_CHECK_HOSTNAME: TLS.
//
// Each is also read under its older name, as Prefect does
// (PREFECT_API_DATABASE_TIMEOUT, PREFECT_SQLALCHEMY_POOL_SIZE, ...); the
// newer name wins when both are set. Unset or empty variables keep the defaults. Timeouts must be positive.
// Errors name the variable.
func OptionsFromEnv(getenv func(string) string) (Options, error) {
	var o Options
	// Each setting has Prefect's name since 3.1 (PREFECT_SERVER_DATABASE_*)
	// and its older alias; the newer name wins, as in Prefect.
	lookup := func(names ...string) (name, value string) {
		for _, n := range names {
			if v := strings.TrimSpace(getenv(n)); v != "" {
				return n, v
			}
		}
		return names[0], ""
	}
	seconds := func(names ...string) (time.Duration, error) {
		name, v := lookup(names...)
		if v == "" {
			return 0, nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("%s=%q: not a number of seconds: %w", name, v, err)
		}
		if !(f > 0) || f > float64(1<<63-1)/float64(time.Second) {
			return 0, fmt.Errorf("%s=%q: must be a positive number of seconds", name, v)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	integer := func(min int, names ...string) (int, bool, error) {
		name, v := lookup(names...)
		if v == "" {
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, false, fmt.Errorf("%s=%q: not an integer: %w", name, v, err)
		}
		if n < min {
			return 0, false, fmt.Errorf("%s=%q: must be at least %d", name, v, min)
		}
		return n, true, nil
	}

	var err error
	if o.StatementTimeout, err = seconds("PREFECT_SERVER_DATABASE_TIMEOUT", "PREFECT_API_DATABASE_TIMEOUT"); err != nil {
		return Options{}, err
	}
	if o.ConnectTimeout, err = seconds("PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT", "PREFECT_API_DATABASE_CONNECTION_TIMEOUT"); err != nil {
		return Options{}, err
	}
	if o.PoolSize, _, err = integer(1, "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE", "PREFECT_SQLALCHEMY_POOL_SIZE"); err != nil {
		return Options{}, err
	}
	overflow, set, err := integer(0, "PREFECT_SERVER_DATABASE_SQLALCHEMY_MAX_OVERFLOW", "PREFECT_SQLALCHEMY_MAX_OVERFLOW")
	if err != nil {
		return Options{}, err
	}
	if set {
		o.MaxOverflow = overflow
		if overflow == 0 {
			o.MaxOverflow = -1 // explicit zero: no overflow
		}
	}
	if name, v := lookup("PREFECT_SERVER_DATABASE_ECHO", "PREFECT_API_DATABASE_ECHO"); v != "" {
		if o.Echo, err = parseBool(v); err != nil {
			return Options{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	if o.PoolTimeout, err = seconds("PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_TIMEOUT"); err != nil {
		return Options{}, err
	}
	if o.MigrationTimeout, err = seconds("PREFECT_SERVER_DATABASE_MIGRATION_TIMEOUT"); err != nil {
		return Options{}, err
	}
	if name, v := lookup("PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_RECYCLE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return Options{}, fmt.Errorf("%s=%q: not a whole number of seconds: %w", name, v, err)
		}
		o.PoolRecycle = time.Duration(n) * time.Second
		if n <= 0 {
			o.PoolRecycle = -1 // -1 (or 0): never recycle
		}
	}
	const connectArgs = "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_"
	_, o.ApplicationName = lookup(connectArgs + "APPLICATION_NAME")
	_, o.SearchPath = lookup(connectArgs + "SEARCH_PATH")
	for _, name := range []string{connectArgs + "STATEMENT_CACHE_SIZE", connectArgs + "PREPARED_STATEMENT_CACHE_SIZE"} {
		if n, set, err := integer(0, name); err != nil {
			return Options{}, err
		} else if set && n == 0 {
			o.TransactionPooler = true
		}
	}
	flag := func(name string, def bool) (bool, error) {
		if _, v := lookup(name); v != "" {
			b, err := parseBool(v)
			if err != nil {
				return false, fmt.Errorf("%s: %w", name, err)
			}
			return b, nil
		}
		return def, nil
	}
	if o.TLS.Enabled, err = flag(connectArgs+"TLS_ENABLED", false); err != nil {
		return Options{}, err
	}
	checkHostname, err := flag(connectArgs+"TLS_CHECK_HOSTNAME", true)
	if err != nil {
		return Options{}, err
	}
	o.TLS.SkipHostnameCheck = !checkHostname
	_, o.TLS.CAFile = lookup(connectArgs + "TLS_CA_FILE")
	_, o.TLS.CertFile = lookup(connectArgs + "TLS_CERT_FILE")
	_, o.TLS.KeyFile = lookup(connectArgs + "TLS_KEY_FILE")
	return o.WithDefaults(), nil
}
