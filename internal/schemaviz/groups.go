package schemaviz

// Group is a set of related tables, drawn as one coloured cluster.
type Group struct {
	// ID is a short identifier, used in CSS classes and element ids.
	ID string `json:"id"`
	// Title is the heading shown to the reader.
	Title string `json:"title"`
	// Header is the colour of the entity headers (white text on it).
	Header string `json:"header"`
	// Fill is the light background of the cluster.
	Fill string `json:"fill"`
	// Border is the colour of the cluster's outline.
	Border string `json:"border"`
	// Tables lists the tables of the group; OtherGroup takes every table
	// that no group lists.
	Tables []string `json:"-"`
}

// OtherGroup is the ID of the group of every table that no other group
// lists.
const OtherGroup = "other"

// groups is the display order of the groups and the tables in each.
var groups = []Group{
	{ID: "runs", Title: "Runs and states", Header: "#1d4ed8", Fill: "#eff6ff", Border: "#93c5fd", Tables: []string{
		"flow", "flow_run", "flow_run_state", "flow_run_input", "task_run", "task_run_state",
		"task_run_state_cache", "log", "artifact", "artifact_collection",
		"flow_run_notification_policy", "flow_run_notification_queue",
	}},
	{ID: "deployments", Title: "Deployments and scheduling", Header: "#047857", Fill: "#ecfdf5", Border: "#6ee7b7", Tables: []string{
		"deployment", "deployment_schedule",
	}},
	{ID: "workpools", Title: "Work pools", Header: "#b45309", Fill: "#fffbeb", Border: "#fcd34d", Tables: []string{
		"work_pool", "work_queue", "worker", "agent",
	}},
	{ID: "blocks", Title: "Blocks", Header: "#6d28d9", Fill: "#f5f3ff", Border: "#c4b5fd", Tables: []string{
		"block_type", "block_schema", "block_schema_reference", "block_document", "block_document_reference",
	}},
	{ID: "automations", Title: "Automations and events", Header: "#be123c", Fill: "#fff1f2", Border: "#fda4af", Tables: []string{
		"automation", "automation_bucket", "automation_related_resource", "automation_event_follower",
		"composite_trigger_child_firing", "events", "event_resources",
	}},
	{ID: OtherGroup, Title: "Other", Header: "#475569", Fill: "#f8fafc", Border: "#cbd5e1"},
}

// Groups returns every group in display order, OtherGroup last.
func Groups() []*Group {
	out := make([]*Group, len(groups))
	for i := range groups {
		g := groups[i]
		out[i] = &g
	}
	return out
}

// GroupOf returns the ID of the group of a table.
func GroupOf(table string) string {
	for _, g := range groups {
		for _, t := range g.Tables {
			if t == table {
				return g.ID
			}
		}
	}
	return OtherGroup
}
