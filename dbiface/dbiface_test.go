package dbiface_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/ent/flowrun"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
	"github.com/prefectdb/prefectdb/types"
)

// open opens a fresh Interface on url for the test.
func open(t *testing.T, url string) *dbiface.Interface {
	t.Helper()
	db, err := dbiface.Open(testutil.Context(t), dbiface.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func forEach(t *testing.T, fn func(t *testing.T, db *dbiface.Interface)) {
	t.Helper()
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) { fn(t, open(t, d.Migrated(t))) })
	}
}

// TestProvideIsOnePerURL: concurrent first use opens the database once, the
// same URL gives the same interface, another URL another one, Close makes
// the next Provide open anew, and an override wins while it lasts.
func TestProvideIsOnePerURL(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := testutil.Context(t)
			r := dbiface.NewRegistry()
			t.Cleanup(func() { _ = r.CloseAll() })
			url := d.Migrated(t)
			got := make([]*dbiface.Interface, 16)
			var wg sync.WaitGroup
			for i := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var err error
					if got[i], err = r.Provide(ctx, dbiface.Config{URL: url}); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			for i := range got {
				if got[i] != got[0] {
					t.Fatalf("Provide %d returned another interface", i)
				}
			}
			other, err := r.Provide(ctx, dbiface.Config{URL: d.Migrated(t)})
			if err != nil || other == got[0] {
				t.Fatalf("another URL: %v, same interface %v", err, other == got[0])
			}
			override := open(t, url)
			restore := r.Override(override)
			if p, _ := r.Provide(ctx, dbiface.Config{URL: url}); p != override {
				t.Fatal("Provide ignores the override")
			}
			restore()
			if p, _ := r.Provide(ctx, dbiface.Config{URL: url}); p != got[0] {
				t.Fatal("Provide after restore does not return the original interface")
			}
			if err := got[0].Close(); err != nil {
				t.Fatal(err)
			}
			again, err := r.Provide(ctx, dbiface.Config{URL: url})
			if err != nil || again == got[0] {
				t.Fatalf("Provide after Close: %v, same closed interface %v", err, again == got[0])
			}
			if !again.IsDBConnectable(ctx) {
				t.Fatal("reopened interface is not connectable")
			}
		})
	}
}

func TestProvideRejectsUnsupportedDialect(t *testing.T) {
	_, err := dbiface.NewRegistry().Provide(testutil.Context(t), dbiface.Config{URL: "mysql+aiomysql://u:secret@localhost/prefect"})
	var unsupported *config.UnsupportedDialectError
	if !errors.As(err, &unsupported) || unsupported.Scheme != "mysql+aiomysql" || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v, want an UnsupportedDialectError for mysql+aiomysql without the password", err)
	}
}

// TestIsDBConnectable: true for a live database, false (quickly, with no
// error or panic) for a server that is not there.
func TestIsDBConnectable(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		if !db.IsDBConnectable(testutil.Context(t)) {
			t.Fatal("live database is not connectable")
		}
	})
	db, err := dbiface.Open(testutil.Context(t), dbiface.Config{
		URL: "postgresql+asyncpg://prefect:pw@127.0.0.1:1/prefect", Options: config.Options{ConnectTimeout: time.Second},
	})
	if err != nil {
		t.Fatalf("opening an interface must not need the server: %v", err)
	}
	defer db.Close()
	start := time.Now()
	if db.IsDBConnectable(testutil.Context(t)) {
		t.Fatal("connectable with nothing listening")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("IsDBConnectable took %v with a 1 s connect timeout", d)
	}
}

// TestCreateAndDropDB: DropDB leaves no table at all (bookkeeping and foreign
// tables included), CreateDB builds the schema again.
func TestCreateAndDropDB(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		if _, err := testutil.Seed(ctx, db.Client, "drop"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Engine().ExecContext(ctx, "CREATE TABLE not_prefects (id INTEGER PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		if err := db.DropDB(ctx); err != nil {
			t.Fatal(err)
		}
		left, err := db.Dialect().ReadCatalog(ctx, db.Engine())
		if err != nil {
			t.Fatal(err)
		}
		if len(left.Tables) != 0 || len(left.Enums) != 0 {
			t.Fatalf("after DropDB: %d tables, %d enums", len(left.Tables), len(left.Enums))
		}
		if err := db.DropDB(ctx); err != nil {
			t.Fatalf("DropDB on an empty database: %v", err)
		}
		if err := db.CreateDB(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := testutil.Seed(ctx, db.Client, "again"); err != nil {
			t.Fatalf("seed after CreateDB: %v", err)
		}
		if _, err := db.RunMigrationsDowngrade(ctx, ""); err == nil {
			t.Fatal("a downgrade without a target succeeded; want an error asking for one")
		}
		steps, err := db.RunMigrationsDowngrade(ctx, migrate.OneStep)
		if err != nil || len(steps) != 1 {
			t.Fatalf("downgrade one step: %v, %v; want one step", steps, err)
		}
		if _, err := db.RunMigrationsUpgrade(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestTransactionCommitsAndRollsBack: an error or a panic rolls everything
// back, success commits.
func TestTransactionCommitsAndRollsBack(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		boom := errors.New("boom")
		err := db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
			if _, err := s.Flow.Create().SetName("rolled back").Save(ctx); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("the panic did not go on")
				}
			}()
			_ = db.Transaction(ctx, dbiface.ForUpdate, func(ctx context.Context, s *dbiface.Session) error {
				if _, err := s.Flow.Create().SetName("panicked").Save(ctx); err != nil {
					return err
				}
				panic("boom")
			})
		}()
		if n, err := db.Flow.Query().Count(ctx); err != nil || n != 0 {
			t.Fatalf("flows after rollbacks: %d, %v", n, err)
		}
		err = db.SessionContext(ctx, dbiface.SessionOptions{BeginTransaction: true, WithForUpdate: true},
			func(ctx context.Context, s *dbiface.Session) error {
				if !s.InTransaction() {
					t.Error("not in a transaction")
				}
				return s.Flow.Create().SetName("kept").Exec(ctx)
			})
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := db.Flow.Query().Count(ctx); n != 1 {
			t.Fatalf("flows after commit: %d", n)
		}
		if err := db.SessionContext(ctx, dbiface.SessionOptions{WithForUpdate: true}, func(context.Context, *dbiface.Session) error {
			return nil
		}); err == nil || !strings.Contains(err.Error(), "BeginTransaction") {
			t.Fatalf("WithForUpdate without a transaction: %v", err)
		}
	})
}

// TestLockedTransitionsSerialize is Prefect's test_locks_row_for_update: two
// concurrent state transitions on one run, each in a WithForUpdate
// transaction that reads the run locked; the second must see what the first
// committed, not the state it read before.
func TestLockedTransitionsSerialize(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		f, err := testutil.Seed(ctx, db.Client, "lock")
		if err != nil {
			t.Fatal(err)
		}
		runID := f.FlowRun.ID
		if err := db.FlowRun.UpdateOneID(runID).SetStateType(types.StateScheduled).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		transition := func(from, to types.StateType, locked chan<- struct{}, hold time.Duration) (seen types.StateType, err error) {
			err = db.Transaction(ctx, dbiface.ForUpdate, func(ctx context.Context, s *dbiface.Session) error {
				run, err := dbiface.LockForUpdate(s, s.FlowRun.Query().Where(flowrun.ID(runID))).Only(ctx)
				if err != nil {
					return err
				}
				seen = *run.StateType
				if locked != nil {
					close(locked)
				}
				time.Sleep(hold)
				if seen != from {
					return nil // the proposal is rejected: the run moved on
				}
				return s.FlowRun.UpdateOneID(runID).SetStateType(to).Exec(ctx)
			})
			return seen, err
		}
		locked := make(chan struct{})
		var first types.StateType
		var firstErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			first, firstErr = transition(types.StateScheduled, types.StatePending, locked, 300*time.Millisecond)
		}()
		<-locked
		second, err := transition(types.StateScheduled, types.StatePending, nil, 0)
		<-done
		if firstErr != nil || err != nil {
			t.Fatalf("transitions: %v, %v", firstErr, err)
		}
		if first != types.StateScheduled || second != types.StatePending {
			t.Fatalf("first saw %s, second saw %s; want SCHEDULED then PENDING", first, second)
		}
	})
}

// TestWriteLockAtBegin: on SQLite every transaction that may write, with or
// without WithForUpdate, holds the write lock from BEGIN (IMMEDIATE), so a
// writer on another connection (another process, say) cannot write even
// before the transaction has written: a deferred transaction that read and
// then wrote could be refused with SQLITE_BUSY_SNAPSHOT instead. On
// PostgreSQL neither blocks other writers. The other writer does not wait
// for locks (BusyTimeout < 0), so the test observes the lock as an answer,
// not as a delay.
func TestWriteLockAtBegin(t *testing.T) {
	for _, d := range testutil.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := testutil.Context(t)
			url := d.Migrated(t)
			db := open(t, url)
			other, err := dbiface.Open(ctx, dbiface.Config{URL: url, Options: config.Options{BusyTimeout: -1}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = other.Close() })
			write := func() error {
				// Through the other interface's pool: a connection of its own.
				q, args := entsql.Dialect(other.Dialect().EntDialect()).Insert("flow").Columns("id", "name").
					Values(uuid.New(), uuid.NewString()).Query()
				_, err := other.Engine().ExecContext(ctx, q, args...)
				return err
			}
			for _, locking := range []dbiface.Locking{dbiface.NoLocks, dbiface.ForUpdate} {
				err := db.Transaction(ctx, locking, func(ctx context.Context, s *dbiface.Session) error {
					werr := write()
					switch {
					case db.Dialect().RowLocks() && werr != nil:
						t.Errorf("locking=%v: another writer failed while the transaction was open: %v", locking, werr)
					case !db.Dialect().RowLocks() && (werr == nil || !other.Dialect().IsRetryable(werr)):
						t.Errorf("locking=%v: another writer got %v while the transaction was open; want SQLite's busy error", locking, werr)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				// Once the transaction has ended, the other writer writes.
				if err := write(); err != nil {
					t.Fatalf("locking=%v: after the transaction: %v", locking, err)
				}
			}
		})
	}
}

// TestUpsert uses the unique upsert columns: DoNothing keeps the row,
// DoUpdate overwrites it, the id is always the row's, NULL keys never
// conflict, and the same happens on both databases.
func TestUpsert(t *testing.T) {
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		id1, ins1, err := db.Upsert(ctx, db.Flow.Create().SetName("etl").SetTags([]string{"a"}), dbiface.DoNothing)
		if err != nil || !ins1 {
			t.Fatalf("first flow upsert: %v inserted=%v", err, ins1)
		}
		id2, ins2, err := db.Upsert(ctx, db.Flow.Create().SetName("etl").SetTags([]string{"b"}), dbiface.DoNothing)
		if err != nil || ins2 || id2 != id1 {
			t.Fatalf("second flow upsert: %v inserted=%v same id=%v", err, ins2, id2 == id1)
		}
		if f, _ := db.Flow.Get(ctx, id1); len(f.Tags) != 1 || f.Tags[0] != "a" {
			t.Fatalf("DoNothing changed the flow: %v", f.Tags)
		}
		err = db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
			d1, ins, err := s.Upsert(ctx, s.Deployment.Create().SetName("nightly").SetFlowID(id1).SetPaused(false), dbiface.DoUpdate)
			if err != nil || !ins {
				return errors.Join(err, errors.New("first deployment upsert did not insert"))
			}
			d2, ins, err := s.Upsert(ctx, s.Deployment.Create().SetName("nightly").SetFlowID(id1).SetPaused(true), dbiface.DoUpdate)
			if err != nil || ins || d2 != d1 {
				return errors.Join(err, errors.New("second deployment upsert did not update the same row"))
			}
			d, err := s.Deployment.Get(ctx, d1)
			if err != nil || !d.Paused {
				return errors.Join(err, errors.New("DoUpdate did not overwrite paused"))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ { // no idempotency key: never a conflict
			if _, ins, err := db.Upsert(ctx, db.FlowRun.Create().SetName("r").SetFlowID(id1), dbiface.DoNothing); err != nil || !ins {
				t.Fatalf("run without key %d: %v inserted=%v", i, err, ins)
			}
		}
		k1, _, err := db.Upsert(ctx, db.FlowRun.Create().SetName("r").SetFlowID(id1).SetIdempotencyKey("k"), dbiface.DoNothing)
		if err != nil {
			t.Fatal(err)
		}
		if k2, ins, err := db.Upsert(ctx, db.FlowRun.Create().SetName("r2").SetFlowID(id1).SetIdempotencyKey("k"), dbiface.DoNothing); err != nil || ins || k2 != k1 {
			t.Fatalf("run with the same key: %v inserted=%v same=%v", err, ins, k2 == k1)
		}
		if n, _ := db.FlowRun.Query().Count(ctx); n != 3 {
			t.Fatalf("flow runs = %d, want 3", n)
		}
		if _, _, err := db.Upsert(ctx, db.LogEntry.Create(), dbiface.DoNothing); err == nil || !strings.Contains(err.Error(), "no unique upsert columns") {
			t.Fatalf("upsert of a log: %v", err)
		}
		if cols := db.TaskRunUniqueUpsertColumns(); strings.Join(cols, ",") != "flow_run_id,task_key,dynamic_key" {
			t.Fatalf("task run upsert columns = %v", cols)
		}
	})
}
