package pgcluster

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// StartStandby creates a streaming-replication standby of c (which must
// have been started with Options.Replication and be running): a
// pg_basebackup of c into its own temporary directory (-R -X stream, so it
// follows c), with its own port and socket directory. It starts the
// standby, waits until it accepts (read-only) connections, and stops and
// removes it when the test ends. The standby shares c's options and, with
// TLS, c's certificates (so it needs c's files until it is stopped; the
// cleanups run in the right order).
func (c *Cluster) StartStandby(t testing.TB) *Cluster {
	t.Helper()
	if !c.opts.Replication {
		t.Fatal("pgcluster: StartStandby needs a primary started with Options{Replication: true}")
	}
	s := &Cluster{bin: c.bin, asUser: c.asUser, opts: c.opts, tls: c.tls, standby: true}
	if err := s.createStandby(c); err != nil {
		s.remove()
		t.Fatalf("pgcluster: standby: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Stop(Immediate)
		s.remove()
	})
	if err := s.Start(); err != nil {
		t.Fatalf("pgcluster: standby: %v", err)
	}
	return s
}

// createStandby makes c's directory and clones primary into it.
func (c *Cluster) createStandby(primary *Cluster) error {
	if err := c.makeBase(); err != nil {
		return err
	}
	// -c fast: do not wait for a spread checkpoint on the primary.
	if out, err := c.run(2*time.Minute, "pg_basebackup", "-D", c.dataDir(), "-R", "-X", "stream", "-c", "fast",
		"-h", "127.0.0.1", "-p", strconv.Itoa(primary.port), "-U", "postgres"); err != nil {
		return fmt.Errorf("pg_basebackup from port %d: %w\n%s", primary.port, err, out)
	}
	// The copied postgresql.conf has the primary's port and socket
	// directory; later lines win.
	conf := strings.Join([]string{
		"",
		"# pgcluster: standby",
		"port = " + strconv.Itoa(c.port),
		"unix_socket_directories = '" + c.base + "'",
		"",
	}, "\n")
	return appendFile(filepath.Join(c.dataDir(), "postgresql.conf"), conf)
}

// Promote promotes a standby (see StartStandby) to a primary: pg_ctl
// promote -w, then it waits (up to a minute) until the server is out of
// recovery and so accepts writes.
func (c *Cluster) Promote() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.standby {
		return errors.New("pgcluster: Promote: not a standby")
	}
	if !c.running {
		return errors.New("pgcluster: Promote: the standby is not running")
	}
	if out, err := c.run(time.Minute, "pg_ctl", "promote", "-w", "-t", "60", "-D", c.dataDir()); err != nil {
		return fmt.Errorf("pgcluster: pg_ctl promote: %w\n%s\n%s", err, out, c.tailLog())
	}
	// Over the Unix socket (trust, no TLS), whatever the options.
	deadline := time.Now().Add(time.Minute)
	var last string
	for {
		out, err := c.run(10*time.Second, "psql", "-X", "-A", "-t", "-h", c.base, "-p", strconv.Itoa(c.port),
			"-U", "postgres", "-d", "postgres", "-c", "SELECT pg_is_in_recovery()")
		if err == nil && strings.TrimSpace(string(out)) == "f" {
			c.standby = false
			return nil
		}
		last = fmt.Sprintf("%v: %s", err, strings.TrimSpace(string(out)))
		if time.Now().After(deadline) {
			return fmt.Errorf("pgcluster: promoted standby still in recovery after a minute (last: %s)\n%s", last, c.tailLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
