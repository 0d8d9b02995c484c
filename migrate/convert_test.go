package migrate_test

import (
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/automation"
	"github.com/prefectdb/prefectdb/ent/concurrencylimitv2"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
)

// TestPopulated30UpgradesToHead fills a Prefect 3.0 database (one row in
// every table, plus the rows Prefect's later migrations convert), migrates
// it to head, and checks that every row is kept and that exactly what
// Prefect's migrations convert is converted: notification policies become
// automations, v1 concurrency limits become v2 limits, deployments get their
// deployment-scoped limit, self-referencing block document references go.
func TestPopulated30UpgradesToHead(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			ctx := testutil.Context(t)
			db := testutil.Open(t, d.Empty(t))
			m := db.Migrator()
			if _, err := m.UpTo(ctx, "3.0.2"); err != nil {
				t.Fatal(err)
			}
			level, err := migrate.LevelOf(ctx, db.Dialect, db.SQL)
			if err != nil {
				t.Fatal(err)
			}
			f, err := testutil.SeedAt(ctx, db.Client, level, "v30")
			if err != nil {
				t.Fatal(err)
			}
			c := db.Client

			// Notification policies, as Prefect 3.0 kept them.
			c.FlowRunNotificationPolicy.Create().SetBlockDocument(f.BlockDocument).
				SetStateNames([]string{"Failed", "Crashed", "Failed"}).SetTags([]string{"prod", "db"}).
				SetMessageTemplate("Flow {flow_name} ({flow_run_id}) is {flow_run_state_name}: {flow_run_url} {{literal}} é \"q\"").
				ExecX(ctx)
			c.FlowRunNotificationPolicy.Create().SetBlockDocument(f.ChildBlockDocument).SetIsActive(false).ExecX(ctx)
			// v1 limits: one to convert, one whose v2 name is taken.
			etl := c.ConcurrencyLimit.Create().SetTag("etl").SetConcurrencyLimit(3).
				SetActiveSlots([]string{uuid.NewString(), uuid.NewString()}).SaveX(ctx)
			c.ConcurrencyLimit.Create().SetTag("taken").SetConcurrencyLimit(9).SaveX(ctx)
			taken := c.ConcurrencyLimitV2.Create().SetName("tag:taken").SetActive(false).SetLimit(1).SetActiveSlots(0).
				SetDeniedSlots(0).SetSlotDecayPerSecond(0).SetAvgSlotOccupancySeconds(1).SaveX(ctx)
			// The deployment's own limit, by Prefect's naming.
			depLimit := c.ConcurrencyLimitV2.Create().SetName("deployment:" + f.Deployment.ID.String()).SetActive(true).
				SetLimit(2).SetActiveSlots(0).SetDeniedSlots(0).SetSlotDecayPerSecond(0).SetAvgSlotOccupancySeconds(1).SaveX(ctx)
			// A block document that references itself.
			c.BlockDocumentReference.Create().SetName("self").SetParentBlockDocument(f.ChildBlockDocument).
				SetReferenceBlockDocument(f.ChildBlockDocument).SaveX(ctx)

			before := countRows(t, db.SQL, tableNames30(t, db))
			if _, err := m.Up(ctx); err != nil {
				t.Fatal(err)
			}
			after := countRows(t, db.SQL, tableNames(t, db.Dialect))

			// Every row kept, except what Prefect converts.
			want := maps.Clone(before)
			delete(want, "flow_run_notification_policy")
			delete(want, "flow_run_notification_queue")
			want["automation"] += before["flow_run_notification_policy"]    // one per policy
			want["concurrency_limit"] = 0                                   // all moved to v2 ...
			want["concurrency_limit_v2"] += before["concurrency_limit"] - 1 // ... but "taken", whose v2 name exists
			want["block_document_reference"]--
			want["deployment_version"] = 0
			if !maps.Equal(after, want) {
				t.Fatalf("rows after the upgrade:\n got %v\nwant %v", after, want)
			}

			// The automations, as Prefect's migration writes them.
			autos := c.Automation.Query().Where(automation.Name("Flow Run State Change Notification")).AllX(ctx)
			if len(autos) != before["flow_run_notification_policy"] {
				t.Fatalf("%d converted automations, want %d", len(autos), before["flow_run_notification_policy"])
			}
			var active, inactive *ent.Automation
			for _, a := range autos {
				switch {
				case !a.Enabled:
					inactive = a
				case len(a.Trigger["expect"].([]any)) == 2:
					active = a
				}
			}
			if active == nil || inactive == nil {
				t.Fatalf("enabled flags of the converted automations: %+v", autos)
			}
			if active.Description != "Migrated from a flow run notification policy" || len(active.Tags) != 0 {
				t.Errorf("automation = %+v", active)
			}
			trigger := map[string]any{
				"type": "event", "after": []any{}, "match": map[string]any{"prefect.resource.id": "prefect.flow-run.*"},
				"expect": []any{"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}, "within": 10.0, "posture": "Reactive",
				"for_each": []any{"prefect.resource.id"}, "threshold": 1.0,
				"match_related": map[string]any{"prefect.resource.id": []any{"prefect.tag.prod", "prefect.tag.db"}, "prefect.resource.role": "tag"},
			}
			requireTrigger(t, active.Trigger, trigger)
			trigger["expect"], trigger["match_related"] = []any{"prefect.flow-run.*"}, map[string]any{}
			requireTrigger(t, inactive.Trigger, trigger)
			wantBody := "Flow {{ flow.name }} ({{ flow_run.id }}) is {{ flow_run.state.name }}: {{ flow_run|ui_url }} {literal} é \"q\""
			requireAction(t, active.Actions, wantBody, f.BlockDocument.ID)
			requireAction(t, inactive.Actions, "\nFlow run {{ flow.name }}/{{ flow_run.name }} observed in state `{{ flow_run.state.name }}` at {{ flow_run.state.timestamp }}.\n"+
				"Flow ID: {{ flow_run.flow_id }}\nFlow run ID: {{ flow_run.id }}\nFlow run URL: {{ flow_run|ui_url }}\nState message: {{ flow_run.state.message }}\n",
				f.ChildBlockDocument.ID)
			if db.Dialect.Kind() == "sqlite" {
				// SQLite keeps the JSON text as written: Python's json.dumps.
				var text string
				if err := db.SQL.QueryRowContext(ctx, "SELECT actions FROM automation WHERE id = ?", active.ID.String()).Scan(&text); err != nil {
					t.Fatal(err)
				}
				wantText := `[{"body": "Flow {{ flow.name }} ({{ flow_run.id }}) is {{ flow_run.state.name }}: {{ flow_run|ui_url }} {literal} \u00e9 \"q\"", ` +
					`"type": "send-notification", "subject": "Prefect flow run notification", "block_document_id": "` + f.BlockDocument.ID.String() + `"}]`
				if text != wantText {
					t.Errorf("actions text\n got %s\nwant %s", text, wantText)
				}
				if err := db.SQL.QueryRowContext(ctx, "SELECT trigger FROM automation WHERE id = ?", inactive.ID.String()).Scan(&text); err != nil {
					t.Fatal(err)
				}
				pattern := `^\{"id": "[0-9a-f-]{36}", "type": "event", "after": \[\], "match": \{"prefect.resource.id": "prefect.flow-run.\*"\}, ` +
					`"expect": \["prefect.flow-run.\*"\], "within": 10, "posture": "Reactive", "for_each": \["prefect.resource.id"\], ` +
					`"threshold": 1, "match_related": \{\}\}$`
				if !regexp.MustCompile(pattern).MatchString(text) {
					t.Errorf("trigger text %s does not match json.dumps's form", text)
				}
			}

			// v1 limits moved to v2 with their ids, counts and times.
			v2, err := c.ConcurrencyLimitV2.Get(ctx, etl.ID)
			if err != nil {
				t.Fatalf("v2 limit with the v1 id: %v", err)
			}
			if v2.Name != "tag:etl" || v2.Limit != 3 || !v2.Active || v2.ActiveSlots != 2 || v2.DeniedSlots != 0 ||
				v2.SlotDecayPerSecond != 0 || v2.AvgSlotOccupancySeconds != 600 || !v2.Created.Equal(etl.Created) || !v2.Updated.Equal(etl.Updated) {
				t.Errorf("converted limit = %+v", v2)
			}
			if got := c.ConcurrencyLimitV2.GetX(ctx, taken.ID); got.Limit != 1 || got.Active {
				t.Errorf("existing tag:taken limit was changed: %+v", got)
			}
			if n := c.ConcurrencyLimitV2.Query().Where(concurrencylimitv2.Name("tag:taken")).CountX(ctx); n != 1 {
				t.Errorf("%d tag:taken limits", n)
			}
			// The deployment points at its own limit.
			if dep := c.Deployment.GetX(ctx, f.Deployment.ID); dep.ConcurrencyLimitID == nil || *dep.ConcurrencyLimitID != depLimit.ID {
				t.Errorf("deployment.concurrency_limit_id = %v, want %s", dep.ConcurrencyLimitID, depLimit.ID)
			}
			// Labels exist now and are empty on old rows.
			if fl := c.Flow.GetX(ctx, f.Flow.ID); fl.Labels != nil {
				t.Errorf("flow labels after upgrade = %v", fl.Labels)
			}
		})
	}
}

// tableNames30 names the tables of Prefect 3.0's schema.
func tableNames30(t *testing.T, db *testutil.DB) []string {
	t.Helper()
	var names []string
	for _, tb := range reference(t, db.Dialect).Tables {
		names = append(names, tb.Name)
	}
	return names
}

func requireTrigger(t *testing.T, got, want map[string]any) {
	t.Helper()
	id, _ := got["id"].(string)
	if _, err := uuid.Parse(id); err != nil {
		t.Errorf("trigger id %q is not a UUID", id)
	}
	got = maps.Clone(got)
	delete(got, "id")
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("trigger\n got %s\nwant %s", g, w)
	}
}

func requireAction(t *testing.T, actions []map[string]any, body string, block uuid.UUID) {
	t.Helper()
	want := []map[string]any{{"body": body, "type": "send-notification", "subject": "Prefect flow run notification", "block_document_id": block.String()}}
	g, _ := json.Marshal(actions)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("actions\n got %s\nwant %s", g, w)
	}
}

// TestNotificationTemplateErrorsRollBack: a template that Python's
// str.format rejects fails Prefect's migration; it fails prefectdb's too,
// naming the policy, and nothing changes.
func TestNotificationTemplateErrorsRollBack(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := testutil.Context(t)
			db := testutil.Open(t, d.Empty(t))
			m := db.Migrator()
			if _, err := m.UpTo(ctx, "3.3"); err != nil {
				t.Fatal(err)
			}
			before := alembicOf(t, db.SQL)
			bt := db.Client.BlockType.Create().SetName("Slack").SetSlug("slack").SaveX(ctx)
			bs := db.Client.BlockSchema.Create().SetChecksum("sha256:x").SetBlockType(bt).SaveX(ctx)
			bd := db.Client.BlockDocument.Create().SetName("hook").SetBlockSchema(bs).SetBlockType(bt).SaveX(ctx)
			p := db.Client.FlowRunNotificationPolicy.Create().SetBlockDocument(bd).SetMessageTemplate("run {no_such_placeholder}").SaveX(ctx)
			_, err := m.Up(ctx)
			if err == nil || !strings.Contains(err.Error(), p.ID.String()) || !strings.Contains(err.Error(), "no_such_placeholder") {
				t.Fatalf("up = %v, want an error naming the policy and the placeholder", err)
			}
			if got := alembicOf(t, db.SQL); got != before {
				t.Fatalf("alembic_version moved to %s", got)
			}
			if n := db.Client.FlowRunNotificationPolicy.Query().CountX(ctx); n != 1 {
				t.Fatalf("%d policies after the failed migration, want 1", n)
			}
		})
	}
}

// TestTaskRunStateForeignKeyDowngrade: after Prefect 3.4.7 dropped the
// foreign key of task_run.state_id, a run may point at a state that no longer
// exists; going back before 3.4.7 nulls those pointers, as Prefect's
// downgrade does, and keeps the valid ones.
func TestTaskRunStateForeignKeyDowngrade(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := testutil.Context(t)
			db := testutil.Open(t, d.Empty(t))
			m := db.Migrator()
			if _, err := m.Up(ctx); err != nil {
				t.Fatal(err)
			}
			f, err := testutil.Seed(ctx, db.Client, "fk")
			if err != nil {
				t.Fatal(err)
			}
			orphan := db.Client.TaskRun.Create().SetName("orphan").SetTaskKey("t").SetDynamicKey("1").SetFlowRun(f.FlowRun).
				SetStateID(uuid.New()).SaveX(ctx)
			if _, err := m.Down(ctx, "3.4.6"); err != nil {
				t.Fatal(err)
			}
			if got := db.Client.TaskRun.GetX(ctx, orphan.ID); got.StateID != nil {
				t.Errorf("orphaned state_id kept: %v", *got.StateID)
			}
			if got := db.Client.TaskRun.GetX(ctx, f.TaskRun.ID); got.StateID == nil || *got.StateID != f.TaskRunState.ID {
				t.Errorf("valid state_id = %v, want %s", got.StateID, f.TaskRunState.ID)
			}
			var unavailable *migrate.UnavailableError
			if _, err := db.Client.DeploymentVersion.Query().All(ctx); errors.As(err, &unavailable) {
				t.Errorf("deployment_version exists at 3.4.6: %v", err)
			}
			if !slices.Contains(tableNames(t, db.Dialect), "task_run") {
				t.Fatal("no task_run")
			}
		})
	}
}
