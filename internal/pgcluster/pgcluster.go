// Package pgcluster starts a throwaway PostgreSQL cluster for a test: its
// own data directory in a temporary directory, its own postmaster listening
// only on 127.0.0.1 on a free port, trust authentication, fsync off. A test
// can stop, crash and restart it without disturbing any other server, which
// is what the server-fault tests need.
//
// It runs Debian's PostgreSQL binaries (/usr/lib/postgresql/<version>/bin,
// the newest version installed). initdb refuses to run as root, so when the
// test runs as root the binaries run as the postgres user (runuser).
// Without the binaries the test is skipped with a message saying so, except
// under CI=true, where it fails instead.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mode is pg_ctl's shutdown mode.
type Mode string

// The shutdown modes.
const (
	// Fast rolls back open transactions and disconnects clients, then shuts
	// down cleanly.
	Fast Mode = "fast"
	// Immediate quits every server process at once, without a shutdown
	// checkpoint: like a crash. The next start runs crash recovery.
	Immediate Mode = "immediate"
)

// Cluster is one running (or stopped) throwaway PostgreSQL cluster.
type Cluster struct {
	bin     string // directory of the PostgreSQL binaries
	base    string // temporary directory: data/, the socket and the log
	port    int
	asUser  string // run the binaries as this user ("" = as ourselves)
	mu      sync.Mutex
	running bool
}

// Binaries returns the bin directory of the newest PostgreSQL installed
// under /usr/lib/postgresql, or an error saying none is.
func Binaries() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", errors.New("no PostgreSQL server binaries (no /usr/lib/postgresql/*/bin/initdb, no initdb on PATH); " +
			"install Debian's postgresql package")
	}
	version := func(p string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(p))), 64)
		return v
	}
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) > version(matches[j]) })
	return filepath.Dir(matches[0]), nil
}

// Start creates and starts a cluster for the test. It is stopped and its
// files removed when the test ends. Without PostgreSQL's binaries the test
// is skipped (under CI=true: failed).
func Start(t testing.TB) *Cluster {
	t.Helper()
	bin, err := Binaries()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgcluster: %v (CI=true: PostgreSQL tests must run)", err)
		}
		t.Skipf("skipping: pgcluster: %v", err)
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		c.asUser = "postgres"
	}
	if err := c.create(); err != nil {
		c.remove()
		t.Fatalf("pgcluster: %v", err)
	}
	t.Cleanup(func() {
		_ = c.Stop(Immediate)
		c.remove()
	})
	if err := c.Start(); err != nil {
		t.Fatalf("pgcluster: %v", err)
	}
	return c
}

// create makes the temporary directory, runs initdb and writes the
// configuration.
func (c *Cluster) create() error {
	// Not t.TempDir: its parent is private to us, and the server may run as
	// another user. The path stays short: a socket path has ~100 bytes.
	base, err := os.MkdirTemp("", "pgcluster-")
	if err != nil {
		return err
	}
	c.base = base
	if c.asUser != "" {
		u, err := user.Lookup(c.asUser)
		if err != nil {
			return fmt.Errorf("running as root needs the %s user to run initdb: %w", c.asUser, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(base, uid, gid); err != nil {
			return err
		}
	}
	if c.port, err = freePort(); err != nil {
		return err
	}
	if out, err := c.run(time.Minute, "initdb", "-D", c.dataDir(), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--no-locale", "-N"); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	conf := strings.Join([]string{
		"",
		"# pgcluster: a throwaway test cluster",
		"listen_addresses = '127.0.0.1'",
		"port = " + strconv.Itoa(c.port),
		"unix_socket_directories = '" + c.base + "'",
		"fsync = off",
		"synchronous_commit = on",
		"full_page_writes = off",
		"max_connections = 50",
		"shared_buffers = 32MB",
		"log_min_messages = warning",
		"",
	}, "\n")
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(conf)
	return errors.Join(err, f.Close())
}

func (c *Cluster) dataDir() string { return filepath.Join(c.base, "data") }
func (c *Cluster) logFile() string { return filepath.Join(c.base, "server.log") }

// Port is the TCP port the server listens on (on 127.0.0.1 only).
func (c *Cluster) Port() int { return c.port }

// URL is the cluster's postgres database as user postgres, over TCP.
func (c *Cluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// DatabaseURL is the URL of another database of the cluster.
func (c *Cluster) DatabaseURL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// Running reports whether the cluster was last started, not stopped.
func (c *Cluster) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running
}

// Start starts the server and waits until it accepts connections (after
// crash recovery, if it was stopped Immediate).
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if out, err := c.run(time.Minute, "pg_ctl", "start", "-w", "-t", "60", "-D", c.dataDir(), "-l", c.logFile()); err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, c.tailLog())
	}
	c.running = true
	return nil
}

// Stop stops the server in the given mode and waits until it has exited.
// Stopping a stopped server does nothing.
func (c *Cluster) Stop(mode Mode) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return nil
	}
	if out, err := c.run(time.Minute, "pg_ctl", "stop", "-w", "-t", "60", "-m", string(mode), "-D", c.dataDir()); err != nil {
		return fmt.Errorf("pg_ctl stop -m %s: %w\n%s", mode, err, out)
	}
	c.running = false
	return nil
}

// Restart stops the server in the given mode, waits down, and starts it
// again.
func (c *Cluster) Restart(mode Mode, down time.Duration) error {
	if err := c.Stop(mode); err != nil {
		return err
	}
	time.Sleep(down)
	return c.Start()
}

// Log returns the server's log so far.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(c.logFile())
	return string(b)
}

func (c *Cluster) tailLog() string {
	l := c.Log()
	if len(l) > 4000 {
		l = "…" + l[len(l)-4000:]
	}
	return l
}

// remove deletes the cluster's files.
func (c *Cluster) remove() {
	if c.base != "" {
		_ = os.RemoveAll(c.base)
	}
}

// run runs one of the PostgreSQL binaries, as c.asUser when set, in the
// cluster's directory, and returns its combined output.
func (c *Cluster) run(timeout time.Duration, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	argv := append([]string{filepath.Join(c.bin, name)}, args...)
	if c.asUser != "" {
		argv = append([]string{"runuser", "-u", c.asUser, "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = c.base
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// pg_ctl start leaves the postmaster running; it writes to the log
	// file, but do not wait on our pipes for it should it keep them.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.Bytes(), err
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
