package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
)

// tracerName is the instrumentation scope of SQLite's statement spans.
const tracerName = "github.com/prefectdb/prefectdb/dialects/sqlite"

// startQuery logs a statement (Options.Echo) and, when tracing is on,
// starts its span: the statement's text as db.query.text, never the values
// of its arguments. The returned function ends the span with err's outcome.
func (c *connector) startQuery(ctx context.Context, query string, args []driver.NamedValue) (context.Context, func(error)) {
	c.logQuery(ctx, query, args)
	if c.tracer == nil {
		return ctx, func(error) {}
	}
	ctx, span := c.tracer.Start(ctx, operation(query), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.DBSystemNameSQLite, semconv.DBQueryText(query),
			attribute.Int("db.query.parameter_count", len(args))))
	return ctx, func(err error) {
		if err != nil {
			// The result code, not the message: keep statement values out.
			span.SetStatus(codes.Error, fmt.Sprintf("SQLite result code %d", resultCode(err)))
		}
		span.End()
	}
}

// operation is a statement's first keyword in upper case ("INSERT"), the
// span's name.
func operation(query string) string {
	f := strings.Fields(query)
	if len(f) == 0 {
		return "sqlite"
	}
	return strings.ToUpper(f[0])
}
