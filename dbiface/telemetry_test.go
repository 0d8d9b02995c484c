package dbiface_test

// OpenTelemetry (issue 12): spans for transactions and statements, pool
// metrics, on both databases, through the SDK's in-memory exporter and a
// manual metric reader.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// TestTelemetrySpansAndMetrics: with a tracer and a meter provider, a state
// transition yields its span with the statements under it (their SQL text
// as db.query.text), a transaction yields a transaction span with its
// statements, and the pool reports its connections; no span attribute,
// event or status holds a parameter value or the URL's password, not even
// when a statement fails with a message that quotes its parameter.
func TestTelemetrySpansAndMetrics(t *testing.T) {
	const marker = "S3cretMarker"
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := testutil.Context(t)
			exp := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			url := d.Migrated(t)
			if strings.HasPrefix(url, "postgres") {
				// Trust authentication ignores the password; it must not
				// show anywhere.
				url = strings.Replace(url, "postgres@", "postgres:pw"+marker+"@", 1)
			}
			db, err := dbiface.Open(ctx, dbiface.Config{URL: url, Options: config.Options{TracerProvider: tp, MeterProvider: mp}})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()

			flow := db.Flow.Create().SetName("flow-" + marker).SaveX(ctx)
			run := db.FlowRun.Create().SetName("run-" + marker).SetFlow(flow).SaveX(ctx)
			msg := "message-" + marker
			if _, err := db.SetFlowRunState(ctx, run.ID, dbiface.StateTransition{Type: types.StateRunning, Message: &msg,
				StateDetails: map[string]any{"k": marker}}); err != nil {
				t.Fatal(err)
			}
			if err := db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
				return s.Flow.Create().SetName("in-tx-" + marker).Exec(ctx)
			}); err != nil {
				t.Fatal(err)
			}

			// A statement that fails with a message quoting its parameter
			// (PostgreSQL: invalid input syntax for type uuid: "…"): the
			// error reaches the caller, its text reaches no span.
			failed := db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
				query := "SELECT json_extract($1, '$')" // SQLite: malformed JSON
				if db.Dialect().Kind() == config.Postgres {
					query = "SELECT CAST($1 AS uuid)"
				}
				rows, err := s.QueryContext(ctx, query, "{not-json-nor-uuid-"+marker)
				if err == nil {
					rows.Close()
				}
				return err
			})
			if failed == nil {
				t.Fatal("the failing statement succeeded")
			}

			spans := exp.GetSpans()
			byID := map[string]tracetest.SpanStub{}
			for _, s := range spans {
				byID[s.SpanContext.SpanID().String()] = s
			}
			// under reports whether s descends from a span named root.
			under := func(s tracetest.SpanStub, root string) bool {
				for p, ok := s, true; ok; p, ok = byID[p.Parent.SpanID().String()] {
					if p.Name == root {
						return true
					}
				}
				return false
			}
			statements := map[string]int{}
			for _, s := range spans {
				text := ""
				for _, a := range s.Attributes {
					if a.Key == "db.query.text" || a.Key == "db.statement" {
						text = a.Value.AsString()
					}
				}
				if text == "" {
					continue
				}
				switch {
				case under(s, "prefectdb.set_flow_run_state") && strings.Contains(text, "flow_run_state"):
					statements["transition"]++
				case under(s, "prefectdb.transaction") && strings.Contains(strings.ToUpper(text), "INSERT INTO") && strings.Contains(text, "flow"):
					statements["transaction"]++
				}
			}
			if statements["transition"] == 0 || statements["transaction"] == 0 {
				names := []string{}
				for _, s := range spans {
					names = append(names, s.Name)
				}
				t.Fatalf("statement spans under the transition and the transaction: %v; spans: %v", statements, names)
			}

			// No secret and no parameter value anywhere in the spans.
			for _, s := range spans {
				check := func(where string, kvs []attribute.KeyValue) {
					for _, a := range kvs {
						if strings.Contains(a.Value.Emit(), marker) {
							t.Errorf("span %q %s %s holds a parameter value or the password: %q", s.Name, where, a.Key, a.Value.Emit())
						}
					}
				}
				check("attribute", s.Attributes)
				for _, e := range s.Events {
					check("event "+e.Name, e.Attributes)
				}
				if strings.Contains(s.Status.Description, marker) || strings.Contains(s.Name, marker) {
					t.Errorf("span %q status or name holds a secret: %q", s.Name, s.Status.Description)
				}
			}

			var rm metricdata.ResourceMetrics
			if err := reader.Collect(ctx, &rm); err != nil {
				t.Fatal(err)
			}
			var metrics []string
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					metrics = append(metrics, m.Name)
				}
			}
			if !strings.Contains(fmt.Sprint(metrics), "db.client.connection.count") {
				t.Errorf("metrics: %v; want db.client.connection.count", metrics)
			}
			t.Logf("%d spans (%v statement spans under the transition and the transaction); metrics: %v", len(spans), statements, metrics)
		})
	}
}
