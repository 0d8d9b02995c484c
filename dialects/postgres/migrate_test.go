package postgres

import (
	"testing"
	"time"

	"github.com/prefectdb/prefectdb/config"
)

// TestMigrationStatementTimeout: a migration transaction has its own
// statement timeout (PREFECT_SERVER_DATABASE_MIGRATION_TIMEOUT; none by
// default), not the API queries' one, and the connection's own setting is
// back after it.
func TestMigrationStatementTimeout(t *testing.T) {
	db := openTestPool(t, openTestTarget(t), config.Options{StatementTimeout: 1500 * time.Millisecond})
	for _, c := range []struct {
		timeout time.Duration
		want    string
	}{{0, "0"}, {90 * time.Second, "90s"}} {
		conn, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		tx, err := Dialect{}.BeginMigration(t.Context(), conn, c.timeout)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		rows, err := tx.QueryContext(t.Context(), "SHOW statement_timeout")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			if err := rows.Scan(&got); err != nil {
				t.Fatal(err)
			}
		}
		_ = rows.Close()
		if err := tx.Rollback(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("statement_timeout in a migration with timeout %v: %q, want %q", c.timeout, got, c.want)
		}
		if after := openTestShow(t, conn, "statement_timeout"); after != "1500ms" {
			t.Errorf("statement_timeout after the migration transaction: %q, want the connection's 1500ms", after)
		}
		_ = conn.Close()
	}
}
