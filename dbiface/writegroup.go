package dbiface

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prefectdb/prefectdb/dialects"
)

// maxGroup bounds the writes made in one grouped transaction, so that a
// group's transaction stays short.
const maxGroup = 64

// writeGroup writes concurrent small writes made outside any caller's
// transaction (SetFlowRunState, InsertLogs, InsertEvents) together where the
// dialect asks for it (dialects.WriteGrouper: SQLite, where one writer
// serialises every commit and the commit is most of a small write's cost):
// one write transaction and one commit for up to maxGroup waiting writes,
// each in its own savepoint, so that each keeps its own all-or-nothing
// outcome and its own error.
//
// There is no background goroutine while nothing waits. A caller that finds
// no group being written leads: it begins the transaction, takes every
// waiting write (its own among them), runs and commits them, and hands on to
// a goroutine of its own making if more arrived meanwhile, which leads until
// none waits.
type writeGroup struct {
	iface   *Interface
	grouper dialects.WriteGrouper

	mu      sync.Mutex
	pending []*groupedWrite
	leading bool
	// begin is the leader's wait for the write lock, set while it waits,
	// so that the wait ends when every waiting caller has given up.
	begin *beginWait

	// groups counts the transactions written (for tests).
	groups atomic.Int64
}

// beginWait is one wait of a leader for the write lock.
type beginWait struct{ cancel context.CancelFunc }

// groupedWrite is one caller's write waiting for, or in, a group.
type groupedWrite struct {
	ctx context.Context
	// write makes the caller's changes through q, the group's transaction;
	// it may run more than once (a group rolled back by another write is
	// written again), each time from the start.
	write func(ctx context.Context, q dialects.Querier) error

	// Under the group's mutex.
	taken, finished bool

	// Set before done is closed.
	err  error
	done chan struct{}
}

// newWriteGroup returns the interface's write group, or nil where the
// dialect does not group writes.
func newWriteGroup(i *Interface) *writeGroup {
	g, ok := i.dialect.(dialects.WriteGrouper)
	if !ok {
		return nil
	}
	return &writeGroup{iface: i, grouper: g}
}

// writeGroupFor returns the write group that a write made with ctx outside
// any transaction joins, or nil: where the dialect does not group writes,
// and where ctx belongs to one of the interface's own transactions. Such a
// write takes its own path, which the SQLite driver refuses at once with a
// *dialects.WriterBusyError (the transaction holds the one writer); in a
// group it would wait for that transaction, and so would the group.
func (i *Interface) writeGroupFor(ctx context.Context) *writeGroup {
	if i.group == nil || dialects.InTransactionOf(ctx, i.db) {
		return nil
	}
	return i.group
}

// finish records an outcome; the caller holds g.mu.
func (it *groupedWrite) finish(err error) {
	if it.finished {
		return
	}
	it.finished, it.err = true, err
	close(it.done)
}

// submit runs write within a group and returns its outcome. A caller whose
// context ends before its write is taken into a group leaves with the
// context's error, having changed nothing; once taken, it waits for the
// outcome, which is decided within the group's short transaction (a
// statement interrupted inside an explicit SQLite transaction would roll
// the whole group back).
func (g *writeGroup) submit(ctx context.Context, write func(ctx context.Context, q dialects.Querier) error) error {
	it := &groupedWrite{ctx: ctx, write: write, done: make(chan struct{})}
	g.mu.Lock()
	if err := ctx.Err(); err != nil {
		g.mu.Unlock()
		return err
	}
	g.pending = append(g.pending, it)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if lead {
		g.lead(it)
	}
	select {
	case <-it.done:
		return it.err
	case <-ctx.Done():
	}
	g.mu.Lock()
	if !it.taken && !it.finished {
		g.remove(it)
		it.finish(ctx.Err())
	}
	g.mu.Unlock()
	<-it.done
	return it.err
}

// remove takes it out of the waiting list and, when nobody waits any more,
// ends the leader's wait for the write lock; the caller holds g.mu.
func (g *writeGroup) remove(it *groupedWrite) {
	for k, p := range g.pending {
		if p == it {
			g.pending = append(g.pending[:k], g.pending[k+1:]...)
			break
		}
	}
	if len(g.pending) == 0 && g.begin != nil {
		g.begin.cancel()
		g.begin = nil
	}
}

// lead writes groups while writes wait. A caller leads (self set) until
// its own write has its outcome, then hands on to a goroutine
// when others wait; the goroutine (self nil) leads until none waits.
func (g *writeGroup) lead(self *groupedWrite) {
	for {
		g.mu.Lock()
		if len(g.pending) == 0 {
			g.leading = false
			g.mu.Unlock()
			return
		}
		if self != nil && self.finished {
			g.mu.Unlock()
			go g.lead(nil)
			return
		}
		g.mu.Unlock()
		g.writeOne(self)
	}
}

// writeOne begins a write transaction, takes up to maxGroup waiting writes,
// runs each in its own savepoint and commits.
func (g *writeGroup) writeOne(self *groupedWrite) {
	// The wait for the write lock ends when the leading caller gives up,
	// or when every waiting caller has; once begun, the transaction is not
	// cancelled by anyone (database/sql would roll it back).
	base := context.Background()
	if self != nil {
		base = self.ctx
	}
	beginCtx, cancel := context.WithCancel(context.WithoutCancel(base))
	defer cancel()
	wait := &beginWait{cancel: cancel}
	g.mu.Lock()
	g.begin = wait
	g.mu.Unlock()
	if self != nil {
		stop := context.AfterFunc(self.ctx, func() {
			g.mu.Lock()
			if g.begin == wait {
				wait.cancel()
				g.begin = nil
			}
			g.mu.Unlock()
		})
		defer stop()
	}

	var (
		batch []*groupedWrite
		began bool
	)
	err := g.iface.Transaction(beginCtx, ForUpdate, func(_ context.Context, s *Session) error {
		g.mu.Lock()
		if g.begin == wait {
			g.begin = nil
		}
		if beginCtx.Err() != nil {
			// Cancelled after BEGIN returned: database/sql rolls the
			// transaction back; take nothing.
			g.mu.Unlock()
			return beginCtx.Err()
		}
		began = true
		batch = g.take()
		g.mu.Unlock()
		if len(batch) == 0 {
			return nil
		}
		g.groups.Add(1)
		if len(batch) == 1 {
			// Alone, the transaction is the write's savepoint.
			it := batch[0]
			it.err = it.write(context.WithoutCancel(it.ctx), s.Client)
			return it.err
		}
		for k, it := range batch {
			ctx := context.WithoutCancel(it.ctx)
			err := g.grouper.InSavepoint(ctx, s.Client, func() error { return it.write(ctx, s.Client) })
			var sp *dialects.SavepointError
			switch {
			case errors.As(err, &sp) && sp.Cause != nil:
				// This write broke the transaction: it fails with its
				// own error; the others are written again in the next
				// group, as if they had not been taken.
				g.mu.Lock()
				it.finish(sp.Cause)
				again := slices.Delete(batch, k, k+1)
				for _, o := range again {
					o.taken = false
				}
				g.pending = append(again, g.pending...)
				batch = nil
				g.mu.Unlock()
				return sp
			case errors.As(err, &sp):
				return err
			}
			it.err = err
		}
		return nil
	})
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.begin == wait {
		g.begin = nil
	}
	if !began && err != nil {
		// The transaction did not begin: the leading caller whose wait
		// was cancelled leaves; a failure to begin is every waiting
		// caller's (each retries it as its own).
		switch {
		case self != nil && self.ctx.Err() != nil && !self.taken:
			g.remove(self)
			self.finish(self.ctx.Err())
		case beginCtx.Err() != nil:
		default:
			for _, it := range g.take() {
				it.finish(err)
			}
		}
		return
	}
	for _, it := range batch {
		switch {
		case it.err != nil:
			// Its own failure, rolled back alone (or, alone in the
			// transaction, with it).
			it.finish(it.err)
		case err != nil:
			// Nothing of the group was committed.
			it.finish(err)
		default:
			it.finish(nil)
		}
	}
}

// take removes up to maxGroup waiting writes whose callers still wait
// and marks them taken; the caller holds g.mu.
func (g *writeGroup) take() []*groupedWrite {
	var batch []*groupedWrite
	n := 0
	for _, it := range g.pending {
		if len(batch) == maxGroup {
			g.pending[n] = it
			n++
			continue
		}
		if it.ctx.Err() != nil {
			it.finish(it.ctx.Err())
			continue
		}
		it.taken = true
		batch = append(batch, it)
	}
	clear(g.pending[n:])
	g.pending = g.pending[:n]
	return batch
}
