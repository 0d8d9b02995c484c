package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/prefectdb/prefectdb/config"
)

// ScaleChunk is the number of finished runs the scale workload inserts per
// statement while it builds its table.
const ScaleChunk = 100_000

// pgHistory inserts finished runs $5 … $6 of the fixture's deployment, one a
// minute back from $7, spread over its queues: mostly COMPLETED, some
// FAILED, CANCELLED and CRASHED, with their times filled in as Prefect
// leaves them.
const pgHistory = `INSERT INTO flow_run (id, created, updated, name, state_type, state_name, run_count,
	expected_start_time, next_scheduled_start_time, start_time, end_time, total_run_time, idempotency_key,
	auto_scheduled, flow_id, deployment_id, work_queue_name, work_queue_id, state_timestamp, parameters, tags)
SELECT gen_random_uuid(), x.t, x.t, 'history-' || g, x.s::state_type, initcap(x.s), 1, x.t, x.t,
	x.t + interval '1 second', x.t + interval '61 seconds', interval '60 seconds', 'history ' || g, true, $1, $2,
	($3::text[])[1 + g % 5], ($4::uuid[])[1 + g % 5], x.t + interval '61 seconds', '{"n": 1}', '["bench"]'
FROM generate_series($5::int, $6::int) AS g
CROSS JOIN LATERAL (SELECT $7::timestamptz - g * interval '1 minute' AS t,
	CASE WHEN g % 20 = 0 THEN 'FAILED' WHEN g % 97 = 0 THEN 'CANCELLED' WHEN g % 89 = 0 THEN 'CRASHED'
		ELSE 'COMPLETED' END AS s) AS x`

// sqliteHistory is pgHistory for SQLite: ?1 … ?2 are the run numbers, ?3
// the Unix time they count back from, ?4 the flow, ?5 the deployment, ?6 …
// ?10 the queue ids and ?11 … ?15 their names.
const sqliteHistory = `WITH RECURSIVE g(n) AS (SELECT ?1 UNION ALL SELECT n + 1 FROM g WHERE n < ?2)
INSERT INTO flow_run (id, created, updated, name, state_type, state_name, run_count, expected_start_time,
	next_scheduled_start_time, start_time, end_time, total_run_time, idempotency_key, auto_scheduled, flow_id,
	deployment_id, work_queue_name, work_queue_id, state_timestamp, parameters, tags)
SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2)
		|| '-a' || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
	x.t, x.t, 'history-' || x.n, x.s, upper(substr(x.s, 1, 1)) || lower(substr(x.s, 2)), 1, x.t, x.t,
	strftime('%Y-%m-%d %H:%M:%S.000000', x.u + 1, 'unixepoch'), strftime('%Y-%m-%d %H:%M:%S.000000', x.u + 61, 'unixepoch'),
	'1970-01-01 00:01:00.000000', 'history ' || x.n, 1, ?4, ?5,
	CASE x.n % 5 WHEN 0 THEN ?11 WHEN 1 THEN ?12 WHEN 2 THEN ?13 WHEN 3 THEN ?14 ELSE ?15 END,
	CASE x.n % 5 WHEN 0 THEN ?6 WHEN 1 THEN ?7 WHEN 2 THEN ?8 WHEN 3 THEN ?9 ELSE ?10 END,
	strftime('%Y-%m-%d %H:%M:%S.000000', x.u + 61, 'unixepoch'), '{"n": 1}', '["bench"]'
FROM (SELECT n, ?3 - n * 60 AS u, strftime('%Y-%m-%d %H:%M:%S.000000', ?3 - n * 60, 'unixepoch') AS t,
	CASE WHEN n % 20 = 0 THEN 'FAILED' WHEN n % 97 = 0 THEN 'CANCELLED' WHEN n % 89 = 0 THEN 'CRASHED'
		ELSE 'COMPLETED' END AS s FROM g) AS x`

// addHistory inserts finished runs first … last-1 of the fixture into the
// database at dbURL, in chunks of ScaleChunk, and then lets the database
// gather statistics as it would on its own (PostgreSQL: VACUUM ANALYZE,
// which autovacuum runs after a bulk load; SQLite: nothing, since neither
// Prefect nor prefectdb runs ANALYZE on SQLite).
func addHistory(ctx context.Context, kind config.Kind, dbURL string, f *Fixture, first, last int, done *atomic.Int64) error {
	if kind == config.Postgres {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		for lo := first; lo < last; lo += ScaleChunk {
			hi := min(lo+ScaleChunk, last)
			if _, err := conn.Exec(ctx, pgHistory, f.FlowID, f.DeploymentID, f.QueueNames, f.QueueIDs, lo, hi-1, epoch); err != nil {
				return fmt.Errorf("build flow_run history: %w", err)
			}
			done.Add(int64(hi - lo))
		}
		if _, err := conn.Exec(ctx, "VACUUM ANALYZE flow_run"); err != nil {
			return fmt.Errorf("vacuum analyze flow_run: %w", err)
		}
		return nil
	}
	t, err := config.ParseURL(dbURL)
	if err != nil {
		return err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(60000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", "file:"+t.Path+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	args := []any{0, 0, epoch.Unix(), f.FlowID.String(), f.DeploymentID.String()}
	for _, id := range f.QueueIDs {
		args = append(args, id.String())
	}
	for _, n := range f.QueueNames {
		args = append(args, n)
	}
	for lo := first; lo < last; lo += ScaleChunk {
		hi := min(lo+ScaleChunk, last)
		args[0], args[1] = lo, hi-1
		if _, err := db.ExecContext(ctx, sqliteHistory, args...); err != nil {
			return fmt.Errorf("build flow_run history: %w", err)
		}
		done.Add(int64(hi - lo))
	}
	return nil
}

// runScale measures the poll with cfg.ScaleSmall and cfg.ScaleLarge runs
// in the table, cfg.ScaleScheduled of them scheduled, on a database of its
// own: prefectdb and the baseline poll the same table, one after the other.
func runScale(ctx context.Context, cfg Config, rep *Report, p *progress, scratch *Scratch) error {
	kind, c := scratch.Kind(), cfg.Concurrency
	p.show(rep.Database + ": creating the scale database")
	db, f, dbURL, err := openMigrated(ctx, scratch, "scale", c, cfg.PerformanceIndexes)
	if err != nil {
		return fmt.Errorf("bench: scale: %w", err)
	}
	lib := &side{kind: kind, target: NewLibTarget(db, f), fixture: f, url: dbURL}
	defer lib.target.Close()
	bt, err := openBaseline(ctx, kind, dbURL, c, f)
	if err != nil {
		return fmt.Errorf("bench: scale: %w", err)
	}
	base := &side{kind: kind, target: bt, fixture: f, url: dbURL}
	defer base.target.Close()
	res := &ScaleResult{Database: rep.Database}
	if res.server, err = serverVersion(ctx, dbURL); err != nil {
		return err
	}

	// The scheduled runs, as the scheduler makes them.
	if _, _, err := measureSchedule(ctx, lib.target, f, 0, cfg.ScaleScheduled, p, rep.Database+" scale      scheduled runs"); err != nil {
		return fmt.Errorf("bench: scale: %w", err)
	}
	have := cfg.ScaleScheduled
	for k, size := range []int{cfg.ScaleSmall, cfg.ScaleLarge} {
		if size > have {
			var done atomic.Int64
			stop := p.track(fmt.Sprintf("%s scale      building %s runs", rep.Database, formatCount(float64(size))),
				"runs/s", int64(size-have), &done)
			err := addHistory(ctx, kind, dbURL, f, have-cfg.ScaleScheduled, size-cfg.ScaleScheduled, &done)
			stop()
			if err != nil {
				return fmt.Errorf("bench: scale: %w", err)
			}
			have = size
		}
		pt := ScalePoint{Rows: size, Scheduled: cfg.ScaleScheduled}
		order := []*side{lib, base}
		if k%2 == 1 {
			order = []*side{base, lib}
		}
		for _, s := range order {
			settle(ctx, s.url)
			fig, err := measurePolls(ctx, s.target, c, cfg.PollTime, p,
				fmt.Sprintf("%s scale %s %s", rep.Database, formatCount(float64(size)), s.target.Side()))
			if err != nil {
				return fmt.Errorf("bench: scale: %s: %w", s.target.Side(), err)
			}
			if s == lib {
				pt.Prefectdb = fig
			} else {
				pt.Baseline = fig
			}
		}
		res.Points = append(res.Points, pt)
	}
	first, last := res.Points[0], res.Points[len(res.Points)-1]
	if first.Prefectdb.P99Ms > 0 {
		res.Growth = last.Prefectdb.P99Ms / first.Prefectdb.P99Ms
	}
	if first.Baseline.P99Ms > 0 {
		res.BaselineGrowth = last.Baseline.P99Ms / first.Baseline.P99Ms
	}
	rep.Scale = res
	p.clear()
	return nil
}
