package postgres_test

import (
	"testing"

	"github.com/prefectdb/prefectdb/dialects/dialecttest"
	"github.com/prefectdb/prefectdb/internal/testutil"
)

// TestConformance runs the dialects' conformance suite on this dialect.
func TestConformance(t *testing.T) {
	dialecttest.Run(t, dialecttest.Factory{Name: "postgres", Empty: testutil.EmptyPostgres, Migrated: testutil.MigratedPostgres})
}
