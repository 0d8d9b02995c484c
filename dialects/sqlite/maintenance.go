package sqlite

import (
	"context"
	"fmt"

	"github.com/prefectdb/prefectdb/dialects"
)

var _ dialects.Maintenance = Dialect{}

// ServerVersion implements dialects.Maintenance: "SQLite " and the linked
// library's version (sqlite_version()).
func (Dialect) ServerVersion(ctx context.Context, q dialects.Querier) (string, error) {
	rows, err := q.QueryContext(ctx, "SELECT sqlite_version()")
	if err != nil {
		return "", fmt.Errorf("sqlite: version: %w", err)
	}
	defer rows.Close()
	var v string
	if rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return "", fmt.Errorf("sqlite: version: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("sqlite: version: %w", err)
	}
	return "SQLite " + v, nil
}

// Settle implements dialects.Maintenance: a WAL checkpoint that copies
// every frame into the database file and truncates the WAL.
func (Dialect) Settle(ctx context.Context, q dialects.Querier) error {
	if _, err := q.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("sqlite: settle: %w", err)
	}
	return nil
}
