package sqlite

import (
	"context"
	"strings"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/internal/graphread"
)

var _ dialects.GraphQueries = Dialect{}

// graphFlowRunSQL reads the flow run's start (?1 is its id).
const graphFlowRunSQL = `SELECT COALESCE(start_time, expected_start_time), end_time FROM flow_run WHERE id = ?1`

// graphNodesSQL reads the nodes of a flow run graph with their edges. ?1 is
// the flow run id, ?2 since, ?3 the row limit (max nodes + 1). Timestamps
// are Prefect's UTC text, so comparing and sorting the text is comparing and
// sorting the times; ?2 is bound as a time.Time, which the driver wrapper
// turns into the same text (ConvertValue).
//
//   - edges: one row per task run × task input key × input element, the task
//     run replaced by its subflow run where it has one (LEFT JOIN, so a task
//     run without inputs has one row with a NULL parent). task_inputs is
//     read as text (CAST: Ent binds JSON as a BLOB, Prefect as TEXT), and the
//     json_valid and type guards make malformed task_inputs link nothing
//     instead of failing; the referenced id is compared as lower-case text.
//   - nodes: one row per node (DISTINCT: every edge row of a node carries the
//     same node columns).
//   - links: each (child, parent, encapsulating) once, for parents that are
//     nodes; this is where duplicates (a parent that has several input keys
//     of its own has several edge rows) go away.
//   - parent_lists / child_lists: the links aggregated per node with
//     json_group_array, ordered by the related node's start time, then id
//     (ORDER BY inside an aggregate needs SQLite 3.44; modernc bundles a
//     newer one).
const graphNodesSQL = `WITH edges AS (
	SELECT CASE WHEN subflow.id IS NOT NULL THEN 'flow-run' ELSE 'task-run' END AS kind,
		COALESCE(subflow.id, task_run.id) AS id,
		COALESCE(flow.name || ' / ' || subflow.name, task_run.name) AS label,
		COALESCE(subflow.state_type, task_run.state_type) AS state_type,
		COALESCE(subflow.start_time, subflow.expected_start_time,
			task_run.start_time, task_run.expected_start_time) AS start_time,
		COALESCE(subflow.end_time, task_run.end_time,
			CASE WHEN task_run.state_type = 'COMPLETED' THEN task_run.expected_start_time END) AS end_time,
		CASE WHEN argument.type = 'object' THEN lower(json_extract(argument.value, '$.id')) END AS parent,
		input.key = '__parents__' AS encapsulating
	FROM task_run
	LEFT JOIN json_each(CASE WHEN json_valid(CAST(task_run.task_inputs AS TEXT))
			AND json_type(CAST(task_run.task_inputs AS TEXT)) = 'object'
		THEN CAST(task_run.task_inputs AS TEXT) END) AS input ON true
	LEFT JOIN json_each(CASE WHEN input.type = 'array' THEN input.value END) AS argument ON true
	LEFT JOIN flow_run AS subflow ON subflow.parent_task_run_id = task_run.id
	LEFT JOIN flow ON flow.id = subflow.flow_id
	WHERE task_run.flow_run_id = ?1
		AND task_run.state_type <> 'PENDING'
		AND COALESCE(subflow.start_time, subflow.expected_start_time,
			task_run.start_time, task_run.expected_start_time) IS NOT NULL
), nodes AS (
	SELECT DISTINCT kind, id, label, state_type, start_time, end_time
	FROM edges
), links AS (
	SELECT DISTINCT child.id AS child_id, parent.id AS parent_id, child.encapsulating
	FROM edges AS child
	JOIN nodes AS parent ON parent.id = child.parent
), parent_lists AS (
	SELECT links.child_id AS id,
		json_group_array(links.parent_id ORDER BY parent.start_time, parent.id)
			FILTER (WHERE NOT links.encapsulating) AS parent_ids,
		json_group_array(links.parent_id ORDER BY parent.start_time, parent.id)
			FILTER (WHERE links.encapsulating) AS encapsulating_ids
	FROM links
	JOIN nodes AS parent ON parent.id = links.parent_id
	GROUP BY links.child_id
), child_lists AS (
	SELECT links.parent_id AS id,
		json_group_array(links.child_id ORDER BY child.start_time, child.id) AS child_ids
	FROM links
	JOIN nodes AS child ON child.id = links.child_id
	WHERE NOT links.encapsulating
	GROUP BY links.parent_id
)
SELECT nodes.kind, nodes.id, nodes.label, nodes.state_type, nodes.start_time, nodes.end_time,
	parent_lists.parent_ids, child_lists.child_ids, parent_lists.encapsulating_ids
FROM nodes
LEFT JOIN parent_lists ON parent_lists.id = nodes.id
LEFT JOIN child_lists ON child_lists.id = nodes.id
WHERE nodes.end_time IS NULL OR nodes.end_time >= ?2
ORDER BY nodes.start_time, nodes.end_time NULLS LAST, nodes.id
LIMIT ?3`

// graphArtifactsSQL reads the flow run's artifacts other than results (?1 the
// flow run id, ?2 the limit). An artifact is the latest of its key when the
// key's collection points to it. The data column may hold a BLOB (Ent binds
// JSON as []byte) or TEXT (Prefect), and as the column is declared JSON
// (NUMERIC affinity) a number written as text may be stored as an INTEGER or
// REAL; CAST AS TEXT gives JSON text in every case.
const graphArtifactsSQL = `SELECT artifact.id, artifact.created, artifact.key, artifact.type, artifact.task_run_id,
	artifact.key IS NULL OR artifact_collection.id IS NOT NULL AS is_latest,
	CASE WHEN artifact.type = 'progress' THEN CAST(artifact.data AS TEXT) END AS data
FROM artifact
LEFT JOIN artifact_collection
	ON artifact_collection.key = artifact.key AND artifact_collection.latest_id = artifact.id
WHERE artifact.flow_run_id = ?1 AND artifact.type <> 'result'
ORDER BY artifact.created, artifact.id
LIMIT ?2`

// graphStatesSQL reads the flow run's states (?1 the flow run id).
const graphStatesSQL = `SELECT id, timestamp, type, name FROM flow_run_state
WHERE flow_run_id = ?1
ORDER BY timestamp, id`

// graphSQL are the statements graphread.Read runs for FlowRunGraph.
var graphSQL = graphread.SQL{
	Run:   graphFlowRunSQL,
	Nodes: graphNodesSQL,
	// Prefect 3.7.5 removed the filter on PENDING task runs.
	NodesWithPending: strings.Replace(graphNodesSQL, "\n\t\tAND task_run.state_type <> 'PENDING'", "", 1),
	Artifacts:        graphArtifactsSQL,
	States:           graphStatesSQL,
}

// FlowRunGraph implements dialects.GraphQueries.
//
// The nodes and their edges come from one statement (graphNodesSQL) that
// expands task_run.task_inputs with json_each, picks one row per node with
// DISTINCT and aggregates the edges with json_group_array ordered by the
// related node's start time, then id, exactly as the PostgreSQL dialect
// orders them (Prefect's SQLite query leaves that order unspecified). As in
// Prefect 3.0, task runs whose state_type is PENDING or NULL are not nodes
// (state_type <> 'PENDING').
//
// The Go side (validating the limits, scanning the rows, assembling the
// graph) is graphread.Read's.
func (Dialect) FlowRunGraph(ctx context.Context, q dialects.Querier, gq dialects.GraphQuery) (*dialects.Graph, error) {
	return graphread.Read(ctx, q, graphSQL, "sqlite", gq)
}
