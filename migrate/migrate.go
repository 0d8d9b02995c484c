package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/internal/catalog"
)

// AlembicTable is Prefect's own migration bookkeeping table.
const AlembicTable = "alembic_version"

// operatorVersion is recorded with every revision.
const operatorVersion = "prefectdb"

// Targets accepted by Down besides a version.
const (
	// Base reverts every migration, leaving an empty database.
	Base = "base"
	// OneStep reverts the newest migration.
	OneStep = "-1"
)

// Direction says what a step did.
type Direction string

// Directions of a step.
const (
	Up    Direction = "up"
	Down  Direction = "down"
	Adopt Direction = "adopt"
)

// Step is one applied, reverted or adopted migration.
type Step struct {
	Direction   Direction
	Version     string
	Description string
	Statements  int
	Duration    time.Duration
}

// Options configure a Migrator.
type Options struct {
	// Logger receives one record per step; nil discards.
	Logger *slog.Logger
	// OnStep, if set, is called after every step, e.g. to print progress.
	OnStep func(Step)
	// StatementTimeout bounds each statement of a migration where the
	// database has statement timeouts (PostgreSQL); 0 means none, Prefect's
	// default (PREFECT_SERVER_DATABASE_MIGRATION_TIMEOUT).
	StatementTimeout time.Duration
	// Dir replaces the embedded migration directory of the database's
	// dialect for Up and Status (tests use it to run extra migrations).
	// Down still reads the embedded down files, by file name.
	Dir atlasmigrate.Dir
}

// Migrator migrates one database.
type Migrator struct {
	db      *sql.DB
	d       dialects.Migratable
	log     *slog.Logger
	onStep  func(Step)
	dir     atlasmigrate.Dir
	timeout time.Duration
}

// New returns a Migrator for db, a database of dialect d.
func New(db *sql.DB, d dialects.Migratable, o Options) *Migrator {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Migrator{db: db, d: d, log: log, onStep: o.OnStep, dir: o.Dir, timeout: max(o.StatementTimeout, 0)}
}

// migrationDir returns the directory migrations are read from.
func (m *Migrator) migrationDir() (atlasmigrate.Dir, error) {
	if m.dir != nil {
		if err := atlasmigrate.Validate(m.dir); err != nil {
			return nil, fmt.Errorf("migrate: migration directory does not match its atlas.sum: %w", err)
		}
		return m.dir, nil
	}
	return Dir(m.d)
}

// UnknownRevisionError is returned for a migration target that names no
// migration of the chain.
type UnknownRevisionError struct {
	Revision string
	// Known lists prefectdb's versions.
	Known []string
	// Supported says which Prefect releases the chain covers.
	Supported string
}

func (e *UnknownRevisionError) Error() string {
	versions := "none"
	if len(e.Known) > 0 {
		versions = e.Known[0] + " to " + e.Known[len(e.Known)-1]
	}
	return fmt.Sprintf("unknown revision %q: give a Prefect release (e.g. 3.4.0), a Prefect Alembic revision, "+
		"a prefectdb version (%s), %q, %q or %q; this build of prefectdb supports %s",
		e.Revision, versions, Head, Base, OneStep, e.Supported)
}

// AdoptError is returned when a database carries a Prefect Alembic revision
// that prefectdb does not know: a newer Prefect, Prefect 2.x, or a branch.
// Nothing in the database is changed.
type AdoptError struct {
	Dialect   config.Kind
	Revision  string
	Supported string
}

func (e *AdoptError) Error() string {
	return fmt.Sprintf("this %s database is at Prefect Alembic revision %q, which this build of prefectdb does not know; "+
		"it supports %s. Use a newer prefectdb, or migrate the database with Prefect to a supported release "+
		"(`prefect server database downgrade -r REVISION`). Nothing was changed",
		e.Dialect, e.Revision, e.Supported)
}

// TargetBehindError is returned by UpTo when the database is already newer
// than the target.
type TargetBehindError struct {
	Current, Target string
}

func (e *TargetBehindError) Error() string {
	return fmt.Sprintf("the database is at %s, newer than the target %s; use `migrate down --to` to go back", e.Current, e.Target)
}

// SchemaMismatchError is returned when a database is not in the state its
// revisions say it is in: a Prefect database that does not have Prefect
// 3.0's schema, or a non-empty database that no migration created.
type SchemaMismatchError struct {
	Reason      string
	Differences []string
}

func (e *SchemaMismatchError) Error() string {
	shown := e.Differences
	if len(shown) > 10 {
		shown = append(slices.Clone(shown[:10]), fmt.Sprintf("... and %d more", len(e.Differences)-10))
	}
	return fmt.Sprintf("%s; nothing was changed: %s", e.Reason, strings.Join(shown, "; "))
}

// Up applies every pending migration, up to the newest Prefect revision,
// except on a database whose schema Prefect itself migrated (one that Up
// adopts, or adopted before): there it records Prefect's revision and stops,
// because moving the database past the revision of the Prefect release that
// runs on it would stop that server from starting. UpTo(ctx, Head), or a
// release, upgrades such a database.
func (m *Migrator) Up(ctx context.Context) ([]Step, error) {
	return m.upTo(ctx, Head, true)
}

// UpTo applies pending migrations, each in its own transaction, while holding
// the migration lock, up to target: "head", a Prefect release ("3.4.0"; "3.4"
// for the newest 3.4.x), a Prefect Alembic revision or a prefectdb version.
// Prefect's alembic_version moves with every step, in the step's transaction.
//
// A database that Prefect itself migrated is adopted first at its Alembic
// revision (any revision of Prefect's 3.x chain); a database whose
// alembic_version moved on or back since prefectdb last migrated it (Prefect
// upgraded or downgraded it) is brought back in step with it.
func (m *Migrator) UpTo(ctx context.Context, target string) ([]Step, error) {
	return m.upTo(ctx, target, false)
}

func (m *Migrator) upTo(ctx context.Context, target string, stayOnPrefect bool) ([]Step, error) {
	dir, chain, stop, err := m.target(target)
	if err != nil {
		return nil, err
	}
	var steps []Step
	err = m.withLock(ctx, func(conn *sql.Conn) error {
		adopted, err := m.reconcile(ctx, conn, chain)
		if err != nil {
			return err
		}
		for _, s := range adopted {
			steps = append(steps, m.report(s))
		}
		revs, err := m.appliedRevisions(ctx, conn)
		if err != nil {
			return err
		}
		if len(revs) > 0 {
			last := revs[len(revs)-1]
			cur := chain.IndexOfVersion(last.Version)
			if stayOnPrefect && last.Type&atlasmigrate.RevisionTypeBaseline != 0 {
				stop = min(stop, cur) // Prefect's revision: Up stays there
			}
			if cur > stop {
				return &TargetBehindError{Current: describeLink(chain, cur), Target: describeLink(chain, stop)}
			}
		}
		for {
			step, err := m.upOne(ctx, conn, dir, chain, stop)
			if err != nil || step == nil {
				return err
			}
			steps = append(steps, m.report(*step))
		}
	})
	if len(steps) > 0 {
		m.d.AfterSchemaChange(m.db)
	}
	return steps, err
}

// target reads the migration directory and its chain, and finds the
// position of target in it.
func (m *Migrator) target(target string) (atlasmigrate.Dir, *Chain, int, error) {
	dir, err := m.migrationDir()
	if err != nil {
		return nil, nil, -1, err
	}
	chain, err := buildChain(m.d, dir)
	if err != nil {
		return nil, nil, -1, err
	}
	stop, err := resolve(chain, target)
	if err != nil {
		return nil, nil, -1, err
	}
	return dir, chain, stop, nil
}

// resolve is Chain.Resolve with the error that lists prefectdb's versions.
func resolve(c *Chain, target string) (int, error) {
	i, err := c.Resolve(target)
	if err != nil {
		known := make([]string, len(c.Links))
		for j, l := range c.Links {
			known[j] = l.Version
		}
		return -1, &UnknownRevisionError{Revision: target, Known: known, Supported: c.SupportedReleases()}
	}
	return i, nil
}

func describeLink(c *Chain, i int) string {
	if i < 0 {
		return "base (no migration)"
	}
	return fmt.Sprintf("%s (Alembic %s, %s)", c.Links[i].Version, c.AlembicAt(i), c.Describe(i))
}

func (m *Migrator) report(s Step) Step {
	m.log.Info("migration", "direction", s.Direction, "version", s.Version, "name", s.Description,
		"statements", s.Statements, "duration", s.Duration)
	if m.onStep != nil {
		m.onStep(s)
	}
	return s
}

func (m *Migrator) withLock(ctx context.Context, fn func(*sql.Conn) error) (err error) {
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close()
	release, err := m.d.LockMigrations(ctx, conn)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer func() { err = errors.Join(err, release(ctx)) }()
	return fn(conn)
}

// inTx runs fn in a migration transaction and commits unless fn fails or
// asks for a rollback by returning commit=false.
func (m *Migrator) inTx(ctx context.Context, conn *sql.Conn, fn func(tx dialects.MigrationTx) (commit bool, err error)) error {
	tx, err := m.d.BeginMigration(ctx, conn, m.timeout)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	commit, err := fn(tx)
	if err != nil || !commit {
		return errors.Join(err, tx.Rollback(ctx))
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

func (m *Migrator) upOne(ctx context.Context, conn *sql.Conn, dir atlasmigrate.Dir, chain *Chain, stop int) (*Step, error) {
	var step *Step
	err := m.inTx(ctx, conn, func(tx dialects.MigrationTx) (bool, error) {
		if _, err := tx.ExecContext(ctx, createRevisionTable); err != nil {
			return false, fmt.Errorf("migrate: create %s: %w", RevisionTable, err)
		}
		ex, err := m.executor(ctx, tx, dir)
		if err != nil {
			return false, err
		}
		files, err := ex.Pending(ctx)
		if errors.Is(err, atlasmigrate.ErrNoPendingFiles) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("migrate: find pending migrations: %w", err)
		}
		f := files[0]
		idx := chain.IndexOfVersion(f.Version())
		if idx > stop {
			return false, nil
		}
		stmts, err := f.Stmts()
		if err != nil {
			return false, fmt.Errorf("migrate: read %s: %w", f.Name(), err)
		}
		start := time.Now()
		if data := dataSteps[chain.Links[idx].Alembic]; data != nil {
			if err := data(ctx, m.d, tx); err != nil {
				return false, fmt.Errorf("migrate: apply %s (rolled back): %w", f.Name(), err)
			}
		}
		if err := ex.Execute(ctx, f); err != nil {
			return false, fmt.Errorf("migrate: apply %s (rolled back): %w", f.Name(), err)
		}
		if err := stampAlembic(ctx, tx, chain.AlembicAt(idx)); err != nil {
			return false, err
		}
		step = &Step{Direction: Up, Version: f.Version(), Description: f.Desc(), Statements: len(stmts), Duration: time.Since(start)}
		return true, nil
	})
	return step, err
}

// createAlembicTable is Prefect's alembic_version table, as Alembic creates
// it on both databases.
const createAlembicTable = `CREATE TABLE IF NOT EXISTS ` + AlembicTable + ` (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
)`

// stampAlembic records rev as the database's Prefect Alembic revision,
// creating alembic_version if it does not exist.
func stampAlembic(ctx context.Context, q schema.ExecQuerier, rev string) error {
	if !alembicRevisionPattern.MatchString(rev) {
		return fmt.Errorf("migrate: %q is not an Alembic revision", rev)
	}
	for _, stmt := range []string{
		createAlembicTable,
		"DELETE FROM " + AlembicTable,
		// rev is twelve hex digits (checked above), so the literal is safe.
		"INSERT INTO " + AlembicTable + " (version_num) VALUES ('" + rev + "')",
	} {
		if _, err := q.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: set %s to %s: %w", AlembicTable, rev, err)
		}
	}
	return nil
}

func (m *Migrator) executor(ctx context.Context, tx dialects.MigrationTx, dir atlasmigrate.Dir) (*atlasmigrate.Executor, error) {
	drv, err := m.d.AtlasDriver(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	ex, err := atlasmigrate.NewExecutor(drv, dir, m.revisions(tx),
		atlasmigrate.WithAllowDirty(true), atlasmigrate.WithOperatorVersion(operatorVersion))
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return ex, nil
}

func (m *Migrator) revisions(q schema.ExecQuerier) *revisions {
	return &revisions{q: q, dialect: m.d.EntDialect()}
}

// existingTables reports which of the named tables exist in the current
// schema.
func (m *Migrator) existingTables(ctx context.Context, q schema.ExecQuerier, names ...string) (map[string]bool, error) {
	drv, err := m.d.AtlasDriver(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	s, err := drv.InspectSchema(ctx, "", &schema.InspectOptions{Tables: names, Mode: schema.InspectTables})
	if err != nil {
		return nil, fmt.Errorf("migrate: inspect tables: %w", err)
	}
	out := map[string]bool{}
	for _, t := range s.Tables {
		out[t.Name] = true
	}
	return out, nil
}

// appliedRevisions returns the recorded revisions (none when the revision
// table does not exist).
func (m *Migrator) appliedRevisions(ctx context.Context, q schema.ExecQuerier) ([]*atlasmigrate.Revision, error) {
	exists, err := m.existingTables(ctx, q, RevisionTable)
	if err != nil || !exists[RevisionTable] {
		return nil, err
	}
	return m.revisions(q).ReadRevisions(ctx)
}

// reconcile brings prefectdb's revision records in step with Prefect's
// alembic_version before migrating, in one transaction:
//   - an empty database is left alone;
//   - a database that Prefect migrated is adopted at its Alembic revision:
//     every migration up to it is recorded as applied without being run (at
//     Prefect 3.0's head the schema is first compared with Prefect 3.0's);
//   - a database that prefectdb migrated and Prefect then upgraded or
//     downgraded gets the revisions in between recorded or removed;
//   - a database made by an older prefectdb without alembic_version gets it.
//
// A revision that the chain does not know, or Prefect tables with no history
// at all, are refused, and nothing is changed.
func (m *Migrator) reconcile(ctx context.Context, conn *sql.Conn, chain *Chain) ([]Step, error) {
	var steps []Step
	err := m.inTx(ctx, conn, func(tx dialects.MigrationTx) (bool, error) {
		revs, err := m.appliedRevisions(ctx, tx)
		if err != nil {
			return false, err
		}
		exists, err := m.existingTables(ctx, tx, AlembicTable)
		if err != nil {
			return false, err
		}
		revision := ""
		if exists[AlembicTable] {
			if revision, err = alembicRevision(ctx, tx); err != nil {
				return false, err
			}
		}
		at := chain.IndexOfAlembic(revision)
		if revision != "" && at < 0 {
			return false, &AdoptError{Dialect: m.d.Kind(), Revision: revision, Supported: chain.SupportedReleases()}
		}
		if len(revs) == 0 {
			if revision == "" {
				return false, m.checkEmpty(ctx, tx)
			}
			if at == 0 {
				if err := m.checkPrefect30(ctx, tx, revision); err != nil {
					return false, err
				}
			}
			if err := m.recordAdopted(ctx, tx, chain, 0, at); err != nil {
				return false, err
			}
			steps = append(steps, Step{Direction: Adopt, Version: chain.Links[at].Version,
				Description: fmt.Sprintf("database made by %s (Alembic %s), recorded as migrated up to %s",
					chain.Describe(at), revision, chain.Links[at].Name)})
			return true, nil
		}
		last := chain.IndexOfVersion(revs[len(revs)-1].Version)
		if last < 0 {
			return false, fmt.Errorf("migrate: the database was migrated to %s, which this build of prefectdb does not have; use the build that migrated it", revs[len(revs)-1].Version)
		}
		switch {
		case revision == "":
			// Made by a prefectdb that did not keep alembic_version yet.
			if err := stampAlembic(ctx, tx, chain.AlembicAt(last)); err != nil {
				return false, err
			}
			return true, nil
		case at == last || chain.AlembicAt(last) == revision:
			return false, nil
		case at > last:
			if err := m.recordAdopted(ctx, tx, chain, last+1, at); err != nil {
				return false, err
			}
			steps = append(steps, Step{Direction: Adopt, Version: chain.Links[at].Version,
				Description: fmt.Sprintf("Prefect upgraded the database to %s (Alembic %s); recorded", chain.Describe(at), revision)})
		default:
			for _, r := range revs {
				if chain.IndexOfVersion(r.Version) > at {
					if err := m.revisions(tx).DeleteRevision(ctx, r.Version); err != nil {
						return false, err
					}
				}
			}
			steps = append(steps, Step{Direction: Adopt, Version: chain.Links[at].Version,
				Description: fmt.Sprintf("Prefect downgraded the database to %s (Alembic %s); recorded", chain.Describe(at), revision)})
		}
		return true, nil
	})
	return steps, err
}

// checkEmpty refuses a database that holds Prefect's tables but neither
// prefectdb's nor Prefect's migration history.
func (m *Migrator) checkEmpty(ctx context.Context, tx dialects.MigrationTx) error {
	head, err := Desired(m.d)
	if err != nil {
		return err
	}
	v30, err := catalog.Reference(string(m.d.Kind()))
	if err != nil {
		return err
	}
	var names []string
	for _, s := range []*catalog.Schema{head, v30} {
		for _, t := range s.Tables {
			if !slices.Contains(names, t.Name) {
				names = append(names, t.Name)
			}
		}
	}
	exists, err := m.existingTables(ctx, tx, names...)
	if err != nil {
		return err
	}
	if len(exists) == 0 {
		return nil
	}
	found := make([]string, 0, len(exists))
	for name := range exists {
		found = append(found, "table "+name+" exists")
	}
	slices.Sort(found)
	return &SchemaMismatchError{
		Reason:      "the database already has Prefect tables but no migration history (neither prefectdb's nor Prefect's alembic_version); migrate an empty database or one created by Prefect 3.x",
		Differences: found,
	}
}

// checkPrefect30 compares a database at Prefect 3.0's head with Prefect
// 3.0's schema.
func (m *Migrator) checkPrefect30(ctx context.Context, tx dialects.MigrationTx, revision string) error {
	desired, err := catalog.Reference(string(m.d.Kind()))
	if err != nil {
		return err
	}
	live, err := m.readCatalog(ctx, tx)
	if err != nil {
		return fmt.Errorf("migrate: read catalog: %w", err)
	}
	if diff := catalog.Compare(desired, live); len(diff) > 0 {
		return &SchemaMismatchError{
			Reason:      fmt.Sprintf("the database is at Prefect's alembic revision %s but its schema differs from Prefect 3.0's", revision),
			Differences: diff,
		}
	}
	return nil
}

// recordAdopted records the migrations from..to (positions in the chain) as
// applied without running them: Prefect applied their equivalents.
func (m *Migrator) recordAdopted(ctx context.Context, tx dialects.MigrationTx, chain *Chain, from, to int) error {
	dir, err := m.migrationDir()
	if err != nil {
		return err
	}
	sum, err := dir.Checksum()
	if err != nil {
		return fmt.Errorf("migrate: checksum: %w", err)
	}
	files, err := dir.Files()
	if err != nil {
		return fmt.Errorf("migrate: read migration directory: %w", err)
	}
	if _, err := tx.ExecContext(ctx, createRevisionTable); err != nil {
		return fmt.Errorf("migrate: create %s: %w", RevisionTable, err)
	}
	for i := from; i <= to; i++ {
		f := files[i]
		stmts, err := f.Stmts()
		if err != nil {
			return fmt.Errorf("migrate: read %s: %w", f.Name(), err)
		}
		hash, err := sum.SumByName(f.Name())
		if err != nil {
			return fmt.Errorf("migrate: checksum of %s: %w", f.Name(), err)
		}
		if err := m.revisions(tx).WriteRevision(ctx, &atlasmigrate.Revision{
			Version: f.Version(), Description: f.Desc(), Type: atlasmigrate.RevisionTypeBaseline,
			Applied: len(stmts), Total: len(stmts), ExecutedAt: time.Now(), Hash: hash, OperatorVersion: operatorVersion,
		}); err != nil {
			return fmt.Errorf("migrate: record adopted %s: %w", f.Name(), err)
		}
	}
	return nil
}

// alembicRevision reads the revision in Prefect's alembic_version table, ""
// when the table is empty.
func alembicRevision(ctx context.Context, q schema.ExecQuerier) (string, error) {
	rows, err := q.QueryContext(ctx, "SELECT version_num FROM "+AlembicTable)
	if err != nil {
		return "", fmt.Errorf("migrate: read %s: %w", AlembicTable, err)
	}
	defer rows.Close()
	var versions []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return "", fmt.Errorf("migrate: read %s: %w", AlembicTable, err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("migrate: read %s: %w", AlembicTable, err)
	}
	if len(versions) > 1 {
		return "", fmt.Errorf("migrate: %s holds %d revisions (%s); Prefect keeps exactly one", AlembicTable, len(versions), strings.Join(versions, ", "))
	}
	if len(versions) == 0 {
		return "", nil
	}
	return versions[0], nil
}

// Down reverts migrations, newest first, each in its own transaction, moving
// Prefect's alembic_version back with each: target OneStep ("-1") reverts
// the newest, Base ("base") reverts all of them and leaves an empty
// database, and any other target (a Prefect release, an Alembic revision or
// a prefectdb version) reverts every migration newer than it. There is no
// default target: "" is an error. Down deletes whatever the reverted
// migrations drop; DownLosses says what that is, without changing anything.
func (m *Migrator) Down(ctx context.Context, target string) ([]Step, error) {
	p, err := m.newDownPlan(target)
	if err != nil {
		return nil, err
	}
	var steps []Step
	err = m.withLock(ctx, func(conn *sql.Conn) error {
		adopted, err := m.reconcile(ctx, conn, p.chain)
		if err != nil {
			return err
		}
		for _, s := range adopted {
			steps = append(steps, m.report(s))
		}
		revs, revert, err := p.revert(ctx, m, conn)
		if err != nil {
			return err
		}
		for i := len(revert) - 1; i >= 0; i-- {
			step, err := m.downOne(ctx, conn, p.chain, revert[i], p.files[revert[i].Version])
			if err != nil {
				return err
			}
			steps = append(steps, m.report(*step))
		}
		if len(revs) > 0 && len(revert) == len(revs) {
			if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+RevisionTable); err != nil {
				return fmt.Errorf("migrate: drop %s: %w", RevisionTable, err)
			}
		}
		return nil
	})
	if len(steps) > 0 {
		m.d.AfterSchemaChange(m.db)
	}
	return steps, err
}

// downPlan is what a Down to one target reverts.
type downPlan struct {
	chain  *Chain
	files  map[string]atlasmigrate.File
	target string
	stop   int // migrations at positions <= stop are kept
}

func (m *Migrator) newDownPlan(target string) (*downPlan, error) {
	dir, err := m.migrationDir()
	if err != nil {
		return nil, err
	}
	chain, err := buildChain(m.d, dir)
	if err != nil {
		return nil, err
	}
	files, err := dir.Files()
	if err != nil {
		return nil, fmt.Errorf("migrate: read migration directory: %w", err)
	}
	p := &downPlan{chain: chain, files: map[string]atlasmigrate.File{}, target: strings.TrimSpace(target), stop: -1}
	for _, f := range files {
		p.files[f.Version()] = f
	}
	switch p.target {
	case "":
		return nil, errors.New(`migrate: down needs a target: "-1" (one step), "base", a Prefect release, an Alembic revision or a prefectdb version`)
	case OneStep, Base:
	default:
		if p.stop, err = resolve(chain, p.target); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// revert returns the applied revisions and, oldest first, those to revert.
func (p *downPlan) revert(ctx context.Context, m *Migrator, q schema.ExecQuerier) (revs, revert []*atlasmigrate.Revision, err error) {
	if revs, err = m.appliedRevisions(ctx, q); err != nil {
		return nil, nil, err
	}
	stop := p.stop
	if p.target == OneStep {
		stop = -1
		if len(revs) > 0 {
			stop = p.chain.IndexOfVersion(revs[len(revs)-1].Version) - 1
		}
	}
	for _, r := range revs {
		if p.chain.IndexOfVersion(r.Version) > stop {
			revert = append(revert, r)
		}
	}
	return revs, revert, nil
}

// Loss is data that a downgrade deletes.
type Loss struct {
	// Table is the table concerned.
	Table string
	// Column is the dropped column, "" for the whole table or for rows.
	Column string
	// Rows counts the rows of a dropped table, the non-null values of a
	// dropped column, or the rows deleted from a table that stays.
	Rows int64
	// Dropped is true when the table or column itself goes.
	Dropped bool
}

func (l Loss) String() string {
	switch {
	case l.Column != "":
		return fmt.Sprintf("column %s.%s (%d values)", l.Table, l.Column, l.Rows)
	case l.Dropped:
		return fmt.Sprintf("table %s (%d rows)", l.Table, l.Rows)
	}
	return fmt.Sprintf("%d rows of table %s", l.Rows, l.Table)
}

// DownLosses says what Down(ctx, target) would delete: the tables and
// columns it drops that hold data, and the rows it deletes from tables that
// stay. It runs the down migrations in one transaction and rolls it back, so
// nothing changes. Empty tables and columns are not listed.
func (m *Migrator) DownLosses(ctx context.Context, target string) ([]Loss, error) {
	p, err := m.newDownPlan(target)
	if err != nil {
		return nil, err
	}
	var losses []Loss
	err = m.withLock(ctx, func(conn *sql.Conn) error {
		var before, after *catalog.Schema
		var beforeRows map[string]int64
		err := m.inTx(ctx, conn, func(tx dialects.MigrationTx) (bool, error) {
			_, revert, err := p.revert(ctx, m, tx)
			if err != nil || len(revert) == 0 {
				return false, err
			}
			if before, err = m.readCatalog(ctx, tx); err != nil {
				return false, fmt.Errorf("migrate: read catalog: %w", err)
			}
			if beforeRows, err = countRows(ctx, tx, before); err != nil {
				return false, err
			}
			for i := len(revert) - 1; i >= 0; i-- {
				f := p.files[revert[i].Version]
				if f == nil {
					return false, fmt.Errorf("migrate: applied revision %s has no migration file in this build of prefectdb", revert[i].Version)
				}
				down, err := downFile(m.d, f.Name())
				if err != nil {
					return false, err
				}
				stmts, err := down.Stmts()
				if err != nil {
					return false, fmt.Errorf("migrate: read down migration %s: %w", f.Name(), err)
				}
				for _, s := range stmts {
					if _, err := tx.ExecContext(ctx, s); err != nil {
						return false, fmt.Errorf("migrate: revert %s (dry run): %w", f.Name(), err)
					}
				}
			}
			if after, err = m.readCatalog(ctx, tx); err != nil {
				return false, fmt.Errorf("migrate: read catalog: %w", err)
			}
			afterRows, err := countRows(ctx, tx, after)
			if err != nil {
				return false, err
			}
			for _, t := range before.Tables {
				if n := beforeRows[t.Name]; after.Table(t.Name) != nil && afterRows[t.Name] < n {
					losses = append(losses, Loss{Table: t.Name, Rows: n - afterRows[t.Name]})
				}
			}
			return false, nil // a dry run: always roll back
		})
		if err != nil || before == nil {
			return err
		}
		// Dropped tables and columns, counted in the database as it is.
		for _, t := range before.Tables {
			at := after.Table(t.Name)
			if at == nil {
				if n := beforeRows[t.Name]; n > 0 {
					losses = append(losses, Loss{Table: t.Name, Rows: n, Dropped: true})
				}
				continue
			}
			for _, c := range t.Columns {
				if at.Column(c.Name) != nil {
					continue
				}
				var n int64
				q := "SELECT count(*) FROM " + quoteIdent(t.Name) + " WHERE " + quoteIdent(c.Name) + " IS NOT NULL"
				if err := conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
					return fmt.Errorf("migrate: count %s.%s: %w", t.Name, c.Name, err)
				}
				if n > 0 {
					losses = append(losses, Loss{Table: t.Name, Column: c.Name, Rows: n, Dropped: true})
				}
			}
		}
		return nil
	})
	return losses, err
}

// countRows counts the rows of every table of s.
func countRows(ctx context.Context, q schema.ExecQuerier, s *catalog.Schema) (map[string]int64, error) {
	out := make(map[string]int64, len(s.Tables))
	for _, t := range s.Tables {
		rows, err := q.QueryContext(ctx, "SELECT count(*) FROM "+quoteIdent(t.Name))
		if err != nil {
			return nil, fmt.Errorf("migrate: count %s: %w", t.Name, err)
		}
		var n int64
		if rows.Next() {
			err = rows.Scan(&n)
		}
		if err = errors.Join(err, rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("migrate: count %s: %w", t.Name, err)
		}
		out[t.Name] = n
	}
	return out, nil
}

// quoteIdent quotes an identifier read from the catalog; both databases
// quote with double quotes.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func (m *Migrator) downOne(ctx context.Context, conn *sql.Conn, chain *Chain, rev *atlasmigrate.Revision, up atlasmigrate.File) (*Step, error) {
	if up == nil {
		return nil, fmt.Errorf("migrate: applied revision %s has no migration file in this build of prefectdb; use the build that applied it", rev.Version)
	}
	down, err := downFile(m.d, up.Name())
	if err != nil {
		return nil, err
	}
	stmts, err := down.Stmts()
	if err != nil {
		return nil, fmt.Errorf("migrate: read down migration %s: %w", up.Name(), err)
	}
	idx := chain.IndexOfVersion(up.Version())
	start := time.Now()
	err = m.inTx(ctx, conn, func(tx dialects.MigrationTx) (bool, error) {
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return false, fmt.Errorf("migrate: revert %s (rolled back): %s: %w", up.Name(), s, err)
			}
		}
		if idx <= 0 {
			// The baseline: with Prefect's schema gone, Prefect's
			// bookkeeping would describe a schema that no longer exists.
			if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+AlembicTable); err != nil {
				return false, fmt.Errorf("migrate: drop %s: %w", AlembicTable, err)
			}
		} else if err := stampAlembic(ctx, tx, chain.AlembicAt(idx-1)); err != nil {
			return false, err
		}
		return true, m.revisions(tx).DeleteRevision(ctx, rev.Version)
	})
	if err != nil {
		return nil, err
	}
	return &Step{Direction: Down, Version: up.Version(), Description: up.Desc(), Statements: len(stmts), Duration: time.Since(start)}, nil
}

// PendingFiles returns the migration files that UpTo(ctx, target) would
// apply, in order, with their statements; it changes nothing. A database
// that Prefect migrated and UpTo would first adopt is taken at its Alembic
// revision.
func (m *Migrator) PendingFiles(ctx context.Context, target string) ([]atlasmigrate.File, error) {
	dir, chain, stop, err := m.target(target)
	if err != nil {
		return nil, err
	}
	cur := -1
	revs, err := m.appliedRevisions(ctx, m.db)
	if err != nil {
		return nil, err
	}
	if len(revs) > 0 {
		cur = chain.IndexOfVersion(revs[len(revs)-1].Version)
	}
	exists, err := m.existingTables(ctx, m.db, AlembicTable)
	if err != nil {
		return nil, err
	}
	if exists[AlembicTable] {
		rev, err := alembicRevision(ctx, m.db)
		if err != nil {
			return nil, err
		}
		if at := chain.IndexOfAlembic(rev); at > cur {
			cur = at
		}
	}
	files, err := dir.Files()
	if err != nil {
		return nil, fmt.Errorf("migrate: read migration directory: %w", err)
	}
	var out []atlasmigrate.File
	for i := cur + 1; i <= stop && i < len(files); i++ {
		out = append(out, files[i])
	}
	return out, nil
}

// Status describes where a database stands.
type Status struct {
	// Dialect is the database's kind.
	Dialect config.Kind
	// Current is the newest applied version, "" when none is.
	Current string
	// Applied are the recorded revisions, oldest first.
	Applied []*atlasmigrate.Revision
	// Pending are the migration files not applied yet.
	Pending []string
	// AlembicRevision is Prefect's revision recorded in alembic_version, ""
	// when the database has none.
	AlembicRevision string
	// Release names the Prefect release(s) whose schema the database has,
	// e.g. "Prefect 3.4.7 to 3.4.18"; "" for an empty database.
	Release string
	// Supported says which Prefect releases this build of prefectdb covers.
	Supported string
}

// Status reports the applied and pending migrations.
func (m *Migrator) Status(ctx context.Context) (*Status, error) {
	dir, err := m.migrationDir()
	if err != nil {
		return nil, err
	}
	st := &Status{Dialect: m.d.Kind()}
	if st.Applied, err = m.appliedRevisions(ctx, m.db); err != nil {
		return nil, err
	}
	applied := map[string]bool{}
	for _, r := range st.Applied {
		applied[r.Version] = true
		st.Current = r.Version
	}
	files, err := dir.Files()
	if err != nil {
		return nil, fmt.Errorf("migrate: read migration directory: %w", err)
	}
	for _, f := range files {
		if !applied[f.Version()] {
			st.Pending = append(st.Pending, f.Name())
		}
	}
	exists, err := m.existingTables(ctx, m.db, AlembicTable)
	if err != nil {
		return nil, err
	}
	if exists[AlembicTable] {
		if st.AlembicRevision, err = alembicRevision(ctx, m.db); err != nil {
			return nil, err
		}
	}
	chain, err := buildChain(m.d, dir)
	if err != nil {
		return nil, err
	}
	st.Supported = chain.SupportedReleases()
	switch i := chain.IndexOfAlembic(st.AlembicRevision); {
	case i >= 0:
		st.Release = chain.Describe(i)
	case st.AlembicRevision != "":
		st.Release = "unknown to this build of prefectdb"
	case st.Current != "":
		st.Release = chain.Describe(chain.IndexOfVersion(st.Current))
	}
	return st, nil
}

// ErrNoReference is returned by Drift for a database at a revision for which
// prefectdb holds no reference schema.
var ErrNoReference = errors.New("no reference schema for this revision: drift is checked at Prefect 3.0's head and at the newest head")

// Drift compares the live schema with Prefect's schema at the database's
// Alembic revision and returns every difference; none means no drift. The
// bookkeeping tables are left out. References exist for Prefect 3.0's head
// and for the newest head (an empty database is compared with the newest);
// at any other revision Drift returns ErrNoReference.
func (m *Migrator) Drift(ctx context.Context) ([]string, error) {
	var rev string
	exists, err := m.existingTables(ctx, m.db, AlembicTable)
	if err != nil {
		return nil, err
	}
	if exists[AlembicTable] {
		if rev, err = alembicRevision(ctx, m.db); err != nil {
			return nil, err
		}
	}
	desired, head, err := catalog.HeadReference(string(m.d.Kind()))
	if err != nil {
		return nil, err
	}
	switch rev {
	case "", head:
	case m.d.AlembicHead():
		if desired, err = catalog.Reference(string(m.d.Kind())); err != nil {
			return nil, err
		}
	default:
		return nil, ErrNoReference
	}
	live, err := m.readCatalog(ctx, m.db)
	if err != nil {
		return nil, fmt.Errorf("migrate: read catalog: %w", err)
	}
	return catalog.Compare(desired, live), nil
}
