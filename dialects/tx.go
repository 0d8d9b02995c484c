package dialects

import (
	"context"
	"fmt"
	"time"
)

// writeLockKey marks a context whose transaction must take the database's
// write lock when it begins.
type writeLockKey struct{}

// WithWriteLock marks ctx so that a transaction begun with it takes the
// database's write lock at once. On SQLite that is BEGIN IMMEDIATE, SQLite's
// stand-in for row locks: the transaction cannot later fail to upgrade a read
// lock. PostgreSQL ignores the mark; there rows are locked by the queries
// that read them (SELECT ... FOR UPDATE).
func WithWriteLock(ctx context.Context) context.Context {
	return context.WithValue(ctx, writeLockKey{}, true)
}

// WriteLockRequested reports whether ctx was marked by WithWriteLock.
func WriteLockRequested(ctx context.Context) bool {
	v, _ := ctx.Value(writeLockKey{}).(bool)
	return v
}

// txOwnerKey marks a context as the one a transaction of some database runs
// under.
type txOwnerKey struct{}

// WithTransactionOf marks ctx as running inside a transaction of the
// database whose connection pool is owner. A dialect that runs every write
// on one connection (SQLite) uses the mark to refuse, at once, a write
// outside the transaction that could only wait for the transaction to end:
// the same goroutine writing through the interface's own client while its
// transaction holds the writer.
func WithTransactionOf(ctx context.Context, owner any) context.Context {
	return context.WithValue(ctx, txOwnerKey{}, owner)
}

// InTransactionOf reports whether ctx was marked by WithTransactionOf for
// owner.
func InTransactionOf(ctx context.Context, owner any) bool {
	v := ctx.Value(txOwnerKey{})
	return v != nil && v == owner
}

// WriterBusyError is returned for a write that cannot get a database's one
// writer connection (SQLite): either the caller's own transaction holds it
// (Waited is 0), or another holder kept it for longer than
// Options.PoolTimeout.
type WriterBusyError struct {
	// Holder says what held the writer, e.g. "a transaction begun 31s ago".
	Holder string
	// Waited is how long the write waited; 0 when it was refused at once.
	Waited time.Duration
}

// Error implements error.
func (e *WriterBusyError) Error() string {
	if e.Waited == 0 {
		return "this write runs outside the transaction of its own context, which holds the database's only writer " +
			"(" + e.Holder + "): it would wait forever; write through the transaction's session instead"
	}
	return fmt.Sprintf("waited %v for the database's only writer, held by %s; retry later, or keep transactions short",
		e.Waited.Round(time.Millisecond), e.Holder)
}
