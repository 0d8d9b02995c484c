package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/prefectdb/prefectdb/internal/catalog"
)

// openTestDB opens a fresh SQLite file database with foreign keys on.
func openTestDB(t *testing.T) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "catalog.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// execAll runs statements in order.
func execAll(t *testing.T, db *sql.DB, stmts []string) {
	t.Helper()
	for _, stmt := range stmts {
		if _, err := db.ExecContext(context.Background(), stmt); err != nil {
			t.Fatalf("exec %q: %v", stmt, err)
		}
	}
}

// referenceSchema loads Prefect's SQLite reference schema.
func referenceSchema(t *testing.T) *catalog.Schema {
	t.Helper()
	ref, err := catalog.Reference("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestReferenceRoundTrip renders Prefect's SQLite schema into an empty
// database and reads it back: the live catalog must equal the reference.
func TestReferenceRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ref := referenceSchema(t)
	if err := catalog.Validate(ref); err != nil {
		t.Fatalf("reference: %v", err)
	}
	db := openTestDB(t)
	execAll(t, db, RenderSchema(ref))
	rev, err := catalog.ReferenceRevision("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	execAll(t, db, AlembicVersionDDL(rev))

	got, err := ReadCatalog(ctx, db, "alembic_version")
	if err != nil {
		t.Fatalf("ReadCatalog: %v", err)
	}
	if diffs := catalog.Compare(ref, got); len(diffs) != 0 {
		t.Fatalf("live catalog differs from the reference (%d differences):\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
	// Defaults come back byte for byte, not only modulo whitespace.
	for _, wt := range ref.Tables {
		gt := got.Table(wt.Name)
		for _, wc := range wt.Columns {
			if gc := gt.Column(wc.Name); gc.Default != wc.Default {
				t.Errorf("%s.%s: default %q, want %q", wt.Name, wc.Name, gc.Default, wc.Default)
			}
		}
	}

	// alembic_version is there, with the revision, and alembic's text.
	var version, ddl string
	if err := db.QueryRowContext(ctx, `SELECT version_num FROM alembic_version`).Scan(&version); err != nil || version != rev {
		t.Errorf("alembic_version = %q, %v; want %q", version, err, rev)
	}
	if err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE name = 'alembic_version'`).Scan(&ddl); err != nil ||
		ddl != "CREATE TABLE alembic_version (\n\tversion_num VARCHAR(32) NOT NULL, \n\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n)" {
		t.Errorf("alembic_version DDL = %q, %v", ddl, err)
	}
	withBookkeeping, err := ReadCatalog(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	av := withBookkeeping.Table("alembic_version")
	if av == nil || av.PrimaryKey == nil || av.PrimaryKey.Name != "alembic_version_pkc" ||
		!reflect.DeepEqual(av.Columns, []*catalog.Column{{Name: "version_num", Type: "VARCHAR(32)"}}) {
		t.Errorf("alembic_version read as %+v", av)
	}

	// The schema works: ids and timestamps get their defaults.
	var id, created string
	if _, err := db.ExecContext(ctx, `INSERT INTO flow (name) VALUES ('f')`); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT id, created || '' FROM flow`).Scan(&id, &created); err != nil {
		t.Fatal(err)
	}
	if len(id) != 36 || id[14] != '4' || len(created) != len("2024-01-02 03:04:05.123000") {
		t.Errorf("defaults produced id %q, created %q", id, created)
	}
	// Rows in the circular references must not stop the drop.
	execAll(t, db, []string{
		`INSERT INTO flow_run (id, name, flow_id) SELECT 'r1', 'run', id FROM flow`,
		`INSERT INTO flow_run_state (id, type, name, flow_run_id) VALUES ('s1', 'PENDING', 'Pending', 'r1')`,
		`UPDATE flow_run SET state_id = 's1' WHERE id = 'r1'`,
		`INSERT INTO task_run (id, name, task_key, dynamic_key, flow_run_id) VALUES ('t1', 'task', 'k', '0', 'r1')`,
		`INSERT INTO task_run_state (id, type, name, task_run_id) VALUES ('ts1', 'PENDING', 'Pending', 't1')`,
		`UPDATE task_run SET state_id = 'ts1' WHERE id = 't1'`,
		`UPDATE flow_run SET parent_task_run_id = 't1' WHERE id = 'r1'`,
		`INSERT INTO work_pool (id, name, type) VALUES ('p1', 'pool', 'process')`,
		`INSERT INTO work_queue (id, name, work_pool_id) VALUES ('q1', 'default', 'p1')`,
		`UPDATE work_pool SET default_queue_id = 'q1'`,
	})

	// Dropping leaves no table but the bookkeeping one.
	execAll(t, db, RenderDropSchema(ref))
	empty, err := ReadCatalog(ctx, db, "alembic_version")
	if err != nil {
		t.Fatal(err)
	}
	if len(empty.Tables) != 0 {
		t.Errorf("tables left after RenderDropSchema: %d", len(empty.Tables))
	}
}

// TestCompareDetectsChanges shows that Compare catches a changed default, a
// missing index and a wrong ON DELETE in a live database.
func TestCompareDetectsChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ref := referenceSchema(t)
	live := ref.Clone()
	flowRun := live.Table("flow_run")
	flowRun.Column("run_count").Default = "'2'"
	var kept []*catalog.Index
	for _, ix := range flowRun.Indexes {
		if ix.Name != "ix_flow_run__state_type" {
			kept = append(kept, ix)
		}
	}
	flowRun.Indexes = kept
	for _, fk := range flowRun.ForeignKeys {
		if fk.Name == "fk_flow_run__flow_id__flow" {
			fk.OnDelete = "RESTRICT"
		}
	}

	db := openTestDB(t)
	execAll(t, db, RenderSchema(live))
	got, err := ReadCatalog(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`table flow_run: column run_count: default "'2'", want "'0'"`,
		"table flow_run: foreign key fk_flow_run__flow_id__flow: (flow_id) -> flow(id) ON DELETE RESTRICT, want (flow_id) -> flow(id) ON DELETE CASCADE",
		"table flow_run: index ix_flow_run__state_type: missing",
	}
	if diffs := catalog.Compare(ref, got); !reflect.DeepEqual(diffs, want) {
		t.Errorf("Compare =\n%s\nwant\n%s", strings.Join(diffs, "\n"), strings.Join(want, "\n"))
	}
}

// TestReadCatalogHandwritten reads a schema written by hand in the styles
// that alembic and people use: bare, quoted, bracketed and backticked names,
// column constraints, expression keys, partial indexes and comments.
func TestReadCatalogHandwritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openTestDB(t)
	execAll(t, db, []string{
		`CREATE TABLE parent (
			id CHAR(36) NOT NULL, -- a comment, with (parentheses
			"order" INTEGER DEFAULT (1 + 2),
			name VARCHAR COLLATE NOCASE,
			CONSTRAINT pk_parent PRIMARY KEY (id),
			CONSTRAINT [uq parent] UNIQUE ("order", name)
		)`,
		"CREATE TABLE `child` (\n" +
			"  id INTEGER CONSTRAINT pk_child PRIMARY KEY,\n" +
			"  parent_id CHAR(36) CONSTRAINT fk_child_parent REFERENCES parent (id) ON DELETE SET NULL,\n" +
			"  other_id CHAR(36) REFERENCES parent,\n" +
			"  code TEXT CONSTRAINT uq_code UNIQUE, /* block\n comment */\n" +
			"  start DATETIME, \"end\" DATETIME\n)",
		`CREATE INDEX ix_child_span ON child (coalesce(start, "end") DESC, code COLLATE nocase)`,
		`CREATE UNIQUE INDEX "ix child partial" ON "child" (parent_id) WHERE code IS NOT NULL AND start > '2020-01-01'`,
		`CREATE INDEX ix_parent_name ON parent (name)`,
	})
	got, err := ReadCatalog(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	want := &catalog.Schema{Tables: []*catalog.Table{
		{
			Name: "child",
			Columns: []*catalog.Column{
				{Name: "id", Type: "INTEGER", Nullable: true},
				{Name: "parent_id", Type: "CHAR(36)", Nullable: true},
				{Name: "other_id", Type: "CHAR(36)", Nullable: true},
				{Name: "code", Type: "TEXT", Nullable: true},
				{Name: "start", Type: "DATETIME", Nullable: true},
				{Name: "end", Type: "DATETIME", Nullable: true},
			},
			PrimaryKey: &catalog.Key{Name: "pk_child", Columns: []string{"id"}},
			ForeignKeys: []*catalog.ForeignKey{
				{Name: "", Columns: []string{"other_id"}, RefTable: "parent", RefColumns: []string{"id"}, OnDelete: "NO ACTION"},
				{Name: "fk_child_parent", Columns: []string{"parent_id"}, RefTable: "parent", RefColumns: []string{"id"}, OnDelete: "SET NULL"},
			},
			Uniques: []*catalog.Key{{Name: "uq_code", Columns: []string{"code"}}},
			Indexes: []*catalog.Index{
				{Name: "ix child partial", Unique: true, Parts: []*catalog.IndexPart{{Column: "parent_id"}},
					Where: "code IS NOT NULL AND start > '2020-01-01'"},
				{Name: "ix_child_span", Parts: []*catalog.IndexPart{
					{Expr: `coalesce(start, "end")`, Desc: true},
					{Column: "code", Collate: "nocase"},
				}},
			},
		},
		{
			Name: "parent",
			Columns: []*catalog.Column{
				{Name: "id", Type: "CHAR(36)"},
				{Name: "order", Type: "INTEGER", Nullable: true, Default: "1 + 2"},
				{Name: "name", Type: "VARCHAR", Nullable: true},
			},
			PrimaryKey: &catalog.Key{Name: "pk_parent", Columns: []string{"id"}},
			Uniques:    []*catalog.Key{{Name: "uq parent", Columns: []string{"order", "name"}}},
			Indexes: []*catalog.Index{
				// The column's collation is the index key's collation.
				{Name: "ix_parent_name", Parts: []*catalog.IndexPart{{Column: "name", Collate: "NOCASE"}}},
			},
		},
	}}
	if diffs := catalog.Compare(want, got); len(diffs) != 0 {
		t.Errorf("ReadCatalog differs:\n%s", strings.Join(diffs, "\n"))
	}
	// Exact expression text, not only modulo whitespace.
	if e := got.Table("child").Indexes[1].Parts[0].Expr; e != `coalesce(start, "end")` {
		t.Errorf("expression key %q", e)
	}
}

func TestRenderSchemaQuotesIdentifiers(t *testing.T) {
	t.Parallel()
	s := &catalog.Schema{Tables: []*catalog.Table{{
		Name: `we"ird`,
		Columns: []*catalog.Column{
			{Name: "limit", Type: "INTEGER", Default: "'it''s'"},
			{Name: "key", Type: "TEXT", Nullable: true, Default: "-1.5e3"},
			{Name: "value", Type: "TEXT", Nullable: true, Default: "lower('X')"},
		},
		PrimaryKey: &catalog.Key{Name: "pk", Columns: []string{"limit"}},
		Indexes:    []*catalog.Index{{Name: "ix", Parts: []*catalog.IndexPart{{Column: "key", Collate: "NOCASE", Desc: true}}}},
	}}}
	want := []string{
		"CREATE TABLE \"we\"\"ird\" (\n" +
			"\t\"limit\" INTEGER NOT NULL DEFAULT 'it''s',\n" +
			"\t\"key\" TEXT DEFAULT -1.5e3,\n" +
			"\t\"value\" TEXT DEFAULT (lower('X')),\n" +
			"\tCONSTRAINT \"pk\" PRIMARY KEY (\"limit\")\n)",
		`CREATE INDEX "ix" ON "we""ird" ("key" COLLATE "NOCASE" DESC)`,
	}
	got := RenderSchema(s)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RenderSchema =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	db := openTestDB(t)
	execAll(t, db, got)
	back, err := ReadCatalog(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := catalog.Compare(s, back); len(diffs) != 0 {
		t.Errorf("round trip differs:\n%s", strings.Join(diffs, "\n"))
	}
	if got := AlembicVersionDDL("x'); DROP TABLE y; --")[1]; got != "INSERT INTO alembic_version (version_num) VALUES ('x''); DROP TABLE y; --')" {
		t.Errorf("AlembicVersionDDL does not escape: %s", got)
	}
}

func TestIsLiteralDefault(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"'0'": true, "''": true, "'it''s'": true, "'a' || 'b'": false, "'a''": false,
		"0": true, "-1": true, "+2.5": true, "1e10": true, ".5": true, "1.2.3": false, "1e": false,
		"strftime('%Y', 'now')": false, "CURRENT_TIMESTAMP": false, "": false, "-": false,
	} {
		if got := isLiteralDefault(in); got != want {
			t.Errorf("isLiteralDefault(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestDropOrder(t *testing.T) {
	t.Parallel()
	ref := referenceSchema(t)
	order := dropOrder(ref)
	pos := map[string]int{}
	for i, name := range order {
		pos[name] = i
	}
	if len(order) != len(ref.Tables) {
		t.Fatalf("dropOrder returned %d tables, want %d", len(order), len(ref.Tables))
	}
	// A referencing table is dropped first, except within a cycle.
	for _, tc := range [][2]string{
		{"deployment", "flow"}, {"flow_run", "flow"}, {"block_document", "block_type"},
		{"worker", "work_pool"}, {"agent", "work_queue"}, {"deployment_schedule", "deployment"},
		{"flow_run_state", "artifact"}, {"task_run_state", "artifact"}, {"flow_run", "block_document"},
		{"flow_run", "work_queue"}, {"deployment", "work_queue"},
	} {
		if pos[tc[0]] > pos[tc[1]] {
			t.Errorf("%s is dropped after %s", tc[0], tc[1])
		}
	}
}

// TestReadCatalogPrefectStyle reads a table created the way SQLAlchemy and
// alembic create Prefect's tables (unquoted names, "FOREIGN KEY(" without a
// space, lower-case actions, and the UUID default wrapped in an extra pair of
// parentheses with its own line breaks) and compares it with the reference.
func TestReadCatalogPrefectStyle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	uuidDefault := "(\n    (\n        lower(hex(randomblob(4))) \n        || '-' \n        || lower(hex(randomblob(2))) \n" +
		"        || '-4' \n        || substr(lower(hex(randomblob(2))),2) \n        || '-' \n" +
		"        || substr('89ab',abs(random()) % 4 + 1, 1) \n        || substr(lower(hex(randomblob(2))),2) \n" +
		"        || '-' \n        || lower(hex(randomblob(6)))\n    )\n    )"
	db := openTestDB(t)
	execAll(t, db, []string{
		"CREATE TABLE flow (\n\tid CHAR(36) DEFAULT " + uuidDefault + " NOT NULL, \n" +
			"\tcreated DATETIME DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')) NOT NULL, \n" +
			"\tupdated DATETIME DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')) NOT NULL, \n" +
			"\tname VARCHAR NOT NULL, \n\ttags JSON DEFAULT '[]' NOT NULL, \n" +
			"\tCONSTRAINT pk_flow PRIMARY KEY (id), \n\tCONSTRAINT uq_flow__name UNIQUE (name)\n)",
		"CREATE INDEX ix_flow__updated ON flow (updated)",
		"CREATE INDEX ix_flow__created ON flow (created)",
		"CREATE INDEX ix_flow_name_case_insensitive ON flow (name COLLATE NOCASE)",
		"CREATE TABLE IF NOT EXISTS \"deployment_schedule\" (\n\tid CHAR(36) DEFAULT " + uuidDefault + " NOT NULL, \n" +
			"\tcreated DATETIME DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')) NOT NULL, \n" +
			"\tupdated DATETIME DEFAULT (strftime('%Y-%m-%d %H:%M:%f000', 'now')) NOT NULL, \n" +
			"\tschedule JSON NOT NULL, \n\tactive BOOLEAN NOT NULL, \n\tdeployment_id CHAR(36) NOT NULL, \n" +
			"\tmax_active_runs INTEGER, \n\tmax_scheduled_runs INTEGER, \n\tcatchup BOOLEAN DEFAULT '0' NOT NULL, \n" +
			"\tCONSTRAINT pk_deployment_schedule PRIMARY KEY (id), \n" +
			"\tCONSTRAINT fk_deployment_schedule__deployment_id__deployment FOREIGN KEY(deployment_id) REFERENCES deployment (id) ON DELETE cascade\n)",
		"CREATE INDEX ix_deployment_schedule__deployment_id ON deployment_schedule (deployment_id)",
		"CREATE INDEX ix_deployment_schedule__updated ON deployment_schedule (updated)",
	})
	got, err := ReadCatalog(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ref := referenceSchema(t)
	want := &catalog.Schema{Tables: []*catalog.Table{ref.Table("deployment_schedule"), ref.Table("flow")}}
	if diffs := catalog.Compare(want, got); len(diffs) != 0 {
		t.Errorf("Prefect-style tables differ from the reference:\n%s", strings.Join(diffs, "\n"))
	}
	if d := got.Table("flow").Column("id").Default; !strings.HasPrefix(d, "(\n        lower(") {
		t.Errorf("id default read as %q; want the text inside DEFAULT (...)", d)
	}
}
