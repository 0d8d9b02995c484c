package catalog

import (
	"errors"
	"fmt"
)

// Validate checks that a schema is well formed before it is rendered to DDL:
// every object has a name, names are unique, keys and indexes refer to
// existing columns, foreign keys refer to existing tables and columns of the
// schema, and every SQL fragment the renderers copy verbatim (column types,
// defaults, index expressions and predicates) is self-contained: balanced
// parentheses and quotes, and no statement separator or comment outside
// quotes. Identifiers and literals need no check, because the renderers
// always quote them.
//
// It returns all problems found, joined with errors.Join, or nil.
func Validate(s *Schema) error {
	if s == nil {
		return errors.New("catalog: nil schema")
	}
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	checkFragment := func(what, text string) {
		if err := checkSQLFragment(text); err != nil {
			fail("%s: %w", what, err)
		}
	}

	enums := map[string]bool{}
	for _, e := range s.Enums {
		if e.Name == "" {
			fail("enum with an empty name")
		}
		if enums[e.Name] {
			fail("enum %s: defined twice", e.Name)
		}
		enums[e.Name] = true
		if len(e.Values) == 0 {
			fail("enum %s: no values", e.Name)
		}
	}
	for _, x := range s.Extensions {
		if x == "" {
			fail("extension with an empty name")
		}
	}

	tables := map[string]*Table{}
	for _, t := range s.Tables {
		if t.Name == "" {
			fail("table with an empty name")
			continue
		}
		if tables[t.Name] != nil {
			fail("table %s: defined twice", t.Name)
		}
		tables[t.Name] = t
	}
	// Index names, and on PostgreSQL the names of the primary-key and UNIQUE
	// constraints (which name their backing indexes), share one namespace
	// per schema.
	objects := map[string]string{}
	claim := func(kind, name, table string) {
		if name == "" {
			return
		}
		if prev, ok := objects[name]; ok {
			fail("table %s: %s %s: name already used by %s", table, kind, name, prev)
			return
		}
		objects[name] = kind + " on table " + table
	}
	for _, t := range s.Tables {
		if t.Name == "" {
			continue
		}
		cols := map[string]bool{}
		for _, c := range t.Columns {
			if c.Name == "" {
				fail("table %s: column with an empty name", t.Name)
				continue
			}
			if cols[c.Name] {
				fail("table %s: column %s: defined twice", t.Name, c.Name)
			}
			cols[c.Name] = true
			if c.Type == "" {
				fail("table %s: column %s: empty type", t.Name, c.Name)
			}
			checkFragment(fmt.Sprintf("table %s: column %s: type", t.Name, c.Name), c.Type)
			checkFragment(fmt.Sprintf("table %s: column %s: default", t.Name, c.Name), c.Default)
		}
		checkCols := func(what string, names []string, in map[string]bool) {
			if len(names) == 0 {
				fail("table %s: %s: no columns", t.Name, what)
			}
			for _, n := range names {
				if !in[n] {
					fail("table %s: %s: unknown column %q", t.Name, what, n)
				}
			}
		}
		if pk := t.PrimaryKey; pk != nil {
			claim("primary key", pk.Name, t.Name)
			checkCols("primary key "+pk.Name, pk.Columns, cols)
		}
		for _, u := range t.Uniques {
			claim("unique constraint", u.Name, t.Name)
			checkCols("unique constraint "+u.Name, u.Columns, cols)
		}
		fkNames := map[string]bool{}
		for _, fk := range t.ForeignKeys {
			if fk.Name != "" && fkNames[fk.Name] {
				fail("table %s: foreign key %s: defined twice", t.Name, fk.Name)
			}
			fkNames[fk.Name] = true
			what := "foreign key " + fk.Name
			checkCols(what, fk.Columns, cols)
			ref := tables[fk.RefTable]
			if ref == nil {
				fail("table %s: %s: unknown table %q", t.Name, what, fk.RefTable)
				continue
			}
			if len(fk.RefColumns) != len(fk.Columns) {
				fail("table %s: %s: %d columns reference %d", t.Name, what, len(fk.Columns), len(fk.RefColumns))
			}
			refCols := map[string]bool{}
			for _, c := range ref.Columns {
				refCols[c.Name] = true
			}
			checkCols(what+" (referenced)", fk.RefColumns, refCols)
			switch fk.OnDelete {
			case "", "NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT":
			default:
				fail("table %s: %s: unknown ON DELETE action %q", t.Name, what, fk.OnDelete)
			}
		}
		for _, ix := range t.Indexes {
			claim("index", ix.Name, t.Name)
			what := "index " + ix.Name
			if ix.Name == "" {
				fail("table %s: index with an empty name", t.Name)
			}
			if len(ix.Parts) == 0 {
				fail("table %s: %s: no key parts", t.Name, what)
			}
			for i, p := range ix.Parts {
				switch {
				case p.Column != "" && p.Expr != "":
					fail("table %s: %s: part %d has both a column and an expression", t.Name, what, i+1)
				case p.Column == "" && p.Expr == "":
					fail("table %s: %s: part %d has neither a column nor an expression", t.Name, what, i+1)
				case p.Column != "" && !cols[p.Column]:
					fail("table %s: %s: unknown column %q", t.Name, what, p.Column)
				}
				checkFragment(fmt.Sprintf("table %s: %s: part %d", t.Name, what, i+1), p.Expr)
			}
			for _, c := range ix.Include {
				if !cols[c] {
					fail("table %s: %s: unknown INCLUDE column %q", t.Name, what, c)
				}
			}
			checkFragment(fmt.Sprintf("table %s: %s: predicate", t.Name, what), ix.Where)
		}
	}
	return errors.Join(errs...)
}

// checkSQLFragment checks that text is a self-contained SQL fragment:
// parentheses balance, quoted strings and identifiers are closed, and there
// is no ';' or comment outside quotes.
func checkSQLFragment(text string) error {
	depth := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch c {
		case '\'', '"', '`':
			j := i + 1
			for ; j < len(text); j++ {
				if text[j] == c {
					if j+1 < len(text) && text[j+1] == c { // doubled quote
						j++
						continue
					}
					break
				}
			}
			if j >= len(text) {
				return fmt.Errorf("unterminated quote in %q", text)
			}
			i = j
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return fmt.Errorf("unbalanced parentheses in %q", text)
			}
		case ';':
			return fmt.Errorf("statement separator in %q", text)
		case '-':
			if i+1 < len(text) && text[i+1] == '-' {
				return fmt.Errorf("comment in %q", text)
			}
		case '/':
			if i+1 < len(text) && text[i+1] == '*' {
				return fmt.Errorf("comment in %q", text)
			}
		case '$':
			// PostgreSQL dollar quoting ($$...$$ or $tag$...$tag$) could hide
			// anything; positional parameters ($1) are harmless but make no
			// sense in DDL either.
			return fmt.Errorf("dollar sign outside quotes in %q", text)
		}
	}
	if depth != 0 {
		return fmt.Errorf("unbalanced parentheses in %q", text)
	}
	return nil
}
