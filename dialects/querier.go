package dialects

import (
	"context"
	"database/sql"
)

// Querier is what the dialects' hand-written queries need: *sql.DB,
// *sql.Conn, *sql.Tx, and an Ent client or transaction all have it. Pass a
// transaction when the query's locks must outlive the call.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}
