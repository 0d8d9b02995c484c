package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, nil, &out, &errOut, func(k string) string { return env[k] })
	return out.String() + errOut.String(), err
}

// TestMigrateCommands drives the command line against the default SQLite
// database in PREFECT_HOME.
func TestMigrateCommands(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"PREFECT_HOME": filepath.Join(home, "nested")}
	steps := []struct {
		args []string
		want []string
	}{
		// Pinned to a Prefect release.
		{[]string{"migrate", "up", "--to", "3.4.0"}, []string{"sqlite", "up    20240913000000 prefect_3_0_baseline", "statements",
			"up    20250428133722 7655f31c5157_remove_flow_run_notifications"}},
		{[]string{"migrate", "up", "--to", "3.4"}, []string{"up    20250613164506 8bb517bae6f9_drop_task_run_state_id_foreign_key",
			"up    20250917091213 9e83011d1f2a_migrate_v1_concurrency_limits_to_v2"}}, // the newest 3.4.x: 3.4.25
		{[]string{"migrate", "status"}, []string{"prefect:  Prefect 3.4.19 to 3.6.18 (alembic revision 9e83011d1f2a)",
			"pending:  6 migrations", "drift:    not checked"}},
		{[]string{"migrate", "up"}, []string{"up    20260820000000 f416ea180ae1_add_flow_run_deployment_id_index"}},
		{[]string{"migrate", "up"}, []string{"nothing to apply"}},
		{[]string{"migrate", "status"}, []string{"current:  20260820000000 f416ea180ae1_add_flow_run_deployment_id_index",
			"(alembic revision f416ea180ae1)", "pending:  none", "drift:    none"}},
		{[]string{"migrate", "down", "--to", "3.0.2"}, []string{"down  20240913000001 7d6350aea855"}},
		{[]string{"migrate", "status"}, []string{"prefect:  Prefect 3.0.0 to 3.0.2 (alembic revision f93e1439f022)", "drift:    none"}},
		{[]string{"migrate", "down", "--to", "base"}, []string{"down  20240913000000"}},
		{[]string{"migrate", "down"}, []string{"nothing to revert"}},
		{[]string{"reset", "--yes"}, []string{"up    20240913000000", "up    20260820000000"}},
	}
	// Before anything exists, status says so and creates nothing.
	if out, err := runCLI(t, env, "migrate", "status"); err == nil || !strings.Contains(err.Error(), "no SQLite database at") {
		t.Fatalf("status before up: %v\n%s", err, out)
	}
	for _, s := range steps {
		out, err := runCLI(t, env, s.args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", s.args, err, out)
		}
		for _, w := range s.want {
			if !strings.Contains(out, w) {
				t.Fatalf("%v: output does not contain %q:\n%s", s.args, w, out)
			}
		}
	}
	// --url before the command, in Prefect's form, on another file.
	other := "sqlite+aiosqlite:///" + filepath.Join(home, "other.db")
	if out, err := runCLI(t, nil, "--url", other, "migrate", "up"); err != nil || !strings.Contains(out, "other.db") {
		t.Fatalf("--url before the command: %v\n%s", err, out)
	}
	// The environment variable names the database when --url is absent.
	if out, err := runCLI(t, map[string]string{"PREFECT_API_DATABASE_CONNECTION_URL": other}, "migrate", "status"); err != nil ||
		!strings.Contains(out, "other.db") || !strings.Contains(out, "drift:    none") {
		t.Fatalf("PREFECT_API_DATABASE_CONNECTION_URL: %v\n%s", err, out)
	}
}

func TestCommandErrors(t *testing.T) {
	env := map[string]string{"PREFECT_HOME": t.TempDir()}
	if out, err := runCLI(t, env, "migrate", "up"); err != nil {
		t.Fatalf("up: %v\n%s", err, out)
	}
	cases := []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{"reset"}, true, "--yes"},
		{[]string{"migrate"}, true, "up, down, status or stamp"},
		{[]string{"migrate", "sideways"}, true, `unknown command "migrate sideways"`},
		{[]string{"migrate", "up", "extra"}, true, `unexpected argument "extra"`},
		{[]string{"migrate", "up", "--nope"}, true, "nope"},
		{[]string{"migrate", "down", "--to", "20990101000000"}, false, `unknown revision "20990101000000"`},
		{[]string{"migrate", "up", "--url", "mysql+aiomysql://u:hunter2@h/db"}, false, `unsupported database URL scheme "mysql+aiomysql"`},
		{[]string{"migrate", "up", "--url", "postgresql+asyncpg://u:hunter2@127.0.0.1:1/db"}, false, "cannot connect"},
		// Malformed URLs and key=value strings: refused, and the password never shows.
		{[]string{"migrate", "status", "--url", "postgresql+asyncpg//alice:hunter2@127.0.0.1/db"}, false, "not a URL"},
		{[]string{"migrate", "status", "--url", "postgresql+asyncpg:///alice:hunter2@127.0.0.1/db"}, false, "ambiguous URL"},
		{[]string{"migrate", "status", "--url", "host=127.0.0.1 user=alice password=hunter2 dbname=db"}, false, "key=value connection strings are not supported"},
	}
	for _, c := range cases {
		out, err := runCLI(t, env, c.args...)
		if err == nil {
			t.Fatalf("%v: no error\n%s", c.args, out)
		}
		var ue usageError
		if errors.As(err, &ue) != c.usage {
			t.Errorf("%v: usage error = %v, want %v (%v)", c.args, !c.usage, c.usage, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %q does not contain %q", c.args, err, c.want)
		}
		if strings.Contains(err.Error()+out, "hunter2") {
			t.Errorf("%v: the password appears in the output or error: %q", c.args, err)
		}
	}
}

// TestDownNeedsConfirmationToDeleteData: a downgrade that would delete data
// says what and changes nothing without --yes; "migrate down -1" is accepted
// as Prefect users type it.
func TestDownNeedsConfirmationToDeleteData(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"PREFECT_HOME": home}
	if out, err := runCLI(t, env, "migrate", "up"); err != nil {
		t.Fatalf("up: %v\n%s", err, out)
	}
	url := "sqlite:///" + filepath.Join(home, "prefect.db")
	db, err := sql.Open("sqlite", filepath.Join(home, "prefect.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO flow (id, name, labels) VALUES ('0b2b3b44-1c5e-4d6f-8a9b-0c1d2e3f4a5b', 'kept', '{"a": 1}')`); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, env, "migrate", "down", "--to", "base")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "table flow (1 rows)") || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("down to base without --yes: %v\n%s", err, out)
	}
	out, err = runCLI(t, env, "migrate", "down", "--to", "3.1.4")
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "column flow.labels (1 values)") {
		t.Fatalf("down dropping labels without --yes: %v\n%s", err, out)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM flow WHERE labels IS NOT NULL`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("flow rows with labels after the refused downgrades: %d, %v", n, err)
	}
	// Reverting an index loses nothing: no confirmation needed.
	if out, err := runCLI(t, env, "--url", url, "migrate", "down", "-1"); err != nil || !strings.Contains(out, "down  20260820000000") {
		t.Fatalf("migrate down -1: %v\n%s", err, out)
	}
	if out, err := runCLI(t, env, "migrate", "down", "--to", "base", "--yes"); err != nil || !strings.Contains(out, "down  20240913000000") {
		t.Fatalf("down to base --yes: %v\n%s", err, out)
	}
}

// TestStatusCreatesNothing: migrate status (and down) on a mistyped SQLite
// path fail with a clear error and create neither the file nor directories.
func TestStatusCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "typo", "prefect.db")
	for _, cmd := range [][]string{{"migrate", "status"}, {"migrate", "down"}} {
		out, err := runCLI(t, nil, append(cmd, "--url", "sqlite:///"+path)...)
		if err == nil || !strings.Contains(err.Error(), "no SQLite database at") {
			t.Fatalf("%v on a missing file: %v\n%s", cmd, err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "typo")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%v created %s (%v)", cmd, filepath.Join(dir, "typo"), err)
		}
	}
}

// TestHelpAndVersion: -h/--help after any command prints the usage and
// succeeds; --version names the supported Prefect releases.
func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"migrate", "up", "-h"}, {"migrate", "down", "--help"}, {"graph", "-h"}} {
		out, err := runCLI(t, nil, args...)
		if err != nil || !strings.Contains(out, "usage: prefectdb") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	out, err := runCLI(t, nil, "--version")
	if err != nil || !strings.Contains(out, "prefectdb ") || !strings.Contains(out, "Prefect 3.0.0 to 3.8.3") {
		t.Errorf("--version: %v\n%s", err, out)
	}
}

// TestErrorTexts: one line, the real cause, no repetition.
func TestErrorTexts(t *testing.T) {
	dir := t.TempDir()
	_, err := runCLI(t, nil, "migrate", "up", "--url", "sqlite:///"+dir)
	if err == nil || !strings.Contains(err.Error(), "is a directory, not a SQLite database file") || strings.Count(err.Error(), dir) != 1 {
		t.Errorf("a directory as the database: %v", err)
	}
	repeated := "cannot connect: failed to connect: 127.0.0.1:1 (127.0.0.1): dial error: connection refused\n" +
		"  127.0.0.1:1 (127.0.0.1): dial error: connection refused"
	if got, want := oneLine(repeated), "cannot connect: failed to connect: 127.0.0.1:1 (127.0.0.1): dial error: connection refused"; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
}

// TestDatabaseFromPrefectProfile: with no --url and no variable, the active
// Prefect profile names the database, and the command says so.
func TestDatabaseFromPrefectProfile(t *testing.T) {
	home := t.TempDir()
	db := filepath.Join(home, "from-profile.db")
	profiles := "active = \"local\"\n[profiles.local]\nPREFECT_SERVER_DATABASE_CONNECTION_URL = \"sqlite+aiosqlite:///" + db + "\"\n"
	if err := os.WriteFile(filepath.Join(home, "profiles.toml"), []byte(profiles), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, map[string]string{"PREFECT_HOME": home}, "migrate", "up")
	if err != nil || !strings.Contains(out, "from-profile.db") || !strings.Contains(out, `profile "local"`) {
		t.Fatalf("migrate up with a profile: %v\n%s", err, out)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("the profile's database was not created: %v", err)
	}
}

// TestDryRunAndJSON: migrate up --dry-run prints the pending SQL and changes
// nothing; migrate status --json is one JSON object on stdout.
func TestDryRunAndJSON(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"PREFECT_HOME": home}
	if out, err := runCLI(t, env, "migrate", "up", "--to", "3.3.0"); err != nil {
		t.Fatalf("up: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "up", "--dry-run"}, nil, &stdout, &stderr, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "-- 20250428133722_7655f31c5157_remove_flow_run_notifications.sql") ||
		!strings.Contains(stdout.String(), `DROP TABLE "flow_run_notification_queue"`) || strings.Contains(stdout.String(), "baseline") {
		t.Fatalf("dry run printed:\n%s", stdout.String())
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"migrate", "status", "--json"}, nil, &stdout, &stderr, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	var st struct {
		AlembicRevision string   `json:"alembic_revision"`
		Release         string   `json:"prefect_release"`
		Pending         []string `json:"pending"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &st); err != nil {
		t.Fatalf("status --json is not one JSON object: %v\n%s", err, stdout.String())
	}
	if st.AlembicRevision != "bbca16f6f218" || st.Release != "Prefect 3.2.15 to 3.3.7" || len(st.Pending) == 0 {
		t.Fatalf("status --json = %+v", st)
	}
}

// TestStampAndConfirm: `migrate stamp REVISION` moves the bookkeeping only
// (a revision is required); `migrate down` that deletes data asks on a
// terminal and goes on only after "yes", and without a terminal needs
// --yes.
func TestStampAndConfirm(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{"PREFECT_HOME": home}
	if out, err := runCLI(t, env, "migrate", "up"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var ue usageError
	if _, err := runCLI(t, env, "migrate", "stamp"); !errors.As(err, &ue) || !strings.Contains(err.Error(), "needs a revision") {
		t.Errorf("migrate stamp without a revision: %v", err)
	}
	out, err := runCLI(t, env, "migrate", "stamp", "3.0.0")
	if err != nil || !strings.Contains(out, "no migration ran") || !strings.Contains(out, "adopt") {
		t.Fatalf("migrate stamp 3.0.0: %v\n%s", err, out)
	}
	// The schema is the head's, the stamp says 3.0: status fails on drift.
	out, err = runCLI(t, env, "migrate", "status")
	if err == nil || !strings.Contains(err.Error(), "drifted") || !strings.Contains(out, "Prefect 3.0.0 to 3.0.2") {
		t.Errorf("status after stamping 3.0.0 a head schema: %v\n%s", err, out)
	}
	if out, err := runCLI(t, env, "migrate", "stamp", "head"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// Put a row in, so that reverting to base deletes data.
	if out, err := runCLI(t, env, "migrate", "status"); err != nil || !strings.Contains(out, "drift:    none") {
		t.Fatalf("status after stamping head again: %v\n%s", err, out)
	}
	dbPath := filepath.Join(home, "prefect.db")
	sqlDB, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlDB.Exec(`INSERT INTO flow (id, name, tags, labels) VALUES ('6a9f2c1e-0000-4000-8000-000000000001', 'f', '[]', '{}')`); err != nil {
		t.Fatal(err)
	}
	_ = sqlDB.Close()

	down := func(stdin string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"migrate", "down", "--to", "base"}, strings.NewReader(stdin), &out, &errOut,
			func(k string) string { return env[k] })
		return out.String() + errOut.String(), err
	}
	out, err = down("no\n")
	if err == nil || !strings.Contains(out, "Type yes to go on") || !strings.Contains(out, "flow (1 row") {
		t.Fatalf("down answered no: %v\n%s", err, out)
	}
	if out, err := runCLI(t, env, "migrate", "status"); err != nil || !strings.Contains(out, "pending:  none") {
		t.Fatalf("the refused down changed the database: %v\n%s", err, out)
	}
	if out, err = down("yes\n"); err != nil || !strings.Contains(out, "down  20240913000000") {
		t.Fatalf("down answered yes: %v\n%s", err, out)
	}
}
