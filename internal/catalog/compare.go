package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Compare reports every difference between two schemas, one human-readable
// line per difference, in a deterministic order (extensions, enums, then
// tables by name; within a table: columns by name, primary key, foreign
// keys, UNIQUE constraints, indexes). It returns nil when the schemas are
// equal. A nil schema is treated as an empty one.
//
// want is the expected schema and got the actual one: "missing" means in
// want but not in got, "unexpected" the reverse. Column order is not
// compared. Defaults, index expressions and partial-index predicates are
// compared after whitespace normalisation (see NormalizeSQL); index methods
// "" and "btree" are equal, and collations are compared case-insensitively
// with "BINARY" equal to "".
//
// Constraints and indexes are matched by name. Unnamed ones (possible on
// SQLite) are matched by their columns instead.
func Compare(want, got *Schema) []string {
	if want == nil {
		want = &Schema{}
	}
	if got == nil {
		got = &Schema{}
	}
	var out []string
	out = append(out, compareSets("extension", want.Extensions, got.Extensions)...)
	out = append(out, compareEnums(want.Enums, got.Enums)...)

	wantTables := make(map[string]*Table, len(want.Tables))
	gotTables := make(map[string]*Table, len(got.Tables))
	var names []string
	for _, t := range want.Tables {
		if _, dup := wantTables[t.Name]; dup {
			out = append(out, fmt.Sprintf("table %s: listed twice in the expected schema", t.Name))
			continue
		}
		wantTables[t.Name] = t
		names = append(names, t.Name)
	}
	for _, t := range got.Tables {
		if _, dup := gotTables[t.Name]; dup {
			out = append(out, fmt.Sprintf("table %s: listed twice in the actual schema", t.Name))
			continue
		}
		gotTables[t.Name] = t
		if _, ok := wantTables[t.Name]; !ok {
			names = append(names, t.Name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		w, g := wantTables[name], gotTables[name]
		switch {
		case g == nil:
			out = append(out, fmt.Sprintf("table %s: missing", name))
		case w == nil:
			out = append(out, fmt.Sprintf("table %s: unexpected", name))
		default:
			out = append(out, compareTable(w, g)...)
		}
	}
	return out
}

// compareSets compares two sets of names.
func compareSets(kind string, want, got []string) []string {
	w := make(map[string]bool, len(want))
	for _, s := range want {
		w[s] = true
	}
	g := make(map[string]bool, len(got))
	for _, s := range got {
		g[s] = true
	}
	var out []string
	for _, s := range sortedKeys(w) {
		if !g[s] {
			out = append(out, fmt.Sprintf("%s %s: missing", kind, s))
		}
	}
	for _, s := range sortedKeys(g) {
		if !w[s] {
			out = append(out, fmt.Sprintf("%s %s: unexpected", kind, s))
		}
	}
	return out
}

// compareEnums compares enum types by name and labels (in order).
func compareEnums(want, got []*Enum) []string {
	w := make(map[string]*Enum, len(want))
	for _, e := range want {
		w[e.Name] = e
	}
	g := make(map[string]*Enum, len(got))
	for _, e := range got {
		g[e.Name] = e
	}
	var out []string
	for _, name := range unionKeys(w, g) {
		we, ge := w[name], g[name]
		switch {
		case ge == nil:
			out = append(out, fmt.Sprintf("enum %s: missing", name))
		case we == nil:
			out = append(out, fmt.Sprintf("enum %s: unexpected", name))
		case !equalStrings(we.Values, ge.Values):
			out = append(out, fmt.Sprintf("enum %s: values %s, want %s",
				name, strings.Join(ge.Values, ", "), strings.Join(we.Values, ", ")))
		}
	}
	return out
}

// compareTable compares two tables with the same name.
func compareTable(want, got *Table) []string {
	prefix := "table " + want.Name + ": "
	var out []string
	add := func(format string, args ...any) {
		out = append(out, prefix+fmt.Sprintf(format, args...))
	}

	// Columns.
	wc := make(map[string]*Column, len(want.Columns))
	for _, c := range want.Columns {
		wc[c.Name] = c
	}
	gc := make(map[string]*Column, len(got.Columns))
	for _, c := range got.Columns {
		gc[c.Name] = c
	}
	for _, name := range unionKeys(wc, gc) {
		w, g := wc[name], gc[name]
		switch {
		case g == nil:
			add("column %s: missing", name)
		case w == nil:
			add("column %s: unexpected", name)
		default:
			if w.Type != g.Type {
				add("column %s: type %q, want %q", name, g.Type, w.Type)
			}
			if w.Nullable != g.Nullable {
				add("column %s: %s, want %s", name, nullText(g.Nullable), nullText(w.Nullable))
			}
			if NormalizeSQL(w.Default) != NormalizeSQL(g.Default) {
				add("column %s: default %s, want %s", name, defaultText(g.Default), defaultText(w.Default))
			}
		}
	}

	// Primary key.
	switch {
	case want.PrimaryKey == nil && got.PrimaryKey != nil:
		add("primary key %s: unexpected", describeKey(got.PrimaryKey))
	case want.PrimaryKey != nil && got.PrimaryKey == nil:
		add("primary key %s: missing", describeKey(want.PrimaryKey))
	case want.PrimaryKey != nil && !equalKeys(want.PrimaryKey, got.PrimaryKey):
		add("primary key %s, want %s", describeKey(got.PrimaryKey), describeKey(want.PrimaryKey))
	}

	// Foreign keys.
	wf, dups := indexBy(want.ForeignKeys, fkID)
	for _, d := range dups {
		add("foreign key %s: listed twice in the expected schema", d)
	}
	gf, dups := indexBy(got.ForeignKeys, fkID)
	for _, d := range dups {
		add("foreign key %s: listed twice in the actual schema", d)
	}
	for _, id := range unionKeys(wf, gf) {
		w, g := wf[id], gf[id]
		switch {
		case g == nil:
			add("foreign key %s: missing", id)
		case w == nil:
			add("foreign key %s: unexpected", id)
		case !equalFKs(w, g):
			add("foreign key %s: %s, want %s", id, describeFK(g), describeFK(w))
		}
	}

	// UNIQUE constraints.
	wu, dups := indexBy(want.Uniques, keyID)
	for _, d := range dups {
		add("unique constraint %s: listed twice in the expected schema", d)
	}
	gu, dups := indexBy(got.Uniques, keyID)
	for _, d := range dups {
		add("unique constraint %s: listed twice in the actual schema", d)
	}
	for _, id := range unionKeys(wu, gu) {
		w, g := wu[id], gu[id]
		switch {
		case g == nil:
			add("unique constraint %s: missing", id)
		case w == nil:
			add("unique constraint %s: unexpected", id)
		case !equalStrings(w.Columns, g.Columns):
			add("unique constraint %s: columns (%s), want (%s)", id,
				strings.Join(g.Columns, ", "), strings.Join(w.Columns, ", "))
		}
	}

	// Indexes.
	wi, dups := indexBy(want.Indexes, indexID)
	for _, d := range dups {
		add("index %s: listed twice in the expected schema", d)
	}
	gi, dups := indexBy(got.Indexes, indexID)
	for _, d := range dups {
		add("index %s: listed twice in the actual schema", d)
	}
	for _, id := range unionKeys(wi, gi) {
		w, g := wi[id], gi[id]
		switch {
		case g == nil:
			add("index %s: missing", id)
		case w == nil:
			add("index %s: unexpected", id)
		case !equalIndexes(w, g):
			add("index %s: %s, want %s", id, DescribeIndex(g), DescribeIndex(w))
		}
	}

	// CHECK constraints.
	wk, dups := indexBy(want.Checks, func(c *Check) string { return c.Name })
	for _, d := range dups {
		add("check constraint %s: listed twice in the expected schema", d)
	}
	gk, dups := indexBy(got.Checks, func(c *Check) string { return c.Name })
	for _, d := range dups {
		add("check constraint %s: listed twice in the actual schema", d)
	}
	for _, id := range unionKeys(wk, gk) {
		w, g := wk[id], gk[id]
		switch {
		case g == nil:
			add("check constraint %s: missing", id)
		case w == nil:
			add("check constraint %s: unexpected", id)
		case NormalizeSQL(w.Expr) != NormalizeSQL(g.Expr):
			add("check constraint %s: CHECK (%s), want CHECK (%s)", id, g.Expr, w.Expr)
		}
	}
	return out
}

// NormalizeSQL returns a canonical spelling of an SQL expression for
// comparison: whitespace outside quoted strings and quoted identifiers is
// removed, except for one space between two word characters (so
// "substr(x,2)" equals "substr(x, 2)" and "a  ||  b" equals "a||b", while
// "'a  b'" keeps its inner spaces), and parentheses around the whole
// expression are dropped ("((a = 1))" equals "a = 1"). The latter matters on
// SQLite, where PRAGMA table_xinfo keeps any parentheses inside DEFAULT (...)
// and Prefect's migrations wrote the UUID default sometimes with an extra
// pair and sometimes without. The result is only meant to be compared, not
// executed.
func NormalizeSQL(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	var quote byte        // the open quote character, or 0
	pendingSpace := false // whitespace seen since the last emitted byte
	var last byte         // the last emitted byte outside quotes
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			b.WriteByte(c)
			if c == quote {
				quote = 0
				last = c
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			pendingSpace = true
			continue
		}
		if pendingSpace && isWordByte(last) && isWordByte(c) {
			b.WriteByte(' ')
		}
		pendingSpace = false
		b.WriteByte(c)
		last = c
		if c == '\'' || c == '"' || c == '`' {
			quote = c
		}
	}
	out := b.String()
	for len(out) >= 2 && out[0] == '(' && closingParen(out) == len(out)-1 {
		out = out[1 : len(out)-1]
	}
	return out
}

// closingParen returns the index of the parenthesis that closes the one at
// s[0], skipping quoted text, or -1.
func closingParen(s string) int {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// isWordByte reports whether c can be part of an identifier, keyword or
// number (any non-ASCII byte counts as a word byte).
func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' ||
		c >= 'A' && c <= 'Z' || c >= 0x80
}

// DescribeIndex renders an index in a compact SQL-like form, e.g.
// `UNIQUE (flow_run_id, "timestamp" DESC)` or
// `USING gin (name gin_trgm_ops)`, for messages.
func DescribeIndex(ix *Index) string {
	var b strings.Builder
	if ix.Unique {
		b.WriteString("UNIQUE ")
	}
	if m := normMethod(ix.Method); m != "" {
		b.WriteString("USING " + m + " ")
	}
	b.WriteString("(")
	for i, p := range ix.Parts {
		if i > 0 {
			b.WriteString(", ")
		}
		if p.Column != "" {
			b.WriteString(p.Column)
		} else {
			b.WriteString("(" + p.Expr + ")")
		}
		if p.OpClass != "" {
			b.WriteString(" " + p.OpClass)
		}
		if c := normCollate(p.Collate); c != "" {
			b.WriteString(" COLLATE " + c)
		}
		if p.Desc {
			b.WriteString(" DESC")
		}
	}
	b.WriteString(")")
	if len(ix.Include) > 0 {
		b.WriteString(" INCLUDE (" + strings.Join(ix.Include, ", ") + ")")
	}
	if ix.Where != "" {
		b.WriteString(" WHERE " + ix.Where)
	}
	return b.String()
}

// equalIndexes reports whether two indexes have the same definition (their
// names are not compared).
func equalIndexes(a, b *Index) bool {
	if a.Unique != b.Unique || normMethod(a.Method) != normMethod(b.Method) ||
		NormalizeSQL(a.Where) != NormalizeSQL(b.Where) ||
		!equalStrings(a.Include, b.Include) || len(a.Parts) != len(b.Parts) {
		return false
	}
	for i := range a.Parts {
		p, q := a.Parts[i], b.Parts[i]
		if p.Column != q.Column || NormalizeSQL(p.Expr) != NormalizeSQL(q.Expr) ||
			p.Desc != q.Desc || p.OpClass != q.OpClass ||
			normCollate(p.Collate) != normCollate(q.Collate) {
			return false
		}
	}
	return true
}

// normMethod maps the default access method "btree" to "".
func normMethod(m string) string {
	if strings.EqualFold(m, "btree") {
		return ""
	}
	return strings.ToLower(m)
}

// normCollate upper-cases a collation name and maps the default "BINARY"
// to "".
func normCollate(c string) string {
	c = strings.ToUpper(c)
	if c == "BINARY" {
		return ""
	}
	return c
}

// equalFKs reports whether two foreign keys have the same definition.
func equalFKs(a, b *ForeignKey) bool {
	return a.Name == b.Name && a.RefTable == b.RefTable &&
		equalStrings(a.Columns, b.Columns) && equalStrings(a.RefColumns, b.RefColumns) &&
		normOnDelete(a.OnDelete) == normOnDelete(b.OnDelete)
}

// normOnDelete maps "" to the SQL default "NO ACTION".
func normOnDelete(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), " "))
	if s == "" {
		return "NO ACTION"
	}
	return s
}

// describeFK renders a foreign key's definition for messages.
func describeFK(fk *ForeignKey) string {
	return fmt.Sprintf("(%s) -> %s(%s) ON DELETE %s", strings.Join(fk.Columns, ", "),
		fk.RefTable, strings.Join(fk.RefColumns, ", "), normOnDelete(fk.OnDelete))
}

// equalKeys reports whether two keys have the same name and columns.
func equalKeys(a, b *Key) bool {
	return a.Name == b.Name && equalStrings(a.Columns, b.Columns)
}

// describeKey renders a key for messages.
func describeKey(k *Key) string {
	name := k.Name
	if name == "" {
		name = "(unnamed)"
	}
	return fmt.Sprintf("%s (%s)", name, strings.Join(k.Columns, ", "))
}

// fkID identifies a foreign key: by name, or by its columns when unnamed.
func fkID(fk *ForeignKey) string {
	if fk.Name != "" {
		return fk.Name
	}
	return fmt.Sprintf("(unnamed: (%s) -> %s)", strings.Join(fk.Columns, ", "), fk.RefTable)
}

// keyID identifies a UNIQUE constraint: by name, or by its columns when
// unnamed.
func keyID(k *Key) string {
	if k.Name != "" {
		return k.Name
	}
	return fmt.Sprintf("(unnamed: %s)", strings.Join(k.Columns, ", "))
}

// indexID identifies an index by name.
func indexID(ix *Index) string {
	if ix.Name != "" {
		return ix.Name
	}
	return "(unnamed: " + DescribeIndex(ix) + ")"
}

// indexBy maps items by id and returns the ids that occur more than once.
func indexBy[T any](items []T, id func(T) string) (map[string]T, []string) {
	m := make(map[string]T, len(items))
	var dups []string
	for _, it := range items {
		k := id(it)
		if _, ok := m[k]; ok {
			dups = append(dups, k)
			continue
		}
		m[k] = it
	}
	sort.Strings(dups)
	return m, dups
}

// unionKeys returns the sorted union of two maps' keys.
func unionKeys[A, B any](a map[string]A, b map[string]B) []string {
	seen := make(map[string]bool, len(a)+len(b))
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	return sortedKeys(seen)
}

// sortedKeys returns a map's keys in sorted order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// equalStrings reports whether two string slices are equal (nil equals
// empty).
func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// nullText renders a nullability for messages.
func nullText(nullable bool) string {
	if nullable {
		return "NULL"
	}
	return "NOT NULL"
}

// defaultText renders a default for messages.
func defaultText(d string) string {
	if d == "" {
		return "(none)"
	}
	return fmt.Sprintf("%q", d)
}
