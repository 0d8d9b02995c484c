package dialecttest

// Scheduling and polls: the dialects' hand-written scheduling queries give
// the same results on every database.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/deployment"
	"github.com/prefectdb/prefectdb/ent/flowrun"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
	"github.com/prefectdb/prefectdb/types"
)

// schedPoolCase is one query against the pool fixture, inside a transaction that
// setup may change and that is rolled back afterwards.
type schedPoolCase struct {
	name  string
	setup func(t *testing.T, c *ent.Client)
	opts  func(now time.Time) dialects.WorkPoolRunsQuery
	want  int
	check func(t *testing.T, runs []dialects.ScheduledRun)
}

// TestScheduledFlowRunsFromWorkPool ports every assertion of Prefect's
// tests/server/database/test_queries.py::TestGetRunsFromWorkQueueQuery and
// the query-level ones of tests/server/models/test_workers.py::
// TestGetScheduledRuns, on the 3 pools × 3 queues fixture (45 scheduled runs).
func testScheduledFlowRunsFromWorkPool(t *testing.T, db *testutil.DB) {
	s := newSched(t, db)
	ctx := s.ctx
	fx := schedBuildPoolFixture(t, ctx, db.Client)

	all := s.poolRuns(t, db.SQL, dialects.WorkPoolRunsQuery{})
	if len(all) != 45 {
		t.Fatalf("all runs: got %d, want 45", len(all))
	}
	if !schedTimeOrdered(fx.at, all) {
		t.Fatalf("all runs are not in time order:%s", schedDescribe(fx.queueName, all))
	}
	if again := s.poolRuns(t, db.SQL, dialects.WorkPoolRunsQuery{}); !slices.Equal(again, all) {
		t.Fatalf("the same query gave a different order")
	}

	q := func(names ...string) []uuid.UUID { return schedIDs(fx.queues, names...) }
	p := func(names ...string) []uuid.UUID { return schedIDs(fx.pools, names...) }
	fixed := func(o dialects.WorkPoolRunsQuery) func(time.Time) dialects.WorkPoolRunsQuery {
		return func(time.Time) dialects.WorkPoolRunsQuery { return o }
	}
	pauseQueue := func(name string) func(*testing.T, *ent.Client) {
		return func(t *testing.T, c *ent.Client) {
			if err := c.WorkQueue.UpdateOneID(fx.queues[name]).SetIsPaused(true).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	pausePool := func(name string) func(*testing.T, *ent.Client) {
		return func(t *testing.T, c *ent.Client) {
			if err := c.WorkPool.UpdateOneID(fx.pools[name]).SetIsPaused(true).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	queueConcurrency := func(name string, n int) func(*testing.T, *ent.Client) {
		return func(t *testing.T, c *ent.Client) {
			if err := c.WorkQueue.UpdateOneID(fx.queues[name]).SetConcurrencyLimit(n).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	poolConcurrency := func(name string, n int) func(*testing.T, *ent.Client) {
		return func(t *testing.T, c *ent.Client) {
			if err := c.WorkPool.UpdateOneID(fx.pools[name]).SetConcurrencyLimit(n).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	allFrom := func(queue string) func(*testing.T, []dialects.ScheduledRun) {
		return func(t *testing.T, runs []dialects.ScheduledRun) {
			for _, r := range runs {
				if r.WorkQueueID != fx.queues[queue] {
					t.Errorf("run from queue %s, want only %s", fx.queueName[r.WorkQueueID], queue)
				}
			}
		}
	}
	allFromPool := func(pool string) func(*testing.T, []dialects.ScheduledRun) {
		return func(t *testing.T, runs []dialects.ScheduledRun) {
			for _, r := range runs {
				if r.WorkPoolID != fx.pools[pool] {
					t.Errorf("run from pool %s, want only %s", r.WorkPoolID, pool)
				}
			}
		}
	}
	groups := func(size int, sets ...[]string) func(*testing.T, []dialects.ScheduledRun) {
		return func(t *testing.T, runs []dialects.ScheduledRun) {
			for g, names := range sets {
				for _, r := range runs[g*size : (g+1)*size] {
					if !slices.Contains(names, fx.queueName[r.WorkQueueID]) {
						t.Errorf("group %d: run from %s, want one of %v; order:%s",
							g, fx.queueName[r.WorkQueueID], names, schedDescribe(fx.queueName, runs))
						return
					}
				}
			}
			if schedTimeOrdered(fx.at, runs) {
				t.Errorf("runs are in time order, want priority order")
			}
		}
	}

	var cases []schedPoolCase
	add := func(c ...schedPoolCase) { cases = append(cases, c...) }

	for _, limit := range []int{100, 10, 0} {
		n := min(limit, 45)
		add(schedPoolCase{name: "limit " + strconv.Itoa(limit), opts: fixed(dialects.WorkPoolRunsQuery{Limit: schedPtr(limit)}), want: n,
			check: func(t *testing.T, runs []dialects.ScheduledRun) {
				if !slices.Equal(runs, all[:n]) {
					t.Errorf("limit %d: not the first %d runs of the unlimited query", limit, n)
				}
			}})
	}
	add(
		schedPoolCase{name: "limit 12", opts: fixed(dialects.WorkPoolRunsQuery{Limit: schedPtr(12), RespectQueuePriorities: true}), want: 12},
		schedPoolCase{name: "pool A", opts: fixed(dialects.WorkPoolRunsQuery{WorkPoolIDs: p("A")}), want: 15, check: allFromPool("A")},
		schedPoolCase{name: "pools A B", opts: fixed(dialects.WorkPoolRunsQuery{WorkPoolIDs: p("A", "B")}), want: 30},
		schedPoolCase{name: "pools A B C", opts: fixed(dialects.WorkPoolRunsQuery{WorkPoolIDs: p("A", "B", "C")}), want: 45},
		schedPoolCase{name: "queue AA", opts: fixed(dialects.WorkPoolRunsQuery{WorkQueueIDs: q("AA")}), want: 5, check: allFrom("AA")},
		schedPoolCase{name: "queues AA BA CB", opts: fixed(dialects.WorkPoolRunsQuery{WorkQueueIDs: q("AA", "BA", "CB")}), want: 15},
		schedPoolCase{name: "pools A B C with queue AA",
			opts: fixed(dialects.WorkPoolRunsQuery{WorkPoolIDs: p("A", "B", "C"), WorkQueueIDs: q("AA")}), want: 5, check: allFrom("AA")},
		schedPoolCase{name: "pool A with queue AA", opts: fixed(dialects.WorkPoolRunsQuery{WorkPoolIDs: p("A"), WorkQueueIDs: q("AA")}), want: 5},
		schedPoolCase{name: "pool B with queue AA", opts: fixed(dialects.WorkPoolRunsQuery{WorkPoolIDs: p("B"), WorkQueueIDs: q("AA")}), want: 0},
		schedPoolCase{name: "queue AA paused", setup: pauseQueue("AA"), opts: fixed(dialects.WorkPoolRunsQuery{WorkQueueIDs: q("AA")}), want: 0},
		schedPoolCase{name: "pool A paused, queue AA", setup: pausePool("A"), opts: fixed(dialects.WorkPoolRunsQuery{WorkQueueIDs: q("AA")}), want: 0},
	)
	// Queue AA has 2 active runs.
	for _, c := range [][2]int{{10, 5}, {5, 3}, {2, 0}} {
		add(schedPoolCase{name: "queue AA concurrency " + strconv.Itoa(c[0]), setup: queueConcurrency("AA", c[0]),
			opts: fixed(dialects.WorkPoolRunsQuery{WorkQueueIDs: q("AA")}), want: c[1]})
	}
	// Pool A has 6 active runs.
	for _, c := range [][2]int{{20, 5}, {10, 4}, {7, 1}, {2, 0}} {
		add(schedPoolCase{name: "pool A concurrency " + strconv.Itoa(c[0]) + ", queue AA", setup: poolConcurrency("A", c[0]),
			opts: fixed(dialects.WorkPoolRunsQuery{WorkQueueIDs: q("AA")}), want: c[1]})
	}
	for _, c := range [][2]int{{25, 15}, {16, 10}, {7, 1}, {2, 0}} {
		add(schedPoolCase{name: "pool A concurrency " + strconv.Itoa(c[0]) + ", pool A", setup: poolConcurrency("A", c[0]),
			opts: fixed(dialects.WorkPoolRunsQuery{WorkPoolIDs: p("A")}), want: c[1]})
	}
	// One pool (a worker's poll), where the worker limit, the pool's slots
	// and the limit all cut the same ordered list.
	for _, c := range []struct {
		name                       string
		concurrency, worker, limit int
		want                       int
	}{
		{"pool A, worker limit 7", 0, 7, 100, 7},
		{"pool A concurrency 16, worker limit 7", 16, 7, 100, 7},
		{"pool A concurrency 10, worker limit 7", 10, 7, 100, 4},
		{"pool A concurrency 16, worker limit 12, limit 9", 16, 12, 9, 9},
		{"pool A, worker limit 0", 0, 0, 100, 0},
	} {
		var setup func(*testing.T, *ent.Client)
		if c.concurrency > 0 {
			setup = poolConcurrency("A", c.concurrency)
		}
		add(schedPoolCase{name: c.name, setup: setup, want: c.want, check: allFromPool("A"),
			opts: fixed(dialects.WorkPoolRunsQuery{WorkPoolIDs: p("A"), WorkerLimit: schedPtr(c.worker), Limit: schedPtr(c.limit),
				RespectQueuePriorities: true})})
	}
	add(schedPoolCase{name: "pool A paused, pool A", setup: pausePool("A"),
		opts: fixed(dialects.WorkPoolRunsQuery{WorkPoolIDs: p("A")}), want: 0})
	for _, l := range []int{100, 7, 0} {
		add(schedPoolCase{name: "worker limit " + strconv.Itoa(l), opts: fixed(dialects.WorkPoolRunsQuery{WorkerLimit: schedPtr(l)}), want: min(15, l) * 3,
			check: func(t *testing.T, runs []dialects.ScheduledRun) {
				got := schedCountBy(runs, schedByPool)
				for name, id := range fx.pools {
					if got[id] != min(15, l) {
						t.Errorf("pool %s: %d runs, want %d", name, got[id], min(15, l))
					}
				}
			}})
	}
	add(schedPoolCase{name: "worker limit 7, pool A paused", setup: pausePool("A"),
		opts: fixed(dialects.WorkPoolRunsQuery{WorkerLimit: schedPtr(7)}), want: 14,
		check: func(t *testing.T, runs []dialects.ScheduledRun) {
			got := schedCountBy(runs, schedByPool)
			if got[fx.pools["A"]] != 0 || got[fx.pools["B"]] != 7 || got[fx.pools["C"]] != 7 {
				t.Errorf("per pool: A %d, B %d, C %d; want 0, 7, 7", got[fx.pools["A"]], got[fx.pools["B"]], got[fx.pools["C"]])
			}
		}})
	for _, l := range []int{100, 3, 0} {
		add(schedPoolCase{name: "queue limit " + strconv.Itoa(l), opts: fixed(dialects.WorkPoolRunsQuery{QueueLimit: schedPtr(l)}), want: min(5, l) * 9,
			check: func(t *testing.T, runs []dialects.ScheduledRun) {
				got := schedCountBy(runs, schedByQueue)
				for name, id := range fx.queues {
					if got[id] != min(5, l) {
						t.Errorf("queue %s: %d runs, want %d", name, got[id], min(5, l))
					}
				}
			}})
	}
	add(
		schedPoolCase{name: "queue limit 3, queue AA paused", setup: pauseQueue("AA"),
			opts: fixed(dialects.WorkPoolRunsQuery{QueueLimit: schedPtr(3)}), want: 24,
			check: func(t *testing.T, runs []dialects.ScheduledRun) {
				if n := schedCountBy(runs, schedByQueue)[fx.queues["AA"]]; n != 0 {
					t.Errorf("%d runs from the paused queue AA", n)
				}
			}},
		schedPoolCase{name: "pool A ignoring priorities", opts: fixed(dialects.WorkPoolRunsQuery{WorkPoolIDs: p("A")}), want: 15,
			check: func(t *testing.T, runs []dialects.ScheduledRun) {
				first := schedCountBy(runs[:3], schedByQueue)
				if first[fx.queues["AA"]] != 1 || first[fx.queues["AB"]] != 1 || first[fx.queues["AC"]] != 1 {
					t.Errorf("first 3 runs:%s; want one each from AA, AB, AC", schedDescribe(fx.queueName, runs[:3]))
				}
				for _, r := range runs[:3] {
					if at := fx.at[r.FlowRunID]; !at.Equal(fx.base.Add(-time.Hour).Truncate(time.Microsecond)) {
						t.Errorf("one of the first 3 runs is at %v, want the -1h runs", at)
					}
				}
				if !schedTimeOrdered(fx.at, runs) {
					t.Errorf("not in time order:%s", schedDescribe(fx.queueName, runs))
				}
			}},
		schedPoolCase{name: "pool A with priorities", opts: fixed(dialects.WorkPoolRunsQuery{WorkPoolIDs: p("A"), RespectQueuePriorities: true}),
			want: 15, check: groups(5, []string{"AA"}, []string{"AB"}, []string{"AC"})},
		schedPoolCase{name: "pools A B with priorities", opts: fixed(dialects.WorkPoolRunsQuery{WorkPoolIDs: p("A", "B"), RespectQueuePriorities: true}),
			want: 30, check: groups(10, []string{"AA", "BA"}, []string{"AB", "BB"}, []string{"AC", "BC"})},
		schedPoolCase{name: "all with priorities", opts: fixed(dialects.WorkPoolRunsQuery{RespectQueuePriorities: true}),
			want: 45, check: groups(15, []string{"AA", "BA", "CA"}, []string{"AB", "BB", "CB"}, []string{"AC", "BC", "CC"})},
	)
	// "now" is read after the runs were created, so the +0h run lies before it.
	for _, c := range [][2]int{{100, 45}, {3, 45}, {1, 27}, {-1, 9}, {-10, 0}, {0, 18}} {
		add(schedPoolCase{name: "scheduled before now" + schedSigned(c[0]) + "h", want: c[1],
			opts: func(now time.Time) dialects.WorkPoolRunsQuery {
				return dialects.WorkPoolRunsQuery{ScheduledBefore: schedPtr(now.Add(time.Duration(c[0]) * time.Hour))}
			}})
	}
	for _, c := range [][2]int{{-100, 45}, {-3, 45}, {0, 27}, {2, 9}, {10, 0}} {
		add(schedPoolCase{name: "scheduled after now" + schedSigned(c[0]) + "h", want: c[1],
			opts: func(now time.Time) dialects.WorkPoolRunsQuery {
				return dialects.WorkPoolRunsQuery{ScheduledAfter: schedPtr(now.Add(time.Duration(c[0]) * time.Hour))}
			}})
	}
	add(
		schedPoolCase{name: "scheduled before now-1h and after now+1h", want: 0,
			opts: func(now time.Time) dialects.WorkPoolRunsQuery {
				return dialects.WorkPoolRunsQuery{ScheduledBefore: schedPtr(now.Add(-time.Hour)), ScheduledAfter: schedPtr(now.Add(time.Hour))}
			}},
		schedPoolCase{name: "scheduled before now+1h in another time zone", want: 27,
			opts: func(now time.Time) dialects.WorkPoolRunsQuery {
				return dialects.WorkPoolRunsQuery{ScheduledBefore: schedPtr(now.Add(time.Hour).In(time.FixedZone("UTC-7", -7*3600)))}
			}},
	)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tx, c := s.tx(t)
			if tc.setup != nil {
				tc.setup(t, c)
			}
			runs := s.poolRuns(t, tx, tc.opts(time.Now()))
			if len(runs) != tc.want {
				t.Fatalf("got %d runs, want %d:%s", len(runs), tc.want, schedDescribe(fx.queueName, runs))
			}
			if tc.check != nil {
				tc.check(t, runs)
			}
		})
	}
}

// TestScheduledFlowRunsFromWorkPoolEdgeCases pins the cases where Prefect's
// two templates disagree (§6.6), with PostgreSQL's answer on both
// databases, and the edges of the limits, ordering and time bounds.
func testScheduledFlowRunsFromWorkPoolEdgeCases(t *testing.T, db *testutil.DB) {
	s := newSched(t, db)
	ctx := s.ctx
	now := time.Now().UTC().Truncate(time.Microsecond)
	at := func(d time.Duration) *time.Time { return schedPtr(now.Add(d)) }

	t.Run("priority order is global across pools", func(t *testing.T) {
		tx, c := s.tx(t)
		b := newSchedBuilder(t, ctx, c)
		p1, p2 := b.pool("P1"), b.pool("P2")
		q1 := b.queue(p1, "q1", 1)
		q2 := b.queue(p2, "q2", 2)
		p1a, p1b := b.run(q1, types.StateScheduled, at(5*time.Hour)), b.run(q1, types.StateScheduled, at(6*time.Hour))
		p2a, p2b := b.run(q2, types.StateScheduled, at(1*time.Hour)), b.run(q2, types.StateScheduled, at(2*time.Hour))
		got := schedRunIDs(s.poolRuns(t, tx, dialects.WorkPoolRunsQuery{RespectQueuePriorities: true}))
		if want := []uuid.UUID{p1a, p1b, p2a, p2b}; !slices.Equal(got, want) {
			t.Errorf("with priorities: got %v, want P1+5h, P1+6h, P2+1h, P2+2h %v", got, want)
		}
		got = schedRunIDs(s.poolRuns(t, tx, dialects.WorkPoolRunsQuery{}))
		if want := []uuid.UUID{p2a, p2b, p1a, p1b}; !slices.Equal(got, want) {
			t.Errorf("without priorities: got %v, want time order %v", got, want)
		}
	})

	t.Run("active runs in paused queues do not use pool slots", func(t *testing.T) {
		tx, c := s.tx(t)
		b := newSchedBuilder(t, ctx, c)
		p := b.pool("P")
		if err := c.WorkPool.UpdateOneID(p.ID).SetConcurrencyLimit(3).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		paused := b.queue(p, "paused", 2)
		active := b.queue(p, "active", 3)
		b.run(paused, types.StateRunning, nil)
		b.run(paused, types.StateRunning, nil)
		if err := c.WorkQueue.UpdateOneID(paused.ID).SetIsPaused(true).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for k := range 5 {
			b.run(active, types.StateScheduled, at(time.Duration(k)*time.Minute))
		}
		if got := s.poolRuns(t, tx, dialects.WorkPoolRunsQuery{}); len(got) != 3 {
			t.Errorf("got %d runs, want 3 (the paused queue's 2 running runs are not counted)", len(got))
		}
		// Once the queue is unpaused its runs count: 3 - 2 = 1 slot.
		if err := c.WorkQueue.UpdateOneID(paused.ID).SetIsPaused(false).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if got := s.poolRuns(t, tx, dialects.WorkPoolRunsQuery{}); len(got) != 1 {
			t.Errorf("unpaused: got %d runs, want 1", len(got))
		}
	})

	t.Run("NULL next_scheduled_start_time sorts last", func(t *testing.T) {
		tx, c := s.tx(t)
		b := newSchedBuilder(t, ctx, c)
		q := b.queue(b.pool("P"), "q", 2)
		null := b.run(q, types.StateScheduled, nil)
		late := b.run(q, types.StateScheduled, at(2*time.Hour))
		early := b.run(q, types.StateScheduled, at(time.Hour))
		got := schedRunIDs(s.poolRuns(t, tx, dialects.WorkPoolRunsQuery{QueueLimit: schedPtr(1)}))
		if want := []uuid.UUID{early}; !slices.Equal(got, want) {
			t.Errorf("queue limit 1: got %v, want the earliest dated run %v", got, want)
		}
		got = schedRunIDs(s.poolRuns(t, tx, dialects.WorkPoolRunsQuery{}))
		if want := []uuid.UUID{early, late, null}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		got = schedRunIDs(s.poolRuns(t, tx, dialects.WorkPoolRunsQuery{RespectQueuePriorities: true, WorkerLimit: schedPtr(2)}))
		if want := []uuid.UUID{early, late}; !slices.Equal(got, want) {
			t.Errorf("worker limit 2: got %v, want %v", got, want)
		}
	})

	t.Run("ties are broken by flow run id", func(t *testing.T) {
		tx, c := s.tx(t)
		b := newSchedBuilder(t, ctx, c)
		p := b.pool("P")
		qa, qb := b.queue(p, "a", 2), b.queue(p, "b", 2)
		var ids []uuid.UUID
		for k := range 6 {
			ids = append(ids, b.run([]*ent.WorkQueue{qa, qb}[k%2], types.StateScheduled, at(time.Hour)))
		}
		sorted := slices.SortedFunc(slices.Values(ids), func(x, y uuid.UUID) int { return slices.Compare(x[:], y[:]) })
		for _, respect := range []bool{false, true} {
			got := schedRunIDs(s.poolRuns(t, tx, dialects.WorkPoolRunsQuery{RespectQueuePriorities: respect}))
			if !slices.Equal(got, sorted) {
				t.Errorf("priorities %v: got %v, want by id %v", respect, got, sorted)
			}
		}
		got := s.poolRuns(t, tx, dialects.WorkPoolRunsQuery{QueueLimit: schedPtr(1)})
		var wantA, wantB uuid.UUID
		for k, id := range ids {
			w := &wantA
			if k%2 == 1 {
				w = &wantB
			}
			if *w == uuid.Nil || slices.Compare(id[:], w[:]) < 0 {
				*w = id
			}
		}
		if len(got) != 2 || !slices.Contains(schedRunIDs(got), wantA) || !slices.Contains(schedRunIDs(got), wantB) {
			t.Errorf("queue limit 1: got %v, want the smallest id of each queue (%s, %s)", schedRunIDs(got), wantA, wantB)
		}
	})

	t.Run("CANCELLING runs do not count against concurrency", func(t *testing.T) {
		tx, c := s.tx(t)
		b := newSchedBuilder(t, ctx, c)
		p := b.pool("P")
		q := b.queue(p, "q", 2)
		if err := c.WorkQueue.UpdateOneID(q.ID).SetConcurrencyLimit(3).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.WorkPool.UpdateOneID(p.ID).SetConcurrencyLimit(3).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		b.run(q, types.StateCancelling, nil)
		b.run(q, types.StateCancelling, nil)
		for k := range 5 {
			b.run(q, types.StateScheduled, at(time.Duration(k)*time.Minute))
		}
		if got := s.poolRuns(t, tx, dialects.WorkPoolRunsQuery{}); len(got) != 3 {
			t.Errorf("got %d runs, want 3", len(got))
		}
	})

	t.Run("limits and slots combine, unlimited slots are ignored", func(t *testing.T) {
		tx, c := s.tx(t)
		b := newSchedBuilder(t, ctx, c)
		p := b.pool("P")
		limited, free := b.queue(p, "limited", 2), b.queue(p, "free", 3)
		if err := c.WorkQueue.UpdateOneID(limited.ID).SetConcurrencyLimit(3).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		b.run(limited, types.StateRunning, nil) // limited: 2 slots
		for k := range 5 {
			b.run(limited, types.StateScheduled, at(time.Duration(2*k)*time.Minute))
			b.run(free, types.StateScheduled, at(time.Duration(2*k+1)*time.Minute))
		}
		cases := []struct {
			name              string
			pool              *int
			o                 dialects.WorkPoolRunsQuery
			limited, freeRuns int
		}{
			{"no limits", nil, dialects.WorkPoolRunsQuery{}, 2, 5},
			{"queue limit 4", nil, dialects.WorkPoolRunsQuery{QueueLimit: schedPtr(4)}, 2, 4},
			{"queue limit 1", nil, dialects.WorkPoolRunsQuery{QueueLimit: schedPtr(1)}, 1, 1},
			// pool slots 5 - 1 running = 4; by time: L0 F1 L2 F3 (limited has 2 only)
			{"pool concurrency 5", schedPtr(5), dialects.WorkPoolRunsQuery{}, 2, 2},
			{"pool concurrency 5, worker limit 3", schedPtr(5), dialects.WorkPoolRunsQuery{WorkerLimit: schedPtr(3)}, 2, 1},
			{"pool concurrency 5, limit 1", schedPtr(5), dialects.WorkPoolRunsQuery{Limit: schedPtr(1)}, 1, 0},
			{"pool concurrency 5, priorities", schedPtr(5), dialects.WorkPoolRunsQuery{RespectQueuePriorities: true}, 2, 2},
			{"pool concurrency 2, priorities", schedPtr(2), dialects.WorkPoolRunsQuery{RespectQueuePriorities: true}, 1, 0},
		}
		for _, tc := range cases {
			u := c.WorkPool.UpdateOneID(p.ID).ClearConcurrencyLimit()
			if tc.pool != nil {
				u = c.WorkPool.UpdateOneID(p.ID).SetConcurrencyLimit(*tc.pool)
			}
			if err := u.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			got := schedCountBy(s.poolRuns(t, tx, tc.o), schedByQueue)
			if got[limited.ID] != tc.limited || got[free.ID] != tc.freeRuns {
				t.Errorf("%s: limited %d, free %d; want %d, %d", tc.name, got[limited.ID], got[free.ID], tc.limited, tc.freeRuns)
			}
		}
	})

	t.Run("time bounds are inclusive to the microsecond in any time zone", func(t *testing.T) {
		tx, c := s.tx(t)
		b := newSchedBuilder(t, ctx, c)
		q := b.queue(b.pool("P"), "q", 2)
		r0 := b.run(q, types.StateScheduled, at(0))
		r1 := b.run(q, types.StateScheduled, at(time.Microsecond))
		r2 := b.run(q, types.StateScheduled, at(time.Second))
		zone := time.FixedZone("UTC+5:30", 5*3600+1800)
		cases := []struct {
			name          string
			before, after *time.Time
			want          []uuid.UUID
		}{
			{"before t", at(0), nil, []uuid.UUID{r0}},
			{"before t+1µs", at(time.Microsecond), nil, []uuid.UUID{r0, r1}},
			{"before t in +5:30", schedPtr(now.In(zone)), nil, []uuid.UUID{r0}},
			{"after t+1µs", nil, at(time.Microsecond), []uuid.UUID{r1, r2}},
			{"after t+1s in +5:30", nil, schedPtr(now.Add(time.Second).In(zone)), []uuid.UUID{r2}},
			{"between t and t", at(0), at(0), []uuid.UUID{r0}},
			{"between t+1µs and t+1s", at(time.Second), at(time.Microsecond), []uuid.UUID{r1, r2}},
			{"after t+2s", nil, at(2 * time.Second), nil},
		}
		for _, tc := range cases {
			got := schedRunIDs(s.poolRuns(t, tx, dialects.WorkPoolRunsQuery{ScheduledBefore: tc.before, ScheduledAfter: tc.after}))
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			}
		}
	})

	t.Run("only SCHEDULED runs with a queue are returned", func(t *testing.T) {
		tx, c := s.tx(t)
		b := newSchedBuilder(t, ctx, c)
		q := b.queue(b.pool("P"), "q", 2)
		want := b.run(q, types.StateScheduled, at(time.Minute))
		for _, st := range []types.StateType{types.StatePending, types.StateRunning, types.StatePaused,
			types.StateCompleted, types.StateCancelling, types.StateFailed} {
			b.run(q, st, at(0))
		}
		b.runNamed(q.Name, nil, types.StateScheduled, at(0)) // name only: not matched by the pool query
		got := s.poolRuns(t, tx, dialects.WorkPoolRunsQuery{})
		if len(got) != 1 || got[0].FlowRunID != want || got[0].WorkQueueID != q.ID || got[0].WorkPoolID != q.WorkPoolID {
			t.Errorf("got %+v, want only run %s", got, want)
		}
	})

	t.Run("negative limits are an error", func(t *testing.T) {
		for _, o := range []dialects.WorkPoolRunsQuery{{Limit: schedPtr(-1)}, {WorkerLimit: schedPtr(-1)}, {QueueLimit: schedPtr(-1)}} {
			if _, err := s.q.ScheduledFlowRunsFromWorkPool(ctx, db.SQL, o); err == nil {
				t.Errorf("%+v: no error", o)
			}
		}
		if _, err := s.q.ScheduledFlowRunsFromWorkQueues(ctx, db.SQL, dialects.WorkQueueRunsQuery{LimitPerQueue: schedPtr(-1)}); err == nil {
			t.Errorf("negative limit per queue: no error")
		}
	})
}

// schedQueueFixture is the dataset of Prefect's TestGetRunsInQueueQuery: legacy
// queues q1 and q2 in the default agent pool, deployments d1 and d2 on q1 and
// d3 on q2, and runs fr1 (now-2min, q1), fr2 (now-1min, q1), fr3 (now, q2).
type schedQueueFixture struct {
	b             *schedBuilder
	pool          *ent.WorkPool
	q1, q2        *ent.WorkQueue
	fr1, fr2, fr3 uuid.UUID
}

func schedBuildQueueFixture(t *testing.T, ctx context.Context, c *ent.Client) *schedQueueFixture {
	t.Helper()
	b := newSchedBuilder(t, ctx, c)
	fx := &schedQueueFixture{b: b, pool: b.pool("default-agent-pool")}
	fx.q1, fx.q2 = b.queue(fx.pool, "q1", 2), b.queue(fx.pool, "q2", 3)
	dep := func(name string, q *ent.WorkQueue) uuid.UUID {
		d, err := c.Deployment.Create().SetName(name).SetFlowID(b.flowID).
			SetWorkQueueName(q.Name).SetWorkQueueID(q.ID).Save(ctx)
		if err != nil {
			t.Fatalf("create deployment %s: %v", name, err)
		}
		return d.ID
	}
	d1, d2, d3 := dep("d1", fx.q1), dep("d2", fx.q1), dep("d3", fx.q2)
	now := time.Now()
	run := func(d uuid.UUID, q *ent.WorkQueue, at time.Time) uuid.UUID {
		id := b.run(q, types.StateScheduled, &at)
		if err := c.FlowRun.UpdateOneID(id).SetDeploymentID(d).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		return id
	}
	fx.fr1 = run(d1, fx.q1, now.Add(-2*time.Minute))
	fx.fr2 = run(d2, fx.q1, now.Add(-time.Minute))
	fx.fr3 = run(d3, fx.q2, now)
	return fx
}

// TestScheduledFlowRunsFromWorkQueues ports Prefect's
// tests/server/database/test_queries.py::TestGetRunsInQueueQuery and pins
// name matching, pool pause and NULL ordering.
func testScheduledFlowRunsFromWorkQueues(t *testing.T, db *testutil.DB) {
	s := newSched(t, db)
	ctx := s.ctx
	fx := schedBuildQueueFixture(t, ctx, db.Client)

	cases := []struct {
		name       string
		setup      func(t *testing.T, c *ent.Client, b *schedBuilder) []uuid.UUID
		opts       func() dialects.WorkQueueRunsQuery
		want       func(extra []uuid.UUID) []uuid.UUID
		wantQueues func(extra []uuid.UUID) []uuid.UUID
	}{
		{
			name: "all", opts: func() dialects.WorkQueueRunsQuery { return dialects.WorkQueueRunsQuery{} },
			want:       func([]uuid.UUID) []uuid.UUID { return []uuid.UUID{fx.fr1, fx.fr2, fx.fr3} },
			wantQueues: func([]uuid.UUID) []uuid.UUID { return []uuid.UUID{fx.q1.ID, fx.q1.ID, fx.q2.ID} },
		},
		{
			name: "limit 1", opts: func() dialects.WorkQueueRunsQuery { return dialects.WorkQueueRunsQuery{LimitPerQueue: schedPtr(1)} },
			want: func([]uuid.UUID) []uuid.UUID { return []uuid.UUID{fx.fr1, fx.fr3} },
		},
		{
			name: "limit 0", opts: func() dialects.WorkQueueRunsQuery { return dialects.WorkQueueRunsQuery{LimitPerQueue: schedPtr(0)} },
			want: func([]uuid.UUID) []uuid.UUID { return nil },
		},
		{
			name: "limit 1 sorts by time",
			setup: func(t *testing.T, c *ent.Client, b *schedBuilder) []uuid.UUID {
				if _, err := c.FlowRun.Delete().Exec(ctx); err != nil {
					t.Fatal(err)
				}
				now := time.Now()
				var ids []uuid.UUID
				for i := 10; i > -10; i-- {
					ids = append(ids, b.run(fx.q1, types.StateScheduled, schedPtr(now.Add(time.Duration(i)*time.Minute))))
				}
				return ids
			},
			opts: func() dialects.WorkQueueRunsQuery { return dialects.WorkQueueRunsQuery{LimitPerQueue: schedPtr(1)} },
			want: func(extra []uuid.UUID) []uuid.UUID { return extra[len(extra)-1:] }, // the -9 min run
		},
		{
			name: "scheduled before now-90s",
			opts: func() dialects.WorkQueueRunsQuery {
				return dialects.WorkQueueRunsQuery{ScheduledBefore: schedPtr(time.Now().Add(-90 * time.Second))}
			},
			want: func([]uuid.UUID) []uuid.UUID { return []uuid.UUID{fx.fr1} },
		},
		{
			name: "queue q2", opts: func() dialects.WorkQueueRunsQuery {
				return dialects.WorkQueueRunsQuery{WorkQueueIDs: []uuid.UUID{fx.q2.ID}}
			},
			want:       func([]uuid.UUID) []uuid.UUID { return []uuid.UUID{fx.fr3} },
			wantQueues: func([]uuid.UUID) []uuid.UUID { return []uuid.UUID{fx.q2.ID} },
		},
		{
			name: "queue q1 paused",
			setup: func(t *testing.T, c *ent.Client, _ *schedBuilder) []uuid.UUID {
				if err := c.WorkQueue.UpdateOneID(fx.q1.ID).SetIsPaused(true).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			opts: func() dialects.WorkQueueRunsQuery { return dialects.WorkQueueRunsQuery{} },
			want: func([]uuid.UUID) []uuid.UUID { return []uuid.UUID{fx.fr3} },
		},
		{
			name: "pool pause is ignored",
			setup: func(t *testing.T, c *ent.Client, _ *schedBuilder) []uuid.UUID {
				if err := c.WorkPool.UpdateOneID(fx.pool.ID).SetIsPaused(true).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			opts: func() dialects.WorkQueueRunsQuery { return dialects.WorkQueueRunsQuery{} },
			want: func([]uuid.UUID) []uuid.UUID { return []uuid.UUID{fx.fr1, fx.fr2, fx.fr3} },
		},
		{
			name: "runs are matched by queue name, not id",
			setup: func(t *testing.T, c *ent.Client, b *schedBuilder) []uuid.UUID {
				// named q2 but pointing at q1; and named q1 without an id
				a := b.runNamed("q2", &fx.q1.ID, types.StateScheduled, schedPtr(time.Now().Add(time.Hour)))
				n := b.runNamed("q1", nil, types.StateScheduled, schedPtr(time.Now().Add(2*time.Hour)))
				return []uuid.UUID{a, n}
			},
			opts:       func() dialects.WorkQueueRunsQuery { return dialects.WorkQueueRunsQuery{} },
			want:       func(x []uuid.UUID) []uuid.UUID { return []uuid.UUID{fx.fr1, fx.fr2, fx.fr3, x[0], x[1]} },
			wantQueues: func([]uuid.UUID) []uuid.UUID { return []uuid.UUID{fx.q1.ID, fx.q1.ID, fx.q2.ID, fx.q2.ID, fx.q1.ID} },
		},
		{
			name: "same queue name in two pools: both get the run, both count its runs",
			setup: func(t *testing.T, c *ent.Client, b *schedBuilder) []uuid.UUID {
				other := b.queue(b.pool("other"), "q1", 2)
				if err := c.WorkQueue.UpdateOneID(other.ID).SetConcurrencyLimit(2).Exec(ctx); err != nil {
					t.Fatal(err)
				}
				b.run(fx.q1, types.StateRunning, nil) // counts against other (by name): 1 slot left
				return []uuid.UUID{other.ID}
			},
			opts: func() dialects.WorkQueueRunsQuery { return dialects.WorkQueueRunsQuery{} },
			want: func([]uuid.UUID) []uuid.UUID { return []uuid.UUID{fx.fr1, fx.fr1, fx.fr2, fx.fr3} },
			wantQueues: func(x []uuid.UUID) []uuid.UUID {
				first := []uuid.UUID{fx.q1.ID, x[0]}
				slices.SortFunc(first, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
				return append(first, fx.q1.ID, fx.q2.ID)
			},
		},
		{
			name: "NULL next_scheduled_start_time sorts last",
			setup: func(t *testing.T, c *ent.Client, b *schedBuilder) []uuid.UUID {
				return []uuid.UUID{b.run(fx.q1, types.StateScheduled, nil)}
			},
			opts: func() dialects.WorkQueueRunsQuery { return dialects.WorkQueueRunsQuery{} },
			want: func(x []uuid.UUID) []uuid.UUID { return []uuid.UUID{fx.fr1, fx.fr2, fx.fr3, x[0]} },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tx, c := s.tx(t)
			var extra []uuid.UUID
			if tc.setup != nil {
				b := *fx.b
				b.t, b.c = t, c
				extra = tc.setup(t, c, &b)
			}
			runs := s.queueRuns(t, tx, tc.opts())
			if got, want := schedQueuedIDs(runs), tc.want(extra); !slices.Equal(got, want) {
				t.Errorf("runs: got %v, want %v", got, want)
			}
			if tc.wantQueues != nil {
				got := make([]uuid.UUID, len(runs))
				for k, r := range runs {
					got[k] = r.WorkQueueID
				}
				if want := tc.wantQueues(extra); !slices.Equal(got, want) {
					t.Errorf("queues: got %v, want %v", got, want)
				}
			}
		})
	}

	t.Run("filter the result by deployment", func(t *testing.T) {
		runs := s.queueRuns(t, db.SQL, dialects.WorkQueueRunsQuery{WorkQueueIDs: []uuid.UUID{fx.q2.ID}})
		got, err := db.Client.FlowRun.Query().
			Where(flowrun.IDIn(schedQueuedIDs(runs)...), flowrun.HasDeploymentWith(deployment.Name("d3"))).IDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []uuid.UUID{fx.fr3}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}

// TestScheduledFlowRunsFromWorkQueuesConcurrency ports the query-level
// assertions of Prefect's tests/server/models/test_work_queues.py::
// TestGetRunsInWorkQueue: two queues, each with 3 scheduled runs (now, +1min,
// +2min) and 3 active ones (PENDING, CANCELLING, RUNNING), which all count
// against the queue's concurrency limit.
func testScheduledFlowRunsFromWorkQueuesConcurrency(t *testing.T, db *testutil.DB) {
	s := newSched(t, db)
	ctx := s.ctx
	b := newSchedBuilder(t, ctx, db.Client)
	pool := b.pool("default-agent-pool")
	qa, qb := b.queue(pool, "wq-a", 2), b.queue(pool, "wq-b", 3)
	now := time.Now()
	for _, q := range []*ent.WorkQueue{qa, qb} {
		for m := range 3 {
			b.run(q, types.StateScheduled, schedPtr(now.Add(time.Duration(m)*time.Minute)))
		}
		for _, st := range []types.StateType{types.StatePending, types.StateCancelling, types.StateRunning} {
			b.run(q, st, nil)
		}
	}
	ra := schedQueuedIDs(s.queueRuns(t, db.SQL, dialects.WorkQueueRunsQuery{WorkQueueIDs: []uuid.UUID{qa.ID}}))
	rb := schedQueuedIDs(s.queueRuns(t, db.SQL, dialects.WorkQueueRunsQuery{WorkQueueIDs: []uuid.UUID{qb.ID}}))
	if len(ra) != 3 || len(rb) != 3 {
		t.Fatalf("got %d and %d runs, want 3 each", len(ra), len(rb))
	}
	schedAssertDisjoint(t, ra, rb)

	cases := []struct {
		name        string
		concurrency *int
		paused      bool
		o           dialects.WorkQueueRunsQuery
		want        int
	}{
		{name: "limit 2", o: dialects.WorkQueueRunsQuery{LimitPerQueue: schedPtr(2)}, want: 2},
		{name: "limit 0", o: dialects.WorkQueueRunsQuery{LimitPerQueue: schedPtr(0)}, want: 0},
		{name: "scheduled before now", o: dialects.WorkQueueRunsQuery{ScheduledBefore: schedPtr(time.Now())}, want: 1},
		{name: "paused", paused: true, want: 0},
		{name: "concurrency 10", concurrency: schedPtr(10), want: 3},
		{name: "concurrency 5", concurrency: schedPtr(5), want: 2},
		{name: "concurrency 1", concurrency: schedPtr(1), want: 0},
		{name: "concurrency 5, limit 10", concurrency: schedPtr(5), o: dialects.WorkQueueRunsQuery{LimitPerQueue: schedPtr(10)}, want: 2},
		{name: "concurrency 5, limit 1", concurrency: schedPtr(5), o: dialects.WorkQueueRunsQuery{LimitPerQueue: schedPtr(1)}, want: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tx, c := s.tx(t)
			u := c.WorkQueue.UpdateOneID(qa.ID).SetIsPaused(tc.paused)
			if tc.concurrency != nil {
				u.SetConcurrencyLimit(*tc.concurrency)
			}
			if err := u.Exec(ctx); err != nil {
				t.Fatal(err)
			}
			o := tc.o
			o.WorkQueueIDs = []uuid.UUID{qa.ID}
			runs := s.queueRuns(t, tx, o)
			if len(runs) != tc.want {
				t.Fatalf("got %d runs, want %d", len(runs), tc.want)
			}
			if !slices.Equal(schedQueuedIDs(runs), ra[:tc.want]) {
				t.Errorf("got %v, want the earliest %d of %v", schedQueuedIDs(runs), tc.want, ra)
			}
		})
	}
}

// TestScheduledFlowRunsConcurrentPollers checks that two pollers never
// receive the same run. On PostgreSQL both transactions are open at once and
// the second skips the rows the first locked (Prefect's test_concurrent_reads,
// test_concurrent_reads_with_overlap and test_query_skips_locked). On SQLite
// each poller holds the write lock (BEGIN IMMEDIATE): the second waits for
// the first to commit and then no longer sees the runs it moved to PENDING.
// A third poll after both committed gets whatever is left.
func testScheduledFlowRunsConcurrentPollers(t *testing.T, newDB func(t *testing.T) *testutil.DB) {
	type counts [3]int
	poolPoll := func(o dialects.WorkPoolRunsQuery) func(t *testing.T, s *sched, q dialects.Querier) []uuid.UUID {
		return func(t *testing.T, s *sched, q dialects.Querier) []uuid.UUID { return schedRunIDs(s.poolRuns(t, q, o)) }
	}
	queuePoll := func(t *testing.T, s *sched, q dialects.Querier) []uuid.UUID {
		return schedQueuedIDs(s.queueRuns(t, q, dialects.WorkQueueRunsQuery{}))
	}
	withPools := func(t *testing.T, ctx context.Context, c *ent.Client) int {
		schedBuildPoolFixture(t, ctx, c)
		return 45
	}
	withQueues := func(t *testing.T, ctx context.Context, c *ent.Client) int {
		schedBuildQueueFixture(t, ctx, c)
		return 3
	}
	cases := []struct {
		name           string
		fixture        func(t *testing.T, ctx context.Context, c *ent.Client) int
		first, second  func(t *testing.T, s *sched, q dialects.Querier) []uuid.UUID
		rest           func(t *testing.T, s *sched, q dialects.Querier) []uuid.UUID
		postgres, lite counts
	}{
		{"work pool, limit 35", withPools, poolPoll(dialects.WorkPoolRunsQuery{Limit: schedPtr(35)}), poolPoll(dialects.WorkPoolRunsQuery{}),
			poolPoll(dialects.WorkPoolRunsQuery{}), counts{35, 0, 10}, counts{35, 10, 0}},
		{"work pool, queue limit 2", withPools, poolPoll(dialects.WorkPoolRunsQuery{QueueLimit: schedPtr(2)}), poolPoll(dialects.WorkPoolRunsQuery{}),
			poolPoll(dialects.WorkPoolRunsQuery{}), counts{18, 27, 0}, counts{18, 27, 0}},
		{"work pool, priorities, worker limit 4", withPools,
			poolPoll(dialects.WorkPoolRunsQuery{RespectQueuePriorities: true, WorkerLimit: schedPtr(4)}),
			poolPoll(dialects.WorkPoolRunsQuery{RespectQueuePriorities: true, WorkerLimit: schedPtr(4)}),
			poolPoll(dialects.WorkPoolRunsQuery{}),
			// PostgreSQL locks every run the per-queue subqueries read, not
			// just the 4 per pool it returns. Prefect reads (and locks) all 45
			// here, so its second poll gets 0; we cap each queue's read at the
			// pool's limit (4 of its 5 runs: 36 locked), so the second poll
			// gets the one unlocked run of each of the 9 queues.
			counts{12, 9, 24}, counts{12, 12, 21}},
		{"legacy work queues", withQueues, queuePoll, queuePoll, queuePoll, counts{3, 0, 0}, counts{3, 0, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := newDB(t)
			s := newSched(t, db)
			ctx := s.ctx
			total := tc.fixture(t, ctx, db.Client)
			poll := func(which func(*testing.T, *sched, dialects.Querier) []uuid.UUID, q dialects.Querier) []uuid.UUID {
				ids := which(t, s, q)
				schedMarkPending(ctx, t, db, q, ids)
				return ids
			}
			var got [3][]uuid.UUID
			want := tc.lite
			if db.Dialect.Kind() == config.Postgres {
				want = tc.postgres
				tx1, err := db.SQL.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx1.Rollback()
				tx2, err := db.SQL.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx2.Rollback()
				// A poll that waited for the first transaction's locks
				// would fail here instead of hanging.
				if _, err := tx2.ExecContext(ctx, "SET LOCAL lock_timeout = '5s'"); err != nil {
					t.Fatal(err)
				}
				got[0] = poll(tc.first, tx1)
				got[1] = poll(tc.second, tx2) // does not wait: SKIP LOCKED
				if err := tx1.Commit(); err != nil {
					t.Fatal(err)
				}
				if err := tx2.Commit(); err != nil {
					t.Fatal(err)
				}
			} else {
				c1, err := db.SQL.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer c1.Close()
				c2, err := db.SQL.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer c2.Close()
				if _, err := c1.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
					t.Fatal(err)
				}
				got[0] = poll(tc.first, c1)
				began := make(chan error, 1)
				go func() {
					_, err := c2.ExecContext(ctx, "BEGIN IMMEDIATE")
					began <- err
				}()
				select {
				case err := <-began:
					t.Fatalf("the second write transaction began while the first held the lock (err %v)", err)
				case <-time.After(300 * time.Millisecond):
				}
				if _, err := c1.ExecContext(ctx, "COMMIT"); err != nil {
					t.Fatal(err)
				}
				if err := <-began; err != nil {
					t.Fatalf("second BEGIN IMMEDIATE: %v", err)
				}
				got[1] = poll(tc.second, c2)
				if _, err := c2.ExecContext(ctx, "COMMIT"); err != nil {
					t.Fatal(err)
				}
			}
			got[2] = poll(tc.rest, db.SQL)
			for k := range got {
				if len(got[k]) != want[k] {
					t.Errorf("poll %d: got %d runs, want %d", k+1, len(got[k]), want[k])
				}
			}
			schedAssertDisjoint(t, got[0], got[1], got[2])
			if n := len(got[0]) + len(got[1]) + len(got[2]); n != total {
				t.Errorf("%d runs handed out in all, want %d", n, total)
			}
		})
	}
}

// schedSigned renders n with its sign: "+3", "-1", "+0".
func schedSigned(n int) string { return fmt.Sprintf("%+d", n) }

// testScheduledFlowRunsQueueIndex: a dialect may read each queue's runs
// through the opt-in queue index (WorkPoolRunsQuery.QueueIndex); the runs
// it returns, and their order, are the same with and without the index and
// with and without the flag, for limits, priorities, time ranges and
// concurrency slots.
func testScheduledFlowRunsQueueIndex(t *testing.T, db *testutil.DB) {
	s := newSched(t, db)
	ctx := s.ctx
	fx := schedBuildPoolFixture(t, ctx, db.Client)
	now := time.Now().UTC()
	poolA := []uuid.UUID{fx.pools["A"]}
	queries := []dialects.WorkPoolRunsQuery{
		{WorkPoolIDs: poolA, RespectQueuePriorities: true},
		{WorkPoolIDs: poolA, WorkerLimit: schedPtr(4), Limit: schedPtr(9)},
		{WorkPoolIDs: poolA, QueueLimit: schedPtr(2), RespectQueuePriorities: true},
		{},
		{Limit: schedPtr(7)},
		{QueueLimit: schedPtr(2)},
		{WorkerLimit: schedPtr(4), RespectQueuePriorities: true},
		{RespectQueuePriorities: true, Limit: schedPtr(12)},
		{ScheduledBefore: schedPtr(now.Add(90 * time.Minute)), ScheduledAfter: schedPtr(now.Add(-time.Hour))},
		{ExcludeInProcessRetries: true, Limit: schedPtr(20)},
	}
	without := make([][]uuid.UUID, len(queries))
	for k, o := range queries {
		without[k] = schedRunIDs(s.poolRuns(t, db.SQL, o))
	}
	m := migrate.New(db.SQL, db.Dialect, migrate.Options{})
	for _, indexed := range []bool{false, true} {
		if indexed {
			if _, err := m.SetPerformanceIndexes(ctx, true); err != nil {
				t.Fatal(err)
			}
		}
		for k, o := range queries {
			o.QueueIndex = true
			if got := schedRunIDs(s.poolRuns(t, db.SQL, o)); !slices.Equal(got, without[k]) {
				t.Errorf("query %+v with QueueIndex (index created: %v): %d runs %v, want the %d without it %v",
					queries[k], indexed, len(got), got, len(without[k]), without[k])
			}
		}
	}
}
