package sqlite

import (
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prefectdb/prefectdb/config"
)

// makeReadOnly makes path unwritable for this process until the test ends:
// chmod for an ordinary user; for root, whom permissions do not stop, the
// immutable attribute (chattr +i).
func makeReadOnly(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, st.Mode().Perm()&^0o222); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(path, st.Mode().Perm()) })
		return
	}
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("skipping: cannot make %s read-only as root (chattr +i: %v: %s)", path, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
}

// openErr opens raw and returns the error (closing the pool if it opened).
func openErr(t *testing.T, raw string) error {
	t.Helper()
	target, err := config.ParseURL(raw)
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", raw, err)
	}
	db, err := Open(t.Context(), target, config.Options{})
	if err == nil {
		_ = db.Close()
	}
	return err
}

// TestReadOnlyDatabaseOpens: a database file this user may not write opens,
// reads, and refuses writes with SQLite's read-only error. Before, switching
// it to WAL on every connection failed the open.
func TestReadOnlyDatabaseOpens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "ro.db")
	setup, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"PRAGMA journal_mode = DELETE", "CREATE TABLE t (x int)", "INSERT INTO t VALUES (7)"} {
		if _, err := setup.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_ = setup.Close()
	makeReadOnly(t, path)

	db := openURL(t, "sqlite:///"+path, config.Options{})
	var x int
	if err := db.QueryRow("SELECT x FROM t").Scan(&x); err != nil || x != 7 {
		t.Fatalf("read a read-only database: %d, %v", x, err)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "delete" {
		t.Errorf("journal mode of the read-only database: %q, %v (want it left as delete)", mode, err)
	}
	if _, err := db.Exec("INSERT INTO t VALUES (8)"); err == nil || !isReadOnlyError(err) {
		t.Errorf("write to a read-only database: %v, want SQLite's read-only error", err)
	}
}

// TestOpenErrorsSayWhatToDo: opening fails with one line that names the
// database, says what the result code means, and keeps SQLite's text.
func TestOpenErrorsSayWhatToDo(t *testing.T) {
	t.Parallel()
	t.Run("directory not writable", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "locked")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "wal.db")
		db := openURL(t, "sqlite:///"+path, config.Options{})
		if _, err := db.Exec("CREATE TABLE t (x int)"); err != nil {
			t.Fatal(err)
		}
		_ = db.Close()
		for _, f := range []string{path + "-wal", path + "-shm"} {
			_ = os.Remove(f)
		}
		makeReadOnly(t, path)
		makeReadOnly(t, dir)
		err := openErr(t, "sqlite:///"+path)
		var oe *OpenError
		// SQLITE_READONLY_DIRECTORY for an ordinary user; root, whose
		// open(O_RDWR) of an immutable file fails, gets SQLITE_CANTOPEN.
		if !errors.As(err, &oe) || (oe.Code != codeReadOnlyDirectory && oe.Code != codeCantOpen) {
			t.Fatalf("got %v, want an *OpenError with SQLITE_READONLY_DIRECTORY or SQLITE_CANTOPEN", err)
		}
		for _, want := range []string{path, "directory", "immutable=1"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
		// The way out the error gives works.
		immutable := openURL(t, "sqlite:///"+path+"?immutable=1", config.Options{})
		var n int
		if err := immutable.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
			t.Errorf("read with ?immutable=1: %v", err)
		}
	})
	cases := []struct {
		name    string
		prepare func(t *testing.T) string
		want    string
	}{
		{"not a database", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "text.db")
			if err := os.WriteFile(p, []byte(strings.Repeat("not sqlite\n", 100)), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, "not an SQLite database"},
		{"a directory", func(t *testing.T) string { return t.TempDir() }, "cannot be opened"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.prepare(t)
			err := openErr(t, "sqlite:///"+p)
			var oe *OpenError
			if !errors.As(err, &oe) || !strings.Contains(err.Error(), c.want) || strings.Count(err.Error(), p) != 1 ||
				strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v, want one line naming %s once and saying %q", err, p, c.want)
			}
		})
	}
}
