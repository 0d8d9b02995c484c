package testutil

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/migrate"
	"github.com/prefectdb/prefectdb/types"
)

// Fixture is one row in every table, related to each other the way Prefect
// relates them. Seed creates it.
type Fixture struct {
	Flow                 *ent.Flow
	WorkPool             *ent.WorkPool
	WorkQueue            *ent.WorkQueue
	Worker               *ent.Worker
	Agent                *ent.Agent
	BlockType            *ent.BlockType
	BlockSchema          *ent.BlockSchema
	ChildBlockSchema     *ent.BlockSchema
	BlockSchemaReference *ent.BlockSchemaReference
	BlockDocument        *ent.BlockDocument
	ChildBlockDocument   *ent.BlockDocument
	BlockDocumentRef     *ent.BlockDocumentReference
	Deployment           *ent.Deployment
	DeploymentSchedule   *ent.DeploymentSchedule
	FlowRun              *ent.FlowRun
	FlowRunStates        []*ent.FlowRunState // history, oldest first; the last one is current
	TaskRun              *ent.TaskRun
	TaskRunState         *ent.TaskRunState
	Subflow              *ent.FlowRun
	Artifact             *ent.Artifact
	ArtifactCollection   *ent.ArtifactCollection
	TaskRunStateCache    *ent.TaskRunStateCache
	Log                  *ent.LogEntry
	FlowRunInput         *ent.FlowRunInput
	DeploymentVersion    *ent.DeploymentVersion
	// NotificationPolicy and NotificationQueue are nil at Prefect 3.4.0 and
	// later, which removed their tables.
	NotificationPolicy *ent.FlowRunNotificationPolicy
	NotificationQueue  *ent.FlowRunNotificationQueue
	Automation         *ent.Automation
	AutomationBucket   *ent.AutomationBucket
	AutomationResource *ent.AutomationRelatedResource
	ChildFiring        *ent.CompositeTriggerChildFiring
	EventFollower      *ent.AutomationEventFollower
	Event              *ent.Event
	EventResource      *ent.EventResource
	ConcurrencyLimit   *ent.ConcurrencyLimit
	ConcurrencyLimitV2 *ent.ConcurrencyLimitV2
	Configuration      *ent.Configuration
	CsrfToken          *ent.CsrfToken
	SavedSearch        *ent.SavedSearch
	Variable           *ent.Variable
}

// seedTime is a fixed instant with microseconds, so tests can compare.
var seedTime = time.Date(2024, 9, 13, 12, 30, 45, 123456000, time.UTC)

// Seed creates a Fixture through the client, in one transaction, on a
// database at head. suffix makes unique names, so a database can be seeded
// more than once. The returned entities are bound to client, not to the
// finished transaction.
func Seed(ctx context.Context, client *ent.Client, suffix string) (*Fixture, error) {
	return SeedAt(ctx, client, nil, suffix)
}

// SeedAt is Seed for a database at level (nil: head): it fills the tables
// and columns that the level's Prefect release has.
func SeedAt(ctx context.Context, client *ent.Client, level *migrate.Level, suffix string) (*Fixture, error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("seed: begin: %w", err)
	}
	f, err := seed(ctx, tx.Client(), level, suffix)
	if err != nil {
		return nil, fmt.Errorf("seed: %w (rollback: %v)", err, tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("seed: commit: %w", err)
	}
	unwrapAll(f)
	return f, nil
}

// unwrapAll detaches every entity of the fixture from the finished
// transaction (Ent's Unwrap), so that methods such as Update and QueryX run
// through the client again. A field added to Fixture is added here too.
func unwrapAll(f *Fixture) {
	unwrap(f.Flow)
	unwrap(f.WorkPool)
	unwrap(f.WorkQueue)
	unwrap(f.Worker)
	unwrap(f.Agent)
	unwrap(f.BlockType)
	unwrap(f.BlockSchema)
	unwrap(f.ChildBlockSchema)
	unwrap(f.BlockSchemaReference)
	unwrap(f.BlockDocument)
	unwrap(f.ChildBlockDocument)
	unwrap(f.BlockDocumentRef)
	unwrap(f.Deployment)
	unwrap(f.DeploymentSchedule)
	unwrap(f.FlowRun)
	unwrap(f.TaskRun)
	unwrap(f.TaskRunState)
	unwrap(f.Subflow)
	unwrap(f.Artifact)
	unwrap(f.ArtifactCollection)
	unwrap(f.TaskRunStateCache)
	unwrap(f.Log)
	unwrap(f.FlowRunInput)
	unwrap(f.DeploymentVersion)
	unwrap(f.NotificationPolicy)
	unwrap(f.NotificationQueue)
	unwrap(f.Automation)
	unwrap(f.AutomationBucket)
	unwrap(f.AutomationResource)
	unwrap(f.ChildFiring)
	unwrap(f.EventFollower)
	unwrap(f.Event)
	unwrap(f.EventResource)
	unwrap(f.ConcurrencyLimit)
	unwrap(f.ConcurrencyLimitV2)
	unwrap(f.Configuration)
	unwrap(f.CsrfToken)
	unwrap(f.SavedSearch)
	unwrap(f.Variable)
	for _, st := range f.FlowRunStates {
		unwrap(st)
	}
}

// entity is a pointer to an Ent entity, which Unwrap detaches from its
// transaction.
type entity[T any] interface {
	*T
	Unwrap() *T
}

// unwrap detaches e (if any) from its finished transaction.
func unwrap[T any, P entity[T]](e P) {
	if e != nil {
		e.Unwrap()
	}
}

func seed(ctx context.Context, c *ent.Client, level *migrate.Level, sfx string) (f *Fixture, err error) {
	f = &Fixture{}
	hasTable := func(t string) bool {
		if level == nil {
			return migrate.TableAtHead(t)
		}
		return level.HasTable(t)
	}
	hasColumn := func(t, col string) bool { return level == nil || level.HasColumn(t, col) }
	obj := map[string]any{"k": "v", "n": 1.5}
	raw := json.RawMessage(`{"value": [1, 2, 3]}`)

	f.Flow, err = c.Flow.Create().SetName("flow-" + sfx).SetTags([]string{"a", "b"}).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("flow: %w", err)
	}
	f.WorkPool, err = c.WorkPool.Create().SetName("pool-" + sfx).SetType("process").SetBaseJobTemplate(obj).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("work pool: %w", err)
	}
	f.WorkQueue, err = c.WorkQueue.Create().SetName("default").SetWorkPool(f.WorkPool).SetPriority(1).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("work queue: %w", err)
	}
	if f.WorkPool, err = f.WorkPool.Update().SetDefaultQueue(f.WorkQueue).Save(ctx); err != nil {
		return nil, fmt.Errorf("work pool default queue: %w", err)
	}
	if f.Worker, err = c.Worker.Create().SetName("worker-" + sfx).SetWorkPool(f.WorkPool).SetStatus(types.WorkerOnline).Save(ctx); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	if f.Agent, err = c.Agent.Create().SetName("agent-" + sfx).SetWorkQueue(f.WorkQueue).Save(ctx); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if f.BlockType, err = c.BlockType.Create().SetName("Block " + sfx).SetSlug("block-" + sfx).Save(ctx); err != nil {
		return nil, fmt.Errorf("block type: %w", err)
	}
	if f.BlockSchema, err = c.BlockSchema.Create().SetChecksum("sha256:parent-" + sfx).SetBlockType(f.BlockType).
		SetFields(obj).SetCapabilities([]string{"read"}).Save(ctx); err != nil {
		return nil, fmt.Errorf("block schema: %w", err)
	}
	if f.ChildBlockSchema, err = c.BlockSchema.Create().SetChecksum("sha256:child-" + sfx).SetBlockType(f.BlockType).Save(ctx); err != nil {
		return nil, fmt.Errorf("child block schema: %w", err)
	}
	if f.BlockSchemaReference, err = c.BlockSchemaReference.Create().SetName("child").
		SetParentBlockSchema(f.BlockSchema).SetReferenceBlockSchema(f.ChildBlockSchema).Save(ctx); err != nil {
		return nil, fmt.Errorf("block schema reference: %w", err)
	}
	if f.BlockDocument, err = c.BlockDocument.Create().SetName("doc-" + sfx).SetBlockSchema(f.BlockSchema).
		SetBlockType(f.BlockType).SetBlockTypeName(f.BlockType.Name).SetData(obj).Save(ctx); err != nil {
		return nil, fmt.Errorf("block document: %w", err)
	}
	if f.ChildBlockDocument, err = c.BlockDocument.Create().SetName("child-doc-" + sfx).SetBlockSchema(f.ChildBlockSchema).
		SetBlockType(f.BlockType).SetIsAnonymous(true).Save(ctx); err != nil {
		return nil, fmt.Errorf("child block document: %w", err)
	}
	if f.BlockDocumentRef, err = c.BlockDocumentReference.Create().SetName("child").
		SetParentBlockDocument(f.BlockDocument).SetReferenceBlockDocument(f.ChildBlockDocument).Save(ctx); err != nil {
		return nil, fmt.Errorf("block document reference: %w", err)
	}
	if f.Deployment, err = c.Deployment.Create().SetName("deployment-" + sfx).SetFlow(f.Flow).SetWorkQueue(f.WorkQueue).
		SetWorkQueueName(f.WorkQueue.Name).SetInfrastructureDocument(f.BlockDocument).SetStorageDocument(f.ChildBlockDocument).
		SetParameters(obj).SetPullSteps([]map[string]any{obj}).SetConcurrencyLimit(3).SetStatus(types.DeploymentReady).Save(ctx); err != nil {
		return nil, fmt.Errorf("deployment: %w", err)
	}
	if f.DeploymentSchedule, err = c.DeploymentSchedule.Create().SetDeployment(f.Deployment).
		SetSchedule(map[string]any{"interval": 3600.0}).SetActive(true).Save(ctx); err != nil {
		return nil, fmt.Errorf("deployment schedule: %w", err)
	}
	if f.FlowRun, err = c.FlowRun.Create().SetName("run-" + sfx).SetFlow(f.Flow).SetDeployment(f.Deployment).
		SetWorkQueue(f.WorkQueue).SetWorkQueueName(f.WorkQueue.Name).SetInfrastructureDocument(f.BlockDocument).
		SetIdempotencyKey("key-" + sfx).SetExpectedStartTime(seedTime).SetTotalRunTime(types.Interval(3*time.Second + 500*time.Microsecond)).
		SetParameters(obj).Save(ctx); err != nil {
		return nil, fmt.Errorf("flow run: %w", err)
	}
	if f.Artifact, err = c.Artifact.Create().SetKey("artifact-" + sfx).SetType("table").SetData(raw).
		SetFlowRun(f.FlowRun).Save(ctx); err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	for i, st := range []types.StateType{types.StateScheduled, types.StatePending, types.StateRunning} {
		s, err := c.FlowRunState.Create().SetFlowRun(f.FlowRun).SetType(st).SetName(string(st)).
			SetTimestamp(seedTime.Add(time.Duration(i) * time.Second)).SetStateDetails(obj).
			SetResultArtifact(f.Artifact).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("flow run state %s: %w", st, err)
		}
		f.FlowRunStates = append(f.FlowRunStates, s)
	}
	cur := f.FlowRunStates[len(f.FlowRunStates)-1]
	if f.FlowRun, err = f.FlowRun.Update().SetCurrentState(cur).SetStateType(cur.Type).SetStateName(cur.Name).
		SetStateTimestamp(cur.Timestamp).Save(ctx); err != nil {
		return nil, fmt.Errorf("flow run current state: %w", err)
	}
	if f.TaskRun, err = c.TaskRun.Create().SetName("task-" + sfx).SetTaskKey("task").SetDynamicKey("0").
		SetFlowRun(f.FlowRun).SetTaskInputs(map[string]any{"x": []any{}}).Save(ctx); err != nil {
		return nil, fmt.Errorf("task run: %w", err)
	}
	if f.TaskRunState, err = c.TaskRunState.Create().SetTaskRun(f.TaskRun).SetType(types.StateCompleted).
		SetName("Completed").SetTimestamp(seedTime).SetData(raw).SetResultArtifact(f.Artifact).Save(ctx); err != nil {
		return nil, fmt.Errorf("task run state: %w", err)
	}
	if f.TaskRun, err = f.TaskRun.Update().SetCurrentState(f.TaskRunState).SetStateType(types.StateCompleted).Save(ctx); err != nil {
		return nil, fmt.Errorf("task run current state: %w", err)
	}
	if f.Subflow, err = c.FlowRun.Create().SetName("subflow-" + sfx).SetFlow(f.Flow).SetParentTaskRun(f.TaskRun).Save(ctx); err != nil {
		return nil, fmt.Errorf("subflow run: %w", err)
	}
	if f.Artifact, err = f.Artifact.Update().SetTaskRun(f.TaskRun).Save(ctx); err != nil {
		return nil, fmt.Errorf("artifact task run: %w", err)
	}
	if f.ArtifactCollection, err = c.ArtifactCollection.Create().SetKey(*f.Artifact.Key).SetLatest(f.Artifact).
		SetFlowRunID(f.FlowRun.ID).SetMetadata(raw).Save(ctx); err != nil {
		return nil, fmt.Errorf("artifact collection: %w", err)
	}
	if f.TaskRunStateCache, err = c.TaskRunStateCache.Create().SetCacheKey("cache-" + sfx).
		SetTaskRunState(f.TaskRunState).SetCacheExpiration(seedTime.Add(time.Hour)).Save(ctx); err != nil {
		return nil, fmt.Errorf("task run state cache: %w", err)
	}
	if f.Log, err = c.LogEntry.Create().SetName("prefect.flow_runs").SetLevel(20).SetMessage("hello " + sfx).
		SetTimestamp(seedTime).SetFlowRun(f.FlowRun).SetTaskRun(f.TaskRun).Save(ctx); err != nil {
		return nil, fmt.Errorf("log: %w", err)
	}
	if f.FlowRunInput, err = c.FlowRunInput.Create().SetFlowRun(f.FlowRun).SetKey("input").SetValue(`{"a": 1}`).Save(ctx); err != nil {
		return nil, fmt.Errorf("flow run input: %w", err)
	}
	if hasTable("flow_run_notification_policy") {
		if f.NotificationPolicy, err = c.FlowRunNotificationPolicy.Create().SetBlockDocument(f.BlockDocument).
			SetStateNames([]string{"Failed"}).Save(ctx); err != nil {
			return nil, fmt.Errorf("notification policy: %w", err)
		}
		if f.NotificationQueue, err = c.FlowRunNotificationQueue.Create().SetFlowRunNotificationPolicy(f.NotificationPolicy).
			SetFlowRunState(cur).Save(ctx); err != nil {
			return nil, fmt.Errorf("notification queue: %w", err)
		}
	}
	if hasTable("deployment_version") {
		if f.DeploymentVersion, err = c.DeploymentVersion.Create().SetDeployment(f.Deployment).SetBranch("main").
			SetVersionInfo(map[string]any{"type": "git", "version": "abc123"}).SetWorkQueue(f.WorkQueue).
			SetWorkQueueName(f.WorkQueue.Name).SetParameters(obj).Save(ctx); err != nil {
			return nil, fmt.Errorf("deployment version: %w", err)
		}
		if f.Deployment, err = f.Deployment.Update().SetCurrentVersion(f.DeploymentVersion).Save(ctx); err != nil {
			return nil, fmt.Errorf("deployment current version: %w", err)
		}
	}
	if hasColumn("flow", "labels") {
		labels := map[string]any{"team": "data-" + sfx}
		if f.Flow, err = f.Flow.Update().SetLabels(labels).Save(ctx); err != nil {
			return nil, fmt.Errorf("flow labels: %w", err)
		}
		if f.FlowRun, err = f.FlowRun.Update().SetLabels(labels).Save(ctx); err != nil {
			return nil, fmt.Errorf("flow run labels: %w", err)
		}
		if f.TaskRun, err = f.TaskRun.Update().SetLabels(labels).Save(ctx); err != nil {
			return nil, fmt.Errorf("task run labels: %w", err)
		}
	}
	if f.Automation, err = c.Automation.Create().SetName("automation-" + sfx).SetDescription("").
		SetTrigger(obj).SetActions([]map[string]any{obj}).Save(ctx); err != nil {
		return nil, fmt.Errorf("automation: %w", err)
	}
	if f.AutomationBucket, err = c.AutomationBucket.Create().SetAutomation(f.Automation).SetTriggerID(uuid.New()).
		SetBucketingKey([]string{"k"}).SetStart(seedTime).SetEnd(seedTime.Add(time.Minute)).SetCount(1).Save(ctx); err != nil {
		return nil, fmt.Errorf("automation bucket: %w", err)
	}
	if f.AutomationResource, err = c.AutomationRelatedResource.Create().SetAutomation(f.Automation).
		SetResourceID("prefect.deployment." + f.Deployment.ID.String()).Save(ctx); err != nil {
		return nil, fmt.Errorf("automation related resource: %w", err)
	}
	if f.ChildFiring, err = c.CompositeTriggerChildFiring.Create().SetAutomation(f.Automation).SetParentTriggerID(uuid.New()).
		SetChildTriggerID(uuid.New()).SetChildFiringID(uuid.New()).SetChildFiring(obj).Save(ctx); err != nil {
		return nil, fmt.Errorf("child firing: %w", err)
	}
	if f.Event, err = c.Event.Create().SetOccurred(seedTime).SetEvent("prefect.flow-run.Running").
		SetResourceID("prefect.flow-run." + f.FlowRun.ID.String()).SetResource(map[string]any{"prefect.resource.id": "x"}).
		SetPayload(obj).SetReceived(seedTime).SetRecorded(seedTime).SetRelatedResourceIds([]string{"a"}).Save(ctx); err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	if f.EventResource, err = c.EventResource.Create().SetEvent(f.Event).SetOccurred(seedTime).SetResourceID("x").
		SetResourceRole("").SetResource(obj).Save(ctx); err != nil {
		return nil, fmt.Errorf("event resource: %w", err)
	}
	if f.EventFollower, err = c.AutomationEventFollower.Create().SetLeaderEventID(f.Event.ID).SetFollowerEventID(uuid.New()).
		SetReceived(seedTime).SetFollower(obj).SetScope("").Save(ctx); err != nil {
		return nil, fmt.Errorf("event follower: %w", err)
	}
	if f.ConcurrencyLimit, err = c.ConcurrencyLimit.Create().SetTag("tag-" + sfx).SetConcurrencyLimit(2).Save(ctx); err != nil {
		return nil, fmt.Errorf("concurrency limit: %w", err)
	}
	if f.ConcurrencyLimitV2, err = c.ConcurrencyLimitV2.Create().SetName("limit-" + sfx).SetActive(true).SetLimit(5).
		SetActiveSlots(0).SetDeniedSlots(0).SetSlotDecayPerSecond(0.5).SetAvgSlotOccupancySeconds(2).Save(ctx); err != nil {
		return nil, fmt.Errorf("concurrency limit v2: %w", err)
	}
	if hasColumn("deployment", "concurrency_limit_id") {
		if f.Deployment, err = f.Deployment.Update().SetGlobalConcurrencyLimit(f.ConcurrencyLimitV2).Save(ctx); err != nil {
			return nil, fmt.Errorf("deployment concurrency limit: %w", err)
		}
	}
	if f.Configuration, err = c.Configuration.Create().SetKey("config-" + sfx).SetValue(raw).Save(ctx); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	if f.CsrfToken, err = c.CsrfToken.Create().SetToken("token").SetClient("client-" + sfx).SetExpiration(seedTime).Save(ctx); err != nil {
		return nil, fmt.Errorf("csrf token: %w", err)
	}
	if f.SavedSearch, err = c.SavedSearch.Create().SetName("search-" + sfx).Save(ctx); err != nil {
		return nil, fmt.Errorf("saved search: %w", err)
	}
	if f.Variable, err = c.Variable.Create().SetName("var-" + sfx).SetValue(raw).Save(ctx); err != nil {
		return nil, fmt.Errorf("variable: %w", err)
	}
	return f, nil
}
