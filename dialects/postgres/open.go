package postgres

// This file opens prefectdb's PostgreSQL connection pools with pgx v5,
// configured the way Prefect configures its asyncpg engine
// (prefect_semantics.md §3.4).

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects"
)

// EntDialect is the name of Ent's PostgreSQL dialect
// (entgo.io/ent/dialect.Postgres). Pass it to entsql.OpenDB together with
// the *sql.DB from Open; do not use the database/sql driver name "pgx".
const EntDialect = "postgres"

// Open returns a *sql.DB backed by a pgxpool.Pool for the PostgreSQL
// database described by t.
//
// Pool: MaxConns = o.PoolSize + o.MaxOverflow (15 by default) unless the
// URL sets pool_max_conns; the *sql.DB has the same MaxOpenConns and keeps
// no idle connections of its own (pooling is pgxpool's, as with
// stdlib.OpenDBFromPool).
//
// Every connection starts with these run-time parameters:
//   - application_name: o.ApplicationName ("prefectdb"), unless the URL sets it;
//   - statement_timeout: o.StatementTimeout in milliseconds (10000, shown by
//     SHOW as "10s"; a negative timeout sends 0, i.e. none), unless the URL
//     sets it;
//   - jit: off, as Prefect sets it, unless the URL sets it;
//   - TimeZone: UTC and default_transaction_isolation: read committed,
//     always (Prefect's concurrency-counter updates rely on READ COMMITTED).
//
// The connect timeout is o.ConnectTimeout (5 s) unless the URL or
// PGCONNECT_TIMEOUT sets connect_timeout. With o.Echo every statement is
// logged at debug level with its arguments.
//
// Open does not connect: like SQLAlchemy's engine and pgxpool, the pool
// connects on first use (use IsConnectable or PingContext to check).
//
// Closing: the *sql.DB's connector owns the pool and implements io.Closer,
// and (*sql.DB).Close calls it, so closing the *sql.DB also closes the
// pgxpool.Pool. That Close blocks until connections the caller still holds
// (sql.Conn, sql.Tx, open sql.Rows) are released.
func Open(ctx context.Context, t *config.Target, o config.Options) (*sql.DB, error) {
	if t == nil {
		return nil, errors.New("postgres: open: nil target")
	}
	if t.Kind != config.Postgres {
		return nil, fmt.Errorf("postgres: open %s: not a PostgreSQL URL (dialect %q)", t.Redacted(), t.Kind)
	}
	o = o.WithDefaults()

	cfg, err := pgxpool.ParseConfig(t.PostgresDSN())
	if err != nil {
		return nil, scrubbed(t, fmt.Errorf("postgres: open %s: %w", t.Redacted(), err))
	}
	if err := configureConn(cfg.ConnConfig, t, o); err != nil {
		return nil, scrubbed(t, fmt.Errorf("postgres: open %s: %w", t.Redacted(), err))
	}
	if !dsnHasParam(t, "pool_max_conns") {
		cfg.MaxConns = int32(min(o.MaxOpenConns(), 1<<31-1))
	}
	if !dsnHasParam(t, "pool_max_conn_lifetime") {
		cfg.MaxConnLifetime = 0
		if o.PoolRecycle > 0 {
			cfg.MaxConnLifetime = o.PoolRecycle
		}
	}
	cfg.AfterConnect = registerTypes
	// No connection the server has closed is handed out (Prefect's
	// pool_pre_ping): after a server restart no operation gets a dead one.
	// A round-trip ping is made only when a peek at the socket cannot
	// vouch for the connection (shouldPing).
	cfg.ShouldPing = shouldPing

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, scrubbed(t, fmt.Errorf("postgres: open %s: %w", t.Redacted(), err))
	}
	if o.MeterProvider != nil {
		if err := otelpgx.RecordStats(pool, otelpgx.WithStatsMeterProvider(o.MeterProvider)); err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres: open %s: record pool metrics: %w", t.Redacted(), err)
		}
	}
	db := sql.OpenDB(&poolConnector{Connector: stdlib.GetPoolConnector(pool), pool: pool, timeout: o.PoolTimeout})
	db.SetMaxIdleConns(0)
	// pgxpool limits the connections; database/sql must not queue by
	// itself, so that the wait for a connection is bounded by PoolTimeout.
	db.SetMaxOpenConns(0)
	return db, nil
}

// IsConnectable reports whether the PostgreSQL server of t accepts a
// connection and answers a ping within the connect timeout (o.ConnectTimeout,
// 5 s by default, or the URL's connect_timeout) and before ctx ends. It
// opens one connection outside any pool and closes it again. It never
// panics: any error, a panic included, gives false.
func IsConnectable(ctx context.Context, t *config.Target, o config.Options) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	if t == nil || t.Kind != config.Postgres {
		return false
	}
	o = o.WithDefaults()
	cfg, err := pgx.ParseConfig(t.PostgresDSN())
	if err != nil {
		return false
	}
	if configureConn(cfg, t, o) != nil {
		return false
	}
	if cfg.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.ConnectTimeout)
		defer cancel()
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	return conn.Ping(ctx) == nil
}

// registerTypes adapts a new connection's type map: timestamptz values are
// read in UTC, the way Prefect reads every timestamp back (pgx's default is
// time.Local), and github.com/google/uuid's UUID is encoded and scanned as a
// binary uuid (see registerUUID).
func registerTypes(_ context.Context, conn *pgx.Conn) error {
	m := conn.TypeMap()
	m.RegisterType(&pgtype.Type{
		Name: "timestamptz", OID: pgtype.TimestamptzOID,
		Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
	})
	registerUUID(m)
	return nil
}

// registerUUID registers a codec for the uuid type (and uuid[]'s elements)
// that encodes uuid.UUID and *uuid.UUID as pgtype.UUID, 16 bytes in the
// binary format, and scans uuid values into *uuid.UUID without text.
// Without it pgx reaches uuid.UUID through driver.Valuer and sql.Scanner:
// every id is formatted as text and parsed again, which cost about a
// quarter of the CPU time of bulk inserts. Other Go types keep pgx's
// handling.
func registerUUID(m *pgtype.Map) {
	t := &pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: uuidCodec{}}
	m.RegisterType(t)
	m.RegisterType(&pgtype.Type{Name: "_uuid", OID: pgtype.UUIDArrayOID, Codec: &pgtype.ArrayCodec{ElementType: t}})
}

// uuidCodec is pgtype.UUIDCodec with plans for uuid.UUID.
type uuidCodec struct{ pgtype.UUIDCodec }

// PlanEncode implements pgtype.Codec.
func (c uuidCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	switch value.(type) {
	case uuid.UUID, *uuid.UUID:
		if next := c.UUIDCodec.PlanEncode(m, oid, format, pgtype.UUID{}); next != nil {
			return uuidEncodePlan{next: next}
		}
	}
	return c.UUIDCodec.PlanEncode(m, oid, format, value)
}

// PlanScan implements pgtype.Codec.
func (c uuidCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(*uuid.UUID); ok {
		if next := c.UUIDCodec.PlanScan(m, oid, format, &pgtype.UUID{}); next != nil {
			return uuidScanPlan{next: next}
		}
	}
	return c.UUIDCodec.PlanScan(m, oid, format, target)
}

// uuidEncodePlan encodes a uuid.UUID or *uuid.UUID (nil: NULL) as
// pgtype.UUID.
type uuidEncodePlan struct{ next pgtype.EncodePlan }

// Encode implements pgtype.EncodePlan.
func (p uuidEncodePlan) Encode(value any, buf []byte) ([]byte, error) {
	switch v := value.(type) {
	case uuid.UUID:
		return p.next.Encode(pgtype.UUID{Bytes: v, Valid: true}, buf)
	case *uuid.UUID:
		if v == nil {
			return nil, nil
		}
		return p.next.Encode(pgtype.UUID{Bytes: *v, Valid: true}, buf)
	}
	return nil, fmt.Errorf("postgres: encode uuid: unexpected %T", value)
}

// uuidScanPlan scans into a *uuid.UUID through pgtype.UUID; NULL is an
// error, as for any target that cannot hold it.
type uuidScanPlan struct{ next pgtype.ScanPlan }

// Scan implements pgtype.ScanPlan.
func (p uuidScanPlan) Scan(src []byte, target any) error {
	dst, ok := target.(*uuid.UUID)
	if !ok {
		return fmt.Errorf("postgres: scan uuid: unexpected %T", target)
	}
	var u pgtype.UUID
	if err := p.next.Scan(src, &u); err != nil {
		return err
	}
	if !u.Valid {
		return errors.New("postgres: cannot scan NULL into *uuid.UUID")
	}
	*dst = u.Bytes
	return nil
}

// configureConn applies o (and what the target says) to a pgx connection
// configuration; see Open.
func configureConn(cfg *pgx.ConnConfig, t *config.Target, o config.Options) error {
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	pooler := o.TransactionPooler || t.TransactionPooler()
	// application_name and TimeZone are startup parameters that a pooler
	// carries to every server connection it lends.
	setParam(cfg.RuntimeParams, "application_name", o.ApplicationName, false)
	setParam(cfg.RuntimeParams, "TimeZone", "UTC", true)
	if pooler {
		// No named server-side prepared statements: the next transaction
		// may run on another server connection. pgx's cache_describe mode
		// learns a statement's parameter and result types once per
		// connection (an unnamed statement, described in a round trip of
		// its own, which may land on any server connection), then sends
		// each execution whole: Parse of the unnamed statement, Bind,
		// Execute, Sync. Unlike exec mode, the types are known, so arrays
		// of UUIDs and JSON go as they do without a pooler.
		if !dsnHasParam(t, "default_query_exec_mode") {
			cfg.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
		}
		// Other startup parameters are refused by the pooler ("unsupported
		// startup parameter"), and per-session SETs would stick to the
		// server connection, not to us: statement_timeout belongs to the
		// role or the pooler (ALTER ROLE … SET statement_timeout, PgBouncer's
		// query_timeout), default_transaction_isolation is the server's
		// read committed.
		if o.SearchPath != "" {
			return fmt.Errorf("search_path cannot be set per connection behind a transaction pooler: " +
				"set it for the role on the server (ALTER ROLE <user> SET search_path = …)")
		}
	} else {
		setParam(cfg.RuntimeParams, "statement_timeout", strconv.FormatInt(max(o.StatementTimeout.Milliseconds(), 0), 10), false)
		setParam(cfg.RuntimeParams, "jit", "off", false)
		setParam(cfg.RuntimeParams, "default_transaction_isolation", "read committed", true)
		if o.SearchPath != "" {
			setParam(cfg.RuntimeParams, "search_path", o.SearchPath, true)
		}
	}
	if o.TLS.Enabled {
		if err := configureTLS(cfg, o.TLS); err != nil {
			return err
		}
	}

	if cfg.ConnectTimeout == 0 && o.ConnectTimeout > 0 {
		cfg.ConnectTimeout = o.ConnectTimeout
	}
	var tracers []pgx.QueryTracer
	if o.Echo {
		tracers = append(tracers, echoTracer{logger: o.Logger, values: o.EchoValues})
	}
	if o.TracerProvider != nil {
		tracers = append(tracers, spanSafeTracer{otelpgx.NewTracer(otelpgx.WithTracerProvider(o.TracerProvider),
			otelpgx.WithTracerAttributes(semconv.DBSystemNamePostgreSQL))})
	}
	switch len(tracers) {
	case 0:
	case 1:
		cfg.Tracer = tracers[0]
	default:
		cfg.Tracer = multitracer.New(tracers...)
	}
	return nil
}

// setParam sets a run-time parameter. PostgreSQL parameter names are case
// insensitive, so an existing entry under any spelling counts: it is kept
// unless override is set, in which case it is replaced.
func setParam(params map[string]string, name, value string, override bool) {
	for k := range params {
		if strings.EqualFold(k, name) {
			if !override {
				return
			}
			delete(params, k)
		}
	}
	params[name] = value
}

// dsnHasParam reports whether the target's URL sets the query parameter.
func dsnHasParam(t *config.Target, name string) bool {
	u, err := url.Parse(t.PostgresDSN())
	if err != nil {
		return false
	}
	return u.Query().Has(name)
}

// poolConnector is the driver.Connector of the *sql.DB returned by Open. It
// hands out connections from the pgx pool (stdlib's pool connector) and
// owns the pool: database/sql calls Close on a connector that implements
// io.Closer when the *sql.DB is closed.
type poolConnector struct {
	driver.Connector
	pool    *pgxpool.Pool
	timeout time.Duration // PoolTimeout; <= 0: no bound of its own
}

// Connect takes a connection from the pool, waiting at most the pool
// timeout when every connection is in use.
func (c *poolConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if c.timeout <= 0 {
		return c.Connector.Connect(ctx)
	}
	began := time.Now()
	acquireCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	conn, err := c.Connector.Connect(acquireCtx)
	if err != nil && ctx.Err() == nil && errors.Is(acquireCtx.Err(), context.DeadlineExceeded) {
		return nil, &dialects.PoolTimeoutError{Size: int(c.pool.Config().MaxConns), Waited: time.Since(began).Round(time.Millisecond)}
	}
	if err != nil {
		return nil, poolerHint(err)
	}
	return conn, nil
}

// PoolerError is a connection that a pooler in front of PostgreSQL
// (PgBouncer) refused because of a startup parameter only a server takes.
type PoolerError struct{ Err error }

// Error implements error.
func (e *PoolerError) Error() string {
	return fmt.Sprintf("the server refused a startup parameter, as PgBouncer does: with a pooler in transaction mode "+
		"add statement_cache_size=0 to the URL (or set PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_STATEMENT_CACHE_SIZE=0, "+
		"or Options.TransactionPooler) (%v)", e.Err)
}

// Unwrap returns the server's error.
func (e *PoolerError) Unwrap() error { return e.Err }

// poolerHint turns a refused startup parameter into a *PoolerError.
func poolerHint(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "08P01" && strings.Contains(pgErr.Message, "unsupported startup parameter") {
		return &PoolerError{Err: err}
	}
	return err
}

// Close closes the pgx pool.
func (c *poolConnector) Close() error {
	c.pool.Close()
	return nil
}

// Driver returns the database/sql driver, wrapped so that the pool behind a
// *sql.DB can be reached through (*sql.DB).Driver(); see ResetConnections.
func (c *poolConnector) Driver() driver.Driver {
	return poolDriver{Driver: c.Connector.Driver(), pool: c.pool, timeout: c.timeout}
}

// poolDriver is the driver of a *sql.DB opened by Open.
type poolDriver struct {
	driver.Driver
	pool    *pgxpool.Pool
	timeout time.Duration // PoolTimeout
}

// pgxPool returns the pgx pool behind a *sql.DB opened by Open, with the
// pool timeout, so that a hot path can skip database/sql; ok is false for
// any other *sql.DB.
func pgxPool(db *sql.DB) (pool *pgxpool.Pool, timeout time.Duration, ok bool) {
	d, ok := db.Driver().(poolDriver)
	if !ok {
		return nil, 0, false
	}
	return d.pool, d.timeout, true
}

// acquire takes a connection from pool, waiting at most timeout (<= 0: as
// long as ctx allows) when every connection is in use, as the *sql.DB's
// connector does.
func acquire(ctx context.Context, pool *pgxpool.Pool, timeout time.Duration) (*pgxpool.Conn, error) {
	if timeout <= 0 {
		return pool.Acquire(ctx)
	}
	began := time.Now()
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := pool.Acquire(actx)
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		return nil, &dialects.PoolTimeoutError{Size: int(pool.Config().MaxConns), Waited: time.Since(began).Round(time.Millisecond)}
	}
	if err != nil {
		return nil, poolerHint(err)
	}
	return conn, nil
}

// ResetConnections closes the idle connections of a *sql.DB opened by Open,
// and the busy ones when they are released, so that no connection keeps
// statements prepared against a schema that has since been dropped and
// re-created (their plans refer to old type OIDs and fail once each). It
// does nothing for any other *sql.DB.
func ResetConnections(db *sql.DB) {
	if d, ok := db.Driver().(poolDriver); ok {
		d.pool.Reset()
	}
}

// echoTracer logs every statement at debug level (Options.Echo).
type echoTracer struct {
	logger *slog.Logger
	values bool // log argument values (Options.EchoValues)
}

// TraceQueryStart implements pgx.QueryTracer.
func (e echoTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	switch {
	case len(data.Args) == 0:
		e.logger.DebugContext(ctx, "sql", "dialect", "postgres", "query", data.SQL)
	case e.values:
		e.logger.DebugContext(ctx, "sql", "dialect", "postgres", "query", data.SQL, "args", data.Args)
	default:
		e.logger.DebugContext(ctx, "sql", "dialect", "postgres", "query", data.SQL, "nargs", len(data.Args))
	}
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (echoTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// scrubbedError carries an error whose message had the target's secrets
// masked; Unwrap still gives the original chain.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrubbed masks every password of t (user-info password, password= and
// sslpassword= query values) in err's message. pgx already redacts its own
// parse errors; this is a second line of defence.
func scrubbed(t *config.Target, err error) error {
	u, perr := url.Parse(t.PostgresDSN())
	if perr != nil {
		return &scrubbedError{msg: "postgres: invalid connection URL " + t.Redacted(), err: err}
	}
	var secrets []string
	if pw, ok := u.User.Password(); ok && pw != "" {
		secrets = append(secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
	}
	for _, k := range []string{"password", "sslpassword"} {
		for _, v := range u.Query()[k] {
			if v != "" {
				secrets = append(secrets, v, url.QueryEscape(v))
			}
		}
	}
	msg := err.Error()
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, config.RedactedPassword)
	}
	return &scrubbedError{msg: msg, err: err}
}
