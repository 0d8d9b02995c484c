package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/types"
)

// measureSchedule inserts scheduled runs start … start+n-1 of the fixture
// in batches of ScheduleBatch, one batch after the other as Prefect's
// scheduler does, and returns their ids with the figures (runs/s).
func measureSchedule(ctx context.Context, t Target, f *Fixture, start, n int, p *progress, label string) ([]uuid.UUID, Figures, error) {
	var done atomic.Int64
	stop := p.track(label, "runs/s", int64(n), &done)
	defer stop()
	ids := make([]uuid.UUID, 0, n)
	began := time.Now()
	for first := start; first < start+n; first += ScheduleBatch {
		runs := f.scheduledRuns(first, min(ScheduleBatch, start+n-first))
		k, err := t.Schedule(ctx, runs)
		if err != nil {
			return nil, Figures{}, fmt.Errorf("schedule: %w", err)
		}
		if k != len(runs) {
			return nil, Figures{}, fmt.Errorf("schedule: %d of %d runs inserted", k, len(runs))
		}
		for _, r := range runs {
			ids = append(ids, r.ID)
		}
		done.Add(int64(k))
	}
	el := time.Since(began)
	// The same batch again inserts nothing: the insert is idempotent.
	if k, err := t.Schedule(ctx, f.scheduledRuns(start, min(ScheduleBatch, n))); err != nil || k != 0 {
		return nil, Figures{}, fmt.Errorf("schedule: repeating a batch inserted %d runs (%v), want 0", k, err)
	}
	return ids, Figures{Rate: float64(n) / el.Seconds(), Count: int64(n), Seconds: el.Seconds()}, nil
}

// measurePolls runs c pollers for warm-up and then d, and returns the polls
// that completed in d: polls/s, latency percentiles, runs per poll. If none
// completed in d (a stall longer than d), the window lasts until the first
// one that began in it completes, and the rate is over that longer window:
// a measurement of no polls would report a rate of zero.
func measurePolls(ctx context.Context, t Target, c int, d time.Duration, p *progress, label string) (Figures, error) {
	warm := min(d/5, time.Second)
	var done atomic.Int64
	var runs atomic.Int64
	measuring := make(chan struct{})
	lats := make([][]time.Duration, c)
	errs := make([]error, c)
	var wg sync.WaitGroup
	var stop func()
	start := time.Now()
	measureFrom, deadline := start.Add(warm), start.Add(warm+d)
	var mu sync.Mutex // guards end and the late count
	end := deadline
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t0 := time.Now()
				if (!t0.Before(deadline) && done.Load() > 0) || ctx.Err() != nil {
					return
				}
				n, err := t.Poll(ctx)
				if err != nil {
					errs[w] = err
					return
				}
				t1 := time.Now()
				if t0.Before(measureFrom) {
					continue
				}
				count := !t1.After(deadline)
				if !count {
					mu.Lock()
					if count = done.Load() == 0; count {
						end = t1
						done.Add(1) // under mu: one late poll ends the window
						mu.Unlock()
						lats[w] = append(lats[w], t1.Sub(t0))
						runs.Add(int64(n))
						continue
					}
					mu.Unlock()
				}
				if count {
					lats[w] = append(lats[w], t1.Sub(t0))
					done.Add(1)
					runs.Add(int64(n))
				}
			}
		}()
	}
	go func() {
		select {
		case <-time.After(warm):
		case <-ctx.Done():
		}
		close(measuring)
	}()
	<-measuring
	stop = p.track(label, "polls/s", 0, &done)
	wg.Wait()
	stop()
	if err := errors.Join(errs...); err != nil {
		return Figures{}, fmt.Errorf("poll: %w", err)
	}
	all := slices.Concat(lats...)
	slices.Sort(all)
	window := end.Sub(measureFrom).Seconds()
	f := Figures{Count: int64(len(all)), Seconds: window, Rate: float64(len(all)) / window,
		P50Ms: percentile(all, 0.50), P99Ms: percentile(all, 0.99)}
	if len(all) > 0 {
		f.RunsPerPoll = float64(runs.Load()) / float64(len(all))
	}
	return f, ctx.Err()
}

// transitions are the states every run goes through, one transaction each.
var transitions = []struct {
	to   types.StateType
	name string
}{
	{types.StatePending, "Pending"},
	{types.StateRunning, "Running"},
	{types.StateCompleted, "Completed"},
}

// measureTransitions moves every run PENDING → RUNNING → COMPLETED with c
// workers (each takes the next run and makes its three transitions) and
// returns transitions/s and the latency percentiles of one transition.
func measureTransitions(ctx context.Context, t Target, runs []uuid.UUID, c int, p *progress, label string) (Figures, error) {
	var next, done atomic.Int64
	lats := make([][]time.Duration, c)
	errs := make([]error, c)
	stop := p.track(label, "transitions/s", int64(len(runs)*len(transitions)), &done)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(runs)) || ctx.Err() != nil {
					return
				}
				for _, tr := range transitions {
					t0 := time.Now()
					if err := t.Transition(ctx, runs[i], tr.to, tr.name); err != nil {
						errs[w] = fmt.Errorf("run %s to %s: %w", runs[i], tr.to, err)
						return
					}
					lats[w] = append(lats[w], time.Since(t0))
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	stop()
	if err := errors.Join(errs...); err != nil {
		return Figures{}, fmt.Errorf("transition: %w", err)
	}
	all := slices.Concat(lats...)
	slices.Sort(all)
	return Figures{Count: int64(len(all)), Seconds: el.Seconds(), Rate: float64(len(all)) / el.Seconds(),
		P50Ms: percentile(all, 0.50), P99Ms: percentile(all, 0.99)}, ctx.Err()
}

// withPeakRSS runs measure and adds the peak resident set size of the
// process while it ran (see resetPeakRSS) to its figures.
func withPeakRSS(measure func() (Figures, error)) (Figures, error) {
	reset := resetPeakRSS()
	f, err := measure()
	if reset {
		f.PeakRSSMB = peakRSSMB()
	}
	return f, err
}

// measureBatches runs c workers that each take the next batch number k
// (while k*size < total), generate the batch and insert it, and returns
// rows/s.
func measureBatches(ctx context.Context, total, size, c int, p *progress, label string,
	insert func(ctx context.Context, first, n int) (int, error)) (Figures, error) {
	var next, done atomic.Int64
	errs := make([]error, c)
	stop := p.track(label, "rows/s", 0, &done)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				first := int(next.Add(1)-1) * size
				if first >= total || ctx.Err() != nil {
					return
				}
				n, err := insert(ctx, first, min(size, total-first))
				if err != nil {
					errs[w] = err
					return
				}
				done.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	stop()
	if err := errors.Join(errs...); err != nil {
		return Figures{}, err
	}
	return Figures{Count: done.Load(), Seconds: el.Seconds(), Rate: float64(done.Load()) / el.Seconds()}, ctx.Err()
}

// measureLogs inserts total log rows in batches of LogBatch with c writers.
func measureLogs(ctx context.Context, t Target, runs []uuid.UUID, total, c int, p *progress, label string) (Figures, error) {
	f, err := measureBatches(ctx, total, LogBatch, c, p, label, func(ctx context.Context, first, n int) (int, error) {
		return n, t.InsertLogs(ctx, logRows(runs, first, n))
	})
	if err != nil {
		return f, fmt.Errorf("logs: %w", err)
	}
	return f, nil
}

// measureEvents inserts total events (with their resources) in batches of
// EventBatch with c writers; the figure counts every row written.
func measureEvents(ctx context.Context, t Target, fx *Fixture, runs []uuid.UUID, total, c int, p *progress, label string) (Figures, error) {
	f, err := measureBatches(ctx, total, EventBatch, c, p, label, func(ctx context.Context, first, n int) (int, error) {
		return t.InsertEvents(ctx, eventRows(fx, runs, first, n))
	})
	if err != nil {
		return f, fmt.Errorf("events: %w", err)
	}
	return f, nil
}

// copyWriters is the number of COPY streams for c writers: at most one per
// CPU. A COPY stream keeps one server process busy (index maintenance
// dominates), and more streams than cores only contend: on 2 cores, 2
// streams copy about twice as fast as 1, and 8 streams a third slower than 2.
func copyWriters(c int) int { return max(1, min(c, runtime.NumCPU())) }

// measureCopy streams total log rows, produced in batches of LogBatch by c
// producers into a channel of 2c batches, into the table with
// copyWriters(c) COPY writers, and returns rows/s.
func measureCopy(ctx context.Context, t Target, runs []uuid.UUID, total, c int, p *progress, label string) (Figures, error) {
	writers := copyWriters(c)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []LogRow, 2*c)
	var next, done atomic.Int64
	stop := p.track(label, "rows/s", int64(total), &done)
	start := time.Now()
	var producers sync.WaitGroup
	for w := 0; w < c; w++ {
		producers.Add(1)
		go func() {
			defer producers.Done()
			for {
				first := int(next.Add(1)-1) * LogBatch
				if first >= total {
					return
				}
				select {
				case batches <- logRows(runs, first, min(LogBatch, total-first)):
					done.Add(int64(min(LogBatch, total-first))) // queued: progress only
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { producers.Wait(); close(batches) }()
	errs := make([]error, writers)
	var copied atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := t.CopyLogs(ctx, batches)
			copied.Add(n)
			if err != nil {
				errs[w] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	stop()
	if err := errors.Join(errs...); err != nil {
		return Figures{}, fmt.Errorf("logs-copy: %w", err)
	}
	if int(copied.Load()) != total {
		return Figures{}, fmt.Errorf("logs-copy: %d of %d rows copied", copied.Load(), total)
	}
	return Figures{Count: copied.Load(), Seconds: el.Seconds(), Rate: float64(copied.Load()) / el.Seconds()}, nil
}
