package dialects

import (
	"fmt"
	"time"
)

// PoolTimeoutError reports an operation that found every pooled connection
// in use for longer than Options.PoolTimeout. Retrying later may succeed;
// a larger pool (PREFECT_SQLALCHEMY_POOL_SIZE, PREFECT_SQLALCHEMY_MAX_OVERFLOW)
// may help if it happens often.
type PoolTimeoutError struct {
	// Size is the pool's connection limit.
	Size int
	// Waited is how long the operation waited.
	Waited time.Duration
}

// Error implements error.
func (e *PoolTimeoutError) Error() string {
	return fmt.Sprintf("all %d pooled database connections stayed in use for %v: the pool is exhausted "+
		"(raise PREFECT_SQLALCHEMY_POOL_SIZE / PREFECT_SQLALCHEMY_MAX_OVERFLOW, or retry later)", e.Size, e.Waited)
}
