package dbiface

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
)

// SessionOptions are the options of SessionContext, named after Prefect's
// session_context(begin_transaction, with_for_update).
type SessionOptions struct {
	// BeginTransaction runs the session in one transaction that commits when
	// the function returns nil and rolls back when it returns an error or
	// panics. Without it every statement commits on its own.
	BeginTransaction bool
	// WithForUpdate asks for the locks of a state transition. On SQLite
	// every transaction that may write begins IMMEDIATE, with or without it:
	// it holds the database's write lock from its first statement, so two
	// transactions run one after the other and the second sees what the
	// first committed. On PostgreSQL the
	// transaction is an ordinary READ COMMITTED one, and the rows it reads
	// with LockForUpdate are locked until it ends. It needs BeginTransaction.
	WithForUpdate bool
}

// Locking says which locks a transaction takes: Prefect's
// begin_transaction(with_for_update=...).
type Locking bool

// The two kinds of transaction.
const (
	// NoLocks is a plain transaction: READ COMMITTED on PostgreSQL; on
	// SQLite a transaction that may write still holds the write lock.
	NoLocks Locking = false
	// ForUpdate takes the locks of a state transition: rows read with
	// LockForUpdate are locked until the transaction ends on PostgreSQL; on
	// SQLite the transaction holds the database's write lock from its first
	// statement.
	ForUpdate Locking = true
)

// Session is what a SessionContext function works with: an Ent client bound
// to the session's transaction (or to no transaction), with the model
// accessors of every table.
type Session struct {
	*ent.Client
	// Schema shadows the Ent client's auto-migration: Schema.Create
	// returns ErrAutoMigrate.
	Schema   RefusedSchema
	iface    *Interface
	tx       *ent.Tx
	forWrite bool
}

// InTransaction reports whether the session runs in a transaction.
func (s *Session) InTransaction() bool { return s.tx != nil }

// Dialect returns the database's dialect.
func (s *Session) Dialect() dialects.Dialect { return s.iface.dialect }

// RowLocks reports whether LockForUpdate locks rows in this session. It is
// false on SQLite, where a WithForUpdate transaction holds the whole
// database's write lock instead, and outside transactions.
func (s *Session) RowLocks() bool { return s.tx != nil && s.iface.dialect.RowLocks() }

// SessionContext runs fn in a session of the database. See SessionOptions.
func (i *Interface) SessionContext(ctx context.Context, opts SessionOptions, fn func(ctx context.Context, s *Session) error) error {
	if opts.WithForUpdate && !opts.BeginTransaction {
		return errors.New("dbiface: WithForUpdate needs BeginTransaction: locks are held only inside a transaction")
	}
	if !opts.BeginTransaction {
		return fn(ctx, &Session{Client: i.Client, iface: i})
	}
	return i.Transaction(ctx, Locking(opts.WithForUpdate), fn)
}

// Transaction runs fn in one transaction: it commits if fn returns nil, and
// rolls back if fn returns an error or panics (the panic goes on). An error
// that a retry may cure (deadlock, serialization failure, lock timeout,
// SQLite busy) is returned as a *RetryableError. With
// forUpdate the transaction takes the locks of a state transition (see
// SessionOptions.WithForUpdate).
//
// On SQLite the transactions of one Interface run one at a time on its
// writer connection, which is what keeps them from ever failing with
// "database is locked"; inside fn, use the session s, not the Interface's
// client, or the statement will wait for fn's own transaction to end.
func (i *Interface) Transaction(ctx context.Context, locking Locking, fn func(ctx context.Context, s *Session) error) (err error) {
	forUpdate := bool(locking)
	ctx, endSpan := i.tel.span(ctx, "prefectdb.transaction", attribute.Bool("prefectdb.transaction.for_update", forUpdate))
	defer func() { endSpan(err) }()
	defer func() {
		// A refusal that a retry may cure reaches the caller as a typed,
		// retryable error (TransactionWithRetry retries it itself).
		var retryable *RetryableError
		var unknown *OutcomeUnknownError
		if err != nil && !errors.As(err, &retryable) && !errors.As(err, &unknown) && i.dialect.IsRetryable(err) {
			err = &RetryableError{Attempts: 1, Err: err}
		}
	}()
	beginCtx := ctx
	if forUpdate {
		beginCtx = dialects.WithWriteLock(ctx)
	}
	tx, err := i.Client.Tx(beginCtx)
	if err != nil {
		return fmt.Errorf("dbiface: begin transaction: %w", err)
	}
	committed := false
	defer func() {
		if committed {
			return
		}
		if rbErr := tx.Rollback(); rbErr != nil && err != nil {
			err = errors.Join(err, fmt.Errorf("dbiface: rollback: %w", rbErr))
		}
	}()
	// The context says which database's transaction it belongs to, so that a
	// write through the interface's own client (outside the transaction) on
	// a single-writer database is refused at once instead of waiting for the
	// transaction that waits for it.
	ctx = dialects.WithTransactionOf(ctx, i.db)
	if err := fn(ctx, &Session{Client: tx.Client(), iface: i, tx: tx, forWrite: forUpdate}); err != nil {
		return err
	}
	committed = true
	if err := tx.Commit(); err != nil {
		if i.dialect.OutcomeUnknown(err) {
			return &OutcomeUnknownError{Op: "commit", Err: err}
		}
		return fmt.Errorf("dbiface: commit: %w", err)
	}
	return nil
}

// OutcomeUnknownError reports that the connection to the database broke
// after a COMMIT (or a single autocommitted statement, such as a PostgreSQL
// state transition) was sent: it may or may not have taken effect. Check the
// database before retrying; a blind retry may apply the change twice.
type OutcomeUnknownError struct {
	// Op is what was sent: "commit" or the operation's name.
	Op  string
	Err error
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("dbiface: the connection broke after %s was sent: it may or may not have taken effect; check before retrying: %v", e.Op, e.Err)
}

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// Lockable is a generated Ent query that can lock the rows it reads.
type Lockable[Q any] interface {
	ForUpdate(opts ...entsql.LockOption) Q
}

// LockForUpdate makes q lock the rows it reads until the session's
// transaction ends (SELECT ... FOR UPDATE) where the database locks rows. On
// SQLite it returns q unchanged: there a WithForUpdate transaction already
// holds the database's write lock. Use it inside a WithForUpdate session:
//
//	run, err := dbiface.LockForUpdate(s, s.FlowRun.Query().Where(flowrun.ID(id))).Only(ctx)
func LockForUpdate[Q Lockable[Q]](s *Session, q Q, opts ...entsql.LockOption) Q {
	if s.RowLocks() {
		return q.ForUpdate(opts...)
	}
	return q
}

// LockForUpdateSkipLocked is LockForUpdate with SKIP LOCKED: rows that
// another transaction holds are left out instead of waited for.
func LockForUpdateSkipLocked[Q Lockable[Q]](s *Session, q Q) Q {
	return LockForUpdate(s, q, entsql.WithLockAction(entsql.SkipLocked))
}
