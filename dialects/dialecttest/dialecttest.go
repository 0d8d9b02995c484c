// Package dialecttest is the conformance suite of prefectdb's dialects:
// every behaviour a dialect promises (the query components, scheduling and
// polls, the flow run graph, transitions, bulk ingest, the configuration
// cache, bad input), checked on real databases. Each dialect's own package
// runs it from a test:
//
//	func TestConformance(t *testing.T) {
//		dialecttest.Run(t, dialecttest.Factory{Name: "postgres",
//			Empty: testutil.EmptyPostgres, Migrated: testutil.MigratedPostgres})
//	}
//
// and a new dialect (another driver mode, another database) proves itself
// the same way. The suite's expectations are the same for every dialect;
// where Prefect's databases legitimately differ (row locks against one
// writer), the case says so and asks the dialect which it is (RowLocks,
// Kind).
package dialecttest

import (
	"testing"

	"github.com/prefectdb/prefectdb/internal/testutil"
)

// Factory makes databases of the dialect under test.
type Factory struct {
	// Name names the dialect in messages.
	Name string
	// Empty returns the URL of a new, empty database for the test.
	Empty func(t *testing.T) string
	// Migrated returns the URL of a new database migrated to head.
	Migrated func(t *testing.T) string
}

// testCase is one behaviour of the suite.
type testCase struct {
	name string
	// fn checks the behaviour on a fresh database migrated to head (or to
	// at, when set: a Prefect release).
	fn func(t *testing.T, db *testutil.DB)
	at string
	// multi checks the behaviour on as many fresh databases as it asks for.
	multi func(t *testing.T, newDB func(t *testing.T) *testutil.DB)
	// empty checks the behaviour on a fresh, empty database.
	empty func(t *testing.T, db *testutil.DB)
}

// Run runs every case of the suite as a subtest of t, each on a database of
// its own made by f. The cases run in parallel with each other.
func Run(t *testing.T, f Factory) {
	t.Helper()
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			newDB := func(t *testing.T) *testutil.DB { return testutil.Open(t, f.Migrated(t)) }
			switch {
			case c.empty != nil:
				c.empty(t, testutil.Open(t, f.Empty(t)))
			case c.multi != nil:
				c.multi(t, newDB)
			case c.at != "":
				c.fn(t, testutil.OpenAt(t, f.Empty(t), c.at))
			default:
				c.fn(t, newDB(t))
			}
		})
	}
}
