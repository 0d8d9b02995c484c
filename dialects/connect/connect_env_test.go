package connect_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects/connect"
)

// TestDefaultURLFollowsPrefectSettings: Prefect's 3.1+ setting names win over
// their older aliases, and PREFECT_HOME="~/x" is expanded, not taken as a
// directory named "~".
func TestDefaultURLFollowsPrefectSettings(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory")
	}
	for _, tc := range []struct {
		env          map[string]string
		want, source string
	}{
		{map[string]string{"PREFECT_SERVER_DATABASE_CONNECTION_URL": "postgresql+asyncpg://a@h/new",
			"PREFECT_API_DATABASE_CONNECTION_URL": "postgresql+asyncpg://a@h/old"}, "postgresql+asyncpg://a@h/new", "PREFECT_SERVER_DATABASE_CONNECTION_URL"},
		{map[string]string{"PREFECT_API_DATABASE_CONNECTION_URL": "postgresql+asyncpg://a@h/old"}, "postgresql+asyncpg://a@h/old", "PREFECT_API_DATABASE_CONNECTION_URL"},
		{map[string]string{"PREFECT_HOME": "~/prefect-x"}, "sqlite+aiosqlite:///" + filepath.Join(home, "prefect-x", "prefect.db"), "PREFECT_HOME"},
		{map[string]string{}, "sqlite+aiosqlite:///" + filepath.Join(home, ".prefect", "prefect.db"), "PREFECT_HOME"},
		{map[string]string{"PREFECT_HOME": "/srv/prefect"}, "sqlite+aiosqlite:////srv/prefect/prefect.db", "PREFECT_HOME"},
	} {
		got, source, err := connect.DefaultURLSource(func(k string) string { return tc.env[k] })
		if err != nil || got != tc.want || source != tc.source {
			t.Errorf("%v: %q from %s (%v), want %q from %s", tc.env, got, source, err, tc.want, tc.source)
		}
	}
	o, err := config.OptionsFromEnv(func(k string) string {
		return map[string]string{"PREFECT_SERVER_DATABASE_TIMEOUT": "3", "PREFECT_API_DATABASE_TIMEOUT": "9",
			"PREFECT_SQLALCHEMY_POOL_SIZE": "7"}[k]
	})
	if err != nil || o.StatementTimeout.Seconds() != 3 || o.PoolSize != 7 {
		t.Errorf("options = %+v, %v; want the newer timeout name to win and the older pool size name read", o, err)
	}
}

// TestNewSQLiteFileIsPrivate: a SQLite database that prefectdb creates, and
// its WAL, are readable by their owner only.
func TestNewSQLiteFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "prefect.db")
	db, err := connect.Open(t.Context(), "sqlite+aiosqlite:///"+path, config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.DB.ExecContext(t.Context(), "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for group and others", p, mode)
		}
	}
}
