package schema

// indexedText lists, per Ent type, the text fields that a B-tree index of
// Prefect's schema covers (in a primary key, a UNIQUE constraint or an
// index, on either database). Their values are limited to
// types.MaxIndexedTextBytes. TestIndexedTextMatchesPrefect derives the
// same list from Prefect's newest schema and fails when they differ.
func indexedText(entType string) []string {
	switch entType {
	case "Agent", "ConcurrencyLimitV2", "Flow", "SavedSearch", "Variable", "WorkQueue", "Worker":
		return []string{"name"}
	case "Artifact", "ArtifactCollection", "Configuration", "FlowRunInput":
		return []string{"key"}
	case "AutomationEventFollower":
		return []string{"scope"}
	case "AutomationRelatedResource", "EventResource":
		return []string{"resource_id"}
	case "BlockDocument":
		return []string{"block_type_name", "name"}
	case "BlockSchema":
		return []string{"checksum", "version"}
	case "BlockType":
		return []string{"slug"}
	case "ConcurrencyLimit":
		return []string{"tag"}
	case "CsrfToken":
		return []string{"client"}
	case "Deployment":
		return []string{"name", "work_queue_name"}
	case "DeploymentSchedule":
		return []string{"slug"}
	case "DeploymentVersion":
		return []string{"branch", "work_queue_name"}
	case "Event":
		return []string{"event", "resource_id"}
	case "FlowRun":
		return []string{"deployment_version", "flow_version", "idempotency_key", "name", "state_name", "work_queue_name"}
	case "FlowRunState", "TaskRunState":
		return []string{"name"}
	case "TaskRun":
		return []string{"dynamic_key", "name", "state_name", "task_key"}
	case "TaskRunStateCache":
		return []string{"cache_key"}
	case "WorkPool":
		return []string{"name", "type"}
	}
	return nil
}
