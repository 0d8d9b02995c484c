// Package pgcluster starts a throwaway PostgreSQL cluster for a test: its
// own data directory in a temporary directory, its own postmaster listening
// only on 127.0.0.1 on a free port, trust authentication, fsync off. A test
// can stop, crash and restart it without disturbing any other server, which
// is what the server-fault tests need.
//
// StartWith adds options: TLS (certificates generated for the cluster,
// TCP only over TLS, optionally client-certificate authentication) and
// Replication (a primary that StartStandby can clone into a streaming
// standby, which Promote turns into a primary).
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
	"net/url"
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
	opts    Options
	tls     *tlsFiles // nil without Options.TLS
	standby bool      // a standby not yet promoted
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

// Options select optional features of a cluster. The zero value is a
// plain cluster: TCP without TLS, trust authentication, no replication
// settings beyond PostgreSQL's defaults.
type Options struct {
	// TLS turns on ssl with a certificate generated for the cluster: a
	// self-signed CA (CAFile), a server certificate it signed for localhost
	// and 127.0.0.1, and a client certificate with CN postgres
	// (ClientCertFile, ClientKeyFile). TCP connections are then accepted
	// only over TLS (hostssl lines only; the Unix socket stays trust), and
	// URL asks for sslmode=verify-full against localhost.
	TLS bool
	// ClientCert (with TLS only) makes TCP connections authenticate by
	// client certificate (cert auth) instead of trust; URL then carries
	// sslcert and sslkey.
	ClientCert bool
	// Replication configures the cluster as a streaming-replication
	// primary (wal_level=replica, max_wal_senders=5, hot_standby=on, and a
	// pg_hba.conf line for replication connections of postgres from
	// 127.0.0.1, trust), so that StartStandby can clone it.
	Replication bool
}

// Start creates and starts a plain cluster for the test: StartWith with
// the zero Options.
func Start(t testing.TB) *Cluster {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith creates and starts a cluster with the given options for the
// test. It is stopped and its files removed when the test ends. Without
// PostgreSQL's binaries the test is skipped (under CI=true: failed).
func StartWith(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.ClientCert && !opts.TLS {
		t.Fatal("pgcluster: Options.ClientCert needs Options.TLS")
	}
	bin := binariesOrSkip(t)
	c := &Cluster{bin: bin, opts: opts}
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

// binariesOrSkip returns the PostgreSQL bin directory, or skips the test
// (under CI=true: fails it) when there is none.
func binariesOrSkip(t testing.TB) string {
	t.Helper()
	bin, err := Binaries()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgcluster: %v (CI=true: PostgreSQL tests must run)", err)
		}
		t.Skipf("skipping: pgcluster: %v", err)
	}
	return bin
}

// serverIDs returns the uid and gid the server runs as when that is not
// us, else -1, -1.
func (c *Cluster) serverIDs() (uid, gid int, err error) {
	if c.asUser == "" {
		return -1, -1, nil
	}
	u, err := user.Lookup(c.asUser)
	if err != nil {
		return 0, 0, fmt.Errorf("running as root needs the %s user to run the server: %w", c.asUser, err)
	}
	uid, err = strconv.Atoi(u.Uid)
	if err != nil {
		return 0, 0, fmt.Errorf("uid of %s: %w", c.asUser, err)
	}
	gid, err = strconv.Atoi(u.Gid)
	if err != nil {
		return 0, 0, fmt.Errorf("gid of %s: %w", c.asUser, err)
	}
	return uid, gid, nil
}

// makeBase makes the cluster's temporary directory, owned by the server's
// user, and picks its port.
func (c *Cluster) makeBase() error {
	// Not t.TempDir: its parent is private to us, and the server may run as
	// another user. The path stays short: a socket path has ~100 bytes.
	base, err := os.MkdirTemp("", "pgcluster-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	c.base = base
	uid, gid, err := c.serverIDs()
	if err != nil {
		return err
	}
	if uid >= 0 {
		if err := os.Chown(base, uid, gid); err != nil {
			return fmt.Errorf("chown %s to %s: %w", base, c.asUser, err)
		}
	}
	if c.port, err = freePort(); err != nil {
		return fmt.Errorf("choosing a port: %w", err)
	}
	return nil
}

// create makes the temporary directory, runs initdb and writes the
// configuration (and, with TLS, the certificates).
func (c *Cluster) create() error {
	if err := c.makeBase(); err != nil {
		return err
	}
	if out, err := c.run(time.Minute, "initdb", "-D", c.dataDir(), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--no-locale", "-N"); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	lines := []string{
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
	}
	if c.opts.TLS {
		uid, gid, err := c.serverIDs()
		if err != nil {
			return err
		}
		if c.tls, err = makeTLSFiles(filepath.Join(c.base, "tls"), uid, gid); err != nil {
			return fmt.Errorf("TLS certificates: %w", err)
		}
		lines = append(lines,
			"ssl = on",
			"ssl_cert_file = '"+c.tls.serverCert+"'",
			"ssl_key_file = '"+c.tls.serverKey+"'",
			"ssl_ca_file = '"+c.tls.caCert+"'",
		)
	}
	if c.opts.Replication {
		lines = append(lines,
			"wal_level = replica",
			"max_wal_senders = 5",
			"hot_standby = on",
		)
	}
	if err := appendFile(filepath.Join(c.dataDir(), "postgresql.conf"), strings.Join(lines, "\n")+"\n"); err != nil {
		return err
	}
	return c.writeHBA()
}

// writeHBA adapts initdb's pg_hba.conf (all trust, local and TCP) to the
// options: with TLS it is replaced so that TCP connections must use TLS
// (and, with ClientCert, a client certificate); with Replication a line
// for replication connections from 127.0.0.1 is added.
func (c *Cluster) writeHBA() error {
	path := filepath.Join(c.dataDir(), "pg_hba.conf")
	if !c.opts.TLS {
		if !c.opts.Replication {
			return nil
		}
		return appendFile(path, "\n# pgcluster: Replication\nhost replication postgres 127.0.0.1/32 trust\n")
	}
	auth := "trust"
	if c.opts.ClientCert {
		auth = "cert"
	}
	hba := []string{
		"# pgcluster: TLS; over TCP only hostssl",
		"local all all trust",
		"local replication all trust",
		"hostssl all all 127.0.0.1/32 " + auth,
	}
	if c.opts.Replication {
		// Trust even with ClientCert: pg_basebackup and the standby's
		// walreceiver run as the server's user, which cannot read the
		// client key (owned by us).
		hba = append(hba, "hostssl replication postgres 127.0.0.1/32 trust")
	}
	if err := os.WriteFile(path, []byte(strings.Join(hba, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing pg_hba.conf: %w", err)
	}
	return nil
}

// appendFile appends text to an existing file.
func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	_, err = f.WriteString(text)
	if err := errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("appending to %s: %w", path, err)
	}
	return nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.base, "data") }
func (c *Cluster) logFile() string { return filepath.Join(c.base, "server.log") }

// Port is the TCP port the server listens on (on 127.0.0.1 only).
func (c *Cluster) Port() int { return c.port }

// URL is the cluster's postgres database as user postgres, over TCP.
// Without TLS it is on 127.0.0.1 with sslmode=disable; with TLS it is on
// localhost with sslmode=verify-full and sslrootcert=CAFile (and, with
// ClientCert, sslcert and sslkey).
func (c *Cluster) URL() string { return c.DatabaseURL("postgres") }

// DatabaseURL is the URL of another database of the cluster, like URL.
func (c *Cluster) DatabaseURL(name string) string {
	if c.tls == nil {
		return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
	}
	q := url.Values{}
	q.Set("sslmode", "verify-full")
	q.Set("sslrootcert", c.tls.caCert)
	if c.opts.ClientCert {
		q.Set("sslcert", c.tls.clientCert)
		q.Set("sslkey", c.tls.clientKey)
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("localhost", strconv.Itoa(c.port)),
		Path:     "/" + name,
		RawQuery: q.Encode(),
	}
	return u.String()
}

// CAFile is the PEM file of the CA that signed the server's and the
// client's certificates of a TLS cluster ("" without TLS).
func (c *Cluster) CAFile() string {
	if c.tls == nil {
		return ""
	}
	return c.tls.caCert
}

// ClientCertFile is the PEM file of a TLS cluster's client certificate,
// CN postgres, signed by CAFile ("" without TLS).
func (c *Cluster) ClientCertFile() string {
	if c.tls == nil {
		return ""
	}
	return c.tls.clientCert
}

// ClientKeyFile is the PEM (PKCS#8) file of ClientCertFile's private key,
// mode 0600, owned by the test process's user ("" without TLS).
func (c *Cluster) ClientKeyFile() string {
	if c.tls == nil {
		return ""
	}
	return c.tls.clientKey
}

// OtherCAFile is the PEM file of a CA unrelated to the cluster's
// certificates, for tests that a client rejects the server when it trusts
// the wrong CA ("" without TLS).
func (c *Cluster) OtherCAFile() string {
	if c.tls == nil {
		return ""
	}
	return c.tls.otherCA
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
