package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/types"
)

// Queues is the number of work queues in the benchmark's work pool.
const Queues = 5

// ScheduleBatch is the number of runs the scheduler inserts per transaction.
const ScheduleBatch = 500

// LogBatch is the number of log rows per insert.
const LogBatch = 200

// EventBatch is the number of events per insert (each with 3 resources).
const EventBatch = 200

// PollLimit is the limit of each poll.
const PollLimit = 10

// Fixture is what every benchmark database holds before the workloads run:
// one flow with one deployment, one work pool with Queues work queues
// (priorities 1 to Queues) and the deployment's schedule.
type Fixture struct {
	// FlowID is the flow.
	FlowID uuid.UUID
	// DeploymentID is the flow's deployment, whose runs are scheduled.
	DeploymentID uuid.UUID
	// ScheduleID is the deployment's schedule (part of the runs'
	// idempotency keys).
	ScheduleID uuid.UUID
	// WorkPoolID is the work pool.
	WorkPoolID uuid.UUID
	// QueueIDs and QueueNames are the pool's queues, by priority (1 first).
	QueueIDs   []uuid.UUID
	QueueNames []string
}

// CreateFixture creates the fixture through the Ent client (setup, not
// measured).
func CreateFixture(ctx context.Context, c *ent.Client) (*Fixture, error) {
	tx, err := c.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench: fixture: %w", err)
	}
	f, err := createFixture(ctx, tx.Client())
	if err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("bench: fixture: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("bench: fixture: %w", err)
	}
	return f, nil
}

func createFixture(ctx context.Context, c *ent.Client) (*Fixture, error) {
	flow, err := c.Flow.Create().SetName("bench-flow").Save(ctx)
	if err != nil {
		return nil, err
	}
	pool, err := c.WorkPool.Create().SetName("bench-pool").SetType("process").
		SetBaseJobTemplate(map[string]any{"job_configuration": map[string]any{}, "variables": map[string]any{}}).Save(ctx)
	if err != nil {
		return nil, err
	}
	f := &Fixture{FlowID: flow.ID, WorkPoolID: pool.ID}
	for k := 0; k < Queues; k++ {
		name := "queue-" + strconv.Itoa(k+1)
		if k == 0 {
			name = "default"
		}
		q, err := c.WorkQueue.Create().SetName(name).SetWorkPoolID(pool.ID).SetPriority(k + 1).Save(ctx)
		if err != nil {
			return nil, err
		}
		f.QueueIDs = append(f.QueueIDs, q.ID)
		f.QueueNames = append(f.QueueNames, name)
	}
	if err := c.WorkPool.UpdateOneID(pool.ID).SetDefaultQueueID(f.QueueIDs[0]).Exec(ctx); err != nil {
		return nil, err
	}
	dep, err := c.Deployment.Create().SetName("bench-deployment").SetFlowID(flow.ID).
		SetWorkQueueID(f.QueueIDs[0]).SetWorkQueueName(f.QueueNames[0]).SetStatus(types.DeploymentReady).Save(ctx)
	if err != nil {
		return nil, err
	}
	f.DeploymentID = dep.ID
	sched, err := c.DeploymentSchedule.Create().SetDeploymentID(dep.ID).
		SetSchedule(map[string]any{"interval": 60.0, "anchor_date": "2024-09-13T00:00:00Z", "timezone": "UTC"}).
		SetActive(true).Save(ctx)
	if err != nil {
		return nil, err
	}
	f.ScheduleID = sched.ID
	return f, nil
}

// epoch is the first scheduled time of the benchmark's runs.
var epoch = time.Date(2024, 9, 13, 0, 0, 0, 0, time.UTC)

// scheduledRuns returns runs first … first+n-1 of the deployment's
// schedule, one a minute, as Prefect's scheduler makes them: an idempotency
// key per schedule and time, the SCHEDULED state's message and details,
// auto_scheduled, and round-robin over the pool's queues.
func (f *Fixture) scheduledRuns(first, n int) []dialects.ScheduledFlowRunInsert {
	runs := make([]dialects.ScheduledFlowRunInsert, n)
	msg := "Flow run scheduled"
	for k := range runs {
		i := first + k
		at := epoch.Add(time.Duration(i) * time.Minute)
		key := "scheduled " + f.DeploymentID.String() + " " + f.ScheduleID.String() + " " + at.Format(time.RFC3339)
		q := i % len(f.QueueIDs)
		runs[k] = dialects.ScheduledFlowRunInsert{
			ID:                     uuid.New(),
			FlowID:                 f.FlowID,
			DeploymentID:           &f.DeploymentID,
			WorkQueueID:            &f.QueueIDs[q],
			WorkQueueName:          &f.QueueNames[q],
			Name:                   "bench-run-" + strconv.Itoa(i),
			IdempotencyKey:         &key,
			NextScheduledStartTime: at,
			ExpectedStartTime:      at,
			Parameters:             map[string]any{"n": i, "source": "bench"},
			Tags:                   []string{"bench", "auto-scheduled"},
			AutoScheduled:          true,
			CreatedBy:              map[string]any{"id": f.ScheduleID.String(), "type": "SCHEDULE", "display_value": "every 60s"},
			StateMessage:           &msg,
			StateDetails:           map[string]any{"scheduled_time": at.Format(time.RFC3339Nano)},
		}
	}
	return runs
}

// LogRow is one row of the log table: the library's type, so that the
// prefectdb side passes the generated rows on as they are.
type LogRow = dialects.LogRow

// logRows returns log rows first … first+n-1, spread over the given runs.
func logRows(runs []uuid.UUID, first, n int) []LogRow {
	rows := make([]LogRow, n)
	for k := range rows {
		i := first + k
		rows[k] = LogRow{
			ID:        uuid.New(),
			Name:      "prefect.flow_runs",
			Level:     20,
			FlowRunID: &runs[i%len(runs)],
			Message: "Task run 'extract-" + strconv.Itoa(i%97) + "' finished in state Completed(message=None, type=COMPLETED, " +
				"result=PersistedResult(type='reference', serializer_type='pickle')), line " + strconv.Itoa(i),
			Timestamp: epoch.Add(time.Duration(i) * time.Millisecond),
		}
	}
	return rows
}

// EventRow is one event with its resources (the primary resource first,
// then the related ones), as Prefect stores them in events and
// event_resources: the library's type.
type EventRow = dialects.EventRow

// ResourceRow is one row of event_resources: the library's type.
type ResourceRow = dialects.EventResourceRow

// eventRows returns events first … first+n-1: flow-run state changes of the
// given runs, each with its run, flow and deployment as resources.
func eventRows(f *Fixture, runs []uuid.UUID, first, n int) []EventRow {
	rows := make([]EventRow, n)
	flowRes := "prefect.flow." + f.FlowID.String()
	depRes := "prefect.deployment." + f.DeploymentID.String()
	for k := range rows {
		i := first + k
		run := runs[i%len(runs)]
		at := epoch.Add(time.Duration(i) * time.Millisecond)
		runRes := "prefect.flow-run." + run.String()
		resource := map[string]any{"prefect.resource.id": runRes, "prefect.resource.name": "bench-run-" + strconv.Itoa(i%len(runs)),
			"prefect.state-type": "COMPLETED", "prefect.state-name": "Completed"}
		related := []map[string]any{
			{"prefect.resource.id": flowRes, "prefect.resource.role": "flow", "prefect.resource.name": "bench-flow"},
			{"prefect.resource.id": depRes, "prefect.resource.role": "deployment", "prefect.resource.name": "bench-deployment"},
		}
		rows[k] = EventRow{
			ID:                 uuid.New(),
			Occurred:           at,
			Event:              "prefect.flow-run.Completed",
			ResourceID:         runRes,
			Resource:           resource,
			RelatedResourceIDs: []string{flowRes, depRes},
			Related:            related,
			Payload: map[string]any{
				"intended":        map[string]any{"from": "RUNNING", "to": "COMPLETED"},
				"initial_state":   map[string]any{"type": "RUNNING", "name": "Running"},
				"validated_state": map[string]any{"type": "COMPLETED", "name": "Completed"},
			},
			Received: at.Add(5 * time.Millisecond),
			Recorded: at.Add(9 * time.Millisecond),
			Resources: []ResourceRow{
				{ID: uuid.New(), ResourceID: runRes, Role: "", Resource: resource},
				{ID: uuid.New(), ResourceID: flowRes, Role: "flow", Resource: related[0]},
				{ID: uuid.New(), ResourceID: depRes, Role: "deployment", Resource: related[1]},
			},
		}
	}
	return rows
}
