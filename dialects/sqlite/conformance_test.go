package sqlite_test

import (
	"testing"

	"github.com/prefectdb/prefectdb/dialects/dialecttest"
	"github.com/prefectdb/prefectdb/internal/testutil"
)

// TestConformance runs the dialects' conformance suite on this dialect.
func TestConformance(t *testing.T) {
	t.Parallel()
	dialecttest.Run(t, dialecttest.Factory{Name: "sqlite", Empty: testutil.EmptySQLite, Migrated: testutil.MigratedSQLite})
}
