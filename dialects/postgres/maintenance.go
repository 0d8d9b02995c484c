package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/internal/rawsql"
)

var _ dialects.Maintenance = Dialect{}

// ServerVersion implements dialects.Maintenance: "PostgreSQL " and the
// server's version number (SHOW server_version, without the distribution's
// suffix).
func (Dialect) ServerVersion(ctx context.Context, q dialects.Querier) (string, error) {
	v, err := rawsql.QueryRows(ctx, q, "SHOW server_version", nil, func(v *string) []any { return []any{v} })
	if err != nil {
		return "", fmt.Errorf("postgres: server version: %w", err)
	}
	if len(v) != 1 {
		return "", fmt.Errorf("postgres: server version: %d rows, want 1", len(v))
	}
	return "PostgreSQL " + strings.Fields(v[0] + " ")[0], nil
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
