package catalog

import (
	"context"
	"database/sql"
)

// Querier is the part of *sql.DB, *sql.Conn and *sql.Tx that the dialects'
// catalog readers need.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}
