// Package rawsql holds the Go side that the dialects' hand-written queries
// share, so that each dialect supplies only its SQL: binding values and
// handing out placeholders, collecting returned ids, scanning result rows,
// splitting multi-row inserts under a database's parameter limit, the
// steps of InsertScheduledFlowRuns, and the shared steps of log and event
// ingestion (ingest.go).
package rawsql

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/types"
)

// CollectIDs runs a statement that returns one uuid column and adds the ids
// to into.
func CollectIDs(ctx context.Context, q dialects.Querier, query string, args []any, into map[uuid.UUID]bool) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return err
		}
		into[id] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

// NullIfEmpty returns def, or nil (SQL NULL) when def is "".
func NullIfEmpty(def string) any {
	if def == "" {
		return nil
	}
	return def
}

// JSON encodes v as JSON text to bind; a nil map or slice gives def (""
// means NULL). NaN and infinities are written as null, as Prefect does.
func JSON[T any](v T, def string) (any, error) {
	var val any = v
	switch x := val.(type) {
	case map[string]any:
		if x == nil {
			return NullIfEmpty(def), nil
		}
		val, _ = types.WithoutNonFinite(x)
	case []string:
		if x == nil {
			return NullIfEmpty(def), nil
		}
	}
	b, err := json.Marshal(val)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// ChunkRows is the number of rows of perRow parameters each that one
// statement of InsertChunks carries: at most maxRows, and below maxParams
// bound parameters (one parameter is shared by all rows).
func ChunkRows(perRow, maxParams, maxRows int) int {
	return min(maxRows, (maxParams-1)/perRow)
}

// InsertChunks calls insert with consecutive chunks of rows, each small
// enough for one statement: at most maxRows rows, and below maxParams bound
// parameters (one parameter is shared by all rows).
func InsertChunks(perRow, maxParams, maxRows int, rows [][]any, insert func([][]any) error) error {
	size := ChunkRows(perRow, maxParams, maxRows)
	for len(rows) > 0 {
		n := min(size, len(rows))
		if err := insert(rows[:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
