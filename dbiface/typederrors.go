package dbiface

import (
	"context"
	"errors"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/ent"
)

// typeErrors installs on the interface's Ent client a hook and an
// interceptor that give Ent's own reads and writes the typed errors of
// Transaction and SetFlowRunState when the database is lost or refuses for
// a reason a retry may cure: a *RetryableError (nothing was written), or,
// for a write that ran alone (autocommitted) and lost its connection after
// it was sent, an *OutcomeUnknownError (check before retrying). Inside a
// transaction no statement commits by itself, so a lost connection is
// retryable: the transaction was rolled back.
func typeErrors(c *ent.Client, d dialects.ErrorClassifier) {
	c.Use(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			if err != nil {
				_, txErr := inTransaction(m)
				err = typedError(d, "the write", err, true, txErr == nil, err)
			}
			return v, err
		})
	})
	c.Intercept(ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			v, err := next.Query(ctx, q)
			if err != nil {
				err = typedError(d, "the read", err, false, true, err)
			}
			return v, err
		})
	}))
}

// inTransaction returns the transaction a mutation runs in; the error is
// non-nil outside one. Every generated mutation has Tx.
func inTransaction(m ent.Mutation) (*ent.Tx, error) {
	if t, ok := m.(interface{ Tx() (*ent.Tx, error) }); ok {
		return t.Tx()
	}
	return nil, errors.New("no transaction")
}

// typedError types err, an error of op: an *OutcomeUnknownError when a
// write that ran alone (not inTx) lost its connection after it was sent, a
// *RetryableError when a retry may cure it (inside a transaction a lost
// connection counts too: the transaction was rolled back), else plain; an
// error typed already is returned as it is. plain is what an untyped error
// becomes (the caller's wrapping of err).
func typedError(d dialects.ErrorClassifier, op string, err error, write, inTx bool, plain error) error {
	var retryable *RetryableError
	var unknown *OutcomeUnknownError
	switch {
	case errors.As(err, &retryable) || errors.As(err, &unknown):
		return err
	case write && !inTx && d.OutcomeUnknown(err):
		return &OutcomeUnknownError{Op: op, Err: err}
	case d.IsRetryable(err) || (inTx && d.OutcomeUnknown(err)):
		return &RetryableError{Attempts: 1, Err: plain}
	}
	return plain
}
