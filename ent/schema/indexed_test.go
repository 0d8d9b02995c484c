package schema

import (
	"slices"
	"sort"
	"testing"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"

	"github.com/prefectdb/prefectdb/internal/catalog"
	"github.com/prefectdb/prefectdb/types"
)

// TestIndexedTextMatchesPrefect derives, from Prefect's newest schema on
// PostgreSQL, the text columns a B-tree covers (primary keys, UNIQUE
// constraints, plain-column index keys) and checks that indexedText lists
// exactly those, by Ent type and field. It also checks that the limit is
// low enough: every such index entry of at most two limited texts and the
// rest fits PostgreSQL's 2,704 bytes.
func TestIndexedTextMatchesPrefect(t *testing.T) {
	ref, _, err := catalog.HeadReference("postgres")
	if err != nil {
		t.Fatal(err)
	}
	g, err := entc.LoadGraph(".", &gen.Config{})
	if err != nil {
		t.Fatal(err)
	}
	byTable := map[string]*gen.Type{}
	for _, n := range g.Nodes {
		byTable[n.Table()] = n
	}
	for _, tb := range ref.Tables {
		n := byTable[tb.Name]
		if n == nil {
			continue // alembic_version: not an entity
		}
		text := map[string]bool{}
		for _, c := range tb.Columns {
			text[c.Name] = c.Type == "character varying" || c.Type == "text"
		}
		want := map[string]bool{}
		keys := func(cols []string) {
			texts := 0
			for _, c := range cols {
				if text[c] {
					want[c] = true
					texts++
				}
			}
			if texts > 2 {
				t.Errorf("%s: a key of %d text columns %v: %d bytes each may not fit 2,704", tb.Name, texts, cols, types.MaxIndexedTextBytes)
			}
		}
		if tb.PrimaryKey != nil {
			keys(tb.PrimaryKey.Columns)
		}
		for _, u := range tb.Uniques {
			keys(u.Columns)
		}
		for _, ix := range tb.Indexes {
			if ix.Method != "" && ix.Method != "btree" {
				continue
			}
			var cols []string
			for _, p := range ix.Parts {
				if p.Column != "" {
					cols = append(cols, p.Column)
				}
			}
			keys(cols)
		}
		var wantFields []string
		for col := range want {
			f := fieldByColumn(n, col)
			if f == "" {
				t.Errorf("%s.%s: indexed text column without an Ent field", tb.Name, col)
				continue
			}
			wantFields = append(wantFields, f)
		}
		sort.Strings(wantFields)
		got := slices.Clone(indexedText(n.Name))
		sort.Strings(got)
		if !slices.Equal(got, wantFields) {
			t.Errorf("indexedText(%q) = %v, want %v (Prefect's indexed text columns of %s)", n.Name, got, wantFields, tb.Name)
		}
	}
}

func fieldByColumn(n *gen.Type, col string) string {
	for _, f := range n.Fields {
		if f.StorageKey() == col {
			return f.Name
		}
	}
	if n.ID != nil && n.ID.StorageKey() == col {
		return n.ID.Name
	}
	return ""
}
