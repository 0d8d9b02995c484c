package sqlite

import (
	"sort"
	"strings"

	"github.com/prefectdb/prefectdb/internal/catalog"
)

// RenderSchema renders a schema as the SQLite statements that create it on an
// empty database, in order: one CREATE TABLE per table (columns with their
// types, NOT NULL and defaults, then the named primary-key, UNIQUE and
// foreign-key constraints), then the CREATE INDEX statements. SQLite does
// not check foreign-key targets when a table is created, so the circular
// references between Prefect's tables need no special ordering.
//
// Identifiers are always double-quoted. Column types, defaults, index
// expressions and partial-index predicates are SQL text taken verbatim from
// the model (check untrusted models with catalog.Validate first). Literal
// defaults ('x', numbers) are written as DEFAULT 'x', every other default as
// DEFAULT (expr); either way PRAGMA table_xinfo reports exactly the model's
// text. Enum types, extensions, index methods, operator classes and INCLUDE
// columns do not exist on SQLite and are ignored.
func RenderSchema(s *catalog.Schema) []string {
	var stmts []string
	for _, t := range s.Tables {
		stmts = append(stmts, renderCreateTable(t))
	}
	for _, t := range s.Tables {
		for _, ix := range t.Indexes {
			stmts = append(stmts, renderCreateIndex(t.Name, ix))
		}
	}
	return stmts
}

// renderCreateTable renders one CREATE TABLE statement.
func renderCreateTable(t *catalog.Table) string {
	var defs []string
	for _, c := range t.Columns {
		d := ddlIdent(c.Name) + " " + c.Type
		if !c.Nullable {
			d += " NOT NULL"
		}
		if c.Default != "" {
			if isLiteralDefault(c.Default) {
				d += " DEFAULT " + c.Default
			} else {
				d += " DEFAULT (" + c.Default + ")"
			}
		}
		defs = append(defs, d)
	}
	if pk := t.PrimaryKey; pk != nil {
		defs = append(defs, constraintPrefix(pk.Name)+"PRIMARY KEY ("+ddlIdentList(pk.Columns)+")")
	}
	for _, u := range t.Uniques {
		defs = append(defs, constraintPrefix(u.Name)+"UNIQUE ("+ddlIdentList(u.Columns)+")")
	}
	for _, c := range t.Checks {
		defs = append(defs, constraintPrefix(c.Name)+"CHECK ("+c.Expr+")")
	}
	for _, fk := range t.ForeignKeys {
		d := constraintPrefix(fk.Name) + "FOREIGN KEY (" + ddlIdentList(fk.Columns) + ") REFERENCES " +
			ddlIdent(fk.RefTable) + " (" + ddlIdentList(fk.RefColumns) + ")"
		if fk.OnDelete != "" {
			d += " ON DELETE " + fk.OnDelete
		}
		defs = append(defs, d)
	}
	return "CREATE TABLE " + ddlIdent(t.Name) + " (\n\t" + strings.Join(defs, ",\n\t") + "\n)"
}

// renderCreateIndex renders one CREATE INDEX statement.
func renderCreateIndex(table string, ix *catalog.Index) string {
	var b strings.Builder
	b.WriteString("CREATE ")
	if ix.Unique {
		b.WriteString("UNIQUE ")
	}
	b.WriteString("INDEX " + ddlIdent(ix.Name) + " ON " + ddlIdent(table) + " (")
	for i, p := range ix.Parts {
		if i > 0 {
			b.WriteString(", ")
		}
		if p.Column != "" {
			b.WriteString(ddlIdent(p.Column))
		} else {
			// Written as is: ReadCatalog takes the key text back from
			// sqlite_master, so extra parentheses would show up there.
			b.WriteString(p.Expr)
		}
		if p.Collate != "" {
			b.WriteString(" COLLATE " + ddlIdent(p.Collate))
		}
		if p.Desc {
			b.WriteString(" DESC")
		}
	}
	b.WriteString(")")
	if ix.Where != "" {
		b.WriteString(" WHERE " + ix.Where)
	}
	return b.String()
}

// RenderDropSchema renders the statements that drop every table of a schema
// (their indexes go with them). With foreign_keys on, DROP TABLE first
// deletes every row, firing the ON DELETE actions of the tables that
// reference it, and SQLite fails if such an action reaches a table whose own
// parent is already gone. So a table is dropped only after every table that
// references it; tables that reference each other in a cycle (flow_run and
// flow_run_state, ...) are dropped together, after all the tables that
// reference any of them and before any table they reference.
func RenderDropSchema(s *catalog.Schema) []string {
	var stmts []string
	for _, name := range dropOrder(s) {
		stmts = append(stmts, "DROP TABLE IF EXISTS "+ddlIdent(name))
	}
	return stmts
}

// dropOrder orders tables so that every table comes after the tables that
// reference it, treating each group of mutually referencing tables (a
// strongly connected component) as one unit. Ties are broken by name.
func dropOrder(s *catalog.Schema) []string {
	present := map[string]bool{}
	var names []string
	for _, t := range s.Tables {
		if !present[t.Name] {
			present[t.Name] = true
			names = append(names, t.Name)
		}
	}
	sort.Strings(names)
	// referencedBy[t] = the other tables with a foreign key to t, sorted.
	referencedBy := map[string][]string{}
	for _, t := range s.Tables {
		for _, fk := range t.ForeignKeys {
			if fk.RefTable != t.Name && present[fk.RefTable] {
				referencedBy[fk.RefTable] = append(referencedBy[fk.RefTable], t.Name)
			}
		}
	}
	for k, v := range referencedBy {
		sort.Strings(v)
		referencedBy[k] = v
	}

	// Tarjan's algorithm on the edges table -> referencing table emits every
	// component after the components it reaches, i.e. referencing tables
	// first.
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack, order []string
	var visit func(v string)
	visit = func(v string) {
		index[v] = len(index)
		low[v] = index[v]
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range referencedBy[v] {
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var component []string
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			component = append(component, w)
			if w == v {
				break
			}
		}
		order = append(order, orderComponent(component, referencedBy)...)
	}
	for _, name := range names {
		if _, seen := index[name]; !seen {
			visit(name)
		}
	}
	return order
}

// orderComponent orders the tables of one strongly connected component:
// repeatedly the first table (by name) that no remaining table of the
// component references, or else the first table by name.
func orderComponent(component []string, referencedBy map[string][]string) []string {
	sort.Strings(component)
	remaining := map[string]bool{}
	for _, name := range component {
		remaining[name] = true
	}
	var order []string
	for len(order) < len(component) {
		pick := ""
		for _, name := range component {
			if !remaining[name] {
				continue
			}
			if pick == "" {
				pick = name // fallback: the first remaining name
			}
			free := true
			for _, child := range referencedBy[name] {
				if remaining[child] {
					free = false
					break
				}
			}
			if free {
				pick = name
				break
			}
		}
		delete(remaining, pick)
		order = append(order, pick)
	}
	return order
}

// AlembicVersionDDL returns the statements that create Prefect's
// alembic_version bookkeeping table exactly as alembic creates it on SQLite
// (so sqlite_master holds the same text) and record revision as the current
// one.
func AlembicVersionDDL(revision string) []string {
	return []string{
		"CREATE TABLE alembic_version (\n\tversion_num VARCHAR(32) NOT NULL, \n\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n)",
		"INSERT INTO alembic_version (version_num) VALUES (" + ddlString(revision) + ")",
	}
}

// ddlIdent double-quotes an identifier, doubling embedded double quotes.
func ddlIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// ddlIdentList quotes and comma-separates identifiers.
func ddlIdentList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = ddlIdent(n)
	}
	return strings.Join(q, ", ")
}

// ddlString renders a string literal, doubling embedded single quotes.
func ddlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// constraintPrefix renders "CONSTRAINT name " for a named constraint.
func constraintPrefix(name string) string {
	if name == "" {
		return ""
	}
	return "CONSTRAINT " + ddlIdent(name) + " "
}

// isLiteralDefault reports whether a default is a plain literal that may
// follow DEFAULT without parentheses: one string literal (embedded quotes doubled) or a
// signed decimal number.
func isLiteralDefault(s string) bool {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		body := s[1 : len(s)-1]
		for i := 0; i < len(body); i++ {
			if body[i] == '\'' {
				if i+1 >= len(body) || body[i+1] != '\'' {
					return false
				}
				i++
			}
		}
		return true
	}
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" || s == "." {
		return false
	}
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	digits, dots := 0, 0
	for _, c := range mant {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	if digits == 0 || dots > 1 {
		return false
	}
	if hasExp {
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			exp = exp[1:]
		}
		if exp == "" || strings.Trim(exp, "0123456789") != "" {
			return false
		}
	}
	return true
}
