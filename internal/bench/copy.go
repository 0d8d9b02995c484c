package bench

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/postgres"
)

// RowsPerCopy is the most log rows one COPY statement (and transaction)
// carries (the library's dialects.RowsPerCopy).
const RowsPerCopy = dialects.RowsPerCopy

// copyLogs streams log rows with the library's COPY path on a pgx
// connection (the baseline's CopyLogs; prefectdb's goes through dbiface).
func copyLogs(ctx context.Context, conn *pgx.Conn, batches <-chan []LogRow) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return postgres.CopyLogsConn(ctx, conn, libLogBatches(ctx, batches))
}

// libLogRows converts log rows to the library's type.
func libLogRows(rows []LogRow) []dialects.LogRow {
	out := make([]dialects.LogRow, len(rows))
	runs := make([]uuid.UUID, len(rows))
	for k := range rows {
		r := &rows[k]
		runs[k] = r.FlowRunID
		out[k] = dialects.LogRow{ID: r.ID, Name: r.Name, Level: r.Level, FlowRunID: &runs[k], TaskRunID: r.TaskRunID,
			Message: r.Message, Timestamp: r.Timestamp}
	}
	return out
}

// libLogBatches converts the batches of a channel to the library's row type
// until the channel is closed (then the result is closed) or ctx ends. The
// result has the input's capacity (at least 1), so converted batches are
// waiting whenever input batches are and the COPY statements stay as long.
func libLogBatches(ctx context.Context, batches <-chan []LogRow) <-chan []dialects.LogRow {
	out := make(chan []dialects.LogRow, max(cap(batches), 1))
	go func() {
		defer close(out)
		for {
			select {
			case b, ok := <-batches:
				if !ok {
					return
				}
				select {
				case out <- libLogRows(b):
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
