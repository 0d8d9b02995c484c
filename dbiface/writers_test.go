package dbiface_test

import (
	"context"
	"flag"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/ent/flowrun"
	"github.com/prefectdb/prefectdb/internal/testutil"
)

var long = flag.Bool("long", false, "run the long versions of the stress tests")

// TestConcurrentReadThenWriteTransactions runs 64 goroutines that each loop
// over read-then-write transactions without asking for locks: the pattern
// that makes Prefect's SQLite report "database is locked" (a deferred read
// transaction that later writes). No error may reach the caller. It runs 2 s
// by default and 10 s with -long.
func TestConcurrentReadThenWriteTransactions(t *testing.T) {
	d := 2 * time.Second
	if *long {
		d = 10 * time.Second
	}
	forEach(t, func(t *testing.T, db *dbiface.Interface) {
		ctx := testutil.Context(t)
		f, err := testutil.Seed(ctx, db.Client, "writers")
		if err != nil {
			t.Fatal(err)
		}
		var ok, failed atomic.Int64
		var firstErr atomic.Value
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		for g := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; time.Now().Before(deadline); i++ {
					err := db.Transaction(ctx, dbiface.NoLocks, func(ctx context.Context, s *dbiface.Session) error {
						n, err := s.FlowRun.Query().Where(flowrun.FlowID(f.Flow.ID)).Count(ctx)
						if err != nil {
							return err
						}
						return s.FlowRun.Create().SetName("w").SetFlowID(f.Flow.ID).SetRunCount(n + g).Exec(ctx)
					})
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err)
						continue
					}
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		t.Logf("%d transactions committed in %v (%.0f/s), %d failed", ok.Load(), d, float64(ok.Load())/d.Seconds(), failed.Load())
		if failed.Load() > 0 {
			t.Fatalf("%d transactions failed; first error: %v", failed.Load(), firstErr.Load())
		}
		if n, _ := db.FlowRun.Query().Where(flowrun.Name("w")).Count(ctx); int64(n) != ok.Load() {
			t.Fatalf("%d runs stored, %d transactions committed", n, ok.Load())
		}
	})
}
