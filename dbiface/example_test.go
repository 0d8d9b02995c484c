package dbiface_test

import (
	"context"
	"errors"
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

// Open a database, create it, schedule a run, poll a work pool as a worker
// does, and run the flow through its states with the transition API. The URL here is a SQLite file; a
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
		SetNextScheduledStartTime(time.Now().Add(-time.Minute)).Save(ctx)
	if err != nil {
		log.Fatal(err)
	}

	// The run starts SCHEDULED, through the same transition API.
	if _, err := db.SetFlowRunState(ctx, run.ID, dbiface.StateTransition{Type: types.StateScheduled}); err != nil {
		log.Fatal(err)
	}

	// A worker polls the pool and claims what it gets, in one locking
	// transaction: it moves the run out of SCHEDULED before commit, so no
	// other poller can receive it.
	err = db.Transaction(ctx, dbiface.ForUpdate, func(ctx context.Context, s *dbiface.Session) error {
		runs, err := s.GetScheduledFlowRunsFromWorkPool(ctx, dialects.WorkPoolRunsQuery{WorkPoolIDs: []uuid.UUID{pool.ID}})
		if err != nil {
			return err
		}
		fmt.Println("polled", len(runs), "run:", runs[0].FlowRun.Name)
		_, err = s.SetFlowRunState(ctx, runs[0].FlowRun.ID, dbiface.StateTransition{
			Type: types.StatePending, From: []types.StateType{types.StateScheduled}})
		return err
	})
	if err != nil {
		log.Fatal(err)
	}

	// Each transition locks the run, inserts the state and moves the run's
	// pointer, state columns, run count and start/end times, all or nothing.
	for _, st := range []types.StateType{types.StateRunning, types.StateCompleted} {
		if _, err := db.SetFlowRunState(ctx, run.ID, dbiface.StateTransition{Type: st}); err != nil {
			log.Fatal(err)
		}
	}
	// A second worker racing for the same run is told it lost.
	_, err = db.SetFlowRunState(ctx, run.ID, dbiface.StateTransition{
		Type: types.StatePending, From: []types.StateType{types.StateScheduled}})
	var rejected *dbiface.TransitionRejectedError
	fmt.Println("late worker rejected:", errors.As(err, &rejected))

	r, err := db.FlowRun.Query().Where(flowrun.ID(run.ID)).WithCurrentState().Only(ctx)
	if err != nil {
		log.Fatal(err)
	}
	history, _ := db.FlowRun.Query().Where(flowrun.ID(run.ID)).QueryStates().Count(ctx)
	fmt.Println(r.Edges.CurrentState.Type, *r.StateName, "run_count", r.RunCount,
		"started", r.StartTime != nil, "ended", r.EndTime != nil, "states", history)
	// Output:
	// polled 1 run: nightly
	// late worker rejected: true
	// COMPLETED Completed run_count 1 started true ended true states 4
}
