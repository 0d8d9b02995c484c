// Package graphread reads flow run graphs (dialects.GraphQueries) for both
// dialects: each dialect supplies its SQL, and Read runs it, scans the rows
// and assembles the dialects.Graph. Timestamps are scanned with
// dialects.TimeScanner, which reads both databases' forms, so both dialects
// share one code path.
package graphread

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/types"
)

// SQL holds a dialect's statements for Read, written with the dialect's
// placeholders.
type SQL struct {
	// Run reads the flow run's start time (its start_time, else its
	// expected_start_time) and its end_time. Its one parameter is the flow
	// run id.
	Run string
	// Nodes reads the nodes with their edges, ordered as Graph.Nodes: kind,
	// id, label, state type, start time, end time, then the parent, child
	// and encapsulating node ids as JSON arrays (NULL for none). Its
	// parameters are the flow run id, since, and the row limit (max nodes +
	// 1).
	Nodes string
	// NodesWithPending is Nodes without the filter that leaves out PENDING
	// task runs (and those without a state): Prefect 3.7.5 and later.
	NodesWithPending string
	// Artifacts reads the flow run's artifacts other than results, ordered
	// by creation time, then id: id, created, key, type, task run id,
	// is latest, data (JSON, NULL but for progress artifacts). Its
	// parameters are the flow run id and the limit.
	Artifacts string
	// States reads the flow run's states, ordered by timestamp, then id:
	// id, timestamp, type, name. Its one parameter is the flow run id.
	States string
}

// Read implements dialects.GraphQueries.FlowRunGraph with a dialect's
// statements. dialect ("postgres", "sqlite") begins the messages of the
// errors it returns.
func Read(ctx context.Context, q dialects.Querier, s SQL, dialect string, gq dialects.GraphQuery) (*dialects.Graph, error) {
	flowRunID, since, maxNodes, maxArtifacts := gq.FlowRunID, gq.Since, gq.MaxNodes, gq.MaxArtifacts
	if gq.IncludePendingTaskRuns {
		s.Nodes = s.NodesWithPending
	}
	if maxNodes < 0 || maxArtifacts < 0 {
		return nil, fmt.Errorf("%s: flow run graph: max nodes (%d) and max artifacts (%d) must not be negative", dialect, maxNodes, maxArtifacts)
	}
	g := &dialects.Graph{
		RootNodeIDs: []uuid.UUID{},
		Nodes:       []dialects.GraphNode{},
		Artifacts:   []dialects.GraphArtifact{},
		States:      []dialects.GraphState{},
	}
	var start, end nullTime
	err := queryRow(ctx, q, s.Run, []any{flowRunID}, &start, &end)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &dialects.FlowRunNotFoundError{ID: flowRunID}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: flow run graph: read flow run %s: %w", dialect, flowRunID, err)
	}
	g.StartTime, g.EndTime = start.ptr(), end.ptr()

	r := reader{q: q, s: s, dialect: dialect, flowRunID: flowRunID}
	if err := r.nodes(ctx, g, since, maxNodes); err != nil {
		return nil, err
	}
	if err := r.artifacts(ctx, g, maxArtifacts); err != nil {
		return nil, err
	}
	if err := r.states(ctx, g); err != nil {
		return nil, err
	}
	return g, nil
}

// reader holds what the steps of Read share.
type reader struct {
	q         dialects.Querier
	s         SQL
	dialect   string
	flowRunID uuid.UUID
}

// fail wraps err as a failure to read what ("nodes", "artifacts", "states").
func (r *reader) fail(what string, err error) error {
	return fmt.Errorf("%s: flow run graph: read %s of flow run %s: %w", r.dialect, what, r.flowRunID, err)
}

// queryRow runs a query that returns at most one row and scans it;
// sql.ErrNoRows if there is none.
func queryRow(ctx context.Context, q dialects.Querier, query string, args []any, dest ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// nodes reads the nodes into g.Nodes and g.RootNodeIDs.
func (r *reader) nodes(ctx context.Context, g *dialects.Graph, since time.Time, maxNodes int) error {
	rows, err := r.q.QueryContext(ctx, r.s.Nodes, r.flowRunID, since.UTC(), int64(maxNodes)+1)
	if err != nil {
		return r.fail("nodes", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			n                               dialects.GraphNode
			stateType                       *string
			start, end                      nullTime
			parents, children, encapsulated []byte
		)
		if err := rows.Scan(&n.Kind, &n.ID, &n.Label, &stateType, &start, &end,
			&parents, &children, &encapsulated); err != nil {
			return r.fail("nodes", err)
		}
		if len(g.Nodes) == maxNodes {
			return &dialects.GraphTooLargeError{FlowRunID: r.flowRunID, MaxNodes: maxNodes}
		}
		if stateType != nil {
			st := types.StateType(*stateType)
			n.StateType = &st
		}
		if !start.valid {
			return fmt.Errorf("%s: flow run graph: node %s has no start time", r.dialect, n.ID)
		}
		n.StartTime, n.EndTime = start.t, end.ptr()
		if n.Parents, err = ids(parents); err == nil {
			if n.Children, err = ids(children); err == nil {
				n.Encapsulating, err = ids(encapsulated)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: flow run graph: edges of node %s: %w", r.dialect, n.ID, err)
		}
		n.Artifacts = []dialects.GraphArtifact{}
		if len(n.Parents) == 0 {
			g.RootNodeIDs = append(g.RootNodeIDs, n.ID)
		}
		g.Nodes = append(g.Nodes, n)
	}
	if err := rows.Err(); err != nil {
		return r.fail("nodes", err)
	}
	return nil
}

// artifacts reads the artifacts and attaches them to g or its nodes.
func (r *reader) artifacts(ctx context.Context, g *dialects.Graph, maxArtifacts int) error {
	byID := make(map[uuid.UUID]int, len(g.Nodes))
	for k, n := range g.Nodes {
		byID[n.ID] = k
	}
	rows, err := r.q.QueryContext(ctx, r.s.Artifacts, r.flowRunID, int64(maxArtifacts))
	if err != nil {
		return r.fail("artifacts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			a         dialects.GraphArtifact
			taskRunID *uuid.UUID
			data      []byte
		)
		if err := rows.Scan(&a.ID, dialects.TimeScanner(&a.Created), &a.Key, &a.Type, &taskRunID, &a.IsLatest, &data); err != nil {
			return r.fail("artifacts", err)
		}
		if data != nil {
			a.Data = json.RawMessage(data)
		}
		switch k, ok := byID[deref(taskRunID)]; {
		case taskRunID == nil:
			g.Artifacts = append(g.Artifacts, a)
		case ok:
			g.Nodes[k].Artifacts = append(g.Nodes[k].Artifacts, a)
		}
	}
	if err := rows.Err(); err != nil {
		return r.fail("artifacts", err)
	}
	return nil
}

// states reads the flow run's states into g.States.
func (r *reader) states(ctx context.Context, g *dialects.Graph) error {
	rows, err := r.q.QueryContext(ctx, r.s.States, r.flowRunID)
	if err != nil {
		return r.fail("states", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s dialects.GraphState
		if err := rows.Scan(&s.ID, dialects.TimeScanner(&s.Timestamp), &s.Type, &s.Name); err != nil {
			return r.fail("states", err)
		}
		g.States = append(g.States, s)
	}
	if err := rows.Err(); err != nil {
		return r.fail("states", err)
	}
	return nil
}

// nullTime scans a timestamp that may be NULL with dialects.TimeScanner
// (so the result is in UTC); valid is false for NULL.
type nullTime struct {
	t     time.Time
	valid bool
}

// Scan implements sql.Scanner.
func (n *nullTime) Scan(src any) error {
	*n = nullTime{}
	if src == nil {
		return nil
	}
	if err := dialects.TimeScanner(&n.t).Scan(src); err != nil {
		return err
	}
	n.valid = true
	return nil
}

// ptr returns the time, or nil for NULL.
func (n nullTime) ptr() *time.Time {
	if !n.valid {
		return nil
	}
	t := n.t
	return &t
}

// ids decodes a JSON array of UUIDs (NULL gives an empty list).
func ids(b []byte) ([]uuid.UUID, error) {
	ids := []uuid.UUID{}
	if b == nil {
		return ids, nil
	}
	if err := json.Unmarshal(b, &ids); err != nil {
		return nil, err
	}
	return ids, nil
}

// deref returns *id, or the zero UUID for nil.
func deref(id *uuid.UUID) uuid.UUID {
	if id == nil {
		return uuid.UUID{}
	}
	return *id
}
