package migrate_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	atlasmigrate "ariga.io/atlas/sql/migrate"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/dialects/sqlite"
	"github.com/prefectdb/prefectdb/internal/catalog"
	"github.com/prefectdb/prefectdb/internal/testutil"
	"github.com/prefectdb/prefectdb/migrate"
)

// baselineVersion is the version of the first embedded migration, Prefect
// 3.0's schema.
const baselineVersion = "20240913000000"

// extraVersion is the version of the migrations these tests add.
const extraVersion = "20990101000000"

// querier is what *sql.DB, *sql.Conn and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tableNames returns the names of the tables the migrations create.
func tableNames(t *testing.T, d dialects.Dialect) []string {
	t.Helper()
	desired, err := migrate.Desired(d)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(desired.Tables))
	for _, tb := range desired.Tables {
		names = append(names, tb.Name)
	}
	if len(names) == 0 {
		t.Fatal("the desired schema has no tables")
	}
	return names
}

// countRows counts the rows of every table. The table names are fixed names
// from prefectdb's own schema.
func countRows(t *testing.T, q querier, tables []string) map[string]int {
	t.Helper()
	ctx := testutil.Context(t)
	counts := make(map[string]int, len(tables))
	for _, name := range tables {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM "`+name+`"`).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", name, err)
		}
		counts[name] = n
	}
	return counts
}

// requireRowsEverywhere fails unless every table has at least one row.
func requireRowsEverywhere(t *testing.T, what string, counts map[string]int) {
	t.Helper()
	var empty []string
	for name, n := range counts {
		if n < 1 {
			empty = append(empty, name)
		}
	}
	slices.Sort(empty)
	if len(empty) > 0 {
		t.Fatalf("%s: %d of %d tables are empty: %s", what, len(empty), len(counts), strings.Join(empty, ", "))
	}
}

// countChanges describes every table whose count differs.
func countChanges(before, after map[string]int) []string {
	var out []string
	for name, n := range before {
		if after[name] != n {
			out = append(out, fmt.Sprintf("%s: %d -> %d", name, n, after[name]))
		}
	}
	slices.Sort(out)
	return out
}

// snapshot returns the rows of query, each rendered as its column values
// joined by "|" (NULL as "NULL").
func snapshot(t *testing.T, q querier, query string) []string {
	t.Helper()
	rows, err := q.QueryContext(testutil.Context(t), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = "NULL"
			if v.Valid {
				parts[i] = v.String
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// fkQueries read the foreign-key values that a rebuild of flow and flow_run
// must keep.
var fkQueries = []string{
	`SELECT id, flow_id, state_id FROM flow_run ORDER BY id`,
	`SELECT id, flow_run_id FROM task_run ORDER BY id`,
	`SELECT id, flow_run_id FROM flow_run_state ORDER BY id`,
	`SELECT id, flow_id FROM deployment ORDER BY id`,
}

func fkSnapshot(t *testing.T, q querier) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, query := range fkQueries {
		out[query] = snapshot(t, q, query)
	}
	return out
}

// withFiles returns a new migration directory holding every migration of
// d's embedded directory plus the given files, with its atlas.sum
// recomputed.
func withFiles(t *testing.T, d dialects.Dialect, extra map[string]string) *atlasmigrate.MemDir {
	t.Helper()
	embedded, err := migrate.Dir(d)
	if err != nil {
		t.Fatal(err)
	}
	files, err := embedded.Files()
	if err != nil {
		t.Fatal(err)
	}
	dir := &atlasmigrate.MemDir{}
	for _, f := range files {
		if err := dir.WriteFile(f.Name(), f.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range extra {
		if err := dir.WriteFile(name, []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := dir.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	if err := atlasmigrate.WriteSumFile(dir, sum); err != nil {
		t.Fatal(err)
	}
	if err := atlasmigrate.Validate(dir); err != nil {
		t.Fatal(err)
	}
	// The baseline keeps its hash, so databases migrated with the embedded
	// directory see it as applied.
	orig, err := embedded.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		want, err1 := orig.SumByName(f.Name())
		got, err2 := sum.SumByName(f.Name())
		if err1 != nil || err2 != nil || want != got {
			t.Fatalf("hash of %s changed in the custom directory: %q (%v) vs %q (%v)", f.Name(), got, err2, want, err1)
		}
	}
	return dir
}

// chainLength is the number of embedded migrations of d.
func chainLength(t *testing.T, d dialects.Dialect) int {
	t.Helper()
	c, err := migrate.ChainOf(d)
	if err != nil {
		t.Fatal(err)
	}
	return len(c.Links)
}

// headVersion is the version of d's newest embedded migration.
func headVersion(t *testing.T, d dialects.Dialect) string {
	t.Helper()
	c, err := migrate.ChainOf(d)
	if err != nil {
		t.Fatal(err)
	}
	return c.Links[len(c.Links)-1].Version
}

// migrateUp migrates an empty db to head with the embedded directory and
// requires every migration applied, the baseline first.
func migrateUp(t *testing.T, db *testutil.DB) {
	t.Helper()
	steps, err := db.Migrator().Up(testutil.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	chain, err := migrate.ChainOf(db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != len(chain.Links) || steps[0].Direction != migrate.Up || steps[0].Version != baselineVersion {
		t.Fatalf("up steps = %+v, want the %d migrations applied, the baseline first", steps, len(chain.Links))
	}
}

func seed(t *testing.T, db *testutil.DB, suffix string) *testutil.Fixture {
	t.Helper()
	f, err := testutil.Seed(testutil.Context(t), db.Client, suffix)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// requireEmptyDatabase fails unless the database has no tables and no enums
// at all, bookkeeping tables included.
func requireEmptyDatabase(t *testing.T, db *testutil.DB, what string) {
	t.Helper()
	all, err := db.Dialect.ReadCatalog(testutil.Context(t), db.SQL)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Tables) != 0 || len(all.Enums) != 0 {
		names := make([]string, 0, len(all.Tables))
		for _, tb := range all.Tables {
			names = append(names, tb.Name)
		}
		t.Fatalf("%s: %d tables (%s) and %d enums left", what, len(all.Tables), strings.Join(names, ", "), len(all.Enums))
	}
}

// requireAllReverted checks the steps of a Down to base: every migration
// reverted, newest first, the baseline last.
func requireAllReverted(t *testing.T, db *testutil.DB, what string, steps []migrate.Step) {
	t.Helper()
	chain, err := migrate.ChainOf(db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != len(chain.Links) {
		t.Fatalf("%s: %d steps, want %d: %+v", what, len(steps), len(chain.Links), steps)
	}
	for i, s := range steps {
		link := chain.Links[len(chain.Links)-1-i]
		if s.Direction != migrate.Down || s.Version != link.Version || s.Statements == 0 {
			t.Fatalf("%s: step %d = %+v, want %s reverted", what, i, s, link.Name)
		}
	}
}

// requireSchemaAtHead checks the live schema against Prefect's newest and
// the migrator's own drift check.
func requireSchemaAtHead(t *testing.T, db *testutil.DB, m *migrate.Migrator, what string) {
	t.Helper()
	live, err := db.Dialect.ReadCatalog(testutil.Context(t), db.SQL, migrate.AlembicTable, migrate.RevisionTable)
	if err != nil {
		t.Fatal(err)
	}
	requireNoDiff(t, what+": live schema vs Prefect's newest schema", catalog.Compare(head(t, db.Dialect), live))
	drift, err := m.Drift(testutil.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	requireNoDiff(t, what+": drift", drift)
}

// TestUpDownUpWithData proves that the down migrations work on a populated
// database, not only on an empty one: with one row in every table (and every
// relation between them), Down to base removes every table, enum and the
// revision table, Down by one step reverts the newest migration and keeps
// every row, and Up afterwards rebuilds exactly Prefect's newest schema,
// which accepts the same data again.
//
// Each phase uses a new connection pool, as a new process would. On
// PostgreSQL a pool whose connections prepared statements before the enum
// types were dropped and re-created fails each of those statements once per
// connection afterwards ("cache lookup failed for type", "cached plan must
// not change result type"): pgx caches prepared statements per connection.
func TestUpDownUpWithData(t *testing.T) {
	testutil.ForEachEmptyDialect(t, func(t *testing.T, url string) {
		ctx := testutil.Context(t)

		// Phase 1: up, seed, down to base.
		db := testutil.Open(t, url)
		tables := tableNames(t, db.Dialect)
		migrateUp(t, db)
		seed(t, db, "data")
		counts := countRows(t, db.SQL, tables)
		requireRowsEverywhere(t, "after seeding", counts)
		t.Logf("seeded %d tables: %v", len(counts), counts)
		steps, err := db.Migrator().Down(ctx, migrate.Base)
		if err != nil {
			t.Fatalf("down to base on a populated database: %v", err)
		}
		requireAllReverted(t, db, "down to base", steps)
		requireEmptyDatabase(t, db, "after down to base")

		// Phase 2: up, the same data again, down one step: the newest
		// migration only, every row kept, alembic_version one revision back.
		db = testutil.Open(t, url)
		m := db.Migrator()
		migrateUp(t, db)
		requireSchemaAtHead(t, db, m, "after down to base and up")
		seed(t, db, "data")
		counts = countRows(t, db.SQL, tables)
		requireRowsEverywhere(t, "after seeding again", counts)
		chain, err := migrate.ChainOf(db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		steps, err = m.Down(ctx, migrate.OneStep)
		if err != nil {
			t.Fatalf("down one step on a populated database: %v", err)
		}
		newest := chain.Links[len(chain.Links)-1]
		if len(steps) != 1 || steps[0].Direction != migrate.Down || steps[0].Version != newest.Version {
			t.Fatalf("down one step: steps = %+v, want %s reverted", steps, newest.Name)
		}
		if got := countRows(t, db.SQL, tables); !maps.Equal(got, counts) {
			t.Fatalf("rows after down one step = %v, want %v", got, counts)
		}
		st, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if previous := chain.Links[len(chain.Links)-2]; st.Current != previous.Version || st.AlembicRevision != previous.Alembic ||
			len(st.Pending) != 1 {
			t.Fatalf("status after down one step = %+v", st)
		}

		// Phase 3: up and seed once more.
		db = testutil.Open(t, url)
		m = db.Migrator()
		if steps, err := m.Up(ctx); err != nil || len(steps) != 1 || steps[0].Version != newest.Version {
			t.Fatalf("up after down one step: %+v, %v", steps, err)
		}
		requireSchemaAtHead(t, db, m, "after down one step and up")
		seed(t, db, "third")
		requireRowsEverywhere(t, "after the third seeding", countRows(t, db.SQL, tables))
	})
}

// sqliteDB returns a new SQLite database migrated with the embedded
// directory and seeded.
func sqliteDB(t *testing.T) (*testutil.DB, *testutil.Fixture) {
	t.Helper()
	db := testutil.Open(t, testutil.EmptySQLite(t))
	migrateUp(t, db)
	return db, seed(t, db, "rebuild")
}

// rebuildStatements returns the statements that rebuild each table the way
// Atlas and alembic's batch mode do on SQLite: create new_<t> with the same
// definition, copy the rows, drop the table, rename new_<t>, re-create the
// table's indexes. The definitions are read from the database.
func rebuildStatements(t *testing.T, q querier, tables ...string) []string {
	t.Helper()
	ctx := testutil.Context(t)
	var stmts []string
	for _, name := range tables {
		var create string
		err := q.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&create)
		if err != nil {
			t.Fatalf("definition of %s: %v", name, err)
		}
		prefix := `CREATE TABLE "` + name + `" (`
		if !strings.HasPrefix(create, prefix) {
			t.Fatalf("definition of %s does not start with %q: %s", name, prefix, create)
		}
		newName := "new_" + name
		indexes := snapshot(t, q, `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = '`+name+`' AND sql IS NOT NULL ORDER BY name`)
		if len(indexes) == 0 {
			t.Fatalf("table %s has no indexes to re-create", name)
		}
		stmts = append(stmts,
			`CREATE TABLE "`+newName+`" (`+strings.TrimPrefix(create, prefix),
			`INSERT INTO "`+newName+`" SELECT * FROM "`+name+`"`,
			`DROP TABLE "`+name+`"`,
			`ALTER TABLE "`+newName+`" RENAME TO "`+name+`"`,
		)
		stmts = append(stmts, indexes...)
	}
	return stmts
}

// rootPages reads where the tables flow and flow_run are stored; a rebuilt
// table is stored elsewhere.
const rootPages = `SELECT name, rootpage FROM sqlite_master WHERE type = 'table' AND name IN ('flow', 'flow_run') ORDER BY name`

// foreignKeyCheck returns the rows of PRAGMA foreign_key_check.
func foreignKeyCheck(t *testing.T, q querier) []string {
	t.Helper()
	return snapshot(t, q, `PRAGMA foreign_key_check`)
}

// TestSQLiteRebuildKeepsChildRows (SQLite only) proves that the migration
// runner protects data from SQLite table rebuilds: a migration that
// rebuilds the parent tables flow and flow_run (create new, copy, drop,
// rename, as Atlas and alembic batch mode do) on a populated database keeps
// every row of every table and every foreign-key value, because the runner
// turns foreign keys off outside the transaction. A negative control runs
// the same statements the naive way (a plain transaction on a connection
// with foreign keys on) and shows that child rows are then lost, so the
// test does detect the hazard.
func TestSQLiteRebuildKeepsChildRows(t *testing.T) {
	ctx := testutil.Context(t)
	d := sqlite.New()
	tables := tableNames(t, d)

	db, f := sqliteDB(t)
	stmts := rebuildStatements(t, db.SQL, "flow", "flow_run")
	name := extraVersion + "_rebuild_flow_and_flow_run.sql"
	dir := withFiles(t, d, map[string]string{name: strings.Join(stmts, ";\n\n") + ";\n"})

	before := countRows(t, db.SQL, tables)
	requireRowsEverywhere(t, "after seeding", before)
	fks := fkSnapshot(t, db.SQL)
	pagesBefore := snapshot(t, db.SQL, rootPages)
	cur := f.FlowRunStates[len(f.FlowRunStates)-1]
	wantRun := f.FlowRun.ID.String() + "|" + f.Flow.ID.String() + "|" + cur.ID.String()
	if !slices.Contains(fks[fkQueries[0]], wantRun) {
		t.Fatalf("flow_run rows %v do not include the seeded run %s", fks[fkQueries[0]], wantRun)
	}

	// The migrator gets a pool of its own with a single connection, so that
	// afterwards we can check the connection it used.
	mdb := openURL(t, db.URL)
	mdb.DB.SetMaxOpenConns(1)
	m := migrate.New(mdb.DB, d, migrate.Options{Dir: dir})
	steps, err := m.Up(ctx)
	if err != nil {
		t.Fatalf("rebuild migration: %v", err)
	}
	if len(steps) != 1 || steps[0].Direction != migrate.Up || steps[0].Version != extraVersion || steps[0].Statements != len(stmts) {
		t.Fatalf("steps = %+v, want %s applied with %d statements", steps, extraVersion, len(stmts))
	}
	t.Logf("applied %s: %d statements", name, steps[0].Statements)

	after := countRows(t, db.SQL, tables)
	if changes := countChanges(before, after); len(changes) > 0 {
		t.Fatalf("the rebuild changed row counts:\n  %s", strings.Join(changes, "\n  "))
	}
	t.Logf("row counts unchanged by the rebuild: %v", after)
	// The tables were rebuilt, not left alone: each now lives in new pages.
	if pagesAfter := snapshot(t, db.SQL, rootPages); slices.Equal(pagesAfter, pagesBefore) {
		t.Fatalf("root pages of flow and flow_run unchanged (%v): the tables were not rebuilt", pagesAfter)
	}
	for _, query := range fkQueries {
		if got := snapshot(t, db.SQL, query); !slices.Equal(got, fks[query]) {
			t.Errorf("%s:\n  before %v\n  after  %v", query, fks[query], got)
		}
	}
	if broken := foreignKeyCheck(t, db.SQL); len(broken) > 0 {
		t.Fatalf("foreign_key_check after the rebuild: %v", broken)
	}
	var fkOn int
	if err := mdb.DB.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fkOn); err != nil || fkOn != 1 {
		t.Fatalf("foreign_keys on the migrator's connection after the migration = %d (%v), want 1", fkOn, err)
	}
	st, err := migrate.New(db.SQL, d, migrate.Options{Dir: dir}).Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current != extraVersion || len(st.Pending) != 0 || len(st.Applied) != chainLength(t, d)+1 {
		t.Fatalf("status = %+v, want %s current and nothing pending", st, extraVersion)
	}
	// The rebuilt tables are exactly what they were.
	live, err := d.ReadCatalog(ctx, db.SQL, migrate.AlembicTable, migrate.RevisionTable)
	if err != nil {
		t.Fatal(err)
	}
	requireNoDiff(t, "schema after the rebuild", catalog.Compare(head(t, d), live))

	t.Run("naive runner loses child rows", func(t *testing.T) {
		ctx := testutil.Context(t)
		db, _ := sqliteDB(t)
		before := countRows(t, db.SQL, tables)
		fileStmts, err := atlasmigrate.NewLocalFile(name, []byte(strings.Join(stmts, ";\n\n")+";\n")).Stmts()
		if err != nil {
			t.Fatal(err)
		}
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		var fkOn int
		if err := tx.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fkOn); err != nil || fkOn != 1 {
			t.Fatalf("foreign_keys in the naive transaction = %d (%v), want 1", fkOn, err)
		}
		for _, s := range fileStmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		after := countRows(t, db.SQL, tables)
		lost := countChanges(before, after)
		t.Logf("the naive rebuild changed row counts:\n  %s", strings.Join(lost, "\n  "))
		for _, child := range []string{"flow_run", "deployment", "flow_run_state", "task_run"} {
			if before[child] == 0 || after[child] != 0 {
				t.Errorf("%s: %d rows before, %d after the naive rebuild; want all of them cascade-deleted", child, before[child], after[child])
			}
		}
		if after["flow"] != before["flow"] {
			t.Errorf("flow: %d rows before, %d after; the parent itself is copied", before["flow"], after["flow"])
		}
	})
}

// TestSQLiteMigrationWithBrokenForeignKeyRollsBack (SQLite only) proves
// that the foreign-key check before COMMIT works: foreign keys are off while
// a migration runs, so a migration can insert a row whose foreign key
// resolves to nothing; the runner must then roll the whole migration back,
// say why, and not record the revision.
func TestSQLiteMigrationWithBrokenForeignKeyRollsBack(t *testing.T) {
	ctx := testutil.Context(t)
	d := sqlite.New()
	db := testutil.Open(t, testutil.EmptySQLite(t))
	migrateUp(t, db)

	const orphan = "6a0f1a52-7d3c-4c3e-9a51-2f6e8b9c0d1e"
	name := extraVersion + "_orphan_flow_run.sql"
	dir := withFiles(t, d, map[string]string{
		name: `INSERT INTO "flow_run" ("id", "name", "flow_id") VALUES ('` + orphan + `', 'orphan', '00000000-0000-4000-8000-000000000000');` + "\n",
	})
	mdb := openURL(t, db.URL)
	mdb.DB.SetMaxOpenConns(1)
	m := migrate.New(mdb.DB, d, migrate.Options{Dir: dir})
	steps, err := m.Up(ctx)
	if err == nil {
		t.Fatalf("up succeeded with steps %+v; want it to refuse a broken foreign key", steps)
	}
	t.Logf("up refused: %v", err)
	if !strings.Contains(err.Error(), "broken foreign key") || !strings.Contains(err.Error(), "flow_run") {
		t.Fatalf("err = %v, want it to mention broken foreign keys in flow_run", err)
	}
	if len(steps) != 0 {
		t.Fatalf("steps = %+v, want none", steps)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current != headVersion(t, d) || len(st.Applied) != chainLength(t, d) || !slices.Equal(st.Pending, []string{name}) {
		t.Fatalf("status = %+v, want the chain's head current and %s pending", st, name)
	}
	var n int
	if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM flow_run WHERE id = ?`, orphan).Scan(&n); err != nil || n != 0 {
		t.Fatalf("orphan flow_run rows: %d (%v), want 0", n, err)
	}
	if broken := foreignKeyCheck(t, db.SQL); len(broken) > 0 {
		t.Fatalf("foreign_key_check after the rolled-back migration: %v", broken)
	}
	var fkOn int
	if err := mdb.DB.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fkOn); err != nil || fkOn != 1 {
		t.Fatalf("foreign_keys on the migrator's connection after the rollback = %d (%v), want 1", fkOn, err)
	}
}

// tableExists reports whether the named table exists in db.
func tableExists(t *testing.T, db *testutil.DB, name string) bool {
	t.Helper()
	query := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if db.Dialect.Kind() == config.Postgres {
		query = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	}
	var n int
	if err := db.SQL.QueryRowContext(testutil.Context(t), query, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestInterruptedMigrationIsRolledBack proves that a migration file is
// applied atomically on both databases: when its second statement fails,
// the first one is rolled back too, no revision is recorded, the version
// stays pending, and a corrected file with the same version applies
// cleanly afterwards.
func TestInterruptedMigrationIsRolledBack(t *testing.T) {
	testutil.ForEachEmptyDialect(t, func(t *testing.T, url string) {
		ctx := testutil.Context(t)
		db := testutil.Open(t, url)
		migrateUp(t, db)
		seed(t, db, "interrupted")
		tables := tableNames(t, db.Dialect)
		before := countRows(t, db.SQL, tables)

		name := extraVersion + "_probe.sql"
		broken := withFiles(t, db.Dialect, map[string]string{
			name: "CREATE TABLE prefectdb_probe (id INTEGER);\nINSERT INTO no_such_table_xyz VALUES (1);\n",
		})
		m := migrate.New(db.SQL, db.Dialect, migrate.Options{Dir: broken})
		steps, err := m.Up(ctx)
		if err == nil {
			t.Fatalf("up succeeded with steps %+v; want the failing statement to fail it", steps)
		}
		t.Logf("up failed: %v", err)
		for _, want := range []string{name, "no_such_table_xyz", "rolled back"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
		if len(steps) != 0 {
			t.Fatalf("steps = %+v, want none", steps)
		}
		if tableExists(t, db, "prefectdb_probe") {
			t.Fatal("prefectdb_probe exists: the first statement of the failed file was not rolled back")
		}
		st, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		chain, err := migrate.ChainOf(db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		newest := chain.Links[len(chain.Links)-1]
		if st.Current != newest.Version || len(st.Applied) != len(chain.Links) || !slices.Equal(st.Pending, []string{name}) ||
			st.AlembicRevision != newest.Alembic {
			t.Fatalf("status after the failed migration = %+v, want %s current (Alembic %s) and %s pending", st, newest.Name, newest.Alembic, name)
		}
		if changes := countChanges(before, countRows(t, db.SQL, tables)); len(changes) > 0 {
			t.Fatalf("the failed migration changed row counts: %v", changes)
		}
		requireSchemaAtHead(t, db, m, "after the failed migration")

		fixed := withFiles(t, db.Dialect, map[string]string{
			name: "CREATE TABLE prefectdb_probe (id INTEGER);\nINSERT INTO prefectdb_probe VALUES (1);\n",
		})
		m = migrate.New(db.SQL, db.Dialect, migrate.Options{Dir: fixed})
		steps, err = m.Up(ctx)
		if err != nil {
			t.Fatalf("up with the corrected file: %v", err)
		}
		if len(steps) != 1 || steps[0].Direction != migrate.Up || steps[0].Version != extraVersion || steps[0].Statements != 2 {
			t.Fatalf("steps = %+v, want %s applied with 2 statements", steps, extraVersion)
		}
		var n int
		if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM prefectdb_probe`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("prefectdb_probe rows: %d (%v), want 1", n, err)
		}
		st, err = m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Current != extraVersion || len(st.Applied) != len(chain.Links)+1 || len(st.Pending) != 0 || st.AlembicRevision != newest.Alembic {
			t.Fatalf("status after the corrected migration = %+v", st)
		}
		for _, r := range st.Applied {
			if r.Error != "" || r.ErrorStmt != "" || r.Applied != r.Total {
				t.Fatalf("revision %s recorded as %+v, want cleanly applied", r.Version, r)
			}
		}
		if changes := countChanges(before, countRows(t, db.SQL, tables)); len(changes) > 0 {
			t.Fatalf("the corrected migration changed row counts: %v", changes)
		}
	})
}

// TestOnePoolSurvivesDownAndUp reuses one connection pool across Down to
// base and Up. On PostgreSQL the down migration drops the enum types and Up
// re-creates them with new OIDs; statements that pgx prepared before would
// fail once per connection unless the migrator resets the pool's
// connections after changing the schema.
func TestOnePoolSurvivesDownAndUp(t *testing.T) {
	testutil.ForEachEmptyDialect(t, func(t *testing.T, url string) {
		ctx := testutil.Context(t)
		db := testutil.Open(t, url)
		m := db.Migrator()
		for round := range 3 {
			if _, err := m.Up(ctx); err != nil {
				t.Fatalf("round %d: up: %v", round, err)
			}
			if _, err := testutil.Seed(ctx, db.Client, "pool"); err != nil {
				t.Fatalf("round %d: seed through the same pool after down and up: %v", round, err)
			}
			if _, err := m.Down(ctx, migrate.Base); err != nil {
				t.Fatalf("round %d: down: %v", round, err)
			}
		}
	})
}
