package catalog

import (
	"strings"
	"testing"
)

func TestReferenceLoads(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dialect  string
		tables   int
		columns  int
		indexes  int
		fks      int
		uniques  int
		enums    int
		revision string
	}{
		{"postgres", 36, 358, 135, 32, 12, 5, "97429116795e"},
		{"sqlite", 36, 358, 130, 32, 12, 0, "f93e1439f022"},
	} {
		t.Run(tc.dialect, func(t *testing.T) {
			s, err := Reference(tc.dialect)
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(s); err != nil {
				t.Fatalf("reference schema is not valid:\n%v", err)
			}
			var cols, ixs, fks, uqs int
			for _, tb := range s.Tables {
				cols += len(tb.Columns)
				ixs += len(tb.Indexes)
				fks += len(tb.ForeignKeys)
				uqs += len(tb.Uniques)
				if tb.PrimaryKey == nil || tb.PrimaryKey.Name != "pk_"+tb.Name {
					t.Errorf("table %s: primary key %+v", tb.Name, tb.PrimaryKey)
				}
				for _, name := range []string{"id", "created", "updated"} {
					if tb.Column(name) == nil {
						t.Errorf("table %s: no %s column", tb.Name, name)
					}
				}
			}
			got := []int{len(s.Tables), cols, ixs, fks, uqs, len(s.Enums)}
			want := []int{tc.tables, tc.columns, tc.indexes, tc.fks, tc.uniques, tc.enums}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("counts (tables, columns, indexes, fks, uniques, enums) = %v, want %v", got, want)
					break
				}
			}
			if s.Table("alembic_version") != nil {
				t.Error("the reference must not contain alembic_version")
			}
			rev, err := ReferenceRevision(tc.dialect)
			if err != nil || rev != tc.revision {
				t.Errorf("ReferenceRevision = %q, %v; want %q", rev, err, tc.revision)
			}
			if diffs := Compare(s, s); len(diffs) != 0 {
				t.Errorf("Compare(reference, reference) = %v", diffs)
			}
		})
	}
	if _, err := Reference("mysql"); err == nil {
		t.Error("Reference(mysql) did not fail")
	}
}

// TestReferenceDialectDifferences pins the facts in which the two dialects
// differ (section 8 of the schema reference).
func TestReferenceDialectDifferences(t *testing.T) {
	t.Parallel()
	pg, err := Reference("postgres")
	if err != nil {
		t.Fatal(err)
	}
	lite, err := Reference("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	index := func(s *Schema, table, name string) *Index {
		t.Helper()
		tb := s.Table(table)
		if tb == nil {
			t.Fatalf("no table %s", table)
		}
		for _, ix := range tb.Indexes {
			if ix.Name == name {
				return ix
			}
		}
		return nil
	}
	fk := func(s *Schema, table, col string) *ForeignKey {
		t.Helper()
		for _, f := range s.Table(table).ForeignKeys {
			if len(f.Columns) == 1 && f.Columns[0] == col {
				return f
			}
		}
		t.Fatalf("table %s: no foreign key on %s", table, col)
		return nil
	}

	if c := pg.Table("artifact_collection").Column("latest_id"); !c.Nullable {
		t.Error("postgres artifact_collection.latest_id must be nullable")
	}
	if c := lite.Table("artifact_collection").Column("latest_id"); c.Nullable {
		t.Error("sqlite artifact_collection.latest_id must be NOT NULL")
	}

	for _, tc := range []struct {
		table, col, pg, sqlite string
	}{
		{"block_document_reference", "parent_block_document_id",
			"fk_block_document_reference__parent_block_document_id___328f",
			"fk_block_document_reference__parent_block_document_id__block_document"},
		{"block_document_reference", "reference_block_document_id",
			"fk_block_document_reference__reference_block_document_i_5759",
			"fk_block_document_reference__reference_block_document_id__block_document"},
		{"block_schema_reference", "reference_block_schema_id",
			"fk_block_schema_reference__reference_block_schema_id__b_6e5d",
			"fk_block_schema_reference__reference_block_schema_id__block_schema"},
		{"block_document", "block_schema_id",
			"fk_block__block_schema_id__block_schema", "fk_block__block_schema_id__block_schema"},
	} {
		if got := fk(pg, tc.table, tc.col).Name; got != tc.pg {
			t.Errorf("postgres %s.%s fk name %q, want %q", tc.table, tc.col, got, tc.pg)
		}
		if got := fk(lite, tc.table, tc.col).Name; got != tc.sqlite {
			t.Errorf("sqlite %s.%s fk name %q, want %q", tc.table, tc.col, got, tc.sqlite)
		}
	}

	// SQLite indexes that kept or lost COLLATE NOCASE and DESC.
	for _, tc := range []struct {
		table, name string
		want        string // DescribeIndex on SQLite, "" when absent
	}{
		{"flow", "ix_flow_name_case_insensitive", "(name COLLATE NOCASE)"},
		{"block_document", "ix_block_document_name_case_insensitive", "(name COLLATE NOCASE)"},
		{"block_type", "ix_block_type_name_case_insensitive", "(name)"},
		{"deployment", "ix_deployment_name_case_insensitive", "(name)"},
		{"flow_run", "ix_flow_run_name_case_insensitive", "(name)"},
		{"task_run", "ix_task_run_name_case_insensitive", "(name)"},
		{"flow_run", "ix_flow_run__end_time_desc", "(end_time)"},
		{"flow_run", "ix_flow_run__expected_start_time_desc", "(expected_start_time)"},
		{"task_run", "ix_task_run__end_time_desc", "(end_time)"},
		{"task_run", "ix_task_run__expected_start_time_desc", "(expected_start_time)"},
		{"flow_run_state", "uq_flow_run_state__flow_run_id_timestamp_desc", "UNIQUE (flow_run_id, timestamp)"},
		{"task_run_state", "uq_task_run_state__task_run_id_timestamp_desc", "UNIQUE (task_run_id, timestamp)"},
		{"task_run_state_cache", "ix_task_run_state_cache__cache_key_created_desc", "(cache_key, created DESC)"},
		{"artifact_collection", "ix_artifact__key_created_desc", "(key, created DESC)"},
		{"artifact", "ix_artifact__key_created_desc", ""},
		{"flow_run", "ix_flow_run__coalesce_start_time_expected_start_time_asc", ""},
		{"flow_run", "ix_flow_run__scheduler_deployment_id_auto_scheduled_next_schedu", ""},
		{"block_document", "ix_block_document__block_type_name_name", "(block_type_name, name)"},
	} {
		ix := index(lite, tc.table, tc.name)
		got := ""
		if ix != nil {
			got = DescribeIndex(ix)
		}
		if got != tc.want {
			t.Errorf("sqlite %s.%s = %q, want %q", tc.table, tc.name, got, tc.want)
		}
	}

	// PostgreSQL-only index shapes.
	for _, tc := range []struct {
		table, name, want string
	}{
		{"artifact", "ix_artifact__key_created_desc",
			"(key, created DESC) INCLUDE (id, updated, type, task_run_id, flow_run_id)"},
		{"flow", "trgm_ix_flow_name", "USING gin (name gin_trgm_ops)"},
		{"block_schema", "ix_block_schema__capabilities", "USING gin (capabilities)"},
		{"flow_run", "ix_flow_run__coalesce_start_time_expected_start_time_desc",
			"((COALESCE(start_time, expected_start_time)) DESC)"},
		{"flow_run", "ix_flow_run__scheduler_deployment_id_auto_scheduled_next_schedu",
			"(deployment_id, auto_scheduled, next_scheduled_start_time) WHERE (state_type = 'SCHEDULED'::state_type)"},
		{"flow_run_state", "uq_flow_run_state__flow_run_id_timestamp_desc", "UNIQUE (flow_run_id, timestamp DESC)"},
		{"block_document", "ix_block_document__block_type_name__name", "(block_type_name, name)"},
		{"artifact_collection", "ix_artifact__key_created_desc", ""},
	} {
		ix := index(pg, tc.table, tc.name)
		got := ""
		if ix != nil {
			got = DescribeIndex(ix)
		}
		if got != tc.want {
			t.Errorf("postgres %s.%s = %q, want %q", tc.table, tc.name, got, tc.want)
		}
	}

	// Defaults per dialect.
	for _, tc := range []struct {
		table, col, pg, sqlite string
	}{
		{"flow", "id", "gen_random_uuid()", "lower(hex(randomblob(4))) || '-' ||"},
		{"flow", "created", "CURRENT_TIMESTAMP", "strftime('%Y-%m-%d %H:%M:%f000', 'now')"},
		{"flow_run", "total_run_time", "'00:00:00'::interval", "'0'"},
		{"deployment", "status", "'NOT_READY'::deployment_status", "'NOT_READY'"},
		{"worker", "status", "'OFFLINE'::worker_status", "'OFFLINE'"},
		{"work_queue", "description", "''::character varying", "''"},
		{"work_queue", "priority", "1", "'1'"},
		{"block_schema", "version", "'non-versioned'::character varying", "'non-versioned'"},
		{"automation", "enabled", "true", "'1'"},
		{"deployment_schedule", "catchup", "false", "'0'"},
		{"flow_run", "tags", "'[]'::jsonb", "'[]'"},
		{"flow_run", "parameters", "'{}'::jsonb", "'{}'"},
		{"automation_bucket", "bucketing_key", "", ""},
	} {
		if got := pg.Table(tc.table).Column(tc.col).Default; got != tc.pg {
			t.Errorf("postgres %s.%s default %q, want %q", tc.table, tc.col, got, tc.pg)
		}
		got := lite.Table(tc.table).Column(tc.col).Default
		if tc.sqlite == "" && got != "" || !strings.HasPrefix(got, tc.sqlite) {
			t.Errorf("sqlite %s.%s default %q, want %q", tc.table, tc.col, got, tc.sqlite)
		}
	}
}
