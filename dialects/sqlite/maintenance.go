package sqlite

import (
	"context"
	"fmt"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/internal/rawsql"
)

var _ dialects.Maintenance = Dialect{}

// ServerVersion implements dialects.Maintenance: "SQLite " and the linked
// library's version (sqlite_version()).
func (Dialect) ServerVersion(ctx context.Context, q dialects.Querier) (string, error) {
	v, err := rawsql.QueryRows(ctx, q, "SELECT sqlite_version()", nil, func(v *string) []any { return []any{v} })
	if err != nil {
		return "", fmt.Errorf("sqlite: version: %w", err)
	}
	if len(v) != 1 {
		return "", fmt.Errorf("sqlite: version: %d rows, want 1", len(v))
	}
	return "SQLite " + v[0], nil
}

// Settle implements dialects.Maintenance: a WAL checkpoint that copies
// every frame into the database file and truncates the WAL.
func (Dialect) Settle(ctx context.Context, q dialects.Querier) error {
	if _, err := q.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("sqlite: settle: %w", err)
	}
	return nil
}
