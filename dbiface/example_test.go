package dbiface_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent/flowrun"
	"github.com/prefectdb/prefectdb/types"
)

// Open a database, create it, run a flow through states in transactions,
// and poll a work pool as a worker does. The URL here is a SQLite file; a
// postgresql+asyncpg:// URL works the same, and dbiface.Provide(ctx) opens
// the database of Prefect's settings (SQLite in ~/.prefect by default).
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "prefectdb-example")
	defer os.RemoveAll(dir)

	db, err := dbiface.Open(ctx, dbiface.Config{URL: "sqlite+aiosqlite:///" + filepath.Join(dir, "prefect.db")})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateDB(ctx); err != nil { // migrates to head
		log.Fatal(err)
	}

	flow, err := db.Flow.Create().SetName("etl").Save(ctx)
	if err != nil {
		log.Fatal(err)
	}
	pool, _ := db.WorkPool.Create().SetName("default").SetType("process").Save(ctx)
	queue, _ := db.WorkQueue.Create().SetName("default").SetWorkPool(pool).Save(ctx)
	run, err := db.FlowRun.Create().SetName("nightly").SetFlow(flow).SetWorkQueue(queue).
		SetStateType(types.StateScheduled).SetNextScheduledStartTime(time.Now().Add(-time.Minute)).Save(ctx)
	if err != nil {
		log.Fatal(err)
	}

	// A worker polls the pool and claims what it gets, in one locking
	// transaction: no other poller can receive the same runs.
	err = db.Transaction(ctx, true, func(ctx context.Context, s *dbiface.Session) error {
		runs, err := s.GetScheduledFlowRunsFromWorkPool(ctx, dialects.WorkPoolRunsQuery{WorkPoolIDs: []uuid.UUID{pool.ID}})
		if err != nil {
			return err
		}
		fmt.Println("polled", len(runs), "run:", runs[0].FlowRun.Name)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}

	// Each state transition: lock the run, insert the state, move the pointer.
	for i, st := range []types.StateType{types.StatePending, types.StateRunning, types.StateCompleted} {
		err := db.Transaction(ctx, true, func(ctx context.Context, s *dbiface.Session) error {
			if _, err := dbiface.LockForUpdate(s, s.FlowRun.Query().Where(flowrun.ID(run.ID))).Only(ctx); err != nil {
				return err
			}
			state, err := s.FlowRunState.Create().SetFlowRunID(run.ID).SetType(st).SetName(string(st)).
				SetTimestamp(time.Date(2024, 9, 13, 12, 0, i, 0, time.UTC)).Save(ctx)
			if err != nil {
				return err
			}
			return s.FlowRun.UpdateOneID(run.ID).SetCurrentState(state).SetStateType(st).
				SetStateName(state.Name).SetStateTimestamp(state.Timestamp).Exec(ctx)
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	current, _ := db.FlowRun.Query().Where(flowrun.ID(run.ID)).QueryCurrentState().Only(ctx)
	history, _ := db.FlowRun.Query().Where(flowrun.ID(run.ID)).QueryStates().Count(ctx)
	fmt.Println(current.Type, history)
	// Output:
	// polled 1 run: nightly
	// COMPLETED 3
}
