package settings_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectdb/prefectdb/settings"
)

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPrecedence: the environment, then .env, prefect.toml, pyproject.toml
// and the active profile, as Prefect orders them; a setting's older name in
// a stronger source beats its newer name in a weaker one.
func TestPrecedence(t *testing.T) {
	dir, home := t.TempDir(), t.TempDir()
	write(t, filepath.Join(home, "profiles.toml"), `active = "work"
[profiles.default]
PREFECT_SERVER_DATABASE_CONNECTION_URL = "sqlite:///default.db"
[profiles.work]
PREFECT_SERVER_DATABASE_CONNECTION_URL = "sqlite:///work.db"
PREFECT_SERVER_DATABASE_TIMEOUT = "7"
PREFECT_SERVER_DATABASE_ECHO = "true"
PREFECT_SQLALCHEMY_POOL_SIZE = "9"
`)
	env := map[string]string{"PREFECT_HOME": home}
	getenv := func(k string) string { return env[k] }
	load := func() *settings.Settings {
		t.Helper()
		s, err := settings.Load(getenv, dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	check := func(name, want, wantOrigin string) {
		t.Helper()
		got, origin := load().Lookup(name)
		if got != want || !strings.Contains(origin, wantOrigin) {
			t.Errorf("%s = %q from %q, want %q from %q", name, got, origin, want, wantOrigin)
		}
	}
	check("PREFECT_SERVER_DATABASE_CONNECTION_URL", "sqlite:///work.db", `profile "work"`)
	check("PREFECT_SQLALCHEMY_POOL_SIZE", "9", "profile")
	check("PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE", "9", "PREFECT_SQLALCHEMY_POOL_SIZE (profile")

	write(t, filepath.Join(dir, "pyproject.toml"), "[tool.prefect.server.database]\nconnection_url = \"sqlite:///pyproject.db\"\n")
	check("PREFECT_SERVER_DATABASE_CONNECTION_URL", "sqlite:///pyproject.db", "pyproject.toml")

	write(t, filepath.Join(dir, "prefect.toml"), "[server.database]\nconnection_url = \"sqlite:///prefect-toml.db\"\ntimeout = 3\n")
	check("PREFECT_SERVER_DATABASE_CONNECTION_URL", "sqlite:///prefect-toml.db", "prefect.toml")
	check("PREFECT_SERVER_DATABASE_TIMEOUT", "3", "prefect.toml")
	check("PREFECT_SERVER_DATABASE_ECHO", "true", "profile") // set nowhere stronger

	write(t, filepath.Join(dir, ".env"), "# comment\nexport PREFECT_API_DATABASE_CONNECTION_URL='sqlite:///dotenv.db'\n")
	check("PREFECT_SERVER_DATABASE_CONNECTION_URL", "sqlite:///dotenv.db", ".env")

	env["PREFECT_API_DATABASE_CONNECTION_URL"] = "sqlite:///env.db"
	check("PREFECT_SERVER_DATABASE_CONNECTION_URL", "sqlite:///env.db", "PREFECT_API_DATABASE_CONNECTION_URL (the environment)")

	// PREFECT_PROFILE chooses another profile.
	delete(env, "PREFECT_API_DATABASE_CONNECTION_URL")
	for _, f := range []string{".env", "prefect.toml", "pyproject.toml"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	env["PREFECT_PROFILE"] = "default"
	check("PREFECT_SERVER_DATABASE_CONNECTION_URL", "sqlite:///default.db", `profile "default"`)
}

// TestBadFileDoesNotLeak: a settings file that is not valid TOML is an
// error naming the file and the line, never quoting it.
func TestBadFileDoesNotLeak(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "prefect.toml"), "[server.database]\nconnection_url = \"postgresql+asyncpg://u:S3cretPw@h/db\n")
	_, err := settings.Load(func(string) string { return "" }, dir)
	if err == nil || !strings.Contains(err.Error(), "prefect.toml") || strings.Contains(err.Error(), "S3cretPw") {
		t.Fatalf("err = %v, want an error naming prefect.toml without the password", err)
	}
}

func TestExpandHome(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory")
	}
	for in, want := range map[string]string{"~": home, "~/x": filepath.Join(home, "x"), "/abs": "/abs", "rel": "rel"} {
		if got, err := settings.ExpandHome(in); err != nil || got != want {
			t.Errorf("ExpandHome(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
