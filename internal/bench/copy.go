package bench

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/prefectdb/prefectdb/dialects"
)

// RowsPerCopy is the most log rows one COPY statement (and transaction)
// carries, on both sides (the library's dialects.RowsPerCopy).
const RowsPerCopy = dialects.RowsPerCopy

// logColumns are the columns of the log table that COPY writes.
var logColumns = []string{"id", "created", "updated", "name", "level", "flow_run_id", "task_run_id", "message", "timestamp"}

// copyLogs is the baseline's COPY: hand-written on a pgx connection, one
// COPY statement (and transaction) at a time until batches is closed; each
// takes batches until it holds RowsPerCopy rows or no batch is waiting.
func copyLogs(ctx context.Context, conn *pgx.Conn, batches <-chan []LogRow) (int64, error) {
	var total int64
	src := &logSource{batches: batches}
	for !src.done {
		if !src.wait(ctx) {
			break
		}
		src.budget = RowsPerCopy
		src.now = time.Now().UTC().Truncate(time.Microsecond)
		n, err := conn.CopyFrom(ctx, pgx.Identifier{"log"}, logColumns, src)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, ctx.Err()
}

// logSource is a pgx.CopyFromSource over a channel of log batches: it
// yields rows until its budget is spent or no batch is ready, and blocks
// only for the first batch of a statement (wait).
type logSource struct {
	batches <-chan []LogRow
	cur     []LogRow
	pos     int
	budget  int
	now     time.Time
	done    bool
	row     []any
}

// wait blocks until a batch is available; false when the channel is
// closed and drained, or ctx ends.
func (s *logSource) wait(ctx context.Context) bool {
	if s.pos < len(s.cur) {
		return true
	}
	select {
	case b, ok := <-s.batches:
		if !ok {
			s.done = true
			return false
		}
		s.cur, s.pos = b, 0
		return true
	case <-ctx.Done():
		return false
	}
}

// Next implements pgx.CopyFromSource.
func (s *logSource) Next() bool {
	if s.budget <= 0 {
		return false
	}
	if s.pos >= len(s.cur) {
		select {
		case b, ok := <-s.batches:
			if !ok {
				s.done = true
				return false
			}
			s.cur, s.pos = b, 0
		default:
			return false
		}
		if len(s.cur) == 0 {
			return false
		}
	}
	r := &s.cur[s.pos]
	s.pos++
	s.budget--
	if s.row == nil {
		s.row = make([]any, len(logColumns))
	}
	// UUIDs as [16]byte: pgx encodes those natively (see pgID).
	s.row[0], s.row[1], s.row[2], s.row[3], s.row[4] = pgID(r.ID), s.now, s.now, r.Name, r.Level
	s.row[5], s.row[6], s.row[7], s.row[8] = nullID(r.FlowRunID), nullID(r.TaskRunID), r.Message, r.Timestamp
	return true
}

// Values implements pgx.CopyFromSource.
func (s *logSource) Values() ([]any, error) { return s.row, nil }

// Err implements pgx.CopyFromSource.
func (s *logSource) Err() error { return nil }
