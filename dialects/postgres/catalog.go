package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/prefectdb/prefectdb/internal/catalog"
)

// ReadCatalog reads the schema of the connection's current schema
// (current_schema()) from pg_catalog, the way Prefect's schema reference
// describes it:
//
//   - ordinary and partitioned tables (not partitions), except the ones named
//     in exclude (bookkeeping such as alembic_version);
//   - columns with format_type() types, NOT NULL, and defaults as pg_get_expr
//     prints them;
//   - primary keys, UNIQUE constraints and foreign keys (with the ON DELETE
//     action) by constraint name;
//   - indexes that do not back a primary-key, UNIQUE or exclusion
//     constraint: uniqueness, access method ("" for btree), key columns or
//     expressions, DESC, non-default operator classes, INCLUDE columns and
//     the partial-index predicate (pg_get_expr). An expression key is the
//     text pg_get_indexdef(index, n, false) prints, the same text as in the
//     key list of the full pg_get_indexdef: "COALESCE(a, b)" for a function
//     call, "((a + b))" for other expressions;
//   - the schema's enum types, labels in sort order;
//   - installed extensions except plpgsql.
//
// Tables, constraints, indexes and enums are sorted by name; columns keep
// their attnum order.
func ReadCatalog(ctx context.Context, db catalog.Querier, exclude ...string) (*catalog.Schema, error) {
	skip := make(map[string]bool, len(exclude))
	for _, name := range exclude {
		skip[name] = true
	}
	s := &catalog.Schema{}
	tables := map[string]*catalog.Table{}

	err := queryRows(ctx, db, `
		SELECT c.relname
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		ORDER BY c.relname`,
		func(rows *sql.Rows) error {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			if !skip[name] {
				t := &catalog.Table{Name: name}
				tables[name] = t
				s.Tables = append(s.Tables, t)
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("postgres: read tables: %w", err)
	}

	err = queryRows(ctx, db, `
		SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
		       COALESCE(pg_get_expr(d.adbin, d.adrelid), '')
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
		  AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY c.relname, a.attnum`,
		func(rows *sql.Rows) error {
			var (
				table   string
				c       catalog.Column
				notNull bool
			)
			if err := rows.Scan(&table, &c.Name, &c.Type, &notNull, &c.Default); err != nil {
				return err
			}
			c.Nullable = !notNull
			if t := tables[table]; t != nil {
				t.Columns = append(t.Columns, &c)
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("postgres: read columns: %w", err)
	}

	err = queryRows(ctx, db, `
		SELECT c.relname, con.conname, con.contype,
		       to_json(ARRAY(
		         SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
		         JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
		         ORDER BY k.ord))::text,
		       COALESCE(fc.relname, ''),
		       to_json(ARRAY(
		         SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
		         JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
		         ORDER BY k.ord))::text,
		       con.confdeltype::text,
		       CASE WHEN con.contype = 'c' THEN pg_get_constraintdef(con.oid) ELSE '' END
		FROM pg_constraint con
		JOIN pg_class c ON c.oid = con.conrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_class fc ON fc.oid = con.confrelid
		WHERE n.nspname = current_schema() AND con.contype IN ('p', 'u', 'f', 'c')
		ORDER BY c.relname, con.conname`,
		func(rows *sql.Rows) error {
			var table, name, kind, cols, refTable, refCols, onDelete, checkDef string
			if err := rows.Scan(&table, &name, &kind, &cols, &refTable, &refCols, &onDelete, &checkDef); err != nil {
				return err
			}
			t := tables[table]
			if t == nil {
				return nil
			}
			var columns, refColumns []string
			if err := json.Unmarshal([]byte(cols), &columns); err != nil {
				return fmt.Errorf("constraint %s: columns %s: %w", name, cols, err)
			}
			switch kind {
			case "c":
				expr := strings.TrimSpace(checkDef)
				expr = strings.TrimSpace(strings.TrimPrefix(expr, "CHECK"))
				t.Checks = append(t.Checks, &catalog.Check{Name: name, Expr: expr})
			case "p":
				t.PrimaryKey = &catalog.Key{Name: name, Columns: columns}
			case "u":
				t.Uniques = append(t.Uniques, &catalog.Key{Name: name, Columns: columns})
			case "f":
				if err := json.Unmarshal([]byte(refCols), &refColumns); err != nil {
					return fmt.Errorf("constraint %s: referenced columns %s: %w", name, refCols, err)
				}
				action, err := onDeleteAction(onDelete)
				if err != nil {
					return fmt.Errorf("constraint %s: %w", name, err)
				}
				t.ForeignKeys = append(t.ForeignKeys, &catalog.ForeignKey{
					Name: name, Columns: columns, RefTable: refTable, RefColumns: refColumns, OnDelete: action,
				})
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("postgres: read constraints: %w", err)
	}

	// Index keys: indkey holds a column number, or 0 for an expression; the
	// first indnkeyatts entries are keys and the rest INCLUDE columns.
	// indoption bit 0 is DESC. An operator class is reported only when it is
	// not the default one for its type and access method.
	err = queryRows(ctx, db, `
		SELECT c.relname, ic.relname, i.indisunique, am.amname, i.indnkeyatts,
		       COALESCE(pg_get_expr(i.indpred, i.indrelid), ''),
		       to_json(ARRAY(
		         SELECT json_build_object(
		           'column', COALESCE(a.attname, ''),
		           'expr', CASE WHEN k.attnum = 0 THEN pg_get_indexdef(i.indexrelid, k.ord::int, false) ELSE '' END,
		           'desc', COALESCE((i.indoption[k.ord - 1] & 1) = 1, false),
		           'opclass', CASE WHEN opc.opcdefault THEN '' ELSE COALESCE(opc.opcname, '') END)
		         FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
		         LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum AND k.attnum > 0
		         LEFT JOIN pg_opclass opc ON opc.oid = i.indclass[k.ord - 1]
		         ORDER BY k.ord))::text
		FROM pg_index i
		JOIN pg_class ic ON ic.oid = i.indexrelid
		JOIN pg_class c ON c.oid = i.indrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_am am ON am.oid = ic.relam
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
		  AND NOT EXISTS (
		    SELECT 1 FROM pg_constraint con
		    WHERE con.conrelid = i.indrelid AND con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x'))
		ORDER BY c.relname, ic.relname`,
		func(rows *sql.Rows) error {
			var (
				table, method, where, keys string
				ix                         catalog.Index
				nKeys                      int
			)
			if err := rows.Scan(&table, &ix.Name, &ix.Unique, &method, &nKeys, &where, &keys); err != nil {
				return err
			}
			t := tables[table]
			if t == nil {
				return nil
			}
			var parts []struct {
				Column  string `json:"column"`
				Expr    string `json:"expr"`
				Desc    bool   `json:"desc"`
				OpClass string `json:"opclass"`
			}
			if err := json.Unmarshal([]byte(keys), &parts); err != nil {
				return fmt.Errorf("index %s: keys %s: %w", ix.Name, keys, err)
			}
			if method != "btree" {
				ix.Method = method
			}
			ix.Where = where
			for n, p := range parts {
				if n >= nKeys {
					ix.Include = append(ix.Include, p.Column)
					continue
				}
				ix.Parts = append(ix.Parts, &catalog.IndexPart{Column: p.Column, Expr: p.Expr, Desc: p.Desc, OpClass: p.OpClass})
			}
			t.Indexes = append(t.Indexes, &ix)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("postgres: read indexes: %w", err)
	}

	err = queryRows(ctx, db, `
		SELECT t.typname,
		       to_json(ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder))::text
		FROM pg_type t
		JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname = current_schema() AND t.typtype = 'e'
		ORDER BY t.typname`,
		func(rows *sql.Rows) error {
			var (
				e      catalog.Enum
				labels string
			)
			if err := rows.Scan(&e.Name, &labels); err != nil {
				return err
			}
			if err := json.Unmarshal([]byte(labels), &e.Values); err != nil {
				return fmt.Errorf("enum %s: labels %s: %w", e.Name, labels, err)
			}
			s.Enums = append(s.Enums, &e)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("postgres: read enum types: %w", err)
	}

	err = queryRows(ctx, db, `SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname`,
		func(rows *sql.Rows) error {
			var name string
			if err := rows.Scan(&name); err != nil {
				return err
			}
			s.Extensions = append(s.Extensions, name)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("postgres: read extensions: %w", err)
	}

	for _, t := range s.Tables {
		sort.SliceStable(t.ForeignKeys, func(i, j int) bool { return t.ForeignKeys[i].Name < t.ForeignKeys[j].Name })
		sort.SliceStable(t.Uniques, func(i, j int) bool { return t.Uniques[i].Name < t.Uniques[j].Name })
		sort.SliceStable(t.Indexes, func(i, j int) bool { return t.Indexes[i].Name < t.Indexes[j].Name })
	}
	return s, nil
}

// onDeleteAction maps pg_constraint.confdeltype to its SQL spelling.
func onDeleteAction(code string) (string, error) {
	switch code {
	case "a":
		return "NO ACTION", nil
	case "r":
		return "RESTRICT", nil
	case "c":
		return "CASCADE", nil
	case "n":
		return "SET NULL", nil
	case "d":
		return "SET DEFAULT", nil
	}
	return "", fmt.Errorf("unknown confdeltype %q", code)
}

// queryRows runs a query and calls scan for each row.
func queryRows(ctx context.Context, db catalog.Querier, query string, scan func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}
