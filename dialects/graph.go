package dialects

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/types"
)

// Defaults of Prefect's settings PREFECT_API_MAX_FLOW_RUN_GRAPH_NODES and
// PREFECT_API_MAX_FLOW_RUN_GRAPH_ARTIFACTS, the usual maxNodes and
// maxArtifacts of GraphQueries.FlowRunGraph.
const (
	// DefaultGraphMaxNodes is the default maximum number of nodes in a flow
	// run graph.
	DefaultGraphMaxNodes = 10000
	// DefaultGraphMaxArtifacts is the default maximum number of artifacts in
	// a flow run graph.
	DefaultGraphMaxArtifacts = 10000
)

// The kinds of GraphNode.
const (
	// GraphNodeTaskRun is the kind of a node that is a task run.
	GraphNodeTaskRun = "task-run"
	// GraphNodeFlowRun is the kind of a node that is a subflow run (the flow
	// run whose parent_task_run_id is one of the flow run's task runs).
	GraphNodeFlowRun = "flow-run"
)

// Graph is the graph of one flow run as the UI draws it (Prefect's
// schemas.graph.Graph, version 2): its task runs and subflow runs as nodes
// with their data-dependency and nesting edges, its artifacts and its states.
// Every slice is non-nil (empty when there is nothing), so that the graph
// encodes to JSON with [] rather than null.
type Graph struct {
	// StartTime is the flow run's start_time, or its expected_start_time if
	// it has not started; nil if it has neither.
	StartTime *time.Time
	// EndTime is the flow run's end_time; nil if it has not ended.
	EndTime *time.Time
	// RootNodeIDs are the ids of the returned nodes that have no Parents,
	// in the order of Nodes. A node with only Encapsulating links is a root.
	RootNodeIDs []uuid.UUID
	// Nodes are ordered by start time, then end time (nodes that have not
	// ended last), then id.
	Nodes []GraphNode
	// Artifacts are the flow run's artifacts that belong to no task run,
	// ordered by creation time, then id.
	Artifacts []GraphArtifact
	// States are all the flow run's states, ordered by timestamp, then id.
	States []GraphState
}

// GraphNode is a task run of the flow run or, for a task run that is the
// parent task run of a subflow run, that subflow run.
type GraphNode struct {
	// Kind is GraphNodeTaskRun ("task-run") or GraphNodeFlowRun ("flow-run").
	Kind string
	// ID is the task run's id, or the subflow run's.
	ID uuid.UUID
	// Label is the task run's name, or "<flow name> / <subflow run name>".
	Label string
	// StateType is the subflow run's state type, else the task run's.
	StateType *types.StateType
	// StartTime is the first of these that is set: the subflow run's
	// start_time, its expected_start_time, the task run's start_time, its
	// expected_start_time.
	StartTime time.Time
	// EndTime is the subflow run's end_time, else the task run's, else for a
	// COMPLETED task run (a cached one has no times) its
	// expected_start_time; nil if none applies.
	EndTime *time.Time
	// Parents are the nodes whose results this node received as inputs
	// (task_inputs other than "__parents__"), ordered by the parent's start
	// time, then id. Each id appears once. In an incremental graph (since)
	// they may name nodes that are not in Graph.Nodes.
	Parents []uuid.UUID
	// Children are the nodes that received this node's result as an input,
	// ordered by the child's start time, then id. Each id appears once.
	Children []uuid.UUID
	// Encapsulating are the nodes this node ran inside of (its
	// "__parents__" task input), ordered by their start time, then id. Each
	// id appears once.
	Encapsulating []uuid.UUID
	// Artifacts are the artifacts of the task run (never of a subflow run),
	// ordered by creation time, then id.
	Artifacts []GraphArtifact
}

// GraphArtifact is an artifact of the flow run or of one of its task runs.
// Artifacts of type "result" are never part of a graph.
type GraphArtifact struct {
	// ID is the artifact's id.
	ID uuid.UUID
	// Created is when the artifact was created.
	Created time.Time
	// Key is the artifact's key; nil for an artifact without one.
	Key *string
	// Type is the artifact's type, e.g. "markdown", "table", "progress".
	Type string
	// IsLatest reports whether the artifact has no key or is the latest
	// artifact of its key's collection (artifact_collection.latest_id).
	IsLatest bool
	// Data is the artifact's data, only for artifacts of type "progress"
	// (nil for other types, and when the data is NULL).
	Data json.RawMessage
}

// GraphState is one state of the flow run.
type GraphState struct {
	// ID is the state's id.
	ID uuid.UUID
	// Timestamp is when the flow run entered the state.
	Timestamp time.Time
	// Type is the state's type, e.g. "RUNNING".
	Type string
	// Name is the state's name, e.g. "Running".
	Name string
}

// ErrFlowRunNotFound is matched (errors.Is) by the error that
// GraphQueries.FlowRunGraph returns for a flow run that does not exist, a
// *FlowRunNotFoundError. Prefect's API answers it with 404.
var ErrFlowRunNotFound = errors.New("flow run not found")

// FlowRunNotFoundError says that a flow run does not exist: "flow run <id>
// not found". It unwraps to ErrFlowRunNotFound.
type FlowRunNotFoundError struct {
	// ID is the flow run that was asked for.
	ID uuid.UUID
}

// Error implements error.
func (e *FlowRunNotFoundError) Error() string {
	return fmt.Sprintf("flow run %s not found", e.ID)
}

// Unwrap returns ErrFlowRunNotFound.
func (e *FlowRunNotFoundError) Unwrap() error { return ErrFlowRunNotFound }

// GraphTooLargeError is returned by GraphQueries.FlowRunGraph when the graph
// has more nodes than allowed (Prefect's FlowRunGraphTooLarge; its API
// answers it with 400 and the message as detail).
type GraphTooLargeError struct {
	// FlowRunID is the flow run whose graph was asked for.
	FlowRunID uuid.UUID
	// MaxNodes is the number of nodes allowed.
	MaxNodes int
}

// Error implements error: "The graph of flow run <id> has more than <n>
// nodes.", as Prefect words it.
func (e *GraphTooLargeError) Error() string {
	return fmt.Sprintf("The graph of flow run %s has more than %d nodes.", e.FlowRunID, e.MaxNodes)
}

// GraphQueries reads flow run graphs: Prefect 3.0's flow_run_graph_v2 (GET
// /flow_runs/{id}/graph-v2). Both dialects' Dialect types implement it with
// the same results; it is not part of the Dialect interface, so get it with a
// type assertion.
type GraphQueries interface {
	// FlowRunGraph returns the graph of flow run flowRunID.
	//
	// Nodes are the flow run's task runs, each replaced by its subflow run if
	// it has one, that have a start time (see GraphNode.StartTime) and whose
	// state_type <> 'PENDING'. That is Prefect 3.0's filter: it also leaves
	// out task runs whose state_type is NULL. Prefect 3.7.5 removed it;
	// IncludePendingTaskRuns does the same. Of those, only the nodes that have not ended or ended at or
	// after since are returned (since is compared as a time on both
	// databases; pass time.Time{} for the whole graph, as Prefect's default
	// datetime.min). Edges are computed over all the nodes, so in an
	// incremental graph a node's Parents or Children may name nodes that
	// ended before since and are not returned.
	//
	// Edges come from task_run.task_inputs, {"x": [{"input_type":
	// "task_run", "id": "<uuid>"}], "__parents__": [...]}: an input element
	// whose id is a node's id (compared as lower-case text) links that node
	// as a parent ("__parents__": encapsulating). Inputs without an id
	// (parameters, constants) link nothing. An id that names a task run with
	// a subflow run links nothing either, as in Prefect, since that node's id
	// is the subflow run's.
	//
	// With more than maxNodes nodes the result is a *GraphTooLargeError. At
	// most maxArtifacts artifacts, the earliest created, are read for the
	// whole graph; artifacts of task runs that are not returned nodes are
	// dropped, and subflow runs' artifacts are not included. A flow run that
	// does not exist gives a *FlowRunNotFoundError (errors.Is
	// ErrFlowRunNotFound). Negative limits are an error.
	//
	// The graph is read with several statements; pass a transaction as q to
	// read them from one snapshot (on PostgreSQL it must be REPEATABLE READ or
	// stricter for that).
	FlowRunGraph(ctx context.Context, q Querier, gq GraphQuery) (*Graph, error)
}

// GraphQuery is what GraphQueries.FlowRunGraph reads.
type GraphQuery struct {
	// FlowRunID is the flow run whose graph is read.
	FlowRunID uuid.UUID
	// Since keeps the nodes that have not ended or ended at or after it;
	// time.Time{} for the whole graph.
	Since time.Time
	// MaxNodes and MaxArtifacts are the limits described on FlowRunGraph.
	MaxNodes, MaxArtifacts int
	// IncludePendingTaskRuns makes PENDING task runs (and task runs without
	// a state) nodes too, as Prefect 3.7.5 and later do.
	IncludePendingTaskRuns bool
}
