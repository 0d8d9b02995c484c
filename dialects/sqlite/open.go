// This file opens prefectdb's SQLite databases with modernc.org/sqlite
// (pure Go, no cgo), configured the way Prefect configures its SQLite
// engine (prefect_semantics.md §3.5):
//
//   - every new connection runs PRAGMA busy_timeout (60 s by default),
//     foreign_keys=ON, journal_mode=WAL (file databases only),
//     synchronous=NORMAL, cache_size=20000 and legacy_alter_table=OFF;
//   - and, beyond Prefect's settings, wal_autocheckpoint=WALAutocheckpoint
//     (file databases);
//   - bound time.Time, uuid.UUID and types.Interval values are stored in
//     Prefect's text forms (see ConvertValue);
//   - the SQLite library must be at least MinSQLiteVersion.
//
// Hand the result to Ent with entsql.OpenDB(EntDialect, db).

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/uuid"
	modernc "modernc.org/sqlite"

	"github.com/prefectdb/prefectdb/config"
)

// EntDialect is the name of Ent's SQLite dialect (entgo.io/ent/dialect.SQLite).
// modernc registers its database/sql driver as "sqlite", which Ent does not
// know, so always open with sql.OpenDB/Open and pass EntDialect explicitly.
const EntDialect = "sqlite3"

// MinSQLiteVersion is the oldest SQLite library prefectdb accepts: 3.35.0,
// the first with RETURNING, which the scheduled-run insert and the
// notification queue use (Prefect requires 3.24.0, the first with UPSERT).
// The library linked into prefectdb is far newer; the check guards builds
// that link another one.
const MinSQLiteVersion = "3.35.0"

// CacheSize is the cache_size pragma Prefect sets on every connection, in
// pages. prefectdb sets it on the connections of the pool Open returns.
const CacheSize = 20000

// WriterCacheSize is the cache_size, in pages, of the one writer connection
// that EntDriver opens beside the pool. Prefect's 20,000 pages cost about
// 160 MiB on one connection here, because modernc's allocator rounds each
// 4 KiB page with its header up to 8 KiB, and bulk ingest fills the cache
// with index pages it will not read again: 1M log rows peaked at 190 MiB of
// RSS with 20,000 pages and at 65 MiB with 4,000. No workload of prefectdb
// bench ran slower with 4,000 (2026-12-07). Pages that drop out of this
// cache are still in the operating system's page cache.
const WriterCacheSize = 4000

// WALAutocheckpoint is the wal_autocheckpoint pragma prefectdb sets on the
// connections of file databases, in pages: a commit that leaves the
// write-ahead log longer than this copies it back into the database file
// (a checkpoint). SQLite's default, which Prefect keeps, is 1,000 pages
// (4 MiB). Write-heavy work changes the same index pages in commit after
// commit; with a longer log each page is copied back once per checkpoint
// instead of once every few commits, and fewer commits wait for a
// checkpoint: in prefectdb bench (2026-12-07, 2 rounds) log ingestion rose
// from 1.03 to 1.14 times the baseline, events from 1.42 to 1.72,
// transitions from 1.37 to 1.52, scheduling from 1.01 to 1.17. The log
// file then grows to about 40 MiB (10,000 pages of 4 KiB) between
// checkpoints and keeps that size. A URL that sets the pragma itself
// (_pragma=wal_autocheckpoint(N)) keeps its own value.
const WALAutocheckpoint = 10000

// VersionError reports an SQLite library older than MinSQLiteVersion.
type VersionError struct {
	// Found is the version of the linked library (sqlite_version()).
	Found string
	// Required is MinSQLiteVersion.
	Required string
}

// Error implements error.
func (e *VersionError) Error() string {
	return fmt.Sprintf("prefectdb requires sqlite >= %s but found version %s", e.Required, e.Found)
}

// Open opens the SQLite database described by t and returns a pool of
// connections configured like Prefect's SQLite engine.
//
//   - File databases: the path is made absolute (relative to the current
//     working directory, as SQLAlchemy does) and opened as an SQLite URI
//     with t.Query passed on; the file is created if missing (its directory
//     must exist). journal_mode=WAL is set unless the URI asks for a
//     read-only (mode=ro) or immutable database.
//   - In-memory databases are one database shared by all connections of the
//     pool: "file:<name>?mode=memory&cache=shared", with t.MemoryName as the
//     name or, for anonymous ones (":memory:", "sqlite://"), a unique name,
//     so each Open gives a fresh database. The connector holds one extra
//     connection open until the *sql.DB is closed, so the database does not
//     vanish when the pool happens to close its last connection.
//
// Pool limits: MaxOpenConns = o.PoolSize + o.MaxOverflow, MaxIdleConns =
// o.PoolSize, no idle or lifetime limit. Open connects once to check the
// library version (MinSQLiteVersion); an older library gives *VersionError.
// Closing the returned *sql.DB releases everything.
func Open(ctx context.Context, t *config.Target, o config.Options) (*sql.DB, error) {
	return open(ctx, t, o, CacheSize)
}

// open is Open with cacheSize pages of cache on each connection.
func open(ctx context.Context, t *config.Target, o config.Options, cacheSize int) (*sql.DB, error) {
	if t == nil {
		return nil, errors.New("sqlite: open: nil target")
	}
	if t.Kind != config.SQLite {
		return nil, fmt.Errorf("sqlite: open %s: not an SQLite URL (dialect %q)", t.Redacted(), t.Kind)
	}
	o = o.WithDefaults()

	dsn, err := buildDSN(t)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", t.Redacted(), err)
	}
	base, err := modernc.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", t.Redacted(), err)
	}
	c := &connector{
		base:    base,
		pragmas: connectionPragmas(o, t.IsInMemory() || isReadOnly(t.Query), setsPragma(t.Query, "wal_autocheckpoint"), cacheSize),
		logger:  o.Logger,
		echo:    o.Echo,
		values:  o.EchoValues,
	}
	if o.TracerProvider != nil {
		c.tracer = o.TracerProvider.Tracer(tracerName)
	}
	if t.IsInMemory() {
		if err := c.keepAlive(ctx); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", t.Redacted(), err)
		}
	}

	db := sql.OpenDB(c)
	db.SetMaxOpenConns(o.MaxOpenConns())
	db.SetMaxIdleConns(o.PoolSize)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	var version string
	if err := db.QueryRowContext(ctx, "select sqlite_version()").Scan(&version); err != nil {
		_ = db.Close()
		return nil, openError(t.Redacted(), err)
	}
	if err := CheckVersion(version); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// CheckVersion returns a *VersionError if version (as reported by
// sqlite_version()) is older than MinSQLiteVersion, or an error if it cannot
// be parsed.
func CheckVersion(version string) error {
	have, err := parseVersion(version)
	if err != nil {
		return fmt.Errorf("sqlite: library version: %w", err)
	}
	need, err := parseVersion(MinSQLiteVersion)
	if err != nil {
		return fmt.Errorf("sqlite: minimum version: %w", err)
	}
	for k := range have {
		if have[k] != need[k] {
			if have[k] < need[k] {
				return &VersionError{Found: version, Required: MinSQLiteVersion}
			}
			return nil
		}
	}
	return nil
}

// parseVersion parses "X.Y.Z" (missing parts are 0).
func parseVersion(v string) ([3]int, error) {
	var out [3]int
	parts := strings.Split(strings.TrimSpace(v), ".")
	if len(parts) == 0 || len(parts) > 3 {
		return out, fmt.Errorf("malformed version %q", v)
	}
	for k, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, fmt.Errorf("malformed version %q", v)
		}
		out[k] = n
	}
	return out, nil
}

// pragmaWAL switches a database to write-ahead logging.
const pragmaWAL = "PRAGMA journal_mode = WAL"

// connectionPragmas returns the statements run on every new connection, in
// order. busy_timeout comes first so that the journal-mode switch waits for
// locks instead of failing. skipWAL leaves the journal mode and the
// checkpoint interval alone (in-memory and read-only databases);
// ownCheckpoint leaves the checkpoint interval to the URL's _pragma.
func connectionPragmas(o config.Options, skipWAL, ownCheckpoint bool, cacheSize int) []string {
	busy := max(o.BusyTimeout.Milliseconds(), 0)
	p := []string{
		fmt.Sprintf("PRAGMA busy_timeout = %d", busy),
		"PRAGMA foreign_keys = ON",
	}
	if !skipWAL {
		p = append(p, pragmaWAL)
		if !ownCheckpoint {
			p = append(p, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", WALAutocheckpoint))
		}
	}
	return append(p,
		"PRAGMA synchronous = NORMAL",
		fmt.Sprintf("PRAGMA cache_size = %d", cacheSize),
		"PRAGMA legacy_alter_table = OFF",
	)
}

// setsPragma reports whether SQLite URI parameters set the pragma name
// (modernc's _pragma=name(value) or _pragma=name=value; the name may be
// quoted and prefixed with a schema, as in main.name).
func setsPragma(q url.Values, name string) bool {
	for _, v := range q["_pragma"] {
		if i := strings.IndexAny(v, "(="); i >= 0 {
			v = v[:i]
		}
		v = strings.Trim(strings.TrimSpace(v), "\"'`[]")
		if i := strings.LastIndexByte(v, '.'); i >= 0 {
			v = strings.Trim(v[i+1:], "\"'`[]")
		}
		if strings.EqualFold(v, name) {
			return true
		}
	}
	return false
}

// isReadOnly reports whether SQLite URI parameters open the database
// read-only (mode=ro) or immutable, where the journal mode cannot change.
func isReadOnly(q url.Values) bool {
	if q.Get("mode") == "ro" {
		return true
	}
	switch strings.ToLower(q.Get("immutable")) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// buildDSN renders the modernc DSN (an SQLite URI) for t.
func buildDSN(t *config.Target) (string, error) {
	q := url.Values{}
	for k, vs := range t.Query {
		q[k] = append([]string(nil), vs...)
	}
	var name string
	if t.IsInMemory() {
		name = t.MemoryName
		if name == "" {
			name = "prefectdb-memory-" + uuid.NewString()
		}
		q.Set("mode", "memory")
		q.Set("cache", "shared")
	} else {
		if t.Path == "" {
			return "", errors.New("no database path")
		}
		abs, err := filepath.Abs(t.Path)
		if err != nil {
			return "", fmt.Errorf("resolve database path: %w", err)
		}
		name = abs
	}
	dsn := "file:" + escapeURIPath(name)
	if len(q) > 0 {
		dsn += "?" + q.Encode()
	}
	return dsn, nil
}

// escapeURIPath escapes the characters that would end or corrupt the path
// of an SQLite URI filename.
func escapeURIPath(p string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")
	return r.Replace(p)
}
