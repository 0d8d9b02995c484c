package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/types"
)

var _ dialects.TransitionQueries = Dialect{}

// transitionFlowRun is a whole state change in one statement, so one round
// trip: run locks the row (FOR UPDATE), ok keeps it if the From condition
// ($10, NULL for none) holds and computes the state's timestamp, ins
// inserts the state and upd points the run at it. The foreign key from
// flow_run.state_id to the new state is checked at the end of the
// statement, when the inserted row exists. The final row reports the
// locked run's state type, the timestamp and whether the run was updated;
// no row means no such run.
//
// Parameters: $1 run id, $2 state id, $3 state type, $4 name, $5 proposed
// timestamp, $6 message, $7 state_details, $8 data, $9 now, $10 accepted
// current state types, $11 whether the new state is terminal.
const transitionFlowRun = `WITH run AS (
	SELECT id, state_type, state_timestamp
	FROM flow_run
	WHERE id = $1
	FOR UPDATE
), ok AS (
	SELECT id, state_type, state_timestamp,
		CASE WHEN state_timestamp >= $5::timestamptz THEN state_timestamp + interval '1 microsecond'
			ELSE $5::timestamptz END AS ts
	FROM run
	WHERE $10::text[] IS NULL OR state_type::text = ANY($10::text[])
), ins AS (
	INSERT INTO flow_run_state (id, created, updated, type, timestamp, name, message, state_details, data, flow_run_id)
	SELECT $2, $9, $9, $3::state_type, ok.ts, $4, $6, $7::jsonb, $8::jsonb, ok.id
	FROM ok
	RETURNING id
), upd AS (
	UPDATE flow_run fr SET
		state_id = ins.id,
		state_type = $3::state_type,
		state_name = $4,
		state_timestamp = ok.ts,
		updated = $9,
		run_count = fr.run_count + CASE WHEN $3::state_type = 'RUNNING' THEN 1 ELSE 0 END,
		start_time = CASE WHEN $3::state_type = 'RUNNING' AND fr.start_time IS NULL THEN ok.ts ELSE fr.start_time END,
		end_time = CASE WHEN $11::boolean THEN ok.ts ELSE fr.end_time END,
		total_run_time = CASE
			WHEN ok.state_type = 'RUNNING' AND $3::state_type <> 'RUNNING' AND ok.state_timestamp IS NOT NULL
			THEN fr.total_run_time + (ok.ts - ok.state_timestamp)
			ELSE fr.total_run_time END
	FROM ok, ins
	WHERE fr.id = ok.id
	RETURNING fr.id
)
SELECT run.state_type::text, ok.ts, (SELECT count(*) FROM upd)
FROM run LEFT JOIN ok ON true`

// TransitionFlowRun implements dialects.TransitionQueries in one statement.
func (Dialect) TransitionFlowRun(ctx context.Context, q dialects.Querier, t dialects.FlowRunTransition) (dialects.TransitionResult, error) {
	var from []string
	if len(t.From) > 0 {
		from = make([]string, len(t.From))
		for k, s := range t.From {
			from[k] = string(s)
		}
	}
	args := []any{t.RunID, t.StateID, string(t.Type), t.Name, t.Timestamp.UTC(), t.Message, string(t.StateDetails),
		nullableJSON(t.Data), t.Now.UTC(), from, t.Type.IsTerminal()}
	if db, ok := q.(*sql.DB); ok {
		if pool, timeout, ok := pgxPool(db); ok {
			// Outside a transaction the statement runs alone: straight on
			// the pgx pool, without database/sql's conversions.
			return transitionOnPool(ctx, pool, timeout, t, args)
		}
	}
	rows, err := q.QueryContext(ctx, transitionFlowRun, args...)
	if err != nil {
		return dialects.TransitionResult{}, fmt.Errorf("postgres: transition flow run %s: %w", t.RunID, err)
	}
	defer rows.Close()
	var res dialects.TransitionResult
	if rows.Next() {
		var (
			current sql.NullString
			ts      sql.NullTime
			updated int64
		)
		if err := rows.Scan(&current, &ts, &updated); err != nil {
			return res, fmt.Errorf("postgres: transition flow run %s: %w", t.RunID, err)
		}
		res.Found = true
		if current.Valid {
			st := types.StateType(current.String)
			res.Current = &st
		}
		if updated == 1 && ts.Valid {
			res.Applied, res.Timestamp = true, ts.Time.UTC()
		} else if updated != 0 || ts.Valid {
			return res, fmt.Errorf("postgres: transition flow run %s: inconsistent result (%d runs updated)", t.RunID, updated)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return res, fmt.Errorf("postgres: transition flow run %s: %w", t.RunID, err)
	}
	return res, nil
}

// TransitionIsOneStatement implements dialects.TransitionQueries: true.
func (Dialect) TransitionIsOneStatement() bool { return true }

// nullableJSON passes a JSON document as text, or NULL for nil.
func nullableJSON(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// transitionOnPool runs transitionFlowRun on a connection of the pgx pool.
func transitionOnPool(ctx context.Context, pool *pgxpool.Pool, timeout time.Duration, t dialects.FlowRunTransition, args []any) (dialects.TransitionResult, error) {
	conn, err := acquire(ctx, pool, timeout)
	if err != nil {
		return dialects.TransitionResult{}, fmt.Errorf("postgres: transition flow run %s: %w", t.RunID, err)
	}
	defer conn.Release()
	var (
		res     dialects.TransitionResult
		current *string
		ts      *time.Time
		updated int64
	)
	err = conn.QueryRow(ctx, transitionFlowRun, args...).Scan(&current, &ts, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("postgres: transition flow run %s: %w", t.RunID, err)
	}
	res.Found = true
	if current != nil {
		st := types.StateType(*current)
		res.Current = &st
	}
	switch {
	case updated == 1 && ts != nil:
		res.Applied, res.Timestamp = true, ts.UTC()
	case updated != 0 || ts != nil:
		return res, fmt.Errorf("postgres: transition flow run %s: inconsistent result (%d runs updated)", t.RunID, updated)
	}
	return res, nil
}
