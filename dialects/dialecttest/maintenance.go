package dialecttest

import (
	"regexp"
	"testing"

	"github.com/prefectdb/prefectdb/internal/testutil"
)

// versionPattern is what ServerVersion returns: a name, a space, and a
// version number ("PostgreSQL 15.20", "SQLite 3.54.1").
var versionPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z ]* [0-9]+(\.[0-9]+)*[0-9A-Za-z.-]*$`)

// testMaintenance: ServerVersion names the software and its version, and
// Settle runs after writes without changing what is stored.
func testMaintenance(t *testing.T, db *testutil.DB) {
	ctx := testutil.Context(t)
	v, err := db.Dialect.ServerVersion(ctx, db.SQL)
	if err != nil {
		t.Fatalf("ServerVersion: %v", err)
	}
	if !versionPattern.MatchString(v) {
		t.Errorf("ServerVersion = %q, want a name and a version number", v)
	}
	for k := range 50 {
		if _, err := db.Client.Flow.Create().SetName("settle-" + string(rune('a'+k%26)) + string(rune('a'+k/26))).Save(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Dialect.Settle(ctx, db.SQL); err != nil {
		t.Fatalf("Settle: %v", err)
	}
	if n, err := db.Client.Flow.Query().Count(ctx); err != nil || n != 50 {
		t.Fatalf("after Settle: %d flows, %v; want 50", n, err)
	}
}
