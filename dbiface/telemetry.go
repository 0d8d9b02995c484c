package dbiface

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/types"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// instrumentationName is the OpenTelemetry scope of dbiface's spans and
// metrics.
const instrumentationName = "github.com/prefectdb/prefectdb/dbiface"

// telemetry holds the tracer of an Interface (a no-op one unless
// Options.TracerProvider is set) and the registration of its pool metrics.
type telemetry struct {
	tracer  trace.Tracer
	kind    attribute.KeyValue
	metrics metric.Registration // nil without a MeterProvider
}

// newTelemetry sets up an Interface's spans and, with a MeterProvider, the
// database/sql pool's metrics (OpenTelemetry's db.client.connection.*
// names); the dialect adds its own where its driver pools (PostgreSQL).
func newTelemetry(db *sql.DB, kind string, tp trace.TracerProvider, mp metric.MeterProvider) (*telemetry, error) {
	t := &telemetry{tracer: noop.NewTracerProvider().Tracer(instrumentationName), kind: semconv.DBSystemNameKey.String(kind)}
	if tp != nil {
		t.tracer = tp.Tracer(instrumentationName)
	}
	if mp == nil {
		return t, nil
	}
	m := mp.Meter(instrumentationName)
	count, err1 := m.Int64ObservableUpDownCounter("db.client.connection.count",
		metric.WithDescription("Connections of the pool by state (idle, used)."), metric.WithUnit("{connection}"))
	maxOpen, err2 := m.Int64ObservableUpDownCounter("db.client.connection.max",
		metric.WithDescription("The pool's connection limit (0: no limit of database/sql's own)."), metric.WithUnit("{connection}"))
	waits, err3 := m.Int64ObservableCounter("db.client.connection.waits",
		metric.WithDescription("Times an operation waited for a free connection."), metric.WithUnit("{wait}"))
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("dbiface: pool metrics: %w", err)
	}
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := db.Stats()
		o.ObserveInt64(count, int64(s.Idle), metric.WithAttributes(t.kind, attribute.String("db.client.connection.state", "idle")))
		o.ObserveInt64(count, int64(s.InUse), metric.WithAttributes(t.kind, attribute.String("db.client.connection.state", "used")))
		o.ObserveInt64(maxOpen, int64(s.MaxOpenConnections), metric.WithAttributes(t.kind))
		o.ObserveInt64(waits, s.WaitCount, metric.WithAttributes(t.kind))
		return nil
	}, count, maxOpen, waits)
	if err != nil {
		return nil, fmt.Errorf("dbiface: pool metrics: %w", err)
	}
	t.metrics = reg
	return t, nil
}

// span starts a span for an operation of the interface. end marks the span
// failed when the operation failed, with errorSummary's description (never
// the error's text, which may quote the database's message and so a
// parameter value), and ends it.
func (t *telemetry) span(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, func(err error)) {
	ctx, s := t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(append(attrs, t.kind)...))
	return ctx, func(err error) {
		if err != nil {
			s.SetStatus(codes.Error, errorSummary(err))
		}
		s.End()
	}
}

// close stops the pool metrics.
func (t *telemetry) close() error {
	if t.metrics == nil {
		return nil
	}
	return t.metrics.Unregister()
}

// errorSummary describes err for a trace without its text: the kind of
// error prefectdb gives, and the database's code where there is one
// (SQLSTATE, SQLite result code).
func errorSummary(err error) string {
	kind := "error"
	var retryable *RetryableError
	var unknown *OutcomeUnknownError
	var rejected *TransitionRejectedError
	var invalid *types.InvalidValueError
	switch {
	case errors.As(err, &unknown):
		kind = "outcome unknown"
	case errors.As(err, &retryable):
		kind = "retryable"
	case errors.As(err, &rejected):
		kind = "transition rejected"
	case errors.As(err, &invalid):
		kind = "invalid value for " + invalid.Field
	case ent.IsNotFound(err):
		kind = "not found"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		kind = "context ended"
	}
	var sqlState interface{ SQLState() string }
	var code interface{ Code() int }
	switch {
	case errors.As(err, &sqlState):
		kind += " (SQLSTATE " + sqlState.SQLState() + ")"
	case errors.As(err, &code):
		kind += fmt.Sprintf(" (result code %d)", code.Code())
	}
	return kind
}
