// Package schemagen turns the Ent schema graph into prefectdb's logical
// schema: a catalog.Schema whose column types are logical kinds
// ("uuid", "timestamp", "enum:state_type", ...) and whose defaults are in
// logical notation ("NOW", "GENERATE_UUID", "'[]'", "false"). Each dialect
// package turns the logical schema into its physical one, which is rendered
// into the migration files and compared against live databases.
package schemagen

import (
	"fmt"
	"slices"
	"sort"

	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/entc/gen"
	"entgo.io/ent/schema/field"

	"github.com/prefectdb/prefectdb/ent/schema/storage"
	"github.com/prefectdb/prefectdb/internal/catalog"
)

// Logical builds the logical schema of every node in the graph, tables
// sorted by name.
func Logical(g *gen.Graph) (*catalog.Schema, error) {
	s := &catalog.Schema{}
	enums := map[string][]string{}
	nodes := slices.Clone(g.Nodes)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Table() < nodes[j].Table() })
	for _, n := range nodes {
		t, err := logicalTable(n, enums)
		if err != nil {
			return nil, fmt.Errorf("schemagen: table %s: %w", n.Table(), err)
		}
		s.Tables = append(s.Tables, t)
	}
	names := make([]string, 0, len(enums))
	for name := range enums {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s.Enums = append(s.Enums, &catalog.Enum{Name: name, Values: enums[name]})
	}
	return s, nil
}

func logicalTable(n *gen.Type, enums map[string][]string) (*catalog.Table, error) {
	t := &catalog.Table{
		Name:       n.Table(),
		PrimaryKey: &catalog.Key{Name: "pk_" + n.Table(), Columns: []string{n.ID.StorageKey()}},
	}
	for _, f := range append([]*gen.Field{n.ID}, n.Fields...) {
		c, err := logicalColumn(f, enums)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.StorageKey(), err)
		}
		t.Columns = append(t.Columns, c)
	}
	for _, e := range n.Edges {
		if !e.OwnFK() || (!e.M2O() && !e.O2O()) {
			continue
		}
		f := e.Field()
		if f == nil {
			return nil, fmt.Errorf("edge %s holds a foreign key without an explicit field: give it Field(...)", e.Name)
		}
		ann, err := storage.Decode[storage.ForeignKey](e.Annotations[storage.ForeignKeyName])
		if err != nil {
			return nil, err
		}
		col := f.StorageKey()
		if ann.None {
			continue
		}
		if ann.OnDelete == "" {
			return nil, fmt.Errorf("edge %s (column %s): annotate it with storage.OnDelete or storage.NoForeignKey", e.Name, col)
		}
		ref := e.Type.Table()
		name := ann.Symbol
		if name == "" {
			name = fmt.Sprintf("fk_%s__%s__%s", t.Name, col, ref)
		}
		t.ForeignKeys = append(t.ForeignKeys, &catalog.ForeignKey{
			Name: name, Columns: []string{col}, RefTable: ref,
			RefColumns: []string{e.Type.ID.StorageKey()}, OnDelete: ann.OnDelete,
		})
	}
	sort.Slice(t.ForeignKeys, func(i, j int) bool { return t.ForeignKeys[i].Name < t.ForeignKeys[j].Name })
	for _, idx := range n.Indexes {
		u, err := storage.Decode[storage.Unique](idx.Annotations[storage.UniqueName])
		if err != nil {
			return nil, err
		}
		if u.Constraint {
			if !idx.Unique {
				return nil, fmt.Errorf("index %s: storage.Constraint() needs Unique()", idx.Name)
			}
			t.Uniques = append(t.Uniques, &catalog.Key{Name: idx.Name, Columns: slices.Clone(idx.Columns)})
			continue
		}
		desc, err := descColumns(idx)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", idx.Name, err)
		}
		ci := &catalog.Index{Name: idx.Name, Unique: idx.Unique}
		for _, col := range idx.Columns {
			ci.Parts = append(ci.Parts, &catalog.IndexPart{Column: col, Desc: desc[col]})
		}
		t.Indexes = append(t.Indexes, ci)
	}
	sort.Slice(t.Uniques, func(i, j int) bool { return t.Uniques[i].Name < t.Uniques[j].Name })
	sort.Slice(t.Indexes, func(i, j int) bool { return t.Indexes[i].Name < t.Indexes[j].Name })
	return t, nil
}

func descColumns(idx *gen.Index) (map[string]bool, error) {
	v, ok := idx.Annotations[(&entsql.IndexAnnotation{}).Name()]
	if !ok {
		return nil, nil
	}
	a, err := storage.Decode[entsql.IndexAnnotation](v)
	if err != nil {
		return nil, err
	}
	if a.Desc {
		out := map[string]bool{}
		for _, c := range idx.Columns {
			out[c] = true
		}
		return out, nil
	}
	return a.DescColumns, nil
}

func logicalColumn(f *gen.Field, enums map[string][]string) (*catalog.Column, error) {
	ann, err := storage.Decode[storage.Column](f.Annotations[storage.ColumnName])
	if err != nil {
		return nil, err
	}
	kind := ann.Kind
	if kind == "" {
		if kind, err = inferKind(f); err != nil {
			return nil, err
		}
	}
	if f.IsEnum() {
		if len(kind) <= len(storage.KindEnumPrefix) || kind[:len(storage.KindEnumPrefix)] != storage.KindEnumPrefix {
			return nil, fmt.Errorf("enum field needs storage.Enum(<type name>)")
		}
		name := kind[len(storage.KindEnumPrefix):]
		values := f.EnumValues()
		if prev, ok := enums[name]; ok && !slices.Equal(prev, values) {
			return nil, fmt.Errorf("enum type %s declared with different values %v and %v", name, prev, values)
		}
		enums[name] = values
	}
	return &catalog.Column{Name: f.StorageKey(), Type: kind, Nullable: f.Optional, Default: ann.Default}, nil
}

func inferKind(f *gen.Field) (string, error) {
	switch f.Type.Type {
	case field.TypeUUID:
		return storage.KindUUID, nil
	case field.TypeTime:
		return storage.KindTimestamp, nil
	case field.TypeJSON:
		return storage.KindJSONB, nil
	case field.TypeString:
		return storage.KindVarchar, nil
	case field.TypeBool:
		return storage.KindBoolean, nil
	case field.TypeInt, field.TypeInt32:
		return storage.KindInteger, nil
	case field.TypeInt16:
		return storage.KindSmallint, nil
	case field.TypeFloat64:
		return storage.KindFloat, nil
	}
	return "", fmt.Errorf("no logical kind for Ent type %s: annotate the field with storage.Kind", f.Type)
}
