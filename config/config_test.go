package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseURLPostgres(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw      string
		dsn      string
		redacted string
	}{
		{
			raw:      "postgresql+asyncpg://prefect:s3cr3t@db.example.com:5433/prefect",
			dsn:      "postgres://prefect:s3cr3t@db.example.com:5433/prefect",
			redacted: "postgresql+asyncpg://prefect:xxxxx@db.example.com:5433/prefect",
		},
		{
			raw:      "postgresql+asyncpg://prefect:s3cr3t@db:5432/prefect?ssl=require",
			dsn:      "postgres://prefect:s3cr3t@db:5432/prefect?sslmode=require",
			redacted: "postgresql+asyncpg://prefect:xxxxx@db:5432/prefect?ssl=require",
		},
		{
			raw: "postgresql+asyncpg://u:pw@h/db?ssl=true&prepared_statement_cache_size=100",
			dsn: "postgres://u:pw@h/db?sslmode=require",
		},
		{
			raw:      "postgresql://u:pw@localhost/postgres",
			dsn:      "postgres://u:pw@localhost/postgres",
			redacted: "postgresql://u:xxxxx@localhost/postgres",
		},
		{
			raw:      "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&application_name=x",
			dsn:      "postgres://postgres@127.0.0.1:5432/postgres?application_name=x&sslmode=disable",
			redacted: "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&application_name=x",
		},
		{
			// ssl is only renamed for asyncpg URLs.
			raw: "postgresql://u@h/db?sslmode=verify-full",
			dsn: "postgres://u@h/db?sslmode=verify-full",
		},
		{
			raw:      "postgresql+asyncpg://u:p%40ss%2Fw@h:5432/db",
			dsn:      "postgres://u:p%40ss%2Fw@h:5432/db",
			redacted: "postgresql+asyncpg://u:xxxxx@h:5432/db",
		},
		{
			raw: "postgresql://u:p@[::1]:5432/db",
			dsn: "postgres://u:p@[::1]:5432/db",
		},
		{
			raw: "postgresql+asyncpg:///prefect",
			dsn: "postgres:///prefect",
		},
		{
			raw: "POSTGRESQL+ASYNCPG://u@h/db",
			dsn: "postgres://u@h/db",
		},
		{
			raw:      "postgres://u@h/db?password=topsecret&sslpassword=alsosecret",
			dsn:      "postgres://u@h/db?password=topsecret&sslpassword=alsosecret",
			redacted: "postgres://u@h/db?password=xxxxx&sslpassword=xxxxx",
		},
	}
	for _, c := range cases {
		target, err := ParseURL(c.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", c.raw, err)
			continue
		}
		if target.Kind != Postgres || target.IsInMemory() {
			t.Errorf("ParseURL(%q): kind %q, in-memory %v", c.raw, target.Kind, target.IsInMemory())
		}
		if got := target.PostgresDSN(); got != c.dsn {
			t.Errorf("ParseURL(%q).PostgresDSN() = %q, want %q", c.raw, got, c.dsn)
		}
		if c.redacted != "" && target.Redacted() != c.redacted {
			t.Errorf("ParseURL(%q).Redacted() = %q, want %q", c.raw, target.Redacted(), c.redacted)
		}
	}
}

// TestParseURLPostgresPasswordCharacters checks SQLAlchemy's splitting: the
// password runs to the first '@' and may hold '/', '?' and ':'; the pgx DSN
// carries it percent-encoded.
func TestParseURLPostgresPasswordCharacters(t *testing.T) {
	t.Parallel()
	const password = "pa/ss?w:rd%zz#"
	raw := "postgresql+asyncpg://prefect:" + password + "@db.internal:6543/prefect?sslmode=require"
	target, err := ParseURL(raw)
	if err != nil {
		t.Fatalf("ParseURL: %v", err)
	}
	u, err := url.Parse(target.PostgresDSN())
	if err != nil {
		t.Fatalf("DSN does not parse: %v", err)
	}
	pw, _ := u.User.Password()
	if u.User.Username() != "prefect" || pw != password || u.Host != "db.internal:6543" || u.Path != "/prefect" ||
		u.Query().Get("sslmode") != "require" {
		t.Errorf("DSN %q parsed to user %q password %q host %q path %q query %q",
			target.PostgresDSN(), u.User.Username(), pw, u.Host, u.Path, u.RawQuery)
	}
	if r := target.Redacted(); strings.Contains(r, "pa/ss") || !strings.Contains(r, "xxxxx") {
		t.Errorf("Redacted() = %q", r)
	}
}

func TestParseURLSQLite(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw        string
		path       string
		memory     bool
		memoryName string
		query      url.Values
	}{
		{raw: "sqlite+aiosqlite:////root/.prefect/prefect.db", path: "/root/.prefect/prefect.db"},
		{raw: "sqlite+aiosqlite:///abs/path.db", path: "abs/path.db"}, // three slashes: relative
		{raw: "sqlite:///rel.db", path: "rel.db"},
		{raw: "sqlite:////abs/path.db", path: "/abs/path.db"},
		{raw: "sqlite+aiosqlite:///:memory:", memory: true},
		{raw: "sqlite:///:memory:", memory: true},
		{raw: "sqlite://", memory: true},
		{raw: "sqlite:///", memory: true},
		{
			raw:    "sqlite+aiosqlite:///file::memory:?cache=shared&uri=true&check_same_thread=false",
			memory: true,
			query:  url.Values{"cache": {"shared"}},
		},
		{
			raw:   "sqlite:///file:data.db?mode=ro&uri=true",
			path:  "data.db",
			query: url.Values{"mode": {"ro"}},
		},
		{
			raw:        "sqlite:///file:shared?mode=memory&cache=shared&uri=true",
			memory:     true,
			memoryName: "shared",
			query:      url.Values{"mode": {"memory"}, "cache": {"shared"}},
		},
		{raw: "sqlite:///prefect.db?timeout=30&check_same_thread=false", path: "prefect.db"},
		{raw: "sqlite:///prefect.db?_txlock=immediate", path: "prefect.db", query: url.Values{"_txlock": {"immediate"}}},
		{raw: "file:path.db", path: "path.db"},
		{raw: "file:/abs/path.db?mode=rw", path: "/abs/path.db", query: url.Values{"mode": {"rw"}}},
		{raw: "file:///abs/path.db", path: "/abs/path.db"},
		{raw: "file://localhost/abs/path.db", path: "/abs/path.db"},
		{raw: "file:a%20b.db", path: "a b.db"},
		{raw: "file:path?mode=memory", memory: true, memoryName: "path", query: url.Values{"mode": {"memory"}}},
		{raw: "file::memory:", memory: true},
		{raw: "file::memory:?cache=shared", memory: true, query: url.Values{"cache": {"shared"}}},
		{raw: "/var/lib/prefect/prefect.db", path: "/var/lib/prefect/prefect.db"},
		{raw: "prefect.sqlite", path: "prefect.sqlite"},
		{raw: "data/x.SQLITE3", path: "data/x.SQLITE3"},
		{raw: ":memory:", memory: true},
	}
	for _, c := range cases {
		target, err := ParseURL(c.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", c.raw, err)
			continue
		}
		if target.Kind != SQLite {
			t.Errorf("ParseURL(%q).Kind = %q", c.raw, target.Kind)
		}
		if target.Path != c.path || target.Memory != c.memory || target.MemoryName != c.memoryName ||
			target.IsInMemory() != c.memory {
			t.Errorf("ParseURL(%q) = path %q memory %v name %q; want %q %v %q",
				c.raw, target.Path, target.Memory, target.MemoryName, c.path, c.memory, c.memoryName)
		}
		want := c.query
		if want == nil {
			want = url.Values{}
		}
		if target.Query.Encode() != want.Encode() {
			t.Errorf("ParseURL(%q).Query = %v, want %v", c.raw, target.Query, want)
		}
		if target.PostgresDSN() != "" {
			t.Errorf("ParseURL(%q) has a PostgreSQL DSN", c.raw)
		}
		if target.Redacted() != c.raw {
			t.Errorf("ParseURL(%q).Redacted() = %q", c.raw, target.Redacted())
		}
	}
}

func TestParseURLUnsupportedDialect(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"mysql+aiomysql://root:hunter2@localhost:3306/prefect",
		"mysql://root:hunter2@localhost/prefect",
		"mssql+pyodbc://sa:hunter2@server/db",
		"postgresql+psycopg2://u:hunter2@h/db",
		"redis:hunter2",
	} {
		_, err := ParseURL(raw)
		var ue *UnsupportedDialectError
		if !errors.As(err, &ue) {
			t.Errorf("ParseURL(%q) error = %v (%T), want *UnsupportedDialectError", raw, err, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, ue.Scheme) || !strings.Contains(msg, "postgresql+asyncpg://") ||
			!strings.Contains(msg, "sqlite+aiosqlite://") {
			t.Errorf("ParseURL(%q) message does not name the scheme and the supported forms: %s", raw, msg)
		}
		if strings.Contains(msg, "hunter2") && !strings.HasPrefix(raw, "redis:") {
			t.Errorf("ParseURL(%q) error leaks the password: %s", raw, msg)
		}
	}
	_, err := ParseURL("mysql+aiomysql://root:hunter2@localhost/prefect")
	var ue *UnsupportedDialectError
	if errors.As(err, &ue) && ue.Scheme != "mysql+aiomysql" {
		t.Errorf("Scheme = %q, want mysql+aiomysql", ue.Scheme)
	}
}

func TestParseURLInvalid(t *testing.T) {
	t.Parallel()
	const secret = "Sup3rS3cret"
	cases := []string{
		"",
		"   ",
		"prefect.txt",
		"://u:" + secret + "@h/db",
		"postgresql:/u:" + secret + "@h/db",
		"postgresql://u:" + secret + "@h:port/db",
		"postgresql://u:" + secret + "@h:99999/db",
		"postgresql://u:" + secret + "@x@h/db",      // unescaped '@' in the password
		"postgresql://u:" + secret + "@h/db?flag",   // parameter without a value
		"sqlite://u:" + secret + "@prefect.db",      // sqlite URLs have no host
		"sqlite://prefect.db",                       // SQLAlchemy would silently use memory
		"sqlite:///file:x.db?uri=maybe&k=" + secret, // bad boolean
		"file://otherhost/x.db",
		"file:x.db?a=%zz",
		"1abc://u:" + secret + "@h",
		"host=h user=u password=" + secret + "://x dbname=d", // key=value, "://" in the password
		"host=h password='" + secret + " x://y'",
	}
	for _, raw := range cases {
		target, err := ParseURL(raw)
		if err == nil {
			t.Errorf("ParseURL(%q) = %v, want an error", raw, target)
			continue
		}
		var ie *InvalidURLError
		if !errors.As(err, &ie) {
			t.Errorf("ParseURL(%q) error = %v (%T), want *InvalidURLError", raw, err, err)
		}
		if strings.Contains(err.Error(), secret) && !strings.Contains(raw, "uri=maybe") {
			t.Errorf("ParseURL(%q) error leaks the password: %v", raw, err)
		}
		if errors.Unwrap(err) == nil {
			t.Errorf("ParseURL(%q) error %v wraps nothing", raw, err)
		}
	}
}

func TestTargetNeverPrintsPassword(t *testing.T) {
	t.Parallel()
	const secret = "n0t-f0r-l0gs"
	target, err := ParseURL("postgresql+asyncpg://prefect:" + secret + "@db:5432/prefect?password=" + secret)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("connecting", "target", target, "value", *target)
	js, err := json.Marshal(target)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":  fmt.Sprintf("%v", target),
		"%+v": fmt.Sprintf("%+v", target),
		"%#v": fmt.Sprintf("%#v", target),
		//lint:ignore S1025 the test checks what the %s verb prints
		"%s":       fmt.Sprintf("%s", target),
		"value %v": fmt.Sprintf("%v", *target),
		"value +v": fmt.Sprintf("%+v", *target),
		"value #v": fmt.Sprintf("%#v", *target),
		"Redacted": target.Redacted(),
		"slog":     logBuf.String(),
		"json":     string(js),
	}
	for name, out := range outputs {
		if strings.Contains(out, secret) {
			t.Errorf("%s leaks the password: %s", name, out)
		}
	}
	if want := "postgresql+asyncpg://prefect:xxxxx@db:5432/prefect?password=xxxxx"; target.Redacted() != want {
		t.Errorf("Redacted() = %q, want %q", target.Redacted(), want)
	}
	if !strings.Contains(target.PostgresDSN(), secret) {
		t.Error("PostgresDSN lost the password")
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"postgresql://u:pw@h/db":                 "postgresql://u:xxxxx@h/db",
		"postgresql://u@h/db":                    "postgresql://u@h/db",
		"postgresql://u:p@ss@h/db":               "postgresql://u:xxxxx@h/db",
		"postgresql://u:p/a?s:s@h/db?x=1":        "postgresql://u:xxxxx@h/db?x=1",
		"mysql://root:hunter2@localhost":         "mysql://root:xxxxx@localhost",
		"postgres://h/db?password=pw&sslmode=x":  "postgres://h/db?password=xxxxx&sslmode=x",
		"postgres://h/db?sslmode=x&PASSWORD=pw":  "postgres://h/db?sslmode=x&PASSWORD=xxxxx",
		"sqlite:///x.db":                         "sqlite:///x.db",
		"garbage":                                "garbage",
		"://:pw@":                                "://:xxxxx@",
		"postgres://u:pw@h/db?password=pw2#frag": "postgres://u:xxxxx@h/db?password=xxxxx",
		"postgres://u@h/db?password=a;b&x=1":     "postgres://u@h/db?password=xxxxx&x=1",
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKindEntDialect(t *testing.T) {
	t.Parallel()
	if Postgres.EntDialect() != "postgres" || SQLite.EntDialect() != "sqlite3" || Kind("x").EntDialect() != "" {
		t.Error("EntDialect names are wrong")
	}
}

func TestOptionsDefaults(t *testing.T) {
	t.Parallel()
	o := Options{}.WithDefaults()
	if o.StatementTimeout != 10*time.Second || o.ConnectTimeout != 5*time.Second || o.PoolSize != 5 ||
		o.MaxOverflow != 10 || o.ApplicationName != "prefectdb" || o.BusyTimeout != 60*time.Second ||
		o.Logger == nil || o.Echo {
		t.Errorf("defaults: %+v", o)
	}
	if n := (Options{}).MaxOpenConns(); n != 15 {
		t.Errorf("default MaxOpenConns = %d, want 15", n)
	}
	if n := (Options{PoolSize: 3, MaxOverflow: -1}).MaxOpenConns(); n != 3 {
		t.Errorf("MaxOpenConns without overflow = %d, want 3", n)
	}
	kept := Options{StatementTimeout: -1, ApplicationName: "svc", PoolSize: 2, MaxOverflow: 1}.WithDefaults()
	if kept.StatementTimeout != -1 || kept.ApplicationName != "svc" || kept.PoolSize != 2 || kept.MaxOverflow != 1 {
		t.Errorf("explicit values not kept: %+v", kept)
	}
}

func TestOptionsFromEnv(t *testing.T) {
	t.Parallel()
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}

	o, err := OptionsFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if o.StatementTimeout != 10*time.Second || o.ConnectTimeout != 5*time.Second || o.PoolSize != 5 ||
		o.MaxOverflow != 10 || o.Echo || o.MaxOpenConns() != 15 {
		t.Errorf("empty environment: %+v", o)
	}

	o, err = OptionsFromEnv(env(map[string]string{
		"PREFECT_API_DATABASE_TIMEOUT":            "2.5",
		"PREFECT_API_DATABASE_CONNECTION_TIMEOUT": "0.25",
		"PREFECT_SQLALCHEMY_POOL_SIZE":            "20",
		"PREFECT_SQLALCHEMY_MAX_OVERFLOW":         "0",
		"PREFECT_API_DATABASE_ECHO":               "True",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if o.StatementTimeout != 2500*time.Millisecond || o.ConnectTimeout != 250*time.Millisecond ||
		o.PoolSize != 20 || o.MaxOpenConns() != 20 || !o.Echo {
		t.Errorf("from environment: %+v (max open %d)", o, o.MaxOpenConns())
	}

	o, err = OptionsFromEnv(env(map[string]string{
		"PREFECT_API_DATABASE_TIMEOUT":    "60",
		"PREFECT_SQLALCHEMY_MAX_OVERFLOW": "7",
		"PREFECT_API_DATABASE_ECHO":       "off",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if o.StatementTimeout != time.Minute || o.MaxOpenConns() != 12 || o.Echo {
		t.Errorf("from environment: %+v", o)
	}

	bad := []map[string]string{
		{"PREFECT_API_DATABASE_TIMEOUT": "abc"},
		{"PREFECT_API_DATABASE_TIMEOUT": "0"},
		{"PREFECT_API_DATABASE_TIMEOUT": "-1"},
		{"PREFECT_API_DATABASE_TIMEOUT": "NaN"},
		{"PREFECT_API_DATABASE_CONNECTION_TIMEOUT": "1e300"},
		{"PREFECT_SQLALCHEMY_POOL_SIZE": "0"},
		{"PREFECT_SQLALCHEMY_POOL_SIZE": "five"},
		{"PREFECT_SQLALCHEMY_MAX_OVERFLOW": "-1"},
		{"PREFECT_API_DATABASE_ECHO": "maybe"},
	}
	for _, m := range bad {
		_, err := OptionsFromEnv(env(m))
		if err == nil {
			t.Errorf("OptionsFromEnv(%v) succeeded", m)
			continue
		}
		for k := range m {
			if !strings.Contains(err.Error(), k) {
				t.Errorf("OptionsFromEnv(%v) error %q does not name the variable", m, err)
			}
		}
	}
}

// TestOptionsFromEnvConnectArgs: Prefect's newer database settings (3.x):
// migration timeout, pool timeout and recycle, and the SQLAlchemy connect
// args (application name, search path, statement caches, TLS).
func TestOptionsFromEnvConnectArgs(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"PREFECT_SERVER_DATABASE_MIGRATION_TIMEOUT":                                     "600",
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_TIMEOUT":                               "7.5",
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_RECYCLE":                               "-1",
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_APPLICATION_NAME":              "worker-7",
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_SEARCH_PATH":                   "prefect, public",
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_PREPARED_STATEMENT_CACHE_SIZE": "0",
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_ENABLED":                   "true",
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_CA_FILE":                   "/ca.pem",
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_CHECK_HOSTNAME":            "false",
	}
	o, err := OptionsFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := TLSOptions{Enabled: true, CAFile: "/ca.pem", SkipHostnameCheck: true}
	if o.MigrationTimeout != 10*time.Minute || o.PoolTimeout != 7500*time.Millisecond || o.PoolRecycle >= 0 ||
		o.ApplicationName != "worker-7" || o.SearchPath != "prefect, public" || !o.TransactionPooler || o.TLS != want {
		t.Errorf("OptionsFromEnv = %+v", o)
	}
	for name, bad := range map[string]string{
		"PREFECT_SERVER_DATABASE_MIGRATION_TIMEOUT":                            "soon",
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_RECYCLE":                      "1.5",
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_ENABLED":          "perhaps",
		"PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_STATEMENT_CACHE_SIZE": "-1",
	} {
		if _, err := OptionsFromEnv(func(k string) string {
			if k == name {
				return bad
			}
			return ""
		}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v; want an error naming the variable", name, bad, err)
		}
	}
}
