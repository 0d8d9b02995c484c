// Package pgbouncer starts a throwaway PgBouncer for a test, in front of a
// PostgreSQL server (typically a pgcluster): Debian's pgbouncer binary, run
// in the foreground as a child process with a generated configuration in a
// temporary directory, listening only on 127.0.0.1 on a free port (no Unix
// socket), trust authentication, and a wildcard [databases] entry so any
// database name is forwarded to the upstream server.
//
// PgBouncer refuses to run as root, so when the test runs as root it runs
// as the postgres user (runuser). Without the binary the test is skipped
// with a message saying so, except under CI=true, where it fails instead.
package pgbouncer

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Options configure a Bouncer. The zero value is transaction pooling, 10
// server connections per pool, and no ignored startup parameters.
type Options struct {
	// PoolMode is pgbouncer's pool_mode: "session", "transaction" or
	// "statement". Default "transaction".
	PoolMode string
	// DefaultPoolSize is default_pool_size, the server connections per
	// user/database pair. Default 10.
	DefaultPoolSize int
	// IgnoreStartupParameters are startup parameters pgbouncer accepts and
	// ignores (ignore_startup_parameters). By default none: pgbouncer then
	// refuses a client that sends any startup parameter it does not track
	// (it tracks client_encoding, DateStyle, TimeZone,
	// standard_conforming_strings and application_name) with "unsupported
	// startup parameter".
	IgnoreStartupParameters []string
}

// Bouncer is one running PgBouncer.
type Bouncer struct {
	dir    string // temporary directory: pgbouncer.ini, userlist.txt, logs
	port   int
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	err    error         // cmd.Wait's error, once exited is closed
}

// Binary returns the path of the pgbouncer binary (/usr/sbin/pgbouncer,
// Debian's, or pgbouncer on PATH), or an error saying there is none.
func Binary() (string, error) {
	const debian = "/usr/sbin/pgbouncer"
	if fi, err := os.Stat(debian); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return debian, nil
	}
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	return "", errors.New("no pgbouncer binary (no /usr/sbin/pgbouncer, no pgbouncer on PATH); install Debian's pgbouncer package")
}

// Start starts a PgBouncer for the test in front of the PostgreSQL server
// at upstreamHost:upstreamPort and waits (up to 10 s) until it accepts TCP
// connections. It is stopped and its files removed when the test ends.
// Without the pgbouncer binary the test is skipped (under CI=true:
// failed).
func Start(t testing.TB, upstreamHost string, upstreamPort int, opts Options) *Bouncer {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgbouncer: %v (CI=true: PgBouncer tests must run)", err)
		}
		t.Skipf("skipping: pgbouncer: %v", err)
	}
	b := &Bouncer{exited: make(chan struct{})}
	t.Cleanup(b.stop)
	if err := b.start(bin, upstreamHost, upstreamPort, opts); err != nil {
		t.Fatalf("pgbouncer: %v", err)
	}
	return b
}

// start writes the configuration, starts pgbouncer and waits for it to
// listen.
func (b *Bouncer) start(bin, upstreamHost string, upstreamPort int, opts Options) error {
	asUser := ""
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		asUser = "postgres"
		u, err := user.Lookup(asUser)
		if err != nil {
			return fmt.Errorf("pgbouncer refuses to run as root, and there is no %s user to run it as: %w", asUser, err)
		}
		if uid, err = strconv.Atoi(u.Uid); err != nil {
			return fmt.Errorf("uid of %s: %w", asUser, err)
		}
		if gid, err = strconv.Atoi(u.Gid); err != nil {
			return fmt.Errorf("gid of %s: %w", asUser, err)
		}
	}

	// Not t.TempDir: its parent is private to us, and pgbouncer may run as
	// another user.
	dir, err := os.MkdirTemp("", "pgbouncer-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	b.dir = dir
	if b.port, err = freePort(); err != nil {
		return fmt.Errorf("choosing a port: %w", err)
	}

	poolMode := opts.PoolMode
	if poolMode == "" {
		poolMode = "transaction"
	}
	poolSize := opts.DefaultPoolSize
	if poolSize <= 0 {
		poolSize = 10
	}
	ini := strings.Join([]string{
		"; pgbouncer package: a throwaway test PgBouncer",
		"[databases]",
		"* = host=" + upstreamHost + " port=" + strconv.Itoa(upstreamPort),
		"",
		"[pgbouncer]",
		"listen_addr = 127.0.0.1",
		"listen_port = " + strconv.Itoa(b.port),
		"unix_socket_dir =",
		"auth_type = trust",
		"auth_file = " + filepath.Join(dir, "userlist.txt"),
		"pool_mode = " + poolMode,
		"max_client_conn = 200",
		"default_pool_size = " + strconv.Itoa(poolSize),
		"ignore_startup_parameters = " + strings.Join(opts.IgnoreStartupParameters, ","),
		"admin_users = postgres",
		"logfile = " + b.logFile(),
		"",
	}, "\n")
	files := []struct{ name, text string }{
		{"pgbouncer.ini", ini},
		{"userlist.txt", `"postgres" ""` + "\n"},
		{"pgbouncer.log", ""},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, []byte(f.text), 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		if uid >= 0 {
			if err := os.Chown(path, uid, gid); err != nil {
				return fmt.Errorf("chown %s to %s: %w", path, asUser, err)
			}
		}
	}
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			return fmt.Errorf("chown %s to %s: %w", dir, asUser, err)
		}
	}

	// stderr gets what pgbouncer says before it opens its log file (a bad
	// configuration, say); the file is ours, the child inherits it open.
	stderr, err := os.Create(filepath.Join(dir, "stderr.log"))
	if err != nil {
		return fmt.Errorf("creating stderr.log: %w", err)
	}
	defer stderr.Close()

	argv := []string{bin, filepath.Join(dir, "pgbouncer.ini")}
	if asUser != "" {
		argv = append([]string{"runuser", "-u", asUser, "--"}, argv...)
	}
	b.cmd = exec.Command(argv[0], argv[1:]...)
	b.cmd.Dir = dir
	b.cmd.Stdout = stderr
	b.cmd.Stderr = stderr
	// Its own process group, so that stop signals runuser and pgbouncer
	// alike.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := b.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", strings.Join(argv, " "), err)
	}
	go func() {
		b.err = b.cmd.Wait()
		close(b.exited)
	}()

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-b.exited:
			return fmt.Errorf("pgbouncer exited before it listened on %s: %v\n%s", addr, b.err, b.tail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgbouncer does not accept connections on %s after 10 s: %w\n%s", addr, err, b.tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop stops pgbouncer (SIGINT to its process group, then after 5 s
// SIGKILL) and removes its files.
func (b *Bouncer) stop() {
	if b.cmd != nil && b.cmd.Process != nil {
		pgid := b.cmd.Process.Pid // Setpgid: the group is the child's pid
		_ = syscall.Kill(-pgid, syscall.SIGINT)
		select {
		case <-b.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-b.exited
		}
	}
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

func (b *Bouncer) logFile() string { return filepath.Join(b.dir, "pgbouncer.log") }

// Port is the TCP port pgbouncer listens on (on 127.0.0.1 only).
func (b *Bouncer) Port() int { return b.port }

// URL is the URL of database through pgbouncer, as user postgres, without
// TLS.
func (b *Bouncer) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", b.port, database)
}

// Log returns pgbouncer's log so far (its log file, then anything it wrote
// to stderr that is not in the log file's lines).
func (b *Bouncer) Log() string {
	logText, _ := os.ReadFile(b.logFile())
	stderr, _ := os.ReadFile(filepath.Join(b.dir, "stderr.log"))
	var extra []string
	for _, line := range strings.Split(string(stderr), "\n") {
		if line != "" && !bytes.Contains(logText, []byte(line)) {
			extra = append(extra, line)
		}
	}
	if len(extra) == 0 {
		return string(logText)
	}
	return string(logText) + strings.Join(extra, "\n") + "\n"
}

// tail is the end of Log, for error messages.
func (b *Bouncer) tail() string {
	l := b.Log()
	if len(l) > 4000 {
		l = "…" + l[len(l)-4000:]
	}
	return l
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
