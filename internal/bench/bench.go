// Package bench measures prefectdb where Prefect's server spends its
// database time, on SQLite and on PostgreSQL, and sets every figure next to
// a baseline measured in the same run: the same work done by hand-written
// SQL straight on the driver (pgx for PostgreSQL, database/sql with
// modernc.org/sqlite for SQLite), the best the database allows from Go.
// Machines are noisy, so the ratio of the two is the figure to compare.
//
// The workloads (see Run):
//
//  1. schedule: N scheduled runs of one deployment, in batches of 500, over
//     the 5 queues of one work pool; each batch one transaction: the runs
//     (idempotent on flow_id and idempotency_key), one SCHEDULED state
//     each, and the one-statement pointer update. runs/s.
//  2. poll: C pollers run the work-pool scheduled-runs query (limit 10,
//     queue priorities on), each poll one locking transaction, for a fixed
//     time. polls/s, p50 and p99.
//  3. transition: C workers move every run PENDING → RUNNING → COMPLETED,
//     one transaction per transition. transitions/s, p99.
//  4. logs: L log rows in batches of 200 with C writers, one transaction
//     per batch (prefectdb: dbiface's InsertLogs), and on PostgreSQL
//     logs-copy: the same rows streamed with COPY (dbiface's CopyLogs).
//     rows/s, peak RSS.
//  5. events: E events with 3 resources each, in batches of 200 with C
//     writers (prefectdb: dbiface's InsertEvents). rows/s (events and
//     resources).
//  6. scale: the poll's p50 and p99 with a small and a large flow_run table
//     (10k and 1M runs, a fixed number of them scheduled).
//
// Each side runs on its own freshly migrated database (Scratch): prefectdb
// on one, the baseline on another, and the scale workload on a third.
package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects/connect"
)

// Workloads are the workloads' names, in the order they run.
var Workloads = []string{"schedule", "poll", "transition", "logs", "events", "scale"}

// Config is what a benchmark run does.
type Config struct {
	// Runs is N: the scheduled runs the schedule workload inserts, which
	// poll and transition then work on.
	Runs int `json:"runs"`
	// Concurrency is C: the pollers, transition workers and log and event
	// writers.
	Concurrency int `json:"concurrency"`
	// Logs is L: the log rows ingested.
	Logs int `json:"logs"`
	// Events is E: the events ingested (each with 3 resources).
	Events int `json:"events"`
	// PollTime is how long each poll measurement lasts (after a warm-up of
	// a fifth of it, at most a second).
	PollTime time.Duration `json:"poll_time_ns"`
	// ScaleSmall and ScaleLarge are the flow_run table sizes of the scale
	// workload; ScaleScheduled of their runs are SCHEDULED, the rest
	// finished.
	ScaleSmall     int `json:"scale_small"`
	ScaleLarge     int `json:"scale_large"`
	ScaleScheduled int `json:"scale_scheduled"`
	// Rounds is how many times workloads 1–5 are measured on both sides,
	// the side that goes first alternating from round to round. Each round
	// schedules N new runs, polls, moves its own runs through their
	// transitions, and ingests L logs and E events more; a workload's
	// ratio is the median of its rounds' ratios (see Result). One round is
	// one measurement of each side, which on a shared machine is ±10%.
	// Without the transition workload, a round's runs stay scheduled, so
	// later rounds poll more of them.
	Rounds int `json:"rounds"`
	// PerformanceIndexes turns on prefectdb's opt-in performance indexes
	// (migrate.PerformanceIndexes) on every benchmark database, prefectdb's
	// and the baseline's alike, so that both sides still do the same work.
	PerformanceIndexes bool `json:"performance_indexes"`
	// Only, if not empty, names the workloads to run (see Workloads);
	// schedule always runs when poll or transition does, since they work
	// on its runs.
	Only []string `json:"only,omitempty"`
	// PostgresURL is a PostgreSQL server to run on; empty means SQLite.
	// The benchmark creates its own databases there and drops them again.
	PostgresURL string `json:"-"`
	// Dir is where the SQLite databases go (a new temporary directory in
	// it); empty means the system's temporary directory.
	Dir string `json:"-"`
	// Progress, if not nil, receives the progress line.
	Progress io.Writer `json:"-"`
	// Child, if not nil, runs the log workloads in child processes (see
	// ChildCommand), whose peak RSS is then reported. Without it they run
	// in this process and the peak RSS is measured after resetting the
	// process's peak (Linux), which counts whatever the process holds
	// already (SQLite page caches of the other workloads' connections).
	Child ChildCommand `json:"-"`
}

// DefaultConfig is the configuration: N = 10,000, C = 8,
// L = 200,000, E = 20,000, polls for 5 s, scale 10k and 1M runs, 3 rounds.
func DefaultConfig() Config {
	return Config{Runs: 10_000, Concurrency: 8, Logs: 200_000, Events: 20_000, PollTime: 5 * time.Second,
		ScaleSmall: 10_000, ScaleLarge: 1_000_000, ScaleScheduled: 1_000, Rounds: 3}
}

// QuickConfig is a small version that runs in well under a minute, in one
// round.
func QuickConfig() Config {
	return Config{Runs: 1_000, Concurrency: 8, Logs: 20_000, Events: 2_000, PollTime: time.Second,
		ScaleSmall: 10_000, ScaleLarge: 100_000, ScaleScheduled: 1_000, Rounds: 1}
}

func (c Config) summary() string {
	return fmt.Sprintf("N=%s C=%d L=%s E=%s, polls %s, %s, scale %s/%s runs", formatCount(float64(c.Runs)), c.Concurrency,
		formatCount(float64(c.Logs)), formatCount(float64(c.Events)), c.PollTime, plural(c.Rounds, "round"),
		formatCount(float64(c.ScaleSmall)), formatCount(float64(c.ScaleLarge)))
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Validate reports a configuration that cannot run.
func (c Config) Validate() error {
	switch {
	case c.Runs < 1:
		return fmt.Errorf("runs must be at least 1, got %d", c.Runs)
	case c.Concurrency < 1:
		return fmt.Errorf("concurrency must be at least 1, got %d", c.Concurrency)
	case c.Logs < 0 || c.Events < 0:
		return fmt.Errorf("logs and events must not be negative")
	case c.Rounds < 1:
		return fmt.Errorf("rounds must be at least 1, got %d", c.Rounds)
	case c.PollTime <= 0:
		return fmt.Errorf("poll time must be positive, got %s", c.PollTime)
	case c.ScaleScheduled < 1 || c.ScaleSmall < c.ScaleScheduled || c.ScaleLarge < c.ScaleSmall:
		return fmt.Errorf("scale sizes must satisfy 1 ≤ scheduled (%d) ≤ small (%d) ≤ large (%d)",
			c.ScaleScheduled, c.ScaleSmall, c.ScaleLarge)
	}
	for _, w := range c.Only {
		if !contains(Workloads, w) {
			return fmt.Errorf("unknown workload %q (known: %s)", w, strings.Join(Workloads, ", "))
		}
	}
	return nil
}

func (c Config) runs(workload string) bool { return len(c.Only) == 0 || contains(c.Only, workload) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// side is one side's open target with its database.
type side struct {
	kind    config.Kind
	target  Target
	fixture *Fixture
	url     string
	runs    []uuid.UUID // the scheduled runs, once schedule ran
}

// Run runs the configured workloads on fresh databases of one kind (SQLite,
// or PostgreSQL on cfg.PostgresURL) and returns the report. The databases
// are removed before it returns, also on error or cancellation.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	scratch, err := NewScratch(ctx, cfg.PostgresURL, cfg.Dir)
	if err != nil {
		return nil, err
	}
	p := &progress{w: cfg.Progress}
	defer func() {
		p.show("removing the benchmark databases")
		if cerr := scratch.Close(ctx); cerr != nil && err == nil {
			err = cerr
		}
		p.clear()
	}()
	rep = &Report{Started: time.Now().UTC(), Database: string(scratch.Kind()), Config: cfg,
		Host: fmt.Sprintf("%s %s/%s, %d CPUs", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())}
	db := string(scratch.Kind())

	needRuns := cfg.runs("schedule") || cfg.runs("poll") || cfg.runs("transition") || cfg.runs("logs") || cfg.runs("events")
	if needRuns {
		p.show(db + ": creating the prefectdb and baseline databases")
		lib, base, err := openSides(ctx, scratch, cfg)
		if err != nil {
			return nil, err
		}
		defer lib.target.Close()
		defer base.target.Close()
		if rep.Server, err = serverVersion(ctx, lib.url); err != nil {
			return nil, err
		}
		if err := runMain(ctx, cfg, rep, p, scratch, lib, base); err != nil {
			return nil, err
		}
	}
	if cfg.runs("scale") {
		if err := runScale(ctx, cfg, rep, p, scratch); err != nil {
			return nil, err
		}
		if rep.Server == "" {
			rep.Server = rep.Scale.server
		}
	}
	return rep, nil
}

// poolOptions are the interface's connection settings: Prefect's defaults
// (5 + 10 connections), with room for C workers if C is larger.
func poolOptions(c int) config.Options {
	return config.Options{PoolSize: config.DefaultPoolSize, MaxOverflow: max(config.DefaultMaxOverflow, c)}
}

// openMigrated creates a database for role, migrates it through dbiface and
// creates the fixture; it returns the open interface.
func openMigrated(ctx context.Context, scratch *Scratch, role string, c int, perfIndexes bool) (*dbiface.Interface, *Fixture, string, error) {
	url, err := scratch.New(ctx, role)
	if err != nil {
		return nil, nil, "", err
	}
	db, err := dbiface.Open(ctx, dbiface.Config{URL: url, Options: poolOptions(c)})
	if err != nil {
		return nil, nil, "", err
	}
	if err := db.CreateDB(ctx); err != nil {
		db.Close()
		return nil, nil, "", err
	}
	if perfIndexes {
		if _, err := db.SetPerformanceIndexes(ctx, true); err != nil {
			db.Close()
			return nil, nil, "", err
		}
	}
	f, err := CreateFixture(ctx, db.Client)
	if err != nil {
		db.Close()
		return nil, nil, "", err
	}
	return db, f, url, nil
}

// openSides creates the prefectdb and the baseline databases and opens
// their targets.
func openSides(ctx context.Context, scratch *Scratch, cfg Config) (lib, base *side, err error) {
	db, f, url, err := openMigrated(ctx, scratch, "prefectdb", cfg.Concurrency, cfg.PerformanceIndexes)
	if err != nil {
		return nil, nil, err
	}
	lib = &side{kind: scratch.Kind(), target: NewLibTarget(db, f), fixture: f, url: url}
	bdb, bf, burl, err := openMigrated(ctx, scratch, "baseline", cfg.Concurrency, cfg.PerformanceIndexes)
	if err != nil {
		lib.target.Close()
		return nil, nil, err
	}
	bdb.Close()
	bt, err := openBaseline(ctx, scratch.Kind(), burl, cfg.Concurrency, bf)
	if err != nil {
		lib.target.Close()
		return nil, nil, err
	}
	return lib, &side{kind: scratch.Kind(), target: bt, fixture: bf, url: burl}, nil
}

// openBaseline opens the baseline target on the database at url.
func openBaseline(ctx context.Context, kind config.Kind, url string, c int, f *Fixture) (Target, error) {
	if kind == config.Postgres {
		return NewPostgresBaseline(ctx, url, poolOptions(c).MaxOpenConns(), f)
	}
	t, err := config.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return NewSQLiteBaseline(ctx, t.Path, f)
}

// serverVersion returns "PostgreSQL 15.4" or "SQLite 3.49.1".
func serverVersion(ctx context.Context, url string) (string, error) {
	db, err := connect.Open(ctx, url, config.Options{})
	if err != nil {
		return "", err
	}
	defer db.Close()
	return db.Dialect.ServerVersion(ctx, db.DB)
}

// settle lets the database finish what earlier writes left, so that each
// measurement starts from the same state (dialects.Maintenance.Settle).
// Errors are ignored: a user without the right to CHECKPOINT just measures
// with more noise.
func settle(ctx context.Context, url string) {
	db, err := connect.Open(ctx, url, config.Options{})
	if err != nil {
		return
	}
	defer db.Close()
	_ = db.Dialect.Settle(ctx, db.DB)
}

// rounds collects each workload's measurements, round by round, in the
// order the workloads first ran.
type rounds struct {
	order []string
	figs  map[string][]Round
}

// both measures a workload on both sides, alternating which goes first
// (first tells), with a checkpoint before each, and adds the pair to the
// workload's rounds.
func (r *rounds) both(ctx context.Context, workload string, libFirst bool, lib, base *side,
	measure func(s *side) (Figures, error)) error {
	order := []*side{lib, base}
	if !libFirst {
		order = []*side{base, lib}
	}
	var round Round
	for _, s := range order {
		settle(ctx, s.url)
		f, err := measure(s)
		if err != nil {
			return fmt.Errorf("bench: %s: %s: %w", workload, s.target.Side(), err)
		}
		if s == lib {
			round.Prefectdb = f
		} else {
			round.Baseline = f
		}
	}
	if r.figs == nil {
		r.figs = map[string][]Round{}
	}
	if _, ok := r.figs[workload]; !ok {
		r.order = append(r.order, workload)
	}
	r.figs[workload] = append(r.figs[workload], round)
	return nil
}

// report adds to rep the rounds of the workloads that keep reports (the
// configured ones: schedule also runs, unreported, for poll and
// transition).
func (r *rounds) report(rep *Report, keep func(workload string) bool) {
	for _, w := range r.order {
		if keep(w) {
			rep.add(w, r.figs[w])
		}
	}
}

// ingestLogs measures the logs workload (with COPY if copy is set) on one
// side: in a child process if cfg.Child is set, else in this process; the
// figures include the peak RSS.
func ingestLogs(ctx context.Context, cfg Config, s *side, copy bool, p *progress, label string) (Figures, error) {
	if cfg.Child != nil {
		p.clear()
		return runInChild(ctx, cfg.Child, childSpec{Side: s.target.Side(), Kind: s.kind,
			URL: s.url, Copy: copy, Rows: cfg.Logs, Concurrency: cfg.Concurrency, Label: label}, cfg.Progress)
	}
	return withPeakRSS(func() (Figures, error) {
		if copy {
			return measureCopy(ctx, s.target, s.runs, cfg.Logs, cfg.Concurrency, p, label)
		}
		return measureLogs(ctx, s.target, s.runs, cfg.Logs, cfg.Concurrency, p, label)
	})
}

// runMain runs workloads 1–5, cfg.Rounds times, and adds their results.
func runMain(ctx context.Context, cfg Config, rep *Report, p *progress, scratch *Scratch, lib, base *side) error {
	var r rounds
	for round := range cfg.Rounds {
		if err := runRound(ctx, cfg, rep.Database, round, &r, p, scratch, lib, base); err != nil {
			return err
		}
	}
	p.clear()
	r.report(rep, cfg.runs)
	return nil
}

// runRound runs workloads 1–5 once (round counts from 0): the side that
// goes first alternates with the round, and the round's runs are scheduled
// after those of the rounds before it.
func runRound(ctx context.Context, cfg Config, db string, round int, r *rounds, p *progress, scratch *Scratch, lib, base *side) error {
	label := func(w string, s *side) string {
		l := fmt.Sprintf("%s %-10s %-9s", db, w, s.target.Side())
		if cfg.Rounds > 1 {
			l += fmt.Sprintf(" round %d/%d", round+1, cfg.Rounds)
		}
		return l
	}
	c := cfg.Concurrency
	first := func(libFirst bool) bool { return libFirst != (round%2 == 1) }

	// 1. schedule (also the runs of poll, transition, logs and events).
	err := r.both(ctx, "schedule", first(true), lib, base, func(s *side) (Figures, error) {
		ids, f, err := measureSchedule(ctx, s.target, s.fixture, round*cfg.Runs, cfg.Runs, p, label("schedule", s))
		s.runs = ids
		return f, err
	})
	if err != nil {
		return err
	}
	if cfg.runs("poll") {
		if err := r.both(ctx, "poll", first(false), lib, base, func(s *side) (Figures, error) {
			return measurePolls(ctx, s.target, c, cfg.PollTime, p, label("poll", s))
		}); err != nil {
			return err
		}
	}
	if cfg.runs("transition") {
		if err := r.both(ctx, "transition", first(true), lib, base, func(s *side) (Figures, error) {
			return measureTransitions(ctx, s.target, s.runs, c, p, label("transition", s))
		}); err != nil {
			return err
		}
	}
	if cfg.runs("logs") && cfg.Logs > 0 {
		if err := r.both(ctx, "logs", first(false), lib, base, func(s *side) (Figures, error) {
			return ingestLogs(ctx, cfg, s, false, p, label("logs", s))
		}); err != nil {
			return err
		}
		if scratch.Kind() == config.Postgres {
			if err := r.both(ctx, "logs-copy", first(true), lib, base, func(s *side) (Figures, error) {
				return ingestLogs(ctx, cfg, s, true, p, label("logs-copy", s))
			}); err != nil {
				return err
			}
		}
	}
	if cfg.runs("events") && cfg.Events > 0 {
		if err := r.both(ctx, "events", first(false), lib, base, func(s *side) (Figures, error) {
			return measureEvents(ctx, s.target, s.fixture, s.runs, cfg.Events, c, p, label("events", s))
		}); err != nil {
			return err
		}
	}
	return nil
}
