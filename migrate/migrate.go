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
	// Dir replaces the embedded migration directory of the database's
	// dialect for Up and Status (tests use it to run extra migrations).
	// Down still reads the embedded down files, by file name.
	Dir atlasmigrate.Dir
}

// Migrator migrates one database.
type Migrator struct {
	db     *sql.DB
	d      dialects.Dialect
	log    *slog.Logger
	onStep func(Step)
	dir    atlasmigrate.Dir
}

// New returns a Migrator for db, a database of dialect d.
func New(db *sql.DB, d dialects.Dialect, o Options) *Migrator {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Migrator{db: db, d: d, log: log, onStep: o.OnStep, dir: o.Dir}
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

// UnknownRevisionError is returned for a revision that is not one of
// prefectdb's migrations.
type UnknownRevisionError struct {
	Revision string
	Known    []string
}

func (e *UnknownRevisionError) Error() string {
	return fmt.Sprintf("unknown revision %q: known revisions are %s, %q and %q",
		e.Revision, strings.Join(e.Known, ", "), Base, OneStep)
}

// AdoptError is returned when a database made by Prefect is at an alembic
// revision other than the Prefect 3.0 head that prefectdb adopts. Nothing in
// the database is changed.
type AdoptError struct {
	Dialect   dialects.Kind
	Revision  string
	Supported string
}

func (e *AdoptError) Error() string {
	return fmt.Sprintf("this %s database was migrated by Prefect to alembic revision %q, but prefectdb adopts only "+
		"Prefect 3.0 databases at revision %q; migrate it with Prefect to that revision first "+
		"(`prefect server database upgrade` or `downgrade -r %s`). Nothing was changed",
		e.Dialect, e.Revision, e.Supported, e.Supported)
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

// Up applies every pending migration, each in its own transaction, while
// holding the migration lock. On a database that Prefect 3.0 itself migrated
// to head it first records that the baseline is already in place.
func (m *Migrator) Up(ctx context.Context) ([]Step, error) {
	dir, err := m.migrationDir()
	if err != nil {
		return nil, err
	}
	var steps []Step
	err = m.withLock(ctx, func(conn *sql.Conn) error {
		step, err := m.adoptOrCheck(ctx, conn, dir)
		if err != nil {
			return err
		}
		if step != nil {
			steps = append(steps, m.report(*step))
		}
		for {
			step, err := m.upOne(ctx, conn, dir)
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
	tx, err := m.d.BeginMigration(ctx, conn)
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

func (m *Migrator) upOne(ctx context.Context, conn *sql.Conn, dir atlasmigrate.Dir) (*Step, error) {
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
		stmts, err := f.Stmts()
		if err != nil {
			return false, fmt.Errorf("migrate: read %s: %w", f.Name(), err)
		}
		start := time.Now()
		if err := ex.Execute(ctx, f); err != nil {
			return false, fmt.Errorf("migrate: apply %s (rolled back): %w", f.Name(), err)
		}
		step = &Step{Direction: Up, Version: f.Version(), Description: f.Desc(), Statements: len(stmts), Duration: time.Since(start)}
		return true, nil
	})
	return step, err
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

// adoptOrCheck runs before the first migration of a database. A database
// that Prefect 3.0 migrated to head is adopted: its schema is verified and
// the baseline is recorded as applied without running it. A database at any
// other alembic revision is refused, as is a non-empty database that neither
// prefectdb nor Prefect created. Nothing is changed when it refuses.
func (m *Migrator) adoptOrCheck(ctx context.Context, conn *sql.Conn, dir atlasmigrate.Dir) (*Step, error) {
	var step *Step
	err := m.inTx(ctx, conn, func(tx dialects.MigrationTx) (bool, error) {
		revs, err := m.appliedRevisions(ctx, tx)
		if err != nil || len(revs) > 0 {
			return false, err
		}
		desired, err := Desired(m.d)
		if err != nil {
			return false, err
		}
		names := []string{AlembicTable}
		for _, t := range desired.Tables {
			names = append(names, t.Name)
		}
		exists, err := m.existingTables(ctx, tx, names...)
		if err != nil {
			return false, err
		}
		if !exists[AlembicTable] {
			if len(exists) > 0 {
				found := make([]string, 0, len(exists))
				for name := range exists {
					found = append(found, "table "+name+" exists")
				}
				slices.Sort(found)
				return false, &SchemaMismatchError{
					Reason:      "the database already has Prefect tables but no migration history (neither prefectdb's nor Prefect's); migrate an empty database or one created by Prefect 3.0",
					Differences: found,
				}
			}
			return false, nil
		}
		revision, err := alembicRevision(ctx, tx)
		if err != nil {
			return false, err
		}
		if revision == "" && len(exists) == 1 {
			return false, nil // Prefect downgraded to base: an empty database
		}
		if revision != m.d.AlembicHead() {
			return false, &AdoptError{Dialect: m.d.Kind(), Revision: revision, Supported: m.d.AlembicHead()}
		}
		live, err := m.d.ReadCatalog(ctx, tx, AlembicTable, RevisionTable)
		if err != nil {
			return false, fmt.Errorf("migrate: read catalog: %w", err)
		}
		if diff := catalog.Compare(desired, live); len(diff) > 0 {
			return false, &SchemaMismatchError{
				Reason:      fmt.Sprintf("the database is at Prefect's alembic revision %s but its schema differs from Prefect 3.0's", revision),
				Differences: diff,
			}
		}
		files, err := dir.Files()
		if err != nil || len(files) == 0 {
			return false, fmt.Errorf("migrate: read migration directory: %w", err)
		}
		base := files[0]
		stmts, err := base.Stmts()
		if err != nil {
			return false, fmt.Errorf("migrate: read %s: %w", base.Name(), err)
		}
		sum, err := dir.Checksum()
		if err != nil {
			return false, fmt.Errorf("migrate: checksum: %w", err)
		}
		hash, err := sum.SumByName(base.Name())
		if err != nil {
			return false, fmt.Errorf("migrate: checksum of %s: %w", base.Name(), err)
		}
		if _, err := tx.ExecContext(ctx, createRevisionTable); err != nil {
			return false, fmt.Errorf("migrate: create %s: %w", RevisionTable, err)
		}
		if err := m.revisions(tx).WriteRevision(ctx, &atlasmigrate.Revision{
			Version: base.Version(), Description: base.Desc(), Type: atlasmigrate.RevisionTypeBaseline,
			Applied: len(stmts), Total: len(stmts), ExecutedAt: time.Now(), Hash: hash, OperatorVersion: operatorVersion,
		}); err != nil {
			return false, fmt.Errorf("migrate: record adopted baseline: %w", err)
		}
		step = &Step{Direction: Adopt, Version: base.Version(), Description: base.Desc() + " (adopted from Prefect revision " + revision + ")"}
		return true, nil
	})
	return step, err
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

// Down reverts migrations, newest first, each in its own transaction: target
// OneStep ("-1", or "") reverts the newest, Base ("base") reverts all of them
// and leaves an empty database, and a version reverts every migration newer
// than that version.
func (m *Migrator) Down(ctx context.Context, target string) ([]Step, error) {
	dir, err := m.migrationDir()
	if err != nil {
		return nil, err
	}
	files, err := dir.Files()
	if err != nil {
		return nil, fmt.Errorf("migrate: read migration directory: %w", err)
	}
	byVersion := map[string]atlasmigrate.File{}
	var known []string
	for _, f := range files {
		byVersion[f.Version()] = f
		known = append(known, f.Version())
	}
	if target == "" {
		target = OneStep
	}
	if target != OneStep && target != Base && byVersion[target] == nil {
		return nil, &UnknownRevisionError{Revision: target, Known: known}
	}
	var steps []Step
	err = m.withLock(ctx, func(conn *sql.Conn) error {
		revs, err := m.appliedRevisions(ctx, conn)
		if err != nil {
			return err
		}
		var revert []*atlasmigrate.Revision
		switch target {
		case OneStep:
			if len(revs) > 0 {
				revert = revs[len(revs)-1:]
			}
		case Base:
			revert = revs
		default:
			if !slices.ContainsFunc(revs, func(r *atlasmigrate.Revision) bool { return r.Version == target }) {
				return fmt.Errorf("migrate: revision %s is not applied to this database; applied: %s", target, versionsOf(revs))
			}
			for _, r := range revs {
				if r.Version > target {
					revert = append(revert, r)
				}
			}
		}
		for i := len(revert) - 1; i >= 0; i-- {
			step, err := m.downOne(ctx, conn, revert[i], byVersion[revert[i].Version])
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

func versionsOf(revs []*atlasmigrate.Revision) string {
	if len(revs) == 0 {
		return "none"
	}
	v := make([]string, len(revs))
	for i, r := range revs {
		v[i] = r.Version
	}
	return strings.Join(v, ", ")
}

func (m *Migrator) downOne(ctx context.Context, conn *sql.Conn, rev *atlasmigrate.Revision, up atlasmigrate.File) (*Step, error) {
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
	start := time.Now()
	err = m.inTx(ctx, conn, func(tx dialects.MigrationTx) (bool, error) {
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return false, fmt.Errorf("migrate: revert %s (rolled back): %s: %w", up.Name(), s, err)
			}
		}
		if rev.Type&atlasmigrate.RevisionTypeBaseline != 0 {
			// An adopted Prefect database: with its schema gone, Prefect's
			// bookkeeping would describe a schema that no longer exists.
			if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+AlembicTable); err != nil {
				return false, fmt.Errorf("migrate: drop %s: %w", AlembicTable, err)
			}
		}
		return true, m.revisions(tx).DeleteRevision(ctx, rev.Version)
	})
	if err != nil {
		return nil, err
	}
	return &Step{Direction: Down, Version: up.Version(), Description: up.Desc(), Statements: len(stmts), Duration: time.Since(start)}, nil
}

// Status describes where a database stands.
type Status struct {
	// Dialect is the database's kind.
	Dialect dialects.Kind
	// Current is the newest applied version, "" when none is.
	Current string
	// Applied are the recorded revisions, oldest first.
	Applied []*atlasmigrate.Revision
	// Pending are the migration files not applied yet.
	Pending []string
	// AlembicRevision is Prefect's revision when the database was made by
	// Prefect, "" otherwise.
	AlembicRevision string
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
	return st, nil
}

// Drift compares the live schema with the schema the migrations build from
// the Ent schema and returns every difference; none means no drift. The
// bookkeeping tables are left out.
func (m *Migrator) Drift(ctx context.Context) ([]string, error) {
	desired, err := Desired(m.d)
	if err != nil {
		return nil, err
	}
	live, err := m.d.ReadCatalog(ctx, m.db, AlembicTable, RevisionTable)
	if err != nil {
		return nil, fmt.Errorf("migrate: read catalog: %w", err)
	}
	return catalog.Compare(desired, live), nil
}
