// Package catalog is the dialect-neutral model of a physical database schema:
// tables, columns, keys, foreign keys, unique constraints, indexes, enum types
// and extensions, each written the way one particular database stores it.
//
// The same model has three producers and one consumer:
//   - the schema generator builds it from the Ent schema graph, per dialect;
//   - the reference loader builds it from Prefect 3.0's schema (testdata);
//   - each dialect reads it from a live database's catalog;
//
// and each dialect renders it to DDL. Compare reports every difference between
// two models, which is how tests prove that prefectdb's databases equal
// Prefect's, table for table and index for index.
package catalog

// Schema is the physical schema of one database (one dialect).
type Schema struct {
	// Tables, in the order they are created.
	Tables []*Table `json:"tables"`
	// Enums are named enum types (PostgreSQL only; empty on SQLite).
	Enums []*Enum `json:"enums,omitempty"`
	// Extensions are the database extensions the schema needs (PostgreSQL only).
	Extensions []string `json:"extensions,omitempty"`
}

// Enum is a named enum type with its labels in sort order.
type Enum struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Table is one table.
type Table struct {
	Name    string    `json:"name"`
	Columns []*Column `json:"columns"`
	// PrimaryKey is the named primary-key constraint.
	PrimaryKey *Key `json:"primary_key,omitempty"`
	// ForeignKeys are the table's foreign-key constraints.
	ForeignKeys []*ForeignKey `json:"foreign_keys,omitempty"`
	// Uniques are UNIQUE constraints (not unique indexes: those are Indexes
	// with Unique set). On SQLite they are declared inside CREATE TABLE and
	// backed by sqlite_autoindex_* indexes.
	Uniques []*Key `json:"uniques,omitempty"`
	// Indexes are the indexes created with CREATE INDEX, excluding the ones
	// that back the primary key and UNIQUE constraints.
	Indexes []*Index `json:"indexes,omitempty"`
	// Checks are named CHECK constraints.
	Checks []*Check `json:"checks,omitempty"`
}

// Check is a named CHECK constraint. Expr is the condition as the database
// reports it (pg_get_constraintdef on PostgreSQL, the text inside CHECK (...)
// of the CREATE TABLE statement on SQLite); it is compared after
// NormalizeSQL.
type Check struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
}

// Column is one column.
type Column struct {
	Name string `json:"name"`
	// Type is the column type as the database reports it: on PostgreSQL the
	// format_type() text ("uuid", "timestamp with time zone", "character
	// varying", "state_type"), on SQLite the declared type ("CHAR(36)",
	// "DATETIME", "VARCHAR(9)").
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
	// Default is the server default expression as the database reports it
	// (pg_get_expr on PostgreSQL, the dflt_value of PRAGMA table_xinfo on
	// SQLite, i.e. without the outer parentheses), or "" for none.
	Default string `json:"default,omitempty"`
}

// Key is a named list of columns: a primary key or a UNIQUE constraint.
type Key struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
}

// ForeignKey is a foreign-key constraint.
type ForeignKey struct {
	Name       string   `json:"name"`
	Columns    []string `json:"columns"`
	RefTable   string   `json:"ref_table"`
	RefColumns []string `json:"ref_columns"`
	// OnDelete is one of "NO ACTION", "RESTRICT", "CASCADE", "SET NULL",
	// "SET DEFAULT".
	OnDelete string `json:"on_delete"`
}

// Index is an index created with CREATE [UNIQUE] INDEX.
type Index struct {
	Name   string       `json:"name"`
	Unique bool         `json:"unique,omitempty"`
	Parts  []*IndexPart `json:"parts"`
	// Method is the access method on PostgreSQL ("btree", "gin"); "" means
	// btree. Always "" on SQLite.
	Method string `json:"method,omitempty"`
	// Where is the predicate of a partial index, as the database reports it.
	Where string `json:"where,omitempty"`
	// Include lists non-key columns of a covering index (PostgreSQL).
	Include []string `json:"include,omitempty"`
}

// IndexPart is one key of an index: a column or an expression.
type IndexPart struct {
	// Column is the indexed column; empty for an expression key.
	Column string `json:"column,omitempty"`
	// Expr is the key expression, as the database reports it, when the key
	// is not a plain column.
	Expr string `json:"expr,omitempty"`
	Desc bool   `json:"desc,omitempty"`
	// OpClass is a non-default operator class (PostgreSQL), e.g. "gin_trgm_ops".
	OpClass string `json:"opclass,omitempty"`
	// Collate is a non-default collation (SQLite), e.g. "NOCASE".
	Collate string `json:"collate,omitempty"`
}

// Table returns the table with the given name, or nil.
func (s *Schema) Table(name string) *Table {
	for _, t := range s.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Column returns the column with the given name, or nil.
func (t *Table) Column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}
