package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/prefectdb/prefectdb/config"
)

// Scratch hands out fresh, empty databases of one kind and removes them
// again: SQLite files in a temporary directory of its own, or PostgreSQL
// databases named prefectdb_bench_<random>_<role> on a server. It never
// writes to a database it did not create: the database a PostgreSQL URL
// names is only connected to, to run CREATE DATABASE and DROP DATABASE.
type Scratch struct {
	kind    config.Kind
	dir     string // SQLite: the temporary directory, removed by Close
	admin   string // PostgreSQL: the pgx URL of the server's database named in the URL
	prefix  string // PostgreSQL: prefectdb_bench_<random>
	created []string
}

// NewScratch prepares fresh databases. With serverURL empty they are SQLite
// files in a new directory under dir (the system's temporary directory if dir
// is empty). With a PostgreSQL URL they are new databases on that server; the
// URL's user must be allowed to create databases (CREATEDB). Any other URL is
// refused.
func NewScratch(ctx context.Context, serverURL, dir string) (*Scratch, error) {
	if serverURL == "" {
		if dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("bench: %w", err)
			}
		}
		tmp, err := os.MkdirTemp(dir, "prefectdb-bench-")
		if err != nil {
			return nil, fmt.Errorf("bench: temporary directory for SQLite: %w", err)
		}
		return &Scratch{kind: config.SQLite, dir: tmp}, nil
	}
	t, err := config.ParseURL(serverURL)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if t.Kind != config.Postgres {
		return nil, fmt.Errorf("bench: --url must be a PostgreSQL server (%s is %s); "+
			"SQLite benchmarks always run on fresh files in a temporary directory (--dir chooses where)",
			t.Redacted(), t.Kind)
	}
	s := &Scratch{kind: config.Postgres, admin: t.PostgresDSN(), prefix: "prefectdb_bench_" + randomHex(4)}
	conn, err := s.connectAdmin(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var canCreate bool
	err = conn.QueryRow(ctx, `SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&canCreate)
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", config.Redact(serverURL), err)
	}
	if !canCreate {
		return nil, fmt.Errorf("bench: the user of %s may not create databases; "+
			"bench runs on scratch databases it creates and drops, so it needs CREATEDB", config.Redact(serverURL))
	}
	return s, nil
}

// Kind is the kind of database the scratch space hands out.
func (s *Scratch) Kind() config.Kind { return s.kind }

// Location describes where the databases are made, without any password:
// the SQLite directory, or the PostgreSQL server and the database name prefix.
func (s *Scratch) Location() string {
	if s.kind == config.SQLite {
		return s.dir
	}
	return config.Redact(s.urlOf(s.prefix + "_*"))
}

// New creates a new empty database for role (a short lower-case word) and
// returns its URL.
func (s *Scratch) New(ctx context.Context, role string) (string, error) {
	if s.kind == config.SQLite {
		path := filepath.Join(s.dir, role+".db")
		if _, err := os.Stat(path); err == nil {
			return "", fmt.Errorf("bench: %s exists already", path)
		}
		return "sqlite:///" + path, nil
	}
	name := s.prefix + "_" + role
	conn, err := s.connectAdmin(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("bench: create scratch database %s: %w", name, err)
	}
	s.created = append(s.created, name)
	return s.urlOf(name), nil
}

// Close removes every database the scratch space created (PostgreSQL: DROP
// DATABASE … WITH (FORCE)) and the SQLite directory. It runs even when ctx is
// already cancelled (an interrupted run still cleans up).
func (s *Scratch) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if s.kind == config.SQLite {
		return os.RemoveAll(s.dir)
	}
	if len(s.created) == 0 {
		return nil
	}
	conn, err := s.connectAdmin(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var errs []error
	for _, name := range s.created {
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`); err != nil {
			errs = append(errs, fmt.Errorf("bench: drop scratch database %s: %w", name, err))
		}
	}
	s.created = nil
	return errors.Join(errs...)
}

func (s *Scratch) connectAdmin(ctx context.Context) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, s.admin)
	if err != nil {
		return nil, fmt.Errorf("bench: cannot connect to %s: %s", config.Redact(s.admin), scrub(err.Error(), s.admin))
	}
	return conn, nil
}

// urlOf returns the pgx URL of database name on the scratch server.
func (s *Scratch) urlOf(name string) string {
	u, err := url.Parse(s.admin)
	if err != nil {
		return s.admin
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// scrub removes the password of rawURL from msg.
func scrub(msg, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return msg
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, config.RedactedPassword)
	}
	return msg
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
