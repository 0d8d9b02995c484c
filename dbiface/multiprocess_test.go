package dbiface_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent/flow"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/types"
)

// The child processes of TestSQLiteWritersInSeveralProcesses: the test binary
// run again with these variables set.
const (
	mpChildURL      = "PREFECTDB_TEST_MP_URL"
	mpChildDuration = "PREFECTDB_TEST_MP_DURATION"
	mpChildName     = "PREFECTDB_TEST_MP_NAME"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(mpChildURL); url != "" {
		os.Exit(mpChild(url))
	}
	os.Exit(m.Run())
}

// mpReport is what one child process did.
type mpReport struct {
	Transitions, Logs, Transactions int
	Locked                          int // "database is locked" or SQLITE_BUSY reaching the caller
	Other                           []string
}

// mpChild runs 8 writers for the given duration on one interface and prints
// an mpReport as JSON.
func mpChild(url string) int {
	ctx := context.Background()
	d, err := time.ParseDuration(os.Getenv(mpChildDuration))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	name := os.Getenv(mpChildName)
	db, err := dbiface.Open(ctx, dbiface.Config{URL: url})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer db.Close()
	runs, err := db.FlowRun.Query().IDs(ctx)
	if err != nil || len(runs) == 0 {
		fmt.Fprintln(os.Stderr, "no runs:", err)
		return 2
	}
	flowID, err := db.Flow.Query().Where(flow.Name("mp")).OnlyID(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var (
		mu  sync.Mutex
		rep mpReport
	)
	record := func(counter *int, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			*counter++
		case strings.Contains(err.Error(), "database is locked") || strings.Contains(err.Error(), "SQLITE_BUSY") ||
			db.Dialect().IsRetryable(err):
			rep.Locked++
			if len(rep.Other) < 5 {
				rep.Other = append(rep.Other, "locked: "+err.Error())
			}
		default:
			if len(rep.Other) < 5 {
				rep.Other = append(rep.Other, err.Error())
			}
		}
	}
	cycle := []types.StateType{types.StatePending, types.StateRunning, types.StateCompleted, types.StateScheduled}
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), uint64(len(name))))
			for i := 0; time.Now().Before(deadline); i++ {
				switch g % 3 {
				case 0:
					_, err := db.SetFlowRunState(ctx, runs[rng.IntN(len(runs))], dbiface.StateTransition{Type: cycle[i%len(cycle)]})
					record(&rep.Transitions, err)
				case 1:
					rows := make([]dialects.LogRow, 20)
					for k := range rows {
						rows[k] = dialects.LogRow{ID: uuid.New(), Name: "mp", Level: 20, Message: name, Timestamp: time.Now().UTC()}
					}
					record(&rep.Logs, db.InsertLogs(ctx, rows))
				default:
					// A read-then-write transaction without locks asked for:
					// the pattern that SQLite refuses across processes.
					err := db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
						n, err := s.Flow.Query().Count(ctx)
						if err != nil {
							return err
						}
						return s.Flow.Create().SetName(fmt.Sprintf("%s-%d-%d-%d", name, g, i, n)).Exec(ctx)
					})
					record(&rep.Transactions, err)
				}
			}
		}()
	}
	wg.Wait()
	_ = flowID
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return 2
	}
	return 0
}

// TestSQLiteWritersInSeveralProcesses runs 4 separate OS processes with 8
// writers each on one SQLite file (transitions, log inserts, read-then-write
// transactions) for 3 s (30 s with -long): no "database is locked" may
// reach a caller, every write is stored exactly once, and the file passes
// SQLite's integrity check. SQLite only: PostgreSQL has no such lock.
func TestSQLiteWritersInSeveralProcesses(t *testing.T) {
	d := 3 * time.Second
	if *long {
		d = 30 * time.Second
	}
	ctx := testutil.Context(t)
	url := testutil.MigratedSQLite(t)
	db := open(t, url)
	f := db.Flow.Create().SetName("mp").SaveX(ctx)
	for range 20 {
		r := db.FlowRun.Create().SetName("r").SetFlow(f).SaveX(ctx)
		if _, err := db.SetFlowRunState(ctx, r.ID, dbiface.StateTransition{Type: types.StateScheduled}); err != nil {
			t.Fatal(err)
		}
	}
	flowsBefore := db.Flow.Query().CountX(ctx)

	const processes = 4
	reports := make([]mpReport, processes)
	errs := make([]error, processes)
	var wg sync.WaitGroup
	for p := range processes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), mpChildURL+"="+url, mpChildDuration+"="+d.String(), fmt.Sprintf("%s=p%d", mpChildName, p))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				errs[p] = fmt.Errorf("process %d: %w: %s", p, err, stderr.String())
				return
			}
			errs[p] = json.Unmarshal(out, &reports[p])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var total mpReport
	for p, r := range reports {
		total.Transitions += r.Transitions
		total.Logs += r.Logs
		total.Transactions += r.Transactions
		total.Locked += r.Locked
		for _, o := range r.Other {
			total.Other = append(total.Other, fmt.Sprintf("process %d: %s", p, o))
		}
	}
	t.Logf("%d processes × 8 writers for %v: %d transitions, %d log batches (20 rows), %d read-then-write transactions; %d locked errors",
		processes, d, total.Transitions, total.Logs, total.Transactions, total.Locked)
	if total.Locked > 0 || len(total.Other) > 0 {
		t.Errorf("%d locked errors reached callers; errors: %v", total.Locked, total.Other)
	}
	if total.Transitions == 0 || total.Logs == 0 || total.Transactions == 0 {
		t.Errorf("some kind of write never succeeded: %+v", total)
	}

	// Every write stored exactly once, the file intact.
	if n := db.LogEntry.Query().CountX(ctx); n != 20*total.Logs {
		t.Errorf("%d log rows, want %d", n, 20*total.Logs)
	}
	if n := db.Flow.Query().CountX(ctx); n != flowsBefore+total.Transactions {
		t.Errorf("%d flows, want %d", n, flowsBefore+total.Transactions)
	}
	var states int
	if err := db.Engine().QueryRowContext(ctx, "SELECT count(*) FROM flow_run_state").Scan(&states); err != nil || states != 20+total.Transitions {
		t.Errorf("%d states (%v), want %d", states, err, 20+total.Transitions)
	}
	var check string
	if err := db.Engine().QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
}
