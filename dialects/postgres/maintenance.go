package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/prefectdb/prefectdb/dialects"
)

var _ dialects.Maintenance = Dialect{}

// ServerVersion implements dialects.Maintenance: "PostgreSQL " and the
// server's version number (SHOW server_version, without the distribution's
// suffix).
func (Dialect) ServerVersion(ctx context.Context, q dialects.Querier) (string, error) {
	rows, err := q.QueryContext(ctx, "SHOW server_version")
	if err != nil {
		return "", fmt.Errorf("postgres: server version: %w", err)
	}
	defer rows.Close()
	var v string
	if rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return "", fmt.Errorf("postgres: server version: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("postgres: server version: %w", err)
	}
	return "PostgreSQL " + strings.Fields(v + " ")[0], nil
}

// Settle implements dialects.Maintenance: ANALYZE (what autovacuum does
// within a minute of a bulk write), then CHECKPOINT, which needs
// superuser or pg_checkpoint rights.
// Both run even if the first fails.
func (Dialect) Settle(ctx context.Context, q dialects.Querier) error {
	var errs []error
	for _, stmt := range []string{"ANALYZE", "CHECKPOINT"} {
		if _, err := q.ExecContext(ctx, stmt); err != nil {
			errs = append(errs, fmt.Errorf("postgres: settle: %s: %w", stmt, err))
		}
	}
	return errors.Join(errs...)
}
