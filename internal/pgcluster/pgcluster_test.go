package pgcluster_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/prefectdb/prefectdb/internal/pgcluster"
)

// TestStartStopRestart: the cluster answers on its URL, not after a stop
// (fast or immediate), and again after a start; a crash keeps committed
// rows.
func TestStartStopRestart(t *testing.T) {
	c := pgcluster.Start(t)
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", c.URL())
		if err != nil {
			return err
		}
		defer db.Close()
		return db.PingContext(ctx)
	}
	exec := func(q string) {
		t.Helper()
		db, err := sql.Open("pgx", c.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := ping(); err != nil {
		t.Fatalf("fresh cluster: %v", err)
	}
	exec("CREATE TABLE kept (x int); INSERT INTO kept VALUES (1)")
	for _, mode := range []pgcluster.Mode{pgcluster.Fast, pgcluster.Immediate} {
		if err := c.Stop(mode); err != nil {
			t.Fatal(err)
		}
		if c.Running() || ping() == nil {
			t.Fatalf("stopped (%s) cluster still answers", mode)
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		if err := ping(); err != nil {
			t.Fatalf("restarted after %s stop: %v", mode, err)
		}
	}
	exec("DO $$ BEGIN IF (SELECT count(*) FROM kept) <> 1 THEN RAISE 'lost the row'; END IF; END $$")
}
