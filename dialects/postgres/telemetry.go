package postgres

import (
	"context"
	"errors"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// spanSafeTracer is otelpgx's tracer with the errors it records reduced to
// their SQLSTATE: PostgreSQL's messages may quote the values of parameters
// ("invalid input syntax for type uuid: ..."), which must not reach a
// trace. The statement text and everything else pass unchanged.
type spanSafeTracer struct{ t *otelpgx.Tracer }

// The tracer interfaces pgx and pgxpool look for.
var (
	_ pgx.QueryTracer       = spanSafeTracer{}
	_ pgx.BatchTracer       = spanSafeTracer{}
	_ pgx.CopyFromTracer    = spanSafeTracer{}
	_ pgx.PrepareTracer     = spanSafeTracer{}
	_ pgx.ConnectTracer     = spanSafeTracer{}
	_ pgxpool.AcquireTracer = spanSafeTracer{}
)

// spanSafeError is err without the server's message: a *pgconn.PgError
// keeps only its severity and SQLSTATE; any other error is returned as it
// is (pgx's connection errors carry no parameter values, and it redacts
// passwords itself).
func spanSafeError(err error) error {
	var pgErr *pgconn.PgError
	if err == nil || !errors.As(err, &pgErr) {
		return err
	}
	return &pgconn.PgError{Severity: pgErr.Severity, Code: pgErr.Code, Message: "statement failed"}
}

// TraceQueryStart implements pgx.QueryTracer.
func (s spanSafeTracer) TraceQueryStart(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	return s.t.TraceQueryStart(ctx, c, d)
}

// TraceQueryEnd implements pgx.QueryTracer.
func (s spanSafeTracer) TraceQueryEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryEndData) {
	d.Err = spanSafeError(d.Err)
	s.t.TraceQueryEnd(ctx, c, d)
}

// TraceBatchStart implements pgx.BatchTracer.
func (s spanSafeTracer) TraceBatchStart(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	return s.t.TraceBatchStart(ctx, c, d)
}

// TraceBatchQuery implements pgx.BatchTracer.
func (s spanSafeTracer) TraceBatchQuery(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchQueryData) {
	d.Err = spanSafeError(d.Err)
	s.t.TraceBatchQuery(ctx, c, d)
}

// TraceBatchEnd implements pgx.BatchTracer.
func (s spanSafeTracer) TraceBatchEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchEndData) {
	d.Err = spanSafeError(d.Err)
	s.t.TraceBatchEnd(ctx, c, d)
}

// TraceCopyFromStart implements pgx.CopyFromTracer.
func (s spanSafeTracer) TraceCopyFromStart(ctx context.Context, c *pgx.Conn, d pgx.TraceCopyFromStartData) context.Context {
	return s.t.TraceCopyFromStart(ctx, c, d)
}

// TraceCopyFromEnd implements pgx.CopyFromTracer.
func (s spanSafeTracer) TraceCopyFromEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceCopyFromEndData) {
	d.Err = spanSafeError(d.Err)
	s.t.TraceCopyFromEnd(ctx, c, d)
}

// TracePrepareStart implements pgx.PrepareTracer.
func (s spanSafeTracer) TracePrepareStart(ctx context.Context, c *pgx.Conn, d pgx.TracePrepareStartData) context.Context {
	return s.t.TracePrepareStart(ctx, c, d)
}

// TracePrepareEnd implements pgx.PrepareTracer.
func (s spanSafeTracer) TracePrepareEnd(ctx context.Context, c *pgx.Conn, d pgx.TracePrepareEndData) {
	d.Err = spanSafeError(d.Err)
	s.t.TracePrepareEnd(ctx, c, d)
}

// TraceConnectStart implements pgx.ConnectTracer.
func (s spanSafeTracer) TraceConnectStart(ctx context.Context, d pgx.TraceConnectStartData) context.Context {
	return s.t.TraceConnectStart(ctx, d)
}

// TraceConnectEnd implements pgx.ConnectTracer.
func (s spanSafeTracer) TraceConnectEnd(ctx context.Context, d pgx.TraceConnectEndData) {
	d.Err = spanSafeError(d.Err)
	s.t.TraceConnectEnd(ctx, d)
}

// TraceAcquireStart implements pgxpool.AcquireTracer.
func (s spanSafeTracer) TraceAcquireStart(ctx context.Context, p *pgxpool.Pool, d pgxpool.TraceAcquireStartData) context.Context {
	return s.t.TraceAcquireStart(ctx, p, d)
}

// TraceAcquireEnd implements pgxpool.AcquireTracer.
func (s spanSafeTracer) TraceAcquireEnd(ctx context.Context, p *pgxpool.Pool, d pgxpool.TraceAcquireEndData) {
	d.Err = spanSafeError(d.Err)
	s.t.TraceAcquireEnd(ctx, p, d)
}
