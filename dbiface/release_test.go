package dbiface_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent/deployment"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
	"github.com/prefectdb/prefectdb/types"
)

// TestClientFollowsTheDatabaseRelease: one generated client (which describes
// Prefect's newest release) over databases pinned to older releases. Columns
// a release lacks read as their zero value and are left out of writes when
// empty; setting one, or touching a table the release lacks, gives a typed
// error that names the releases, never a raw SQL error.
func TestClientFollowsTheDatabaseRelease(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := testutil.Context(t)
			db := open(t, d.Empty(t))
			if _, err := db.RunMigrationsUpgradeTo(ctx, "3.0.2"); err != nil {
				t.Fatal(err)
			}
			level, err := db.Level(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := level.Release(); got != "Prefect 3.0.0 to 3.0.2" {
				t.Errorf("release = %q", got)
			}

			// Prefect 3.0: no labels, no concurrency options, notification
			// policies still there, no deployment_version.
			flow, err := db.Flow.Create().SetName("etl").Save(ctx)
			if err != nil {
				t.Fatalf("create flow at 3.0: %v", err)
			}
			dep, err := db.Deployment.Create().SetName("nightly").SetFlow(flow).Save(ctx)
			if err != nil {
				t.Fatalf("create deployment at 3.0: %v", err)
			}
			got, err := db.Deployment.Query().Where(deployment.ID(dep.ID)).WithFlow().Only(ctx)
			if err != nil {
				t.Fatalf("read deployment at 3.0: %v", err)
			}
			if got.Labels != nil || got.ConcurrencyOptions != nil || got.Edges.Flow.ID != flow.ID {
				t.Errorf("deployment read at 3.0 = %+v", got)
			}
			var unavailable *migrate.UnavailableError
			_, err = db.Flow.Create().SetName("labelled").SetLabels(map[string]any{"team": "data"}).Save(ctx)
			if !errors.As(err, &unavailable) || unavailable.Column != "labels" || unavailable.ChangedIn != "Prefect 3.1.5" {
				t.Fatalf("labels at 3.0: err = %v, want UnavailableError naming Prefect 3.1.5", err)
			}
			_, err = db.DeploymentVersion.Query().All(ctx)
			if !errors.As(err, &unavailable) || unavailable.Table != "deployment_version" || !unavailable.Added {
				t.Fatalf("deployment_version at 3.0: err = %v, want UnavailableError", err)
			}
			bt := db.BlockType.Create().SetName("Slack").SetSlug("slack").SaveX(ctx)
			bs := db.BlockSchema.Create().SetChecksum("sha256:x").SetBlockType(bt).SaveX(ctx)
			bd := db.BlockDocument.Create().SetName("hook").SetBlockSchema(bs).SetBlockType(bt).SaveX(ctx)
			if _, err := db.FlowRunNotificationPolicy.Create().SetBlockDocument(bd).SetStateNames([]string{"Failed"}).Save(ctx); err != nil {
				t.Fatalf("notification policy at 3.0: %v", err)
			}
			if _, err := db.Automation.Create().SetName("a").SetDescription("").SetTrigger(map[string]any{}).
				SetActions([]map[string]any{}).Save(ctx); err != nil {
				t.Fatalf("automation at 3.0 (tags default left out): %v", err)
			}
			if err := db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
				_, err := s.QueueFlowRunNotifications(ctx, got.ID, got.ID, "Failed", nil)
				return err
			}); err != nil {
				t.Fatalf("notification queue at 3.0: %v", err)
			}

			// Upgraded to head by the same interface: the policy became an
			// automation, its tables are gone, and the client follows.
			if _, err := db.RunMigrationsUpgrade(ctx); err != nil {
				t.Fatal(err)
			}
			_, err = db.FlowRunNotificationPolicy.Query().All(ctx)
			if !errors.As(err, &unavailable) || unavailable.Added || unavailable.ChangedIn != "Prefect 3.4.0" {
				t.Fatalf("notification policies at head: err = %v, want UnavailableError naming Prefect 3.4.0", err)
			}
			err = db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
				_, err := s.QueueFlowRunNotifications(ctx, got.ID, got.ID, "Failed", nil)
				return err
			})
			if !errors.As(err, &unavailable) {
				t.Fatalf("notification queue at head: err = %v, want UnavailableError", err)
			}
			if _, err := db.Flow.Create().SetName("labelled").SetLabels(map[string]any{"team": "data"}).Save(ctx); err != nil {
				t.Fatalf("labels at head: %v", err)
			}
			if n := db.Automation.Query().CountX(ctx); n != 2 {
				t.Errorf("automations at head = %d, want 2 (one converted from the policy)", n)
			}
		})
	}
}

// TestWorkPoolPollFollowsTheRelease: from Prefect 3.1.3 on, the work-pool
// poll leaves out runs whose retries run in process; before, it returns
// them. On a 3.0 database the poll reads the flow_run columns 3.0 has.
func TestWorkPoolPollFollowsTheRelease(t *testing.T) {
	for _, d := range testutil.Dialects() {
		for _, tc := range []struct {
			release string
			want    int
		}{{"3.0.2", 2}, {"3.1.5", 1}, {"head", 1}} {
			t.Run(d.Name+"/"+tc.release, func(t *testing.T) {
				ctx := testutil.Context(t)
				db := open(t, d.Empty(t))
				if _, err := db.RunMigrationsUpgradeTo(ctx, tc.release); err != nil {
					t.Fatal(err)
				}
				flow := db.Flow.Create().SetName("f").SaveX(ctx)
				pool := db.WorkPool.Create().SetName("pool").SetType("process").SaveX(ctx)
				queue := db.WorkQueue.Create().SetName("default").SetWorkPool(pool).SaveX(ctx)
				at := time.Now().UTC().Add(-time.Minute)
				for i, policy := range []map[string]any{{"retries": 0.0}, {"retry_type": "in_process"}} {
					db.FlowRun.Create().SetName(fmt.Sprint("run-", i)).SetFlow(flow).SetWorkQueue(queue).
						SetStateType(types.StateScheduled).SetNextScheduledStartTime(at).SetEmpiricalPolicy(policy).ExecX(ctx)
				}
				var got []dbiface.WorkerFlowRun
				if err := db.Transaction(ctx, dbiface.ForUpdate, func(ctx context.Context, s *dbiface.Session) error {
					var err error
					got, err = s.GetScheduledFlowRunsFromWorkPool(ctx, dialects.WorkPoolRunsQuery{WorkPoolIDs: []uuid.UUID{pool.ID}})
					return err
				}); err != nil {
					t.Fatal(err)
				}
				if len(got) != tc.want {
					t.Fatalf("poll at %s returned %d runs, want %d", tc.release, len(got), tc.want)
				}
				if tc.want == 1 && got[0].FlowRun.Name != "run-0" {
					t.Errorf("polled run = %s, want run-0 (the in-process retry left out)", got[0].FlowRun.Name)
				}
			})
		}
	}
}

// TestConfigNeverPrintsThePassword: a Config printed in any way (%v, %+v,
// %#v, slog) shows the URL without its password.
func TestConfigNeverPrintsThePassword(t *testing.T) {
	cfg := dbiface.Config{URL: "postgresql+asyncpg://alice:S3cretPw@db:5432/prefect"}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "cfg", cfg)
	for _, s := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprint(&cfg), b.String()} {
		if strings.Contains(s, "S3cretPw") || !strings.Contains(s, "alice:xxxxx@db:5432") {
			t.Errorf("printed config %q shows the password or not the redacted URL", s)
		}
	}
}

// TestAutoMigrationIsRefused: Ent's Schema.Create, reached through the
// interface or a session, fails with ErrAutoMigrate and changes nothing.
func TestAutoMigrationIsRefused(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		if err := db.Schema.Create(ctx); !errors.Is(err, dbiface.ErrAutoMigrate) {
			t.Fatalf("db.Schema.Create = %v, want ErrAutoMigrate", err)
		}
		if err := db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
			return s.Schema.Create(ctx)
		}); !errors.Is(err, dbiface.ErrAutoMigrate) {
			t.Fatalf("s.Schema.Create = %v, want ErrAutoMigrate", err)
		}
		if err := db.CreateDB(ctx); err != nil {
			t.Fatalf("CreateDB after the refused auto-migration: %v", err)
		}
	})
}

// TestWriteOutsideOwnTransaction: a write through the interface's own client
// while the same goroutine's transaction is open. On SQLite, whose writes
// share one connection that the transaction holds, it fails at once with a
// *dialects.WriterBusyError (with the transaction's context) or after
// PoolTimeout (with another context), instead of hanging; on PostgreSQL it
// simply runs.
func TestWriteOutsideOwnTransaction(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := testutil.Context(t)
			url := d.Migrated(t)
			db, err := dbiface.Open(ctx, dbiface.Config{URL: url, Options: config.Options{PoolTimeout: 300 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			singleWriter := !db.Dialect().RowLocks()
			run := db.FlowRun.Create().SetName("r").SetFlow(db.Flow.Create().SetName("f").SaveX(ctx)).SaveX(ctx)
			var inner, other error
			// The writes SQLite groups (see writeGroup) are refused at once
			// too: in a group they would wait for the transaction.
			grouped := map[string]error{}
			otherLogs := make(chan error, 1)
			err = db.Transaction(ctx, dbiface.NoLocks, func(txCtx context.Context, s *dbiface.Session) error {
				if _, err := s.Flow.Create().SetName("inside").Save(txCtx); err != nil {
					return err
				}
				_, inner = db.Flow.Create().SetName("outside, same context").Save(txCtx)
				_, other = db.Flow.Create().SetName("outside, other context").Save(context.Background())
				if _, _, ok := dbiface.WriteGroupStats(db); ok {
					// Another goroutine's log batch leads a group that
					// waits for the writer: the writes below must not
					// join it.
					go func() {
						otherLogs <- db.InsertLogs(context.Background(), []dialects.LogRow{{Name: "other", Level: 20, Message: "m", Timestamp: time.Now()}})
					}()
					for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
						if _, waiting, _ := dbiface.WriteGroupStats(db); waiting == 1 {
							break
						}
						if time.Now().After(deadline) {
							return errors.New("the other goroutine's log batch never waited for a group")
						}
					}
				} else {
					otherLogs <- nil
				}
				_, grouped["SetFlowRunState"] = db.SetFlowRunState(txCtx, run.ID, dbiface.StateTransition{Type: types.StatePending})
				grouped["InsertLogs"] = db.InsertLogs(txCtx, []dialects.LogRow{{Name: "l", Level: 20, Message: "m", Timestamp: time.Now()}})
				_, grouped["InsertEvents"] = db.InsertEvents(txCtx, []dialects.EventRow{{ID: uuid.New(), Occurred: time.Now(),
					Event: "e", ResourceID: "r", Resource: map[string]any{"prefect.resource.id": "r"}}})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			<-otherLogs // written or refused after PoolTimeout: either is right
			var busy *dialects.WriterBusyError
			for op, err := range grouped {
				if singleWriter && (!errors.As(err, &busy) || busy.Waited != 0) {
					t.Errorf("%s with the transaction's context: %v, want an immediate WriterBusyError", op, err)
				}
				if !singleWriter && err != nil {
					t.Errorf("%s beside a transaction: %v; want it to run", op, err)
				}
			}
			switch {
			case singleWriter:
				if !errors.As(inner, &busy) || busy.Waited != 0 || !strings.Contains(busy.Holder, "transaction") {
					t.Errorf("write with the transaction's context: %v, want an immediate WriterBusyError naming the transaction", inner)
				}
				if !errors.As(other, &busy) || busy.Waited < 300*time.Millisecond {
					t.Errorf("write with another context: %v, want a WriterBusyError after the pool timeout", other)
				}
			default:
				if inner != nil || other != nil {
					t.Errorf("writes beside a transaction: %v, %v; want both to run", inner, other)
				}
			}
			if n := db.Flow.Query().CountX(ctx); n < 1 {
				t.Errorf("%d flows after the transaction, want the transaction's at least", n)
			}
		})
	}
}

// TestSameErrorsOnBothDatabases: values that one database would store and
// the other refuse are refused on both with the same typed error, naming
// the field: an unknown state type, a NUL byte in a state name, a
// timestamp past year 9999, a negative limit.
func TestSameErrorsOnBothDatabases(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		f := db.Flow.Create().SetName("f").SaveX(ctx)
		run := db.FlowRun.Create().SetName("r").SetFlow(f).SaveX(ctx)
		transition := func(tr dbiface.StateTransition) error {
			_, err := db.SetFlowRunState(ctx, run.ID, tr)
			return err
		}
		cases := []struct {
			field string
			err   error
		}{
			{"state type", transition(dbiface.StateTransition{Type: "'; DROP TABLE flow; --"})},
			{"state type", transition(dbiface.StateTransition{Type: ""})},
			{"state name", transition(dbiface.StateTransition{Type: types.StateRunning, Name: "a\x00b"})},
			{"state timestamp", transition(dbiface.StateTransition{Type: types.StateRunning,
				Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})},
			{"limit", func() error { _, err := db.Flow.Query().Limit(-1).All(ctx); return err }()},
		}
		for _, c := range cases {
			var invalid *types.InvalidValueError
			if !errors.As(c.err, &invalid) || invalid.Field != c.field {
				t.Errorf("%s: %v; want an InvalidValueError naming it", c.field, c.err)
			}
		}
		if n := db.FlowRunState.Query().CountX(ctx); n != 0 {
			t.Errorf("%d states written by refused transitions", n)
		}
		if n, err := db.Flow.Query().Count(ctx); err != nil || n != 1 {
			t.Errorf("flows after the hostile state type: %d, %v", n, err)
		}
	})
}
