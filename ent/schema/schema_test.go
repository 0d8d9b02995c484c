package schema_test

import (
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/internal/catalog"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
)

// entityRows names, for every entity, the Ent client field and the fixture
// rows of that entity, in an order in which they can be deleted one by one
// (children before parents).
var entityRows = []struct {
	client string // field of ent.Client
	table  string
	rows   func(f *testutil.Fixture) []any
}{
	{"FlowRunInput", "flow_run_input", func(f *testutil.Fixture) []any { return []any{f.FlowRunInput} }},
	{"LogEntry", "log", func(f *testutil.Fixture) []any { return []any{f.Log} }},
	{"TaskRunStateCache", "task_run_state_cache", func(f *testutil.Fixture) []any { return []any{f.TaskRunStateCache} }},
	{"ArtifactCollection", "artifact_collection", func(f *testutil.Fixture) []any { return []any{f.ArtifactCollection} }},
	{"EventResource", "event_resources", func(f *testutil.Fixture) []any { return []any{f.EventResource} }},
	{"Event", "events", func(f *testutil.Fixture) []any { return []any{f.Event} }},
	{"AutomationEventFollower", "automation_event_follower", func(f *testutil.Fixture) []any { return []any{f.EventFollower} }},
	{"CompositeTriggerChildFiring", "composite_trigger_child_firing", func(f *testutil.Fixture) []any { return []any{f.ChildFiring} }},
	{"AutomationRelatedResource", "automation_related_resource", func(f *testutil.Fixture) []any { return []any{f.AutomationResource} }},
	{"AutomationBucket", "automation_bucket", func(f *testutil.Fixture) []any { return []any{f.AutomationBucket} }},
	{"Automation", "automation", func(f *testutil.Fixture) []any { return []any{f.Automation} }},
	{"ConcurrencyLimit", "concurrency_limit", func(f *testutil.Fixture) []any { return []any{f.ConcurrencyLimit} }},
	{"ConcurrencyLimitV2", "concurrency_limit_v2", func(f *testutil.Fixture) []any { return []any{f.ConcurrencyLimitV2} }},
	{"Configuration", "configuration", func(f *testutil.Fixture) []any { return []any{f.Configuration} }},
	{"CsrfToken", "csrf_token", func(f *testutil.Fixture) []any { return []any{f.CsrfToken} }},
	{"SavedSearch", "saved_search", func(f *testutil.Fixture) []any { return []any{f.SavedSearch} }},
	{"Variable", "variable", func(f *testutil.Fixture) []any { return []any{f.Variable} }},
	{"TaskRunState", "task_run_state", func(f *testutil.Fixture) []any { return []any{f.TaskRunState} }},
	{"FlowRunState", "flow_run_state", func(f *testutil.Fixture) []any {
		return []any{f.FlowRunStates[0], f.FlowRunStates[1], f.FlowRunStates[2]}
	}},
	{"Artifact", "artifact", func(f *testutil.Fixture) []any { return []any{f.Artifact} }},
	{"FlowRun", "flow_run", func(f *testutil.Fixture) []any { return []any{f.Subflow} }},
	{"TaskRun", "task_run", func(f *testutil.Fixture) []any { return []any{f.TaskRun} }},
	{"FlowRun", "flow_run", func(f *testutil.Fixture) []any { return []any{f.FlowRun} }},
	{"DeploymentSchedule", "deployment_schedule", func(f *testutil.Fixture) []any { return []any{f.DeploymentSchedule} }},
	{"DeploymentVersion", "deployment_version", func(f *testutil.Fixture) []any { return []any{f.DeploymentVersion} }},
	{"Deployment", "deployment", func(f *testutil.Fixture) []any { return []any{f.Deployment} }},
	{"Flow", "flow", func(f *testutil.Fixture) []any { return []any{f.Flow} }},
	{"Agent", "agent", func(f *testutil.Fixture) []any { return []any{f.Agent} }},
	{"Worker", "worker", func(f *testutil.Fixture) []any { return []any{f.Worker} }},
	{"BlockDocumentReference", "block_document_reference", func(f *testutil.Fixture) []any { return []any{f.BlockDocumentRef} }},
	{"BlockDocument", "block_document", func(f *testutil.Fixture) []any { return []any{f.BlockDocument, f.ChildBlockDocument} }},
	{"BlockSchemaReference", "block_schema_reference", func(f *testutil.Fixture) []any { return []any{f.BlockSchemaReference} }},
	{"BlockSchema", "block_schema", func(f *testutil.Fixture) []any { return []any{f.BlockSchema, f.ChildBlockSchema} }},
	{"BlockType", "block_type", func(f *testutil.Fixture) []any { return []any{f.BlockType} }},
	{"WorkQueue", "work_queue", func(f *testutil.Fixture) []any { return []any{f.WorkQueue} }},
	{"WorkPool", "work_pool", func(f *testutil.Fixture) []any { return []any{f.WorkPool} }},
}

func seed(t *testing.T, db *testutil.DB, suffix string) *testutil.Fixture {
	t.Helper()
	f, err := testutil.Seed(testutil.Context(t), db.Client, suffix)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// call invokes a method by name through reflection and returns its results;
// a non-nil error result fails the test unless wantErr is set.
func call(t *testing.T, v reflect.Value, method string, args ...any) []reflect.Value {
	t.Helper()
	m := v.MethodByName(method)
	if !m.IsValid() {
		t.Fatalf("%s has no method %s", v.Type(), method)
	}
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		in[i] = reflect.ValueOf(a)
	}
	return m.Call(in)
}

func errOf(vs []reflect.Value) error {
	last := vs[len(vs)-1]
	if last.IsNil() {
		return nil
	}
	return last.Interface().(error)
}

// TestEveryTableHasRowsAfterSeed checks that the fixture covers all 35 tables
// of Prefect's newest schema.
func TestEveryTableHasRowsAfterSeed(t *testing.T) {
	testutil.ForEachDialect(t, func(t *testing.T, db *testutil.DB) {
		seed(t, db, "x")
		desired, err := migrate.Desired(db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		if len(desired.Tables) != 35 {
			t.Fatalf("schema has %d tables, want 35", len(desired.Tables))
		}
		covered := map[string]bool{}
		for _, e := range entityRows {
			covered[e.table] = true
		}
		for _, tbl := range desired.Tables {
			if !covered[tbl.Name] {
				t.Errorf("table %s is not covered by the CRUD test", tbl.Name)
			}
			var n int
			if err := db.SQL.QueryRowContext(testutil.Context(t), `SELECT count(*) FROM "`+tbl.Name+`"`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Errorf("table %s has no rows after seeding", tbl.Name)
			}
		}
	})
}

// TestCRUDEveryEntity reads, updates and deletes every row of the fixture
// through the generated client: every entity of the schema, on both
// databases. An update through the client refreshes updated.
func TestCRUDEveryEntity(t *testing.T) {
	testutil.ForEachDialect(t, func(t *testing.T, db *testutil.DB) {
		ctx := testutil.Context(t)
		f := seed(t, db, "crud")
		// The pool's default queue is RESTRICTed: clear it to delete the queue.
		if _, err := db.Client.WorkPool.UpdateOneID(f.WorkPool.ID).ClearDefaultQueue().Save(ctx); err != nil {
			t.Fatal(err)
		}
		client := reflect.ValueOf(db.Client).Elem()
		for _, e := range entityRows {
			c := client.FieldByName(e.client)
			if !c.IsValid() {
				t.Fatalf("ent.Client has no %s", e.client)
			}
			for _, row := range e.rows(f) {
				id := reflect.ValueOf(row).Elem().FieldByName("ID").Interface().(uuid.UUID)
				before := reflect.ValueOf(row).Elem().FieldByName("Updated").Interface().(time.Time)

				got := call(t, c, "Get", ctx, id)
				if err := errOf(got); err != nil {
					t.Fatalf("%s: get %s: %v", e.table, id, err)
				}
				if gotID := got[0].Elem().FieldByName("ID").Interface(); gotID != id {
					t.Fatalf("%s: get returned id %v, want %v", e.table, gotID, id)
				}

				time.Sleep(2 * time.Millisecond) // updated must move forward
				upd := call(t, c, "UpdateOneID", id)[0]
				saved := call(t, upd, "Save", ctx)
				if err := errOf(saved); err != nil {
					t.Fatalf("%s: update: %v", e.table, err)
				}
				after := saved[0].Elem().FieldByName("Updated").Interface().(time.Time)
				if !after.After(before) {
					t.Errorf("%s: updated %v did not move forward from %v", e.table, after, before)
				}
				reread := call(t, c, "Get", ctx, id)
				if err := errOf(reread); err != nil {
					t.Fatal(err)
				}
				if stored := reread[0].Elem().FieldByName("Updated").Interface().(time.Time); !stored.Equal(after) {
					t.Errorf("%s: stored updated %v, client returned %v", e.table, stored, after)
				}

				if err := errOf(call(t, call(t, c, "DeleteOneID", id)[0], "Exec", ctx)); err != nil {
					t.Fatalf("%s: delete: %v", e.table, err)
				}
				if err := errOf(call(t, c, "Get", ctx, id)); !ent.IsNotFound(err) {
					t.Fatalf("%s: get after delete: %v, want not found", e.table, err)
				}
			}
		}
		for _, e := range entityRows {
			var n int
			if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM "`+e.table+`"`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%s: %d rows left after deleting every fixture row", e.table, n)
			}
		}
	})
}

// TestOnDeleteEveryForeignKey deletes the parent of every foreign key that
// Prefect's schema declares (taken from the reference, not from our schema)
// and checks the child: CASCADE deletes it, SET NULL clears the column,
// RESTRICT and NO ACTION refuse the delete. Each case runs in a transaction
// that is rolled back.
func TestOnDeleteEveryForeignKey(t *testing.T) {
	testutil.ForEachDialect(t, func(t *testing.T, db *testutil.DB) {
		ctx := testutil.Context(t)
		seed(t, db, "fk")
		ref, err := migrate.Desired(db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		d := db.Dialect.EntDialect()
		type fkRef struct {
			table string
			fk    *catalog.ForeignKey
		}
		var all []fkRef
		for _, tbl := range ref.Tables {
			for _, fk := range tbl.ForeignKeys {
				all = append(all, fkRef{tbl.Name, fk})
			}
		}
		// Prefect 3.0 had 32; the notification policy's and task_run.state_id's
		// are gone, deployment.concurrency_limit_id's and deployment_version's
		// two are new.
		if len(all) != 33 {
			t.Fatalf("reference has %d foreign keys, want 33", len(all))
		}
		for _, c := range all {
			name := fmt.Sprintf("%s.%s->%s %s", c.table, c.fk.Columns[0], c.fk.RefTable, c.fk.OnDelete)
			t.Run(name, func(t *testing.T) {
				tx, err := db.SQL.BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback() //nolint:errcheck // always rolled back
				col := c.fk.Columns[0]
				q, args := entsql.Dialect(d).Select("id", col).From(entsql.Table(c.table)).
					Where(entsql.NotNull(col)).Limit(1).Query()
				var childID, parentID string
				if err := tx.QueryRowContext(ctx, q, args...).Scan(&childID, &parentID); err != nil {
					t.Fatalf("no child row for %s: %v", name, err)
				}
				// RESTRICT/NO ACTION references to the parent, or to rows the
				// delete cascades to, would block it: clear them first, so
				// the case tests one key.
				cascaded := map[string]bool{c.fk.RefTable: true}
				for grew := true; grew; {
					grew = false
					for _, o := range all {
						if o.fk.OnDelete == "CASCADE" && cascaded[o.fk.RefTable] && !cascaded[o.table] {
							cascaded[o.table], grew = true, true
						}
					}
				}
				for _, o := range all {
					if o == c || !cascaded[o.fk.RefTable] || (o.fk.OnDelete != "RESTRICT" && o.fk.OnDelete != "NO ACTION") {
						continue
					}
					oc := o.fk.Columns[0]
					where := entsql.NotNull(oc)
					if o.fk.RefTable == c.fk.RefTable {
						where = entsql.EQ(oc, parentID)
					}
					var q string
					var args []any
					if ref.Table(o.table).Column(oc).Nullable {
						q, args = entsql.Dialect(d).Update(o.table).SetNull(oc).Where(where).Query()
					} else {
						q, args = entsql.Dialect(d).Delete(o.table).Where(where).Query()
					}
					if _, err := tx.ExecContext(ctx, q, args...); err != nil {
						t.Fatal(err)
					}
				}
				q, args = entsql.Dialect(d).Delete(c.fk.RefTable).Where(entsql.EQ("id", parentID)).Query()
				_, delErr := tx.ExecContext(ctx, q, args...)
				switch c.fk.OnDelete {
				case "RESTRICT", "NO ACTION":
					if delErr == nil {
						t.Fatalf("deleting the parent succeeded; %s must refuse it", c.fk.OnDelete)
					}
					return
				}
				if delErr != nil {
					t.Fatalf("delete parent: %v", delErr)
				}
				q, args = entsql.Dialect(d).Select(col).From(entsql.Table(c.table)).Where(entsql.EQ("id", childID)).Query()
				var after *string
				err = tx.QueryRowContext(ctx, q, args...).Scan(&after)
				switch c.fk.OnDelete {
				case "CASCADE":
					if !errors.Is(err, sql.ErrNoRows) {
						t.Fatalf("child row after a CASCADE delete of its parent: err = %v, want no row", err)
					}
				case "SET NULL":
					if err != nil || after != nil {
						t.Fatalf("child after SET NULL: column %v, err %v; want NULL", after, err)
					}
				default:
					t.Fatalf("unexpected ON DELETE %q", c.fk.OnDelete)
				}
			})
		}
	})
}

// TestUniquenessIsEnforced creates a duplicate for every uniqueness rule of
// the schema (UNIQUE constraints and unique indexes) and expects a
// constraint error; NULLs never collide.
func TestUniquenessIsEnforced(t *testing.T) {
	testutil.ForEachDialect(t, func(t *testing.T, db *testutil.DB) {
		ctx := testutil.Context(t)
		f := seed(t, db, "uq")
		c := db.Client
		ts := f.FlowRunStates[0].Timestamp
		dupes := map[string]func() error{
			"uq_agent__name": func() error {
				return c.Agent.Create().SetName(f.Agent.Name).SetWorkQueue(f.WorkQueue).Exec(ctx)
			},
			"uq_artifact_collection__key": func() error {
				return c.ArtifactCollection.Create().SetKey(f.ArtifactCollection.Key).SetLatest(f.Artifact).Exec(ctx)
			},
			"uq_automation_bucket__automation_id__trigger_id__bucketing_key": func() error {
				b := f.AutomationBucket
				return c.AutomationBucket.Create().SetAutomationID(b.AutomationID).SetTriggerID(b.TriggerID).
					SetBucketingKey(b.BucketingKey).SetStart(b.Start).SetEnd(b.End).SetCount(0).Exec(ctx)
			},
			"uq_follower_for_scope": func() error {
				e := f.EventFollower
				return c.AutomationEventFollower.Create().SetLeaderEventID(uuid.New()).SetFollowerEventID(e.FollowerEventID).
					SetReceived(e.Received).SetFollower(e.Follower).SetScope(e.Scope).Exec(ctx)
			},
			"uq_automation_related_resource__automation_id__resource_id": func() error {
				return c.AutomationRelatedResource.Create().SetAutomation(f.Automation).SetResourceID(*f.AutomationResource.ResourceID).Exec(ctx)
			},
			"uq_block__type_id_name": func() error {
				return c.BlockDocument.Create().SetName(f.BlockDocument.Name).SetBlockType(f.BlockType).SetBlockSchema(f.BlockSchema).Exec(ctx)
			},
			"uq_block_schema__checksum_version": func() error {
				return c.BlockSchema.Create().SetChecksum(f.BlockSchema.Checksum).SetBlockType(f.BlockType).Exec(ctx)
			},
			"uq_block_type__slug": func() error {
				return c.BlockType.Create().SetName("other").SetSlug(f.BlockType.Slug).Exec(ctx)
			},
			"uq_composite_trigger_child_firing__a_id__pt_id__ct__id": func() error {
				x := f.ChildFiring
				return c.CompositeTriggerChildFiring.Create().SetAutomationID(x.AutomationID).SetParentTriggerID(x.ParentTriggerID).
					SetChildTriggerID(x.ChildTriggerID).SetChildFiringID(uuid.New()).SetChildFiring(x.ChildFiring).Exec(ctx)
			},
			"uq_concurrency_limit__tag": func() error {
				return c.ConcurrencyLimit.Create().SetTag(f.ConcurrencyLimit.Tag).SetConcurrencyLimit(1).Exec(ctx)
			},
			"uq_concurrency_limit_v2__name": func() error {
				return c.ConcurrencyLimitV2.Create().SetName(f.ConcurrencyLimitV2.Name).SetActive(true).SetLimit(1).
					SetActiveSlots(0).SetDeniedSlots(0).SetSlotDecayPerSecond(0).SetAvgSlotOccupancySeconds(0).Exec(ctx)
			},
			"uq_configuration__key": func() error {
				return c.Configuration.Create().SetKey(f.Configuration.Key).SetValue(f.Configuration.Value).Exec(ctx)
			},
			"uq_csrf_token__client": func() error {
				return c.CsrfToken.Create().SetToken("t2").SetClient(f.CsrfToken.Client).SetExpiration(ts).Exec(ctx)
			},
			"uq_deployment_version__deployment__branch": func() error {
				return c.DeploymentVersion.Create().SetDeployment(f.Deployment).SetBranch(*f.DeploymentVersion.Branch).Exec(ctx)
			},
			"ix_deployment_schedule__deployment_id__slug": func() error {
				if err := c.DeploymentSchedule.UpdateOneID(f.DeploymentSchedule.ID).SetSlug("hourly").Exec(ctx); err != nil {
					return err
				}
				return c.DeploymentSchedule.Create().SetDeployment(f.Deployment).SetSchedule(map[string]any{"interval": 60.0}).
					SetActive(true).SetSlug("hourly").Exec(ctx)
			},
			"uq_deployment__flow_id_name": func() error {
				return c.Deployment.Create().SetName(f.Deployment.Name).SetFlow(f.Flow).Exec(ctx)
			},
			"uq_flow__name": func() error { return c.Flow.Create().SetName(f.Flow.Name).Exec(ctx) },
			"uq_flow_run__flow_id_idempotency_key": func() error {
				return c.FlowRun.Create().SetName("dupe").SetFlow(f.Flow).SetIdempotencyKey(*f.FlowRun.IdempotencyKey).Exec(ctx)
			},
			"uq_flow_run_input__flow_run_id_key": func() error {
				return c.FlowRunInput.Create().SetFlowRun(f.FlowRun).SetKey(f.FlowRunInput.Key).SetValue("1").Exec(ctx)
			},
			"uq_flow_run_state__flow_run_id_timestamp_desc": func() error {
				return c.FlowRunState.Create().SetFlowRun(f.FlowRun).SetType(f.FlowRunStates[0].Type).SetName("x").SetTimestamp(ts).Exec(ctx)
			},
			"uq_saved_search__name": func() error { return c.SavedSearch.Create().SetName(f.SavedSearch.Name).Exec(ctx) },
			"uq_task_run__flow_run_id_task_key_dynamic_key": func() error {
				return c.TaskRun.Create().SetName("dupe").SetFlowRun(f.FlowRun).SetTaskKey(f.TaskRun.TaskKey).SetDynamicKey(f.TaskRun.DynamicKey).Exec(ctx)
			},
			"uq_task_run_state__task_run_id_timestamp_desc": func() error {
				return c.TaskRunState.Create().SetTaskRun(f.TaskRun).SetType(f.TaskRunState.Type).SetName("x").SetTimestamp(f.TaskRunState.Timestamp).Exec(ctx)
			},
			"uq_variable__name": func() error { return c.Variable.Create().SetName(f.Variable.Name).Exec(ctx) },
			"uq_work_pool__name": func() error {
				return c.WorkPool.Create().SetName(f.WorkPool.Name).SetType("process").Exec(ctx)
			},
			"uq_work_queue__work_pool_id_name": func() error {
				return c.WorkQueue.Create().SetName(f.WorkQueue.Name).SetWorkPool(f.WorkPool).Exec(ctx)
			},
			"uq_worker__work_pool_id_name": func() error {
				return c.Worker.Create().SetName(f.Worker.Name).SetWorkPool(f.WorkPool).Exec(ctx)
			},
		}
		// Every uniqueness rule of the reference has a case.
		ref, err := migrate.Desired(db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		var rules []string
		for _, tbl := range ref.Tables {
			for _, u := range tbl.Uniques {
				rules = append(rules, u.Name)
			}
			for _, idx := range tbl.Indexes {
				if idx.Unique {
					rules = append(rules, idx.Name)
				}
			}
		}
		slices.Sort(rules)
		for _, r := range rules {
			if dupes[r] == nil {
				t.Errorf("uniqueness rule %s has no test case", r)
			}
		}
		for _, name := range rules {
			dupe := dupes[name]
			if dupe == nil {
				continue
			}
			t.Run(name, func(t *testing.T) {
				if err := dupe(); !ent.IsConstraintError(err) {
					t.Fatalf("duplicate for %s: err = %v, want a constraint error", name, err)
				}
			})
		}
		// NULL never collides: two runs of one flow without idempotency key.
		for i := 0; i < 2; i++ {
			if err := c.FlowRun.Create().SetName("no-key").SetFlow(f.Flow).Exec(ctx); err != nil {
				t.Fatalf("second run without idempotency key: %v", err)
			}
		}
	})
}
