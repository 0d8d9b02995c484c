package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/internal/bench"
)

// benchValueFlags are bench's flags that take a value; splitArgs must know
// them to keep a value from being read as a command word.
var benchValueFlags = []string{"json", "runs", "concurrency", "logs", "events", "poll-time", "scale-small",
	"scale-large", "scale-scheduled", "only", "dir", "cpuprofile", "rounds"}

func init() {
	for _, f := range benchValueFlags {
		valueFlags[f] = true
	}
}

// benchCmd runs the benchmarks (package internal/bench) on fresh scratch
// databases and prints the table on stdout, with a progress line on stderr;
// its last line is "min ratio: X.XX (workload, database)". It never uses the
// configured Prefect database: without --url it runs on SQLite files in a
// new temporary directory, and with a PostgreSQL --url it creates databases
// named prefectdb_bench_<random>_<role> on that server and drops them at the
// end. The log workloads run in child processes ("bench --child", an
// internal flag) so that their peak RSS is their own.
func benchCmd(ctx context.Context, flagArgs []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("prefectdb bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	url := fs.String("url", "", "PostgreSQL server to benchmark on (default: SQLite)")
	quick := fs.Bool("quick", false, "small version")
	perfIndexes := fs.Bool("perf-indexes", false, "turn on prefectdb's opt-in performance indexes on every benchmark database")
	jsonOut := fs.String("json", "", "write the results as JSON to this file")
	runs := fs.Int("runs", 0, "N")
	conc := fs.Int("concurrency", 0, "C")
	logs := fs.Int("logs", -1, "L")
	events := fs.Int("events", -1, "E")
	pollTime := fs.Duration("poll-time", 0, "poll measurement time")
	scaleSmall := fs.Int("scale-small", 0, "small flow_run table")
	scaleLarge := fs.Int("scale-large", 0, "large flow_run table")
	scaleSched := fs.Int("scale-scheduled", 0, "scheduled runs in the scale tables")
	only := fs.String("only", "", "comma-separated workloads")
	rounds := fs.Int("rounds", 0, "rounds of workloads 1–5")
	dir := fs.String("dir", "", "directory for the SQLite databases")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	child := fs.Bool("child", false, "internal: run one log ingestion described on stdin")
	if err := fs.Parse(flagArgs); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if *child {
		return bench.RunChild(ctx, os.Stdin, stdout, stderr)
	}
	cfg := bench.DefaultConfig()
	if *quick {
		cfg = bench.QuickConfig()
	}
	setInt := func(dst *int, v, unset int) {
		if v != unset {
			*dst = v
		}
	}
	setInt(&cfg.Runs, *runs, 0)
	setInt(&cfg.Concurrency, *conc, 0)
	setInt(&cfg.Logs, *logs, -1)
	setInt(&cfg.Events, *events, -1)
	setInt(&cfg.ScaleSmall, *scaleSmall, 0)
	setInt(&cfg.ScaleLarge, *scaleLarge, 0)
	setInt(&cfg.ScaleScheduled, *scaleSched, 0)
	setInt(&cfg.Rounds, *rounds, 0)
	if *pollTime != 0 {
		cfg.PollTime = *pollTime
	}
	if *only != "" {
		for _, w := range strings.Split(*only, ",") {
			cfg.Only = append(cfg.Only, strings.TrimSpace(w))
		}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err.Error()}
	}
	cfg.PostgresURL, cfg.Dir, cfg.Progress, cfg.Child = *url, *dir, stderr, benchChild
	cfg.PerformanceIndexes = *perfIndexes

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return errors.New("bench: interrupted (the scratch databases were removed)")
		}
		return err
	}
	rep.Command = benchCommandLine(flagArgs)
	if *jsonOut != "" {
		if err := rep.WriteJSON(*jsonOut); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s (%s)\n", *jsonOut, time.Since(start).Round(time.Second))
	}
	return rep.WriteTable(stdout)
}

// benchChildEnv marks a process started as a bench child. The command
// itself does not need it; tests use it to make their binary act as
// prefectdb (see TestMain).
const benchChildEnv = "PREFECTDB_BENCH_CHILD"

// benchChild starts this program again as "prefectdb bench --child", to
// measure a log ingestion in a process of its own (bench.ChildCommand).
func benchChild(ctx context.Context) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: cannot start a child process: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "--child")
	cmd.Env = append(os.Environ(), benchChildEnv+"=1")
	return cmd, nil
}

// benchCommandLine is the command that reproduces a run, without any
// password in --url.
func benchCommandLine(flagArgs []string) string {
	parts := []string{"prefectdb", "bench"}
	for i := 0; i < len(flagArgs); i++ {
		a := flagArgs[i]
		name := strings.TrimLeft(a, "-")
		if name == "url" && i+1 < len(flagArgs) {
			parts = append(parts, a, config.Redact(flagArgs[i+1]))
			i++
			continue
		}
		if v, ok := strings.CutPrefix(name, "url="); ok {
			parts = append(parts, "--url="+config.Redact(v))
			continue
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
