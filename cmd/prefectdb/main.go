// Command prefectdb manages a Prefect 3.x orchestration database from Go:
//
//	prefectdb migrate up [--to TARGET]    apply pending migrations (or adopt a Prefect-made database)
//	prefectdb migrate down [--to TARGET]  revert one step (default), to a target, or to base
//	prefectdb migrate status              applied and pending migrations, and schema drift
//	prefectdb migrate stamp REVISION      record the database as at REVISION, running nothing
//	prefectdb perf-indexes [on|off]        show or switch prefectdb's opt-in performance indexes
//	prefectdb reset --yes                 drop everything, then migrate up
//	prefectdb graph [--out DIR]           draw the schema: DIR/schema.html and DIR/schema.md
//	prefectdb bench [--url URL] [--quick] [--json FILE]
//	                                      benchmark against hand-written SQL on scratch databases
//
// The database is --url, else PREFECT_SERVER_DATABASE_CONNECTION_URL (or its
// older name PREFECT_API_DATABASE_CONNECTION_URL), else the
// SQLite file prefect.db in PREFECT_HOME (default ~/.prefect), created on
// first use. Prefect's URL forms (postgresql+asyncpg://…, sqlite+aiosqlite:///…)
// are accepted as well as postgres://…, sqlite:///… and file: paths.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects/connect"
	"github.com/prefectdb/prefectdb/migrate"
	"github.com/prefectdb/prefectdb/settings"
)

const usage = `usage: prefectdb <command> [flags]

commands:
  migrate up [--to TARGET]       apply pending migrations up to TARGET (default head); a database
                                 made by a Prefect 3.x server is adopted and, without --to, stays
                                 at its release
  migrate down [--to TARGET]     revert migrations: -1 (default, one step), a TARGET, or base;
                                 when that deletes data it says what and needs --yes (or, on a
                                 terminal, typing yes)
  migrate status [--json]        show the Prefect release and Alembic revision of the database,
                                 applied and pending migrations, and schema drift
  migrate up --dry-run           print the SQL that migrate up would run, and change nothing
  migrate stamp TARGET           record the database as migrated to TARGET without running any
                                 migration (prefect server database stamp); check drift after

TARGET is a Prefect release (3.4.0, or 3.4 for the newest 3.4.x), a Prefect Alembic revision,
a prefectdb version, or head.
  perf-indexes [on|off]          show, add (on) or drop (off) prefectdb's opt-in performance indexes,
                                 which Prefect's schema does not have (off by default; drift ignores them)
  reset --yes                    drop every prefectdb table and migrate up again
  graph [--out DIR]              write the schema drawing (schema.html, schema.md) into DIR
                                 (default .); reads no database
  bench [--quick] [--json FILE]  benchmark Prefect's hot paths against hand-written SQL, on scratch
                                 databases only: SQLite files in a temporary directory, or with
                                 --url a PostgreSQL server, where it creates and drops its own
                                 databases; flags: --runs N --concurrency C --logs L --events E
                                 --poll-time D --scale-small/--scale-large/--scale-scheduled N
                                 --only W,W --rounds R --perf-indexes --dir DIR --cpuprofile FILE

flags (every command):
  --url URL                      database URL (default: $PREFECT_SERVER_DATABASE_CONNECTION_URL,
                                 else $PREFECT_API_DATABASE_CONNECTION_URL, else sqlite at
                                 $PREFECT_HOME/prefect.db, PREFECT_HOME=~/.prefect)
  -v                             log SQL and progress at debug level to stderr
  -h, --help                     this text (also after any command)
  --version                      prefectdb's version and the Prefect releases it supports
`

// usageError is a mistake in the command line; it exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var stdin io.Reader // nil: no one to ask for confirmation
	if st, err := os.Stdin.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		stdin = os.Stdin
	}
	err := run(ctx, os.Args[1:], stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "prefectdb: %s\n", oneLine(err.Error()))
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "run 'prefectdb --help' for usage")
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// oneLine puts an error on one line and folds a cause that the drivers
// repeat ("…: connection refused …: connection refused", one per address
// or TLS attempt).
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for {
		folded := false
		for n := len(s) / 2; n >= 16; n-- {
			tail := s[len(s)-n:]
			if strings.HasSuffix(s[:len(s)-n], tail+" ") {
				s, folded = s[:len(s)-n-1], true
				break
			}
		}
		if !folded {
			return s
		}
	}
}

// run executes one command line. stdin is the terminal to ask for
// confirmation on, or nil when there is none (then --yes is needed).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || slices.Contains(args, "-h") || slices.Contains(args, "--help") || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if args[0] == "--version" || args[0] == "version" {
		fmt.Fprintln(stdout, versionLine())
		return nil
	}
	words, flagArgs := splitArgs(args)
	var cmd string
	switch {
	case len(words) == 0:
		return usageError{"no command given"}
	case words[0] == "migrate" && len(words) == 1:
		return usageError{"migrate needs a subcommand: up, down, status or stamp"}
	case words[0] == "migrate":
		cmd, words = "migrate "+words[1], words[2:]
	default:
		cmd, words = words[0], words[1:]
	}
	if (cmd == "migrate down" || cmd == "migrate stamp") && len(words) == 1 &&
		!slices.Contains(flagArgs, "--to") && !slices.Contains(flagArgs, "-to") {
		// "migrate down -1", "migrate down 3.4.0" or "migrate stamp head",
		// as Prefect's CLI takes its revision.
		flagArgs, words = append(flagArgs, "--to", words[0]), nil
	}
	perfSwitch := ""
	if cmd == "perf-indexes" && len(words) == 1 {
		if words[0] != "on" && words[0] != "off" {
			return usageError{fmt.Sprintf("perf-indexes takes on or off, not %q", words[0])}
		}
		perfSwitch, words = words[0], nil
	}
	if len(words) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", words[0])}
	}
	if cmd == "graph" {
		return graph(ctx, flagArgs, stdout)
	}
	if cmd == "bench" {
		return benchCmd(ctx, flagArgs, stdout, stderr)
	}
	fs := flag.NewFlagSet("prefectdb "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	url := fs.String("url", "", "database URL")
	verbose := fs.Bool("v", false, "verbose")
	to := fs.String("to", "", "migration target")
	yes := fs.Bool("yes", false, "confirm reset")
	dryRun := fs.Bool("dry-run", false, "print the SQL migrate up would run")
	asJSON := fs.Bool("json", false, "migrate status as JSON")
	if err := fs.Parse(flagArgs); err != nil {
		return usageError{err.Error()}
	}
	switch cmd {
	case "migrate up", "migrate down", "migrate status", "migrate stamp", "perf-indexes", "reset":
	default:
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	if cmd == "migrate stamp" && *to == "" {
		return usageError{"migrate stamp needs a revision: a Prefect release, an Alembic revision, a prefectdb version or head"}
	}
	if cmd == "reset" && !*yes {
		return usageError{"reset drops every prefectdb table and all its data; run it again with --yes to confirm"}
	}

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// Prefect's settings, from the environment and Prefect's files, in
	// Prefect's order.
	st, err := settings.Load(getenv, ".")
	if err != nil {
		return err
	}
	source := "--url"
	if *url == "" {
		var name string
		if *url, name, err = connect.DefaultURLSource(st.Getenv); err != nil {
			return err
		}
		source = name
		if _, origin := st.Lookup(name); origin != "" {
			source = origin
		}
	}
	opts, err := config.OptionsFromEnv(st.Getenv)
	if err != nil {
		return err
	}
	opts.Logger, opts.Echo = logger, opts.Echo || *verbose
	openDB := connect.Open
	if cmd == "migrate status" || cmd == "migrate down" || cmd == "migrate stamp" || cmd == "perf-indexes" || *dryRun {
		openDB = connect.OpenExisting // read or remove: create nothing
	}
	db, err := openDB(ctx, *url, opts)
	if err != nil {
		return err
	}
	defer db.Close()
	info := stdout
	if *asJSON || *dryRun {
		info = stderr // stdout carries only the JSON or the SQL
	}
	fmt.Fprintf(info, "database: %s (%s)\n", db.Target.Redacted(), db.Dialect.Kind())
	fmt.Fprintf(stderr, "prefectdb: database from %s\n", source)

	m := migrate.New(db.DB, db.Dialect, migrate.Options{Logger: logger, StatementTimeout: opts.MigrationTimeout,
		OnStep: func(s migrate.Step) { printStep(stdout, s) }})
	switch cmd {
	case "migrate up":
		if *dryRun {
			return printPending(ctx, stdout, m, *to)
		}
		return up(ctx, stdout, m, *to)
	case "migrate down":
		if *to == "" {
			*to = migrate.OneStep
		}
		losses, err := m.DownLosses(ctx, *to)
		if err != nil {
			return err
		}
		if len(losses) > 0 && !*yes {
			shown := make([]string, 0, len(losses))
			for _, l := range losses {
				shown = append(shown, l.String())
			}
			what := fmt.Sprintf("migrate down --to %s would delete %s", *to, strings.Join(shown, ", "))
			if stdin == nil {
				return usageError{what + "; run it again with --yes to confirm (back the database up first)"}
			}
			if !confirm(stdin, stderr, what+" (back the database up first).\nType yes to go on: ") {
				return errors.New("migrate down not confirmed; nothing was changed")
			}
		}
		steps, err := m.Down(ctx, *to)
		if err == nil && len(steps) == 0 {
			fmt.Fprintln(stdout, "nothing to revert")
		}
		return err
	case "perf-indexes":
		if perfSwitch != "" {
			changed, err := m.SetPerformanceIndexes(ctx, perfSwitch == "on")
			if err != nil {
				return err
			}
			verb := map[string]string{"on": "created", "off": "dropped"}[perfSwitch]
			for _, name := range changed {
				fmt.Fprintf(stdout, "%s %s\n", verb, name)
			}
		}
		have, err := m.PerformanceIndexesOn(ctx)
		if err != nil {
			return err
		}
		for _, p := range migrate.PerformanceIndexes() {
			state := "off"
			if have[p.Name] {
				state = "on"
			}
			fmt.Fprintf(stdout, "%-4s %s on %s (%s) WHERE %s: %s\n", state, p.Name, p.Table, p.Columns, p.Where, p.Serves)
		}
		return nil
	case "migrate stamp":
		if _, err := m.Stamp(ctx, *to); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "no migration ran; `prefectdb migrate status` checks the schema against the stamp")
		return nil
	case "migrate status":
		if *asJSON {
			return statusJSON(ctx, stdout, m)
		}
		return status(ctx, stdout, m)
	default: // reset
		if _, err := m.Down(ctx, migrate.Base); err != nil {
			return err
		}
		return up(ctx, stdout, m, migrate.Head)
	}
}

// confirm asks on the terminal and reports whether the answer was "yes".
func confirm(in io.Reader, out io.Writer, prompt string) bool {
	fmt.Fprint(out, prompt)
	line, _ := bufio.NewReader(in).ReadString('\n')
	return strings.EqualFold(strings.TrimSpace(line), "yes")
}

// versionLine is prefectdb's version and the Prefect releases it supports.
func versionLine() string {
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 10 && (version == "" || version == "(devel)") {
				version = "(devel) " + s.Value[:10]
			}
		}
	}
	// Both databases' chains cover the same Prefect releases.
	supported := "unknown"
	if d, err := connect.Dialect(config.SQLite); err == nil {
		if chain, err := migrate.ChainOf(d); err == nil {
			supported = chain.SupportedReleases()
		}
	}
	return fmt.Sprintf("prefectdb %s, %s; supports %s", version, runtime.Version(), supported)
}

// valueFlags are the flags that take a value.
var valueFlags = map[string]bool{"url": true, "to": true, "out": true}

// splitArgs separates command words from flags, so that flags may come
// before or after the command ("prefectdb --url X migrate up").
func splitArgs(args []string) (words, flags []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		afterTo := len(flags) > 0 && strings.TrimLeft(flags[len(flags)-1], "-") == "to"
		afterDown := len(words) > 0 && words[len(words)-1] == "down"
		if !strings.HasPrefix(a, "-") || a == "-1" && (afterTo || afterDown) {
			if len(flags) > 0 && wantsValue(flags[len(flags)-1]) {
				flags = append(flags, a)
				continue
			}
			words = append(words, a)
			continue
		}
		flags = append(flags, a)
	}
	return words, flags
}

// wantsValue reports whether flag arg (as written) still needs its value.
func wantsValue(arg string) bool {
	name := strings.TrimLeft(arg, "-")
	return !strings.Contains(name, "=") && valueFlags[name]
}

func up(ctx context.Context, w io.Writer, m *migrate.Migrator, target string) error {
	var (
		steps []migrate.Step
		err   error
	)
	if target == "" {
		steps, err = m.Up(ctx)
	} else {
		steps, err = m.UpTo(ctx, target)
	}
	if err != nil {
		return err
	}
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	switch {
	case target == "" && len(st.Pending) > 0:
		fmt.Fprintf(w, "the database is at %s (Alembic %s), which Prefect migrated: it stays there so that your Prefect server "+
			"still starts; `migrate up --to head` (or --to a release) upgrades it, after which the Prefect server must be upgraded too\n",
			st.Release, st.AlembicRevision)
	case len(steps) == 0:
		fmt.Fprintf(w, "already at %s (Alembic %s): nothing to apply\n", st.Release, st.AlembicRevision)
	}
	return nil
}

// printPending prints the SQL that migrate up would run, file by file.
func printPending(ctx context.Context, w io.Writer, m *migrate.Migrator, target string) error {
	if target == "" {
		target = migrate.Head
	}
	files, err := m.PendingFiles(ctx, target)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		fmt.Fprintln(w, "-- nothing to apply")
	}
	for _, f := range files {
		fmt.Fprintf(w, "-- %s\n%s\n", f.Name(), strings.TrimSpace(string(f.Bytes())))
	}
	return nil
}

// statusJSON prints migrate status as one JSON object.
func statusJSON(ctx context.Context, w io.Writer, m *migrate.Migrator) error {
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	applied := make([]string, 0, len(st.Applied))
	for _, r := range st.Applied {
		applied = append(applied, r.Version)
	}
	out := map[string]any{
		"database": string(st.Dialect), "current": st.Current, "alembic_revision": st.AlembicRevision,
		"prefect_release": st.Release, "supported": st.Supported, "applied": applied, "pending": st.Pending,
	}
	if st.Pending == nil {
		out["pending"] = []string{}
	}
	if len(st.Applied) > 0 {
		drift, err := m.Drift(ctx)
		switch {
		case errors.Is(err, migrate.ErrNoReference):
			out["drift"] = nil
		case err != nil:
			return err
		default:
			out["drift"] = append([]string{}, drift...)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func printStep(w io.Writer, s migrate.Step) {
	fmt.Fprintf(w, "%-5s %s %-32s %4d statements  %s\n", s.Direction, s.Version, s.Description, s.Statements,
		s.Duration.Round(time.Millisecond))
}

func status(ctx context.Context, w io.Writer, m *migrate.Migrator) error {
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	current := "none (empty database)"
	for _, r := range st.Applied {
		current = r.Version + " " + r.Description
		if r.Type&atlasmigrate.RevisionTypeBaseline != 0 {
			current += " (adopted)"
		}
	}
	fmt.Fprintf(w, "current:  %s\n", current)
	if st.AlembicRevision != "" {
		fmt.Fprintf(w, "prefect:  %s (alembic revision %s)\n", st.Release, st.AlembicRevision)
	}
	fmt.Fprintf(w, "supports: %s\n", st.Supported)
	if len(st.Pending) == 0 {
		fmt.Fprintln(w, "pending:  none")
	} else {
		fmt.Fprintf(w, "pending:  %d migrations, up to %s\n", len(st.Pending), st.Pending[len(st.Pending)-1])
	}
	if len(st.Applied) == 0 {
		fmt.Fprintln(w, "drift:    not checked on an empty database")
		return nil
	}
	drift, err := m.Drift(ctx)
	if errors.Is(err, migrate.ErrNoReference) {
		fmt.Fprintf(w, "drift:    not checked: %v\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	if len(drift) == 0 {
		fmt.Fprintln(w, "drift:    none (the database matches Prefect's schema at its revision)")
		return nil
	}
	fmt.Fprintf(w, "drift:    %d differences from Prefect's schema at its revision:\n", len(drift))
	for _, d := range drift {
		fmt.Fprintf(w, "  %s\n", d)
	}
	return fmt.Errorf("the database schema has drifted from Prefect's schema at its revision (%d differences)", len(drift))
}
