package dialects

import "context"

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
