package catalog

import (
	"reflect"
	"strings"
	"testing"
)

// sampleSchema is a small schema with every kind of object.
func sampleSchema() *Schema {
	return &Schema{
		Extensions: []string{"pg_trgm"},
		Enums:      []*Enum{{Name: "state_type", Values: []string{"SCHEDULED", "RUNNING"}}},
		Tables: []*Table{
			{
				Name: "flow",
				Columns: []*Column{
					{Name: "id", Type: "uuid", Default: "gen_random_uuid()"},
					{Name: "name", Type: "character varying"},
				},
				PrimaryKey: &Key{Name: "pk_flow", Columns: []string{"id"}},
				Uniques:    []*Key{{Name: "uq_flow__name", Columns: []string{"name"}}},
				Indexes: []*Index{
					{Name: "trgm_ix_flow_name", Method: "gin", Parts: []*IndexPart{{Column: "name", OpClass: "gin_trgm_ops"}}},
				},
			},
			{
				Name: "flow_run",
				Columns: []*Column{
					{Name: "id", Type: "uuid"},
					{Name: "flow_id", Type: "uuid"},
					{Name: "start_time", Type: "timestamp with time zone", Nullable: true},
					{Name: "state_type", Type: "state_type", Nullable: true},
				},
				PrimaryKey: &Key{Name: "pk_flow_run", Columns: []string{"id"}},
				ForeignKeys: []*ForeignKey{{
					Name: "fk_flow_run__flow_id__flow", Columns: []string{"flow_id"},
					RefTable: "flow", RefColumns: []string{"id"}, OnDelete: "CASCADE",
				}},
				Indexes: []*Index{
					{Name: "ix_a", Parts: []*IndexPart{{Expr: "COALESCE(start_time, id)", Desc: true}}},
					{Name: "ix_b", Parts: []*IndexPart{{Column: "flow_id"}}, Where: "(state_type = 'SCHEDULED'::state_type)"},
				},
			},
		},
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(s *Schema)
		want   []string // substrings, one per expected difference, in order
	}{
		{"equal", func(s *Schema) {}, nil},
		{"column order is ignored", func(s *Schema) {
			c := s.Tables[1].Columns
			c[0], c[3] = c[3], c[0]
		}, nil},
		{"table order is ignored", func(s *Schema) {
			s.Tables[0], s.Tables[1] = s.Tables[1], s.Tables[0]
		}, nil},
		{"whitespace in defaults and expressions is ignored", func(s *Schema) {
			s.Tables[0].Columns[0].Default = " gen_random_uuid ( ) "
			s.Tables[1].Indexes[0].Parts[0].Expr = "COALESCE(start_time,id)"
			s.Tables[1].Indexes[1].Where = "(state_type =\n 'SCHEDULED'::state_type)"
		}, nil},
		{"btree is the default method", func(s *Schema) { s.Tables[1].Indexes[1].Method = "btree" }, nil},
		{"missing extension", func(s *Schema) { s.Extensions = nil }, []string{"extension pg_trgm: missing"}},
		{"enum values", func(s *Schema) { s.Enums[0].Values = []string{"RUNNING", "SCHEDULED"} },
			[]string{"enum state_type: values RUNNING, SCHEDULED, want SCHEDULED, RUNNING"}},
		{"extra table", func(s *Schema) { s.Tables = append(s.Tables, &Table{Name: "zzz"}) },
			[]string{"table zzz: unexpected"}},
		{"missing table", func(s *Schema) { s.Tables = s.Tables[:1] }, []string{"table flow_run: missing"}},
		{"column differences", func(s *Schema) {
			c := s.Tables[0].Columns
			c[0].Default = "uuid_generate_v4()"
			c[1].Type = "text"
			c[1].Nullable = true
			s.Tables[0].Columns = append(c, &Column{Name: "extra", Type: "text"})
		}, []string{
			"table flow: column extra: unexpected",
			`table flow: column id: default "uuid_generate_v4()", want "gen_random_uuid()"`,
			`table flow: column name: type "text", want "character varying"`,
			"table flow: column name: NULL, want NOT NULL",
		}},
		{"whitespace inside a string literal matters", func(s *Schema) {
			s.Tables[1].Indexes[1].Where = "(state_type = ' SCHEDULED'::state_type)"
		}, []string{"table flow_run: index ix_b:"}},
		{"primary key name", func(s *Schema) { s.Tables[0].PrimaryKey.Name = "flow_pkey" },
			[]string{"table flow: primary key flow_pkey (id), want pk_flow (id)"}},
		{"foreign key on delete", func(s *Schema) { s.Tables[1].ForeignKeys[0].OnDelete = "SET NULL" },
			[]string{"table flow_run: foreign key fk_flow_run__flow_id__flow: (flow_id) -> flow(id) ON DELETE SET NULL, want (flow_id) -> flow(id) ON DELETE CASCADE"}},
		{"foreign key renamed", func(s *Schema) { s.Tables[1].ForeignKeys[0].Name = "other" }, []string{
			"table flow_run: foreign key fk_flow_run__flow_id__flow: missing",
			"table flow_run: foreign key other: unexpected",
		}},
		{"unique columns", func(s *Schema) { s.Tables[0].Uniques[0].Columns = []string{"id", "name"} },
			[]string{"table flow: unique constraint uq_flow__name: columns (id, name), want (name)"}},
		{"index differences", func(s *Schema) {
			s.Tables[0].Indexes[0].Parts[0].OpClass = ""
			s.Tables[1].Indexes[0].Parts[0].Desc = false
			s.Tables[1].Indexes = s.Tables[1].Indexes[:1]
		}, []string{
			"table flow: index trgm_ix_flow_name: USING gin (name), want USING gin (name gin_trgm_ops)",
			"table flow_run: index ix_a: ((COALESCE(start_time, id))), want ((COALESCE(start_time, id)) DESC)",
			"table flow_run: index ix_b: missing",
		}},
		{"collation", func(s *Schema) { s.Tables[1].Indexes[1].Parts[0].Collate = "nocase" },
			[]string{"table flow_run: index ix_b: (flow_id COLLATE NOCASE) WHERE"}},
		{"binary collation is the default", func(s *Schema) { s.Tables[1].Indexes[1].Parts[0].Collate = "BINARY" }, nil},
		{"unique index", func(s *Schema) { s.Tables[1].Indexes[1].Unique = true },
			[]string{"table flow_run: index ix_b: UNIQUE (flow_id)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sampleSchema()
			tc.mutate(got)
			diffs := Compare(sampleSchema(), got)
			if len(diffs) != len(tc.want) {
				t.Fatalf("Compare returned %d differences, want %d:\n%s", len(diffs), len(tc.want), strings.Join(diffs, "\n"))
			}
			for i := range diffs {
				if !strings.Contains(diffs[i], tc.want[i]) {
					t.Errorf("difference %d = %q, want it to contain %q", i, diffs[i], tc.want[i])
				}
			}
			// Deterministic: the same inputs give the same output.
			if again := Compare(sampleSchema(), got); !reflect.DeepEqual(again, diffs) {
				t.Errorf("Compare is not deterministic: %v vs %v", diffs, again)
			}
		})
	}
}

func TestCompareNil(t *testing.T) {
	t.Parallel()
	if d := Compare(nil, nil); len(d) != 0 {
		t.Errorf("Compare(nil, nil) = %v", d)
	}
	d := Compare(sampleSchema(), nil)
	want := []string{"extension pg_trgm: missing", "enum state_type: missing", "table flow: missing", "table flow_run: missing"}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Compare(sample, nil) = %v, want %v", d, want)
	}
}

func TestNormalizeSQL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"  a   b  ", "a b"},
		{"substr(lower(hex(randomblob(2))), 2)", "substr(lower(hex(randomblob(2))),2)"},
		{"a || '-'  ||\n\tb", "a||'-'||b"},
		{"'a  b'", "'a  b'"},
		{"'it''s  x' ||  y", "'it''s  x'||y"},
		{`"my  col" = 1`, `"my  col"=1`},
		{"abs(random()) % 4 + 1", "abs(random())%4+1"},
		{"(\n    lower(x) \n || '-'\n    )", "lower(x)||'-'"},
		{"((a = 1))", "a=1"},
		{"(a) + (b)", "(a)+(b)"},
		{"('(' || x)", "'('||x"},
		{"(')')", "')'"},
	} {
		if got := NormalizeSQL(tc.in); got != tc.want {
			t.Errorf("NormalizeSQL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	if err := Validate(sampleSchema()); err != nil {
		t.Fatalf("Validate(sample) = %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(s *Schema)
		want   string
	}{
		{"unknown fk table", func(s *Schema) { s.Tables[1].ForeignKeys[0].RefTable = "nope" }, `unknown table "nope"`},
		{"unknown index column", func(s *Schema) { s.Tables[0].Indexes[0].Parts[0].Column = "nope" }, `unknown column "nope"`},
		{"injection in default", func(s *Schema) { s.Tables[0].Columns[0].Default = "1); DROP TABLE flow; --" }, "unbalanced"},
		{"separator in default", func(s *Schema) { s.Tables[0].Columns[0].Default = "1; DROP TABLE flow" }, "statement separator"},
		{"unterminated quote", func(s *Schema) { s.Tables[1].Indexes[1].Where = "(a = 'x)" }, "unterminated quote"},
		{"comment", func(s *Schema) { s.Tables[1].Indexes[0].Parts[0].Expr = "a -- b" }, "comment"},
		{"dollar quote", func(s *Schema) { s.Tables[0].Columns[1].Type = "$$x$$" }, "dollar"},
		{"duplicate index name", func(s *Schema) { s.Tables[1].Indexes[1].Name = "trgm_ix_flow_name" }, "already used"},
		{"bad on delete", func(s *Schema) { s.Tables[1].ForeignKeys[0].OnDelete = "CASCADE; x" }, "unknown ON DELETE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sampleSchema()
			tc.mutate(s)
			err := Validate(s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
