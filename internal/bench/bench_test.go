package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// pair is a prefectdb and a baseline target, each on its own fresh
// database of one kind.
type pair struct {
	kind    string
	scratch *Scratch
	lib     *side
	base    *side
}

// sides returns both sides of a pair, prefectdb first.
func (p *pair) sides() []*side { return []*side{p.lib, p.base} }

// kinds are the databases the tests and benchmarks run on.
var kinds = []string{"sqlite", "postgres"}

// newPair creates fresh databases of kind for tb, with c connections'
// room; PostgreSQL is skipped (or, under CI=true, fails) when no server is
// reachable (testutil.RequirePostgres).
func newPair(tb testing.TB, kind string, c int) *pair {
	tb.Helper()
	return newPairWith(tb, kind, Config{Concurrency: c})
}

// newPairWith is newPair with the benchmark configuration cfg (its
// Concurrency and PerformanceIndexes).
func newPairWith(tb testing.TB, kind string, cfg Config) *pair {
	tb.Helper()
	ctx := context.Background()
	server := ""
	if kind == "postgres" {
		server = testutil.RequirePostgres(tb)
	}
	scratch, err := NewScratch(ctx, server, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := scratch.Close(ctx); err != nil {
			tb.Error(err)
		}
	})
	lib, base, err := openSides(ctx, scratch, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { lib.target.Close(); base.target.Close() })
	return &pair{kind: kind, scratch: scratch, lib: lib, base: base}
}

// schedule inserts n runs on s and remembers their ids.
func schedule(tb testing.TB, s *side, n int) {
	tb.Helper()
	ids, _, err := measureSchedule(context.Background(), s.target, s.fixture, 0, n, nil, "")
	if err != nil {
		tb.Fatal(err)
	}
	s.runs = ids
}

// forEachSide runs fn as sub-benchmarks kind/side on fresh databases.
func forEachSide(b *testing.B, fn func(b *testing.B, s *side)) {
	forEachSideWith(b, Config{Concurrency: 8}, fn)
}

// forEachSideWith is forEachSide on databases made with cfg.
func forEachSideWith(b *testing.B, cfg Config, fn func(b *testing.B, s *side)) {
	for _, kind := range kinds {
		b.Run(kind, func(b *testing.B) {
			for _, name := range []Side{Prefectdb, Baseline} {
				b.Run(string(name), func(b *testing.B) {
					p := newPairWith(b, kind, cfg)
					s := p.lib
					if name == Baseline {
						s = p.base
					}
					fn(b, s)
				})
			}
		})
	}
}

// BenchmarkSchedule: one op is one batch of ScheduleBatch scheduled runs
// (runs, states, pointers) in one transaction.
func BenchmarkSchedule(b *testing.B) {
	forEachSide(b, func(b *testing.B, s *side) {
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			runs := s.fixture.scheduledRuns(i*ScheduleBatch, ScheduleBatch)
			if n, err := s.target.Schedule(ctx, runs); err != nil || n != ScheduleBatch {
				b.Fatalf("schedule: %d runs, %v", n, err)
			}
		}
		b.ReportMetric(float64(b.N*ScheduleBatch)/b.Elapsed().Seconds(), "runs/s")
	})
}

// BenchmarkPoll: one op is one poll (limit PollLimit, priorities on) of a
// pool with 10,000 scheduled runs, in its own locking transaction.
func BenchmarkPoll(b *testing.B) {
	forEachSide(b, benchmarkPoll)
}

// BenchmarkPollPerfIndexes is BenchmarkPoll with prefectdb's opt-in
// performance indexes on both sides (bench --perf-indexes).
func BenchmarkPollPerfIndexes(b *testing.B) {
	forEachSideWith(b, Config{Concurrency: 8, PerformanceIndexes: true}, benchmarkPoll)
}

// benchmarkPoll polls s's pool b.N times after scheduling 10,000 runs.
func benchmarkPoll(b *testing.B, s *side) {
	ctx := context.Background()
	schedule(b, s, 10_000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n, err := s.target.Poll(ctx); err != nil || n != PollLimit {
			b.Fatalf("poll: %d runs, %v", n, err)
		}
	}
}

// BenchmarkTransition: one op is one state transition (PENDING, RUNNING
// or COMPLETED, in turn) of a scheduled run, in its own transaction.
func BenchmarkTransition(b *testing.B) {
	forEachSide(b, func(b *testing.B, s *side) {
		ctx := context.Background()
		schedule(b, s, max(1, (b.N+len(transitions)-1)/len(transitions)))
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			tr := transitions[i%len(transitions)]
			if err := s.target.Transition(ctx, s.runs[i/len(transitions)], tr.to, tr.name); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLogs: one op is one batch of LogBatch log rows in one
// transaction.
func BenchmarkLogs(b *testing.B) {
	forEachSide(b, func(b *testing.B, s *side) {
		ctx := context.Background()
		schedule(b, s, 100)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := s.target.InsertLogs(ctx, logRows(s.runs, i*LogBatch, LogBatch)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*LogBatch)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkLogsCopy: one op is one batch of LogBatch log rows streamed with
// COPY (PostgreSQL only; RowsPerCopy rows per statement).
func BenchmarkLogsCopy(b *testing.B) {
	b.Run("postgres", func(b *testing.B) {
		for _, name := range []Side{Prefectdb, Baseline} {
			b.Run(string(name), func(b *testing.B) {
				p := newPair(b, "postgres", 8)
				s := p.lib
				if name == Baseline {
					s = p.base
				}
				schedule(b, s, 100)
				ch := make(chan []LogRow, 4)
				go func() {
					for i := 0; i < b.N; i++ {
						ch <- logRows(s.runs, i*LogBatch, LogBatch)
					}
					close(ch)
				}()
				b.ResetTimer()
				n, err := s.target.CopyLogs(context.Background(), ch)
				if err != nil || n != int64(b.N*LogBatch) {
					b.Fatalf("copy: %d rows, %v", n, err)
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	})
}

// BenchmarkEvents: one op is one batch of EventBatch events with 3
// resources each, in one transaction.
func BenchmarkEvents(b *testing.B) {
	forEachSide(b, func(b *testing.B, s *side) {
		ctx := context.Background()
		schedule(b, s, 100)
		b.ResetTimer()
		rows := 0
		for i := 0; i < b.N; i++ {
			n, err := s.target.InsertEvents(ctx, eventRows(s.fixture, s.runs, i*EventBatch, EventBatch))
			if err != nil {
				b.Fatal(err)
			}
			rows += n
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	})
}

// TestSidesDoTheSameWork runs every operation on both sides and checks
// that the two databases end up with the same content: the baseline does
// the work prefectdb does, no less.
func TestSidesDoTheSameWork(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := testutil.Context(t)
			p := newPair(t, kind, 4)
			var polled [2][]int
			for k, s := range p.sides() {
				schedule(t, s, 30)
				n, err := s.target.Poll(ctx)
				if err != nil || n != PollLimit {
					t.Fatalf("%s poll: %d runs, %v", s.target.Side(), n, err)
				}
				polled[k] = append(polled[k], n)
				for _, id := range s.runs[:10] {
					for _, tr := range transitions {
						if err := s.target.Transition(ctx, id, tr.to, tr.name); err != nil {
							t.Fatalf("%s transition: %v", s.target.Side(), err)
						}
						time.Sleep(time.Millisecond) // a measurable run time
					}
				}
				if err := s.target.InsertLogs(ctx, logRows(s.runs, 0, 250)); err != nil {
					t.Fatalf("%s logs: %v", s.target.Side(), err)
				}
				events := eventRows(s.fixture, s.runs, 0, 20)
				if n, err := s.target.InsertEvents(ctx, events); err != nil || n != 80 {
					t.Fatalf("%s events: %d rows, %v", s.target.Side(), n, err)
				}
				// The same events again, with two new ones: only those are written.
				events = append(events[:5], eventRows(s.fixture, s.runs, 20, 2)...)
				if n, err := s.target.InsertEvents(ctx, events); err != nil || n != 8 {
					t.Fatalf("%s repeated events: %d rows, %v", s.target.Side(), n, err)
				}
			}
			var snaps [2]string
			for k, s := range p.sides() {
				snaps[k] = snapshot(t, p.kind, s.url)
			}
			if snaps[0] != snaps[1] {
				t.Fatalf("the databases differ:\nprefectdb:\n%s\nbaseline:\n%s", snaps[0], snaps[1])
			}
			t.Logf("both databases:\n%s", snaps[0])
		})
	}
}

// snapshot summarises a benchmark database in text that does not depend on
// ids or the time the rows were written.
func snapshot(t *testing.T, kind, url string) string {
	t.Helper()
	db := testutil.Open(t, url)
	ctx := testutil.Context(t)
	queries := []string{
		`SELECT count(*) FROM flow_run`,
		`SELECT count(*) FROM flow_run_state`,
		`SELECT state_type || ' ' || coalesce(state_name, '') || ' runs=' || count(*) || ' run_count=' || sum(run_count) ||
			' started=' || count(start_time) || ' ended=' || count(end_time) || ' pointers=' || count(state_id)
		 FROM flow_run GROUP BY state_type, state_name ORDER BY state_type`,
		`SELECT count(*) FROM flow_run fr JOIN flow_run_state s ON s.id = fr.state_id AND s.flow_run_id = fr.id
		 AND s.type = fr.state_type AND s.name = fr.state_name AND s.timestamp = fr.state_timestamp`,
		`SELECT count(*) FROM flow_run WHERE end_time IS NOT NULL AND end_time < start_time`,
		`SELECT type || ' ' || name || ' ' || count(*) || ' ' || count(message) FROM flow_run_state GROUP BY type, name ORDER BY type`,
		`SELECT count(*) || ' ' || count(DISTINCT flow_run_id) || ' ' || sum(length(message)) FROM log`,
		`SELECT count(*) || ' ' || count(DISTINCT resource_id) || ' ' || min(event) FROM events`,
		`SELECT resource_role || ' ' || count(*) FROM event_resources GROUP BY resource_role ORDER BY resource_role`,
		`SELECT count(*) FROM event_resources r JOIN events e ON e.id = r.event_id AND e.occurred = r.occurred`,
	}
	if kind == "postgres" {
		queries = append(queries,
			`SELECT count(*) FROM flow_run WHERE state_type = 'COMPLETED' AND total_run_time > interval '1 millisecond'`,
			`SELECT count(*) FROM flow_run WHERE parameters->>'source' = 'bench' AND tags ? 'bench' AND created_by->>'type' = 'SCHEDULE'`,
			`SELECT count(*) FROM flow_run_state WHERE state_details ? 'scheduled_time'`,
			`SELECT count(*) FROM events WHERE payload->'intended'->>'to' = 'COMPLETED' AND jsonb_array_length(related) = 2
			 AND jsonb_array_length(related_resource_ids) = 2 AND resource->>'prefect.resource.id' = resource_id`)
	} else {
		queries = append(queries,
			`SELECT count(*) FROM flow_run WHERE state_type = 'COMPLETED' AND total_run_time > '1970-01-01 00:00:00.001'`,
			`SELECT count(*) FROM flow_run WHERE parameters->>'source' = 'bench' AND EXISTS (SELECT 1 FROM json_each(tags) WHERE value = 'bench')
			 AND created_by->>'type' = 'SCHEDULE'`,
			`SELECT count(*) FROM flow_run_state WHERE json_extract(state_details, '$.scheduled_time') IS NOT NULL`,
			`SELECT count(*) FROM events WHERE payload->'intended'->>'to' = 'COMPLETED' AND json_array_length(related) = 2
			 AND json_array_length(related_resource_ids) = 2 AND resource->>'prefect.resource.id' = resource_id`,
			`SELECT count(*) FROM flow_run WHERE length(created) = 26 AND length(next_scheduled_start_time) = 26
			 AND length(state_timestamp) = 26 AND length(id) = 36 AND id = lower(id)`)
	}
	out := ""
	for _, q := range queries {
		rows, err := db.SQL.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var v any
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			out += fmt.Sprintf("%v\n", v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out
}

// TestNextRunColumns checks the transition arithmetic.
func TestNextRunColumns(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	running := types.StateRunning
	u := nextRunColumns(nil, nil, 0, nil, nil, 0, types.StateRunning, t0)
	if u.runCount != 1 || u.startTime == nil || !u.startTime.Equal(t0) || u.endTime != nil {
		t.Fatalf("to RUNNING: %+v", u)
	}
	t1 := t0.Add(90 * time.Second)
	u = nextRunColumns(&running, &t0, 1, &t0, nil, 5*time.Second, types.StateCompleted, t1)
	if u.runCount != 1 || u.totalRunTime != 95*time.Second || u.endTime == nil || !u.endTime.Equal(t1) {
		t.Fatalf("RUNNING to COMPLETED: %+v", u)
	}
}

// TestFormat checks the figures' formatting.
func TestFormat(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 7: "7", 1234: "1,234", 1234567.8: "1,234,568", 2.345: "2.35", 45.67: "45.7"} {
		if got := formatCount(in); got != want {
			t.Errorf("formatCount(%v) = %q, want %q", in, got, want)
		}
	}
	d := []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 100 * time.Millisecond}
	if p := percentile(d, 0.5); p != 2 {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile(d, 0.99); p != 100 {
		t.Errorf("p99 = %v", p)
	}
	_ = uuid.Nil
}
