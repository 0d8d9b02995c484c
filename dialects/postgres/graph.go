package postgres

import (
	"context"
	"strings"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/internal/graphread"
)

var _ dialects.GraphQueries = Dialect{}

// graphFlowRunSQL reads the flow run's start ($1 is its id).
const graphFlowRunSQL = `SELECT COALESCE(start_time, expected_start_time), end_time FROM flow_run WHERE id = $1`

// graphNodesSQL reads the nodes of a flow run graph with their edges. $1 is
// the flow run id, $2 since, $3 the row limit (max nodes + 1).
//
//   - edges: one row per task run × task input key × input element, the task
//     run replaced by its subflow run where it has one (LEFT JOIN, so a task
//     run without inputs has one row with a NULL parent). The jsonb_typeof
//     guards make malformed task_inputs link nothing instead of failing; the
//     referenced id is kept as lower-case text, so that an id that is not a
//     UUID matches nothing instead of failing a cast.
//   - nodes: one row per node (DISTINCT ON: every edge row of a node carries
//     the same node columns).
//   - links: each (child, parent, encapsulating) once, for parents that are
//     nodes; this is where duplicates (a parent that has several input keys
//     of its own has several edge rows) go away.
//   - parent_lists / child_lists: the links aggregated per node into JSON
//     arrays ordered by the related node's start time, then id.
const graphNodesSQL = `WITH edges AS (
	SELECT CASE WHEN subflow.id IS NOT NULL THEN 'flow-run' ELSE 'task-run' END AS kind,
		COALESCE(subflow.id, task_run.id) AS id,
		COALESCE(flow.name || ' / ' || subflow.name, task_run.name) AS label,
		COALESCE(subflow.state_type, task_run.state_type) AS state_type,
		COALESCE(subflow.start_time, subflow.expected_start_time,
			task_run.start_time, task_run.expected_start_time) AS start_time,
		COALESCE(subflow.end_time, task_run.end_time,
			CASE WHEN task_run.state_type = 'COMPLETED' THEN task_run.expected_start_time END) AS end_time,
		lower(argument ->> 'id') AS parent,
		input.key = '__parents__' AS encapsulating
	FROM task_run
	LEFT JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(task_run.task_inputs) = 'object'
		THEN task_run.task_inputs END) AS input ON true
	LEFT JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(input.value) = 'array'
		THEN input.value END) AS argument ON true
	LEFT JOIN flow_run AS subflow ON subflow.parent_task_run_id = task_run.id
	LEFT JOIN flow ON flow.id = subflow.flow_id
	WHERE task_run.flow_run_id = $1
		AND task_run.state_type <> 'PENDING'
		AND COALESCE(subflow.start_time, subflow.expected_start_time,
			task_run.start_time, task_run.expected_start_time) IS NOT NULL
), nodes AS (
	SELECT DISTINCT ON (id) kind, id, label, state_type, start_time, end_time
	FROM edges
	ORDER BY id
), links AS (
	SELECT DISTINCT child.id AS child_id, parent.id AS parent_id, child.encapsulating
	FROM edges AS child
	JOIN nodes AS parent ON parent.id::text = child.parent
), parent_lists AS (
	SELECT links.child_id AS id,
		jsonb_agg(links.parent_id ORDER BY parent.start_time, parent.id)
			FILTER (WHERE NOT links.encapsulating) AS parent_ids,
		jsonb_agg(links.parent_id ORDER BY parent.start_time, parent.id)
			FILTER (WHERE links.encapsulating) AS encapsulating_ids
	FROM links
	JOIN nodes AS parent ON parent.id = links.parent_id
	GROUP BY links.child_id
), child_lists AS (
	SELECT links.parent_id AS id,
		jsonb_agg(links.child_id ORDER BY child.start_time, child.id) AS child_ids
	FROM links
	JOIN nodes AS child ON child.id = links.child_id
	WHERE NOT links.encapsulating
	GROUP BY links.parent_id
)
SELECT nodes.kind, nodes.id, nodes.label, nodes.state_type::text, nodes.start_time, nodes.end_time,
	parent_lists.parent_ids, child_lists.child_ids, parent_lists.encapsulating_ids
FROM nodes
LEFT JOIN parent_lists ON parent_lists.id = nodes.id
LEFT JOIN child_lists ON child_lists.id = nodes.id
WHERE nodes.end_time IS NULL OR nodes.end_time >= $2
ORDER BY nodes.start_time, nodes.end_time NULLS LAST, nodes.id
LIMIT $3`

// graphArtifactsSQL reads the flow run's artifacts other than results ($1 the
// flow run id, $2 the limit). An artifact is the latest of its key when the
// key's collection points to it.
const graphArtifactsSQL = `SELECT artifact.id, artifact.created, artifact.key, artifact.type, artifact.task_run_id,
	artifact.key IS NULL OR artifact_collection.id IS NOT NULL AS is_latest,
	CASE WHEN artifact.type = 'progress' THEN artifact.data END AS data
FROM artifact
LEFT JOIN artifact_collection
	ON artifact_collection.key = artifact.key AND artifact_collection.latest_id = artifact.id
WHERE artifact.flow_run_id = $1 AND artifact.type <> 'result'
ORDER BY artifact.created, artifact.id
LIMIT $2`

// graphStatesSQL reads the flow run's states ($1 the flow run id).
const graphStatesSQL = `SELECT id, timestamp, type::text, name FROM flow_run_state
WHERE flow_run_id = $1
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
// expands task_run.task_inputs with jsonb_each and jsonb_array_elements,
// picks one row per node with DISTINCT ON and aggregates the edges with
// jsonb_agg ordered by the related node's start time, then id. As in Prefect
// 3.0, task runs whose state_type is PENDING or NULL are not nodes
// (state_type <> 'PENDING').
//
// The Go side (validating the limits, scanning the rows, assembling the
// graph) is graphread.Read's.
func (Dialect) FlowRunGraph(ctx context.Context, q dialects.Querier, gq dialects.GraphQuery) (*dialects.Graph, error) {
	return graphread.Read(ctx, q, graphSQL, "postgres", gq)
}
