package postgres

import (
	"strings"

	"github.com/prefectdb/prefectdb/internal/catalog"
)

// RenderSchema renders a schema as the PostgreSQL statements that create it
// in an empty schema, in an order that executes: CREATE EXTENSION IF NOT
// EXISTS for each extension, CREATE TYPE ... AS ENUM for each enum, one
// CREATE TABLE per table (columns with their types, NOT NULL and defaults,
// then the named primary-key and UNIQUE constraints), then every foreign key
// as ALTER TABLE ... ADD CONSTRAINT (Prefect's tables reference each other in
// cycles), then the CREATE INDEX statements.
//
// Identifiers (tables, columns, constraints, indexes, types, extensions,
// access methods, operator classes) are always double-quoted and enum
// labels are rendered as escaped string literals. Column types, defaults,
// index expressions and partial-index predicates are SQL text taken verbatim
// from the model, as pg_catalog prints it (check untrusted models with
// catalog.Validate first). Index collations are a SQLite notion and are
// ignored.
func RenderSchema(s *catalog.Schema) []string {
	var stmts []string
	for _, x := range s.Extensions {
		stmts = append(stmts, "CREATE EXTENSION IF NOT EXISTS "+ddlIdent(x))
	}
	for _, e := range s.Enums {
		labels := make([]string, len(e.Values))
		for i, v := range e.Values {
			labels[i] = ddlString(v)
		}
		stmts = append(stmts, "CREATE TYPE "+ddlIdent(e.Name)+" AS ENUM ("+strings.Join(labels, ", ")+")")
	}
	for _, t := range s.Tables {
		stmts = append(stmts, renderCreateTable(t))
	}
	for _, t := range s.Tables {
		for _, fk := range t.ForeignKeys {
			stmts = append(stmts, renderAddForeignKey(t.Name, fk))
		}
	}
	for _, t := range s.Tables {
		for _, ix := range t.Indexes {
			stmts = append(stmts, renderCreateIndex(t.Name, ix))
		}
	}
	return stmts
}

// renderCreateTable renders one CREATE TABLE statement (without foreign
// keys).
func renderCreateTable(t *catalog.Table) string {
	var defs []string
	for _, c := range t.Columns {
		d := ddlIdent(c.Name) + " " + c.Type
		if !c.Nullable {
			d += " NOT NULL"
		}
		if c.Default != "" {
			d += " DEFAULT " + c.Default
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
	return "CREATE TABLE " + ddlIdent(t.Name) + " (\n\t" + strings.Join(defs, ",\n\t") + "\n)"
}

// renderAddForeignKey renders one ALTER TABLE ... ADD [CONSTRAINT]
// FOREIGN KEY statement.
func renderAddForeignKey(table string, fk *catalog.ForeignKey) string {
	d := "ALTER TABLE " + ddlIdent(table) + " ADD " + constraintPrefix(fk.Name) +
		"FOREIGN KEY (" + ddlIdentList(fk.Columns) + ") REFERENCES " + ddlIdent(fk.RefTable) +
		" (" + ddlIdentList(fk.RefColumns) + ")"
	if fk.OnDelete != "" {
		d += " ON DELETE " + fk.OnDelete
	}
	return d
}

// renderCreateIndex renders one CREATE INDEX statement.
func renderCreateIndex(table string, ix *catalog.Index) string {
	var b strings.Builder
	b.WriteString("CREATE ")
	if ix.Unique {
		b.WriteString("UNIQUE ")
	}
	b.WriteString("INDEX " + ddlIdent(ix.Name) + " ON " + ddlIdent(table))
	if ix.Method != "" && !strings.EqualFold(ix.Method, "btree") {
		b.WriteString(" USING " + ddlIdent(ix.Method))
	}
	b.WriteString(" (")
	for i, p := range ix.Parts {
		if i > 0 {
			b.WriteString(", ")
		}
		if p.Column != "" {
			b.WriteString(ddlIdent(p.Column))
		} else {
			b.WriteString("(" + p.Expr + ")")
		}
		if p.OpClass != "" {
			b.WriteString(" " + ddlIdent(p.OpClass))
		}
		if p.Desc {
			b.WriteString(" DESC")
		}
	}
	b.WriteString(")")
	if len(ix.Include) > 0 {
		b.WriteString(" INCLUDE (" + ddlIdentList(ix.Include) + ")")
	}
	if ix.Where != "" {
		b.WriteString(" WHERE " + ix.Where)
	}
	return b.String()
}

// RenderDropSchema renders the statements that drop a schema's tables (with
// their indexes, constraints and any foreign key that points at them, hence
// CASCADE) in reverse creation order, then its enum types. Extensions are
// kept: other schemas of the database may use them.
func RenderDropSchema(s *catalog.Schema) []string {
	var stmts []string
	for i := len(s.Tables) - 1; i >= 0; i-- {
		stmts = append(stmts, "DROP TABLE IF EXISTS "+ddlIdent(s.Tables[i].Name)+" CASCADE")
	}
	for i := len(s.Enums) - 1; i >= 0; i-- {
		stmts = append(stmts, "DROP TYPE IF EXISTS "+ddlIdent(s.Enums[i].Name))
	}
	return stmts
}

// AlembicVersionDDL returns the statements that create Prefect's
// alembic_version bookkeeping table exactly as alembic creates it
// (version_num character varying(32), primary key alembic_version_pkc) and
// record revision as the current one.
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

// ddlString renders a string literal, doubling embedded single quotes. A
// string with a backslash is written as an escape string (E'...') with the
// backslashes doubled, which reads the same whatever
// standard_conforming_strings is set to.
func ddlString(s string) string {
	q := strings.ReplaceAll(s, "'", "''")
	if strings.Contains(s, `\`) {
		return "E'" + strings.ReplaceAll(q, `\`, `\\`) + "'"
	}
	return "'" + q + "'"
}

// constraintPrefix renders "CONSTRAINT name " for a named constraint.
func constraintPrefix(name string) string {
	if name == "" {
		return ""
	}
	return "CONSTRAINT " + ddlIdent(name) + " "
}
