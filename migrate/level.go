package migrate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"ariga.io/atlas/sql/schema"

	"github.com/prefectdb/prefectdb/dialects"
)

// The Ent schema describes Prefect's newest release. These are the tables
// and columns of it that do not exist at every revision of the chain, with
// the migration step (the file name after its version and Alembic revision,
// the same on both databases) that adds or removes them. Columns that Prefect
// removed are not in the Ent schema and need no entry: they have server
// defaults or are nullable, so writes that leave them out work.
var (
	addedColumns = []levelEntry{
		{"add_concurrency_options", "deployment", "concurrency_options"},
		{"add_deployment_to_global_concurrency", "deployment", "concurrency_limit_id"},
		{"add_labels_column_to_flow_flowrun", "deployment", "labels"},
		{"add_labels_column_to_flow_flowrun", "flow", "labels"},
		{"add_labels_column_to_flow_flowrun", "flow_run", "labels"},
		{"add_labels_column_to_flow_flowrun", "task_run", "labels"},
		{"add_parameters_column_to_deployment_schedule", "deployment_schedule", "parameters"},
		{"add_slug_column_to_deployment_schedule", "deployment_schedule", "slug"},
		{"add_storage_configuration_to_work_pool", "work_pool", "storage_configuration"},
		{"create_new_deployment_version_table", "deployment", "version_id"},
		{"add_automation_tags", "automation", "tags"},
	}
	addedTables   = []levelEntry{{"create_new_deployment_version_table", "deployment_version", ""}}
	removedTables = []levelEntry{
		{"remove_flow_run_notifications", "flow_run_notification_policy", ""},
		{"remove_flow_run_notifications", "flow_run_notification_queue", ""},
	}
)

type levelEntry struct{ step, table, column string }

// TableAtHead reports whether a table of the Ent schema exists at the newest
// revision: every table does except those Prefect removed.
func TableAtHead(table string) bool {
	for _, e := range removedTables {
		if e.table == table {
			return false
		}
	}
	return true
}

// Level is the point of Prefect's migration chain a database is at, and what
// its schema therefore has: which tables and columns of the Ent schema exist.
type Level struct {
	chain *Chain
	at    int // position in the chain; len-1 for an empty database
}

// LevelOf returns the level of the database that q reads, from its Prefect
// alembic_version (or prefectdb's own records). An empty database, which
// migrations will take to head, and one at a revision prefectdb does not
// know are at head.
func LevelOf(ctx context.Context, d dialects.Migratable, q schema.ExecQuerier) (*Level, error) {
	chain, err := ChainOf(d)
	if err != nil {
		return nil, err
	}
	m := &Migrator{d: d}
	exists, err := m.existingTables(ctx, q, AlembicTable)
	if err != nil {
		return nil, err
	}
	at := -1
	if exists[AlembicTable] {
		rev, err := alembicRevision(ctx, q)
		if err != nil {
			return nil, err
		}
		at = chain.IndexOfAlembic(rev)
	}
	if at < 0 {
		revs, err := m.appliedRevisions(ctx, q)
		if err != nil {
			return nil, err
		}
		if len(revs) > 0 {
			at = chain.IndexOfVersion(revs[len(revs)-1].Version)
		}
	}
	return NewLevel(chain, at), nil
}

// NewLevel returns the level of position at of chain; a position outside
// the chain is head.
func NewLevel(chain *Chain, at int) *Level {
	if at < 0 || at >= len(chain.Links) {
		at = len(chain.Links) - 1
	}
	return &Level{chain: chain, at: at}
}

// Alembic is the level's Alembic revision.
func (l *Level) Alembic() string { return l.chain.AlembicAt(l.at) }

// Release describes the Prefect release(s) of the level.
func (l *Level) Release() string { return l.chain.Describe(l.at) }

// AtHead reports whether the level is the newest the chain knows.
func (l *Level) AtHead() bool { return l.at == len(l.chain.Links)-1 }

// Columns returns the columns of table that exist at this level, in the
// order given.
func (l *Level) Columns(table string, columns []string) []string {
	missing := l.MissingColumns(table)
	if len(missing) == 0 {
		return columns
	}
	out := make([]string, 0, len(columns))
	for _, c := range columns {
		if !slices.Contains(missing, c) {
			out = append(out, c)
		}
	}
	return out
}

// ReleaseAtLeast reports whether the database behaves as Prefect release tag
// (e.g. "3.1.3") or newer. A revision that several releases share is taken
// to be the newest of them: Prefect 3.1.3 changed the work-pool poll while
// 3.0.3 to 3.1.4 share one schema, and a database at that schema follows
// 3.1.4.
func (l *Level) ReleaseAtLeast(tag string) bool {
	newest := ""
	for i := l.at; i >= 0 && newest == ""; i-- {
		if r := l.chain.Links[i].Releases; len(r) > 0 {
			newest = r[len(r)-1]
		}
	}
	return newest != "" && compareReleases(newest, tag) >= 0
}

// compareReleases compares two release tags such as "3.1.10" and "3.1.3"
// number by number.
func compareReleases(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	return 0
}

// stepIndex returns the position of the migration step, or -1.
func (l *Level) stepIndex(step string) int {
	for i, link := range l.chain.Links {
		if strings.HasSuffix(strings.TrimSuffix(link.Name, ".sql"), "_"+step) {
			return i
		}
	}
	return -1
}

// HasTable reports whether the table exists at this level.
func (l *Level) HasTable(table string) bool { return l.tableProblem(table) == nil }

// HasColumn reports whether the column exists at this level.
func (l *Level) HasColumn(table, column string) bool { return l.columnProblem(table, column) == nil }

// MissingColumns returns the columns of table that this level lacks.
func (l *Level) MissingColumns(table string) []string {
	var out []string
	for _, e := range addedColumns {
		if e.table == table && l.at < l.stepIndex(e.step) {
			out = append(out, e.column)
		}
	}
	return out
}

// CheckTable returns an *UnavailableError when the table does not exist at
// this level.
func (l *Level) CheckTable(table string) error {
	if p := l.tableProblem(table); p != nil {
		return p
	}
	return nil
}

// CheckColumn returns an *UnavailableError when the column does not exist at
// this level.
func (l *Level) CheckColumn(table, column string) error {
	if p := l.columnProblem(table, column); p != nil {
		return p
	}
	return nil
}

func (l *Level) tableProblem(table string) *UnavailableError {
	for _, e := range addedTables {
		if e.table == table {
			if i := l.stepIndex(e.step); l.at < i {
				return l.unavailable(table, "", i, true)
			}
		}
	}
	for _, e := range removedTables {
		if e.table == table {
			if i := l.stepIndex(e.step); i >= 0 && l.at >= i {
				return l.unavailable(table, "", i, false)
			}
		}
	}
	return nil
}

func (l *Level) columnProblem(table, column string) *UnavailableError {
	for _, e := range addedColumns {
		if e.table == table && e.column == column {
			if i := l.stepIndex(e.step); l.at < i {
				return l.unavailable(table, column, i, true)
			}
		}
	}
	return nil
}

func (l *Level) unavailable(table, column string, step int, added bool) *UnavailableError {
	e := &UnavailableError{Table: table, Column: column, Alembic: l.Alembic(), Release: l.Release(), Added: added}
	if step >= 0 {
		e.ChangedIn = l.chain.firstRelease(step)
		e.ChangedAt = l.chain.Links[step].Alembic
	}
	return e
}

// firstRelease names the oldest release that includes the migration at
// position i.
func (c *Chain) firstRelease(i int) string {
	for _, r := range c.releases {
		if c.indexOfAlembic(r.alembic) >= i {
			return "Prefect " + r.tag
		}
	}
	return "an unreleased Prefect revision"
}

// UnavailableError is returned for a table or column of the Ent schema that
// the database's Prefect release does not have.
type UnavailableError struct {
	Table, Column string
	// Alembic and Release say where the database is.
	Alembic, Release string
	// Added is true for something Prefect added after the database's
	// release, false for something it removed before it.
	Added bool
	// ChangedIn is the first release with the change; ChangedAt its Alembic
	// revision.
	ChangedIn, ChangedAt string
}

func (e *UnavailableError) Error() string {
	what := "table " + e.Table
	if e.Column != "" {
		what = "column " + e.Table + "." + e.Column
	}
	if e.Added {
		return fmt.Sprintf("%s does not exist in this database: it is at %s (Alembic %s), and Prefect added it in %s (Alembic %s); "+
			"migrate the database up to use it", what, e.Release, e.Alembic, e.ChangedIn, e.ChangedAt)
	}
	return fmt.Sprintf("%s does not exist in this database: it is at %s (Alembic %s), and Prefect removed it in %s (Alembic %s)",
		what, e.Release, e.Alembic, e.ChangedIn, e.ChangedAt)
}
