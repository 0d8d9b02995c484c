package testutil

import (
	"path/filepath"
	"testing"
)

// EmptySQLite returns the URL of a new SQLite database file (WAL) in the
// test's temporary directory. The file is created on first use.
func EmptySQLite(t *testing.T) string {
	t.Helper()
	return "sqlite+aiosqlite:///" + filepath.Join(t.TempDir(), "prefect.db")
}

// MigratedSQLite returns the URL of a new SQLite database migrated to head.
func MigratedSQLite(t *testing.T) string {
	t.Helper()
	url := EmptySQLite(t)
	MigrateUp(t, url)
	return url
}
