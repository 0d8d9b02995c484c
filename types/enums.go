package types

// StateType is the type of a flow or task run state (Prefect's StateType).
// On PostgreSQL it is the native enum type state_type.
type StateType string

// State types, in the enum's sort order.
const (
	StateScheduled  StateType = "SCHEDULED"
	StatePending    StateType = "PENDING"
	StateRunning    StateType = "RUNNING"
	StateCompleted  StateType = "COMPLETED"
	StateFailed     StateType = "FAILED"
	StateCancelled  StateType = "CANCELLED"
	StateCrashed    StateType = "CRASHED"
	StatePaused     StateType = "PAUSED"
	StateCancelling StateType = "CANCELLING"
)

// Values lists the state types in enum order (used by Ent).
func (StateType) Values() []string {
	return []string{"SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED", "PAUSED", "CANCELLING"}
}

// Valid reports whether s is one of Prefect's state types.
func (s StateType) Valid() bool {
	switch s {
	case StateScheduled, StatePending, StateRunning, StateCompleted, StateFailed,
		StateCancelled, StateCrashed, StatePaused, StateCancelling:
		return true
	}
	return false
}

// IsTerminal reports whether the state type is final: COMPLETED, CANCELLED,
// FAILED or CRASHED.
func (s StateType) IsTerminal() bool {
	switch s {
	case StateCompleted, StateCancelled, StateFailed, StateCrashed:
		return true
	}
	return false
}

// DeploymentStatus is a deployment's readiness (enum deployment_status).
type DeploymentStatus string

// Deployment statuses.
const (
	DeploymentReady    DeploymentStatus = "READY"
	DeploymentNotReady DeploymentStatus = "NOT_READY"
)

// Values lists the statuses in enum order (used by Ent).
func (DeploymentStatus) Values() []string { return []string{"READY", "NOT_READY"} }

// WorkPoolStatus is a work pool's status (enum work_pool_status).
type WorkPoolStatus string

// Work pool statuses.
const (
	WorkPoolReady    WorkPoolStatus = "READY"
	WorkPoolNotReady WorkPoolStatus = "NOT_READY"
	WorkPoolPaused   WorkPoolStatus = "PAUSED"
)

// Values lists the statuses in enum order (used by Ent).
func (WorkPoolStatus) Values() []string { return []string{"READY", "NOT_READY", "PAUSED"} }

// WorkQueueStatus is a work queue's status (enum work_queue_status).
type WorkQueueStatus string

// Work queue statuses.
const (
	WorkQueueReady    WorkQueueStatus = "READY"
	WorkQueueNotReady WorkQueueStatus = "NOT_READY"
	WorkQueuePaused   WorkQueueStatus = "PAUSED"
)

// Values lists the statuses in enum order (used by Ent).
func (WorkQueueStatus) Values() []string { return []string{"READY", "NOT_READY", "PAUSED"} }

// WorkerStatus is a worker's status (enum worker_status).
type WorkerStatus string

// Worker statuses.
const (
	WorkerOnline  WorkerStatus = "ONLINE"
	WorkerOffline WorkerStatus = "OFFLINE"
)

// Values lists the statuses in enum order (used by Ent).
func (WorkerStatus) Values() []string { return []string{"ONLINE", "OFFLINE"} }
