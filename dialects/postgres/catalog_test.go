package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/prefectdb/prefectdb/internal/catalog"
)

// defaultTestURL is the server used when PREFECTDB_TEST_POSTGRES_URL is unset.
const defaultTestURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// openTestDB creates a fresh database on the test server and returns a
// connection pool to it. The database is dropped when the test ends. The
// test is skipped when the server is unreachable, except in CI.
func openTestDB(t *testing.T) *sql.DB {
	t.Helper()
	ctx := context.Background()
	serverURL := os.Getenv("PREFECTDB_TEST_POSTGRES_URL")
	if serverURL == "" {
		serverURL = defaultTestURL
	}
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format+" (set PREFECTDB_TEST_POSTGRES_URL to a reachable server)", args...)
	}
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		t.Fatalf("open %s: %v", serverURL, err)
	}
	t.Cleanup(func() { admin.Close() })
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := admin.PingContext(pingCtx); err != nil {
		unavailable("PostgreSQL test server unreachable: %v", err)
	}

	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		t.Fatal(err)
	}
	name := "prefectdb_cat_" + hex.EncodeToString(suffix[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+ddlIdent(name)); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+ddlIdent(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})

	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatalf("parse %s: %v", serverURL, err)
	}
	u.Path = "/" + name
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
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

// referenceSchema loads Prefect's PostgreSQL reference schema.
func referenceSchema(t *testing.T) *catalog.Schema {
	t.Helper()
	ref, err := catalog.Reference("postgres")
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestReferenceRoundTrip renders Prefect's PostgreSQL schema into an empty
// database and reads it back: the live catalog must equal the reference,
// which also proves that the reference's defaults, index expressions and
// predicates are spelled the way PostgreSQL prints them.
func TestReferenceRoundTrip(t *testing.T) {
	ctx := context.Background()
	ref := referenceSchema(t)
	if err := catalog.Validate(ref); err != nil {
		t.Fatalf("reference: %v", err)
	}
	db := openTestDB(t)
	execAll(t, db, RenderSchema(ref))
	rev, err := catalog.ReferenceRevision("postgres")
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
	// PostgreSQL canonicalises expressions, so the texts match exactly.
	for _, wt := range ref.Tables {
		gt := got.Table(wt.Name)
		for _, wc := range wt.Columns {
			if gc := gt.Column(wc.Name); gc.Default != wc.Default {
				t.Errorf("%s.%s: default %q, want %q", wt.Name, wc.Name, gc.Default, wc.Default)
			}
		}
	}

	var version string
	if err := db.QueryRowContext(ctx, `SELECT version_num FROM alembic_version`).Scan(&version); err != nil || version != rev {
		t.Errorf("alembic_version = %q, %v; want %q", version, err, rev)
	}
	withBookkeeping, err := ReadCatalog(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	av := withBookkeeping.Table("alembic_version")
	if av == nil || av.PrimaryKey == nil || av.PrimaryKey.Name != "alembic_version_pkc" ||
		!reflect.DeepEqual(av.Columns, []*catalog.Column{{Name: "version_num", Type: "character varying(32)"}}) {
		t.Errorf("alembic_version read as %+v", av)
	}

	// The schema works: defaults fill in, and the circular foreign keys
	// accept a run pointing at its own state.
	execAll(t, db, []string{
		`INSERT INTO flow (name) VALUES ('f')`,
		`INSERT INTO flow_run (id, name, flow_id) SELECT '00000000-0000-4000-8000-000000000001', 'run', id FROM flow`,
		`INSERT INTO flow_run_state (id, type, name, flow_run_id)
		 VALUES ('00000000-0000-4000-8000-000000000002', 'PENDING', 'Pending', '00000000-0000-4000-8000-000000000001')`,
		`UPDATE flow_run SET state_id = '00000000-0000-4000-8000-000000000002'`,
	})
	var total string
	if err := db.QueryRowContext(ctx, `SELECT total_run_time::text FROM flow_run`).Scan(&total); err != nil || total != "00:00:00" {
		t.Errorf("total_run_time = %q, %v", total, err)
	}

	// Dropping leaves only the bookkeeping table and the extension.
	execAll(t, db, RenderDropSchema(ref))
	empty, err := ReadCatalog(ctx, db, "alembic_version")
	if err != nil {
		t.Fatal(err)
	}
	if diffs := catalog.Compare(&catalog.Schema{Extensions: []string{"pg_trgm"}}, empty); len(diffs) != 0 {
		t.Errorf("left after RenderDropSchema:\n%s", strings.Join(diffs, "\n"))
	}
	// And the schema can be created again.
	execAll(t, db, RenderSchema(ref))
}

// TestCompareDetectsChanges shows that Compare catches a changed default, a
// missing index, a wrong ON DELETE, a lost DESC, an unexpected operator
// class and a changed enum in a live database.
func TestCompareDetectsChanges(t *testing.T) {
	ctx := context.Background()
	ref := referenceSchema(t)
	live := ref.Clone()
	flowRun := live.Table("flow_run")
	flowRun.Column("run_count").Default = "2"
	var kept []*catalog.Index
	for _, ix := range flowRun.Indexes {
		switch ix.Name {
		case "ix_flow_run__state_type":
			continue
		case "ix_flow_run__end_time_desc":
			ix.Parts[0].Desc = false
		case "ix_flow_run__name":
			ix.Parts[0].OpClass = "varchar_pattern_ops"
		}
		kept = append(kept, ix)
	}
	flowRun.Indexes = kept
	for _, fk := range flowRun.ForeignKeys {
		if fk.Name == "fk_flow_run__flow_id__flow" {
			fk.OnDelete = "RESTRICT"
		}
	}
	for _, e := range live.Enums {
		if e.Name == "worker_status" {
			e.Values = []string{"OFFLINE", "ONLINE"}
		}
	}

	db := openTestDB(t)
	execAll(t, db, RenderSchema(live))
	got, err := ReadCatalog(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"enum worker_status: values OFFLINE, ONLINE, want ONLINE, OFFLINE",
		`table flow_run: column run_count: default "2", want "0"`,
		"table flow_run: foreign key fk_flow_run__flow_id__flow: (flow_id) -> flow(id) ON DELETE RESTRICT, want (flow_id) -> flow(id) ON DELETE CASCADE",
		"table flow_run: index ix_flow_run__end_time_desc: (end_time), want (end_time DESC)",
		"table flow_run: index ix_flow_run__name: (name varchar_pattern_ops), want (name)",
		"table flow_run: index ix_flow_run__state_type: missing",
	}
	if diffs := catalog.Compare(ref, got); !reflect.DeepEqual(diffs, want) {
		t.Errorf("Compare =\n%s\nwant\n%s", strings.Join(diffs, "\n"), strings.Join(want, "\n"))
	}
}

// TestReadCatalogHandwritten reads objects written by hand: quoted names,
// unnamed constraints, every ON DELETE action, expression and partial
// indexes, INCLUDE columns and non-default operator classes.
func TestReadCatalogHandwritten(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	execAll(t, db, []string{
		`CREATE TYPE "my type" AS ENUM ('a', 'b''c')`,
		`CREATE TABLE parent (id integer PRIMARY KEY, "Key" text UNIQUE, v varchar(20) DEFAULT 'x')`,
		`CREATE TABLE child (
			id integer NOT NULL,
			p1 integer REFERENCES parent ON DELETE SET DEFAULT,
			p2 integer CONSTRAINT fk_p2 REFERENCES parent (id) ON DELETE RESTRICT,
			p3 integer REFERENCES parent (id),
			"end" timestamptz,
			kind "my type" DEFAULT 'b''c',
			CONSTRAINT "Child PK" PRIMARY KEY (id))`,
		`CREATE INDEX ix_expr ON child (abs(p1) DESC, (p1 + p2))`,
		`CREATE UNIQUE INDEX ix_partial ON child (p1) INCLUDE (p2, "end") WHERE p3 IS NULL`,
		`CREATE INDEX ix_pattern ON parent (v varchar_pattern_ops)`,
	})
	got, err := ReadCatalog(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	want := &catalog.Schema{
		Enums: []*catalog.Enum{{Name: "my type", Values: []string{"a", "b'c"}}},
		Tables: []*catalog.Table{
			{
				Name: "child",
				Columns: []*catalog.Column{
					{Name: "id", Type: "integer"},
					{Name: "p1", Type: "integer", Nullable: true},
					{Name: "p2", Type: "integer", Nullable: true},
					{Name: "p3", Type: "integer", Nullable: true},
					{Name: "end", Type: "timestamp with time zone", Nullable: true},
					{Name: "kind", Type: `"my type"`, Nullable: true, Default: `'b''c'::"my type"`},
				},
				PrimaryKey: &catalog.Key{Name: "Child PK", Columns: []string{"id"}},
				ForeignKeys: []*catalog.ForeignKey{
					{Name: "child_p1_fkey", Columns: []string{"p1"}, RefTable: "parent", RefColumns: []string{"id"}, OnDelete: "SET DEFAULT"},
					{Name: "child_p3_fkey", Columns: []string{"p3"}, RefTable: "parent", RefColumns: []string{"id"}, OnDelete: "NO ACTION"},
					{Name: "fk_p2", Columns: []string{"p2"}, RefTable: "parent", RefColumns: []string{"id"}, OnDelete: "RESTRICT"},
				},
				Indexes: []*catalog.Index{
					{Name: "ix_expr", Parts: []*catalog.IndexPart{
						{Expr: "abs(p1)", Desc: true},
						{Expr: "((p1 + p2))"}, // as in pg_get_indexdef's key list
					}},
					{Name: "ix_partial", Unique: true, Parts: []*catalog.IndexPart{{Column: "p1"}},
						Include: []string{"p2", "end"}, Where: "(p3 IS NULL)"},
				},
			},
			{
				Name: "parent",
				Columns: []*catalog.Column{
					{Name: "id", Type: "integer"},
					{Name: "Key", Type: "text", Nullable: true},
					{Name: "v", Type: "character varying(20)", Nullable: true, Default: "'x'::character varying"},
				},
				PrimaryKey: &catalog.Key{Name: "parent_pkey", Columns: []string{"id"}},
				Uniques:    []*catalog.Key{{Name: "parent_Key_key", Columns: []string{"Key"}}},
				Indexes: []*catalog.Index{
					{Name: "ix_pattern", Parts: []*catalog.IndexPart{{Column: "v", OpClass: "varchar_pattern_ops"}}},
				},
			},
		},
	}
	// Extensions are per database; this one has none.
	if diffs := catalog.Compare(want, got); len(diffs) != 0 {
		t.Errorf("ReadCatalog differs:\n%s", strings.Join(diffs, "\n"))
	}

	// What was read renders back to the same catalog.
	db2 := openTestDB(t)
	execAll(t, db2, RenderSchema(got))
	again, err := ReadCatalog(ctx, db2)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := catalog.Compare(got, again); len(diffs) != 0 {
		t.Errorf("render and read again differs:\n%s", strings.Join(diffs, "\n"))
	}
}

func TestRenderSchemaQuoting(t *testing.T) {
	s := &catalog.Schema{
		Extensions: []string{"pg_trgm"},
		Enums:      []*catalog.Enum{{Name: "st", Values: []string{"it's", `back\slash`}}},
		Tables: []*catalog.Table{{
			Name:       `we"ird`,
			Columns:    []*catalog.Column{{Name: "limit", Type: "st"}, {Name: "name", Type: "text", Nullable: true}},
			PrimaryKey: &catalog.Key{Name: "pk", Columns: []string{"limit"}},
			ForeignKeys: []*catalog.ForeignKey{{Name: "fk", Columns: []string{"limit"}, RefTable: `we"ird`,
				RefColumns: []string{"limit"}, OnDelete: "CASCADE"}},
			Indexes: []*catalog.Index{{Name: "ix", Method: "gin", Parts: []*catalog.IndexPart{{Column: "name", OpClass: "gin_trgm_ops"}}}},
		}},
	}
	want := []string{
		`CREATE EXTENSION IF NOT EXISTS "pg_trgm"`,
		`CREATE TYPE "st" AS ENUM ('it''s', E'back\\slash')`,
		"CREATE TABLE \"we\"\"ird\" (\n\t\"limit\" st NOT NULL,\n\t\"name\" text,\n\tCONSTRAINT \"pk\" PRIMARY KEY (\"limit\")\n)",
		`ALTER TABLE "we""ird" ADD CONSTRAINT "fk" FOREIGN KEY ("limit") REFERENCES "we""ird" ("limit") ON DELETE CASCADE`,
		`CREATE INDEX "ix" ON "we""ird" USING "gin" ("name" "gin_trgm_ops")`,
	}
	if got := RenderSchema(s); !reflect.DeepEqual(got, want) {
		t.Errorf("RenderSchema =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := AlembicVersionDDL("x'); DROP TABLE y; --")[1]; got != "INSERT INTO alembic_version (version_num) VALUES ('x''); DROP TABLE y; --')" {
		t.Errorf("AlembicVersionDDL does not escape: %s", got)
	}
	db := openTestDB(t)
	execAll(t, db, RenderSchema(s))
	got, err := ReadCatalog(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := catalog.Compare(s, got); len(diffs) != 0 {
		t.Errorf("round trip differs:\n%s", strings.Join(diffs, "\n"))
	}
}
