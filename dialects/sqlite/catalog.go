package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/prefectdb/prefectdb/internal/catalog"
)

// ReadCatalog reads the schema of the main database of a SQLite connection
// the way Prefect's schema reference describes it: tables from
// sqlite_master, columns from PRAGMA table_xinfo (declared type, NOT NULL,
// default text without its outer parentheses), keys and indexes from PRAGMA
// foreign_key_list, index_list and index_xinfo. SQLite's own tables
// (sqlite_*) and the tables named in exclude (bookkeeping such as
// alembic_version) are left out. Tables, foreign keys, UNIQUE constraints
// and indexes are sorted by name; columns keep their declaration order.
//
// The pragmas do not report constraint names, so the names of the primary
// key, UNIQUE constraints and foreign keys are taken from the CREATE TABLE
// text in sqlite_master. Likewise the text of expression keys and of
// partial-index predicates comes from the CREATE INDEX text. UNIQUE
// constraints (index_list origin 'u', backed by sqlite_autoindex_*) become
// Table.Uniques; indexes created with CREATE INDEX (origin 'c') become
// Table.Indexes, with the default collation BINARY reported as "".
func ReadCatalog(ctx context.Context, db catalog.Querier, exclude ...string) (*catalog.Schema, error) {
	skip := make(map[string]bool, len(exclude))
	for _, name := range exclude {
		skip[strings.ToLower(name)] = true
	}
	type tableRow struct{ name, sql string }
	var tables []tableRow
	err := queryRows(ctx, db,
		`SELECT name, COALESCE(sql, '') FROM sqlite_master
		 WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
		 ORDER BY name`,
		nil, func(rows *sql.Rows) error {
			var r tableRow
			if err := rows.Scan(&r.name, &r.sql); err != nil {
				return err
			}
			if !skip[strings.ToLower(r.name)] {
				tables = append(tables, r)
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("sqlite: read tables: %w", err)
	}
	s := &catalog.Schema{}
	for _, tr := range tables {
		t, err := readTable(ctx, db, tr.name, tr.sql)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read table %s: %w", tr.name, err)
		}
		s.Tables = append(s.Tables, t)
	}
	// A foreign key without a column list refers to the parent's primary key.
	for _, t := range s.Tables {
		for _, fk := range t.ForeignKeys {
			if len(fk.RefColumns) == 0 || fk.RefColumns[0] != "" {
				continue
			}
			pk, err := primaryKeyColumns(ctx, db, fk.RefTable)
			if err != nil {
				return nil, fmt.Errorf("sqlite: read primary key of %s: %w", fk.RefTable, err)
			}
			if len(pk) == len(fk.RefColumns) {
				fk.RefColumns = pk
			}
		}
	}
	return s, nil
}

// readTable reads one table.
func readTable(ctx context.Context, db catalog.Querier, name, createSQL string) (*catalog.Table, error) {
	def, err := parseCreateTable(createSQL)
	if err != nil {
		return nil, err
	}
	t := &catalog.Table{Name: name}

	// Columns and primary key.
	var pkCols []struct {
		pos  int
		name string
	}
	err = queryRows(ctx, db,
		`SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid`,
		[]any{name}, func(rows *sql.Rows) error {
			var (
				c       catalog.Column
				notNull bool
				dflt    sql.NullString
				pk      int
				hidden  int
			)
			if err := rows.Scan(&c.Name, &c.Type, &notNull, &dflt, &pk, &hidden); err != nil {
				return err
			}
			if hidden == 1 { // hidden columns of virtual tables
				return nil
			}
			c.Nullable = !notNull
			c.Default = dflt.String
			t.Columns = append(t.Columns, &c)
			if pk > 0 {
				pkCols = append(pkCols, struct {
					pos  int
					name string
				}{pk, c.Name})
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("columns: %w", err)
	}
	if len(pkCols) > 0 {
		sort.Slice(pkCols, func(i, j int) bool { return pkCols[i].pos < pkCols[j].pos })
		t.PrimaryKey = &catalog.Key{Name: def.pkName}
		for _, c := range pkCols {
			t.PrimaryKey.Columns = append(t.PrimaryKey.Columns, c.name)
		}
	}

	// Foreign keys.
	fks := map[int]*catalog.ForeignKey{}
	var fkIDs []int
	err = queryRows(ctx, db,
		`SELECT id, "table", "from", "to", on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq`,
		[]any{name}, func(rows *sql.Rows) error {
			var (
				id             int
				refTable, from string
				to             sql.NullString
				onDelete       string
			)
			if err := rows.Scan(&id, &refTable, &from, &to, &onDelete); err != nil {
				return err
			}
			fk := fks[id]
			if fk == nil {
				fk = &catalog.ForeignKey{RefTable: refTable, OnDelete: onDelete}
				fks[id] = fk
				fkIDs = append(fkIDs, id)
			}
			fk.Columns = append(fk.Columns, from)
			fk.RefColumns = append(fk.RefColumns, to.String) // "" until resolved
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("foreign keys: %w", err)
	}
	// PRAGMA foreign_key_list numbers the constraints from the last declared
	// one; walk them in declaration order so that duplicate definitions get
	// their names in order.
	sort.Sort(sort.Reverse(sort.IntSlice(fkIDs)))
	usedFK := make([]bool, len(def.fks))
	for _, id := range fkIDs {
		fk := fks[id]
		for i, p := range def.fks {
			if !usedFK[i] && strings.EqualFold(p.refTable, fk.RefTable) && equalFoldList(p.columns, fk.Columns) {
				usedFK[i] = true
				fk.Name = p.name
				break
			}
		}
		t.ForeignKeys = append(t.ForeignKeys, fk)
	}
	sort.SliceStable(t.ForeignKeys, func(i, j int) bool { return t.ForeignKeys[i].Name < t.ForeignKeys[j].Name })

	// Indexes and UNIQUE constraints.
	type indexRow struct {
		name    string
		unique  bool
		origin  string
		partial bool
	}
	var indexRows []indexRow
	err = queryRows(ctx, db,
		`SELECT name, "unique", origin, partial FROM pragma_index_list(?)`,
		[]any{name}, func(rows *sql.Rows) error {
			var r indexRow
			if err := rows.Scan(&r.name, &r.unique, &r.origin, &r.partial); err != nil {
				return err
			}
			indexRows = append(indexRows, r)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("index list: %w", err)
	}
	sort.Slice(indexRows, func(i, j int) bool { return indexRows[i].name < indexRows[j].name })
	usedUnique := make([]bool, len(def.uniques))
	for _, r := range indexRows {
		switch r.origin {
		case "pk":
			continue
		case "u":
			parts, err := readIndexKeys(ctx, db, r.name)
			if err != nil {
				return nil, err
			}
			u := &catalog.Key{}
			for _, p := range parts {
				u.Columns = append(u.Columns, p.Column)
			}
			for i, p := range def.uniques {
				if !usedUnique[i] && equalFoldList(p.columns, u.Columns) {
					usedUnique[i] = true
					u.Name = p.name
					break
				}
			}
			t.Uniques = append(t.Uniques, u)
		default:
			ix, err := readIndex(ctx, db, r.name, r.unique, r.partial)
			if err != nil {
				return nil, err
			}
			t.Indexes = append(t.Indexes, ix)
		}
	}
	sort.SliceStable(t.Uniques, func(i, j int) bool { return t.Uniques[i].Name < t.Uniques[j].Name })
	t.Checks = def.checks
	return t, nil
}

// readIndexKeys reads the key columns of an index from PRAGMA index_xinfo.
// Expression keys have an empty Column; collation BINARY is reported as "".
func readIndexKeys(ctx context.Context, db catalog.Querier, index string) ([]*catalog.IndexPart, error) {
	var parts []*catalog.IndexPart
	err := queryRows(ctx, db,
		`SELECT cid, name, "desc", coll FROM pragma_index_xinfo(?) WHERE "key" = 1 ORDER BY seqno`,
		[]any{index}, func(rows *sql.Rows) error {
			var (
				cid  int
				name sql.NullString
				desc bool
				coll sql.NullString
			)
			if err := rows.Scan(&cid, &name, &desc, &coll); err != nil {
				return err
			}
			p := &catalog.IndexPart{Desc: desc}
			switch cid {
			case -2: // expression, filled in from the CREATE INDEX text
			case -1:
				p.Column = "rowid"
			default:
				p.Column = name.String
			}
			if !strings.EqualFold(coll.String, "BINARY") {
				p.Collate = coll.String
			}
			parts = append(parts, p)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("index %s: keys: %w", index, err)
	}
	return parts, nil
}

// readIndex reads an index created with CREATE INDEX.
func readIndex(ctx context.Context, db catalog.Querier, name string, unique, partial bool) (*catalog.Index, error) {
	parts, err := readIndexKeys(ctx, db, name)
	if err != nil {
		return nil, err
	}
	ix := &catalog.Index{Name: name, Unique: unique, Parts: parts}
	needText := partial
	for _, p := range parts {
		if p.Column == "" {
			needText = true
		}
	}
	if !needText {
		return ix, nil
	}
	var createSQL string
	err = queryRows(ctx, db, `SELECT COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' AND name = ?`,
		[]any{name}, func(rows *sql.Rows) error { return rows.Scan(&createSQL) })
	if err != nil {
		return nil, fmt.Errorf("index %s: definition: %w", name, err)
	}
	keys, where, err := parseCreateIndex(createSQL)
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", name, err)
	}
	if len(keys) != len(parts) {
		return nil, fmt.Errorf("index %s: %d keys in %q, PRAGMA index_xinfo reports %d", name, len(keys), createSQL, len(parts))
	}
	for i, p := range parts {
		if p.Column == "" {
			p.Expr = keys[i]
		}
	}
	if partial {
		ix.Where = where
	}
	return ix, nil
}

// primaryKeyColumns returns the primary-key columns of a table, in key order.
func primaryKeyColumns(ctx context.Context, db catalog.Querier, table string) ([]string, error) {
	var cols []string
	err := queryRows(ctx, db, `SELECT name FROM pragma_table_xinfo(?) WHERE pk > 0 ORDER BY pk`,
		[]any{table}, func(rows *sql.Rows) error {
			var c string
			if err := rows.Scan(&c); err != nil {
				return err
			}
			cols = append(cols, c)
			return nil
		})
	return cols, err
}

// queryRows runs a query and calls scan for each row. Every result is read
// completely before the next query runs, so db may be a single connection.
func queryRows(ctx context.Context, db catalog.Querier, query string, args []any, scan func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query, args...)
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

// equalFoldList reports whether two identifier lists are equal, ignoring case
// as SQLite does.
func equalFoldList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// tableDef is what ReadCatalog needs from a CREATE TABLE statement: the
// names of its constraints.
type tableDef struct {
	pkName  string
	uniques []namedColumns
	fks     []namedFK
	checks  []*catalog.Check
}

// namedColumns is a named UNIQUE constraint.
type namedColumns struct {
	name    string
	columns []string
}

// namedFK is a named foreign key.
type namedFK struct {
	name     string
	columns  []string
	refTable string
}

// parseCreateTable extracts constraint names from a CREATE TABLE statement:
// table constraints ([CONSTRAINT name] PRIMARY KEY / UNIQUE / FOREIGN KEY)
// and column constraints ([CONSTRAINT name] PRIMARY KEY / UNIQUE /
// REFERENCES). Identifiers may be bare or quoted with "", “, or [].
func parseCreateTable(createSQL string) (tableDef, error) {
	var def tableDef
	toks, err := lexSQL(createSQL)
	if err != nil {
		return def, err
	}
	open := -1
	for i, tk := range toks {
		if tk.isPunct("(") {
			open = i
			break
		}
		if tk.isWord("AS") { // CREATE TABLE ... AS SELECT: no constraints
			return def, nil
		}
	}
	if open < 0 {
		return def, fmt.Errorf("no column list in %q", createSQL)
	}
	closing := matchParen(toks, open)
	if closing < 0 {
		return def, fmt.Errorf("unbalanced parentheses in %q", createSQL)
	}
	for _, item := range splitTopLevel(toks[open+1 : closing]) {
		if len(item) == 0 {
			continue
		}
		first := item[0]
		if first.isWord("CONSTRAINT") || first.isWord("PRIMARY") || first.isWord("UNIQUE") ||
			first.isWord("FOREIGN") || first.isWord("CHECK") {
			parseTableConstraint(createSQL, item, &def)
			continue
		}
		parseColumnConstraints(item, &def)
	}
	return def, nil
}

// parseTableConstraint records one table constraint. CHECK constraints keep
// the text of their condition as written in createSQL.
func parseTableConstraint(createSQL string, item []token, def *tableDef) {
	name := ""
	i := 0
	if item[0].isWord("CONSTRAINT") && len(item) > 1 {
		name = item[1].ident()
		i = 2
	}
	if i >= len(item) {
		return
	}
	switch {
	case item[i].isWord("PRIMARY"):
		def.pkName = name
	case item[i].isWord("UNIQUE"):
		cols, _ := parenColumns(item, i+1)
		def.uniques = append(def.uniques, namedColumns{name: name, columns: cols})
	case item[i].isWord("CHECK"):
		if i+1 < len(item) && item[i+1].isPunct("(") {
			if end := matchParen(item, i+1); end > i+1 {
				expr := createSQL[item[i+1].end:item[end].start]
				def.checks = append(def.checks, &catalog.Check{Name: name, Expr: strings.TrimSpace(expr)})
			}
		}
	case item[i].isWord("FOREIGN"):
		// FOREIGN KEY (cols) REFERENCES table ...
		cols, next := parenColumns(item, i+2)
		for ; next < len(item); next++ {
			if item[next].isWord("REFERENCES") {
				def.fks = append(def.fks, namedFK{name: name, columns: cols, refTable: qualifiedName(item, next+1)})
				break
			}
		}
	}
}

// parseColumnConstraints records the named constraints of one column
// definition.
func parseColumnConstraints(item []token, def *tableDef) {
	column := item[0].ident()
	name := ""
	depth := 0
	for i := 1; i < len(item); i++ {
		tk := item[i]
		switch {
		case tk.isPunct("("):
			depth++
			continue
		case tk.isPunct(")"):
			depth--
			continue
		}
		if depth > 0 {
			continue
		}
		switch {
		case tk.isWord("CONSTRAINT") && i+1 < len(item):
			name = item[i+1].ident()
			i++
		case tk.isWord("PRIMARY"):
			def.pkName = name
			name = ""
		case tk.isWord("UNIQUE"):
			def.uniques = append(def.uniques, namedColumns{name: name, columns: []string{column}})
			name = ""
		case tk.isWord("REFERENCES"):
			def.fks = append(def.fks, namedFK{name: name, columns: []string{column}, refTable: qualifiedName(item, i+1)})
			name = ""
		case tk.isWord("NOT"), tk.isWord("NULL"), tk.isWord("DEFAULT"), tk.isWord("CHECK"),
			tk.isWord("COLLATE"), tk.isWord("GENERATED"), tk.isWord("AS"):
			name = ""
		}
	}
}

// parenColumns reads "(a, b COLLATE x DESC, ...)" starting at toks[i] and
// returns the column names and the index after the closing parenthesis.
func parenColumns(toks []token, i int) ([]string, int) {
	if i >= len(toks) || !toks[i].isPunct("(") {
		return nil, i
	}
	closing := matchParen(toks, i)
	if closing < 0 {
		return nil, len(toks)
	}
	var cols []string
	for _, part := range splitTopLevel(toks[i+1 : closing]) {
		if len(part) > 0 {
			cols = append(cols, part[0].ident())
		}
	}
	return cols, closing + 1
}

// qualifiedName reads "name" or "schema.name" at toks[i] and returns name.
func qualifiedName(toks []token, i int) string {
	if i >= len(toks) {
		return ""
	}
	if i+2 < len(toks) && toks[i+1].isPunct(".") {
		return toks[i+2].ident()
	}
	return toks[i].ident()
}

// parseCreateIndex splits a CREATE INDEX statement into the text of each key
// (without its COLLATE and ASC/DESC suffix) and the text of the WHERE
// predicate ("" when there is none).
func parseCreateIndex(createSQL string) (keys []string, where string, err error) {
	toks, err := lexSQL(createSQL)
	if err != nil {
		return nil, "", err
	}
	on := -1
	for i, tk := range toks {
		if tk.isWord("ON") {
			on = i
			break
		}
	}
	open := -1
	for i := on + 1; on >= 0 && i < len(toks); i++ {
		if toks[i].isPunct("(") {
			open = i
			break
		}
	}
	if open < 0 {
		return nil, "", fmt.Errorf("no key list in %q", createSQL)
	}
	closing := matchParen(toks, open)
	if closing < 0 {
		return nil, "", fmt.Errorf("unbalanced parentheses in %q", createSQL)
	}
	for _, part := range splitTopLevel(toks[open+1 : closing]) {
		// Drop the ASC/DESC and COLLATE suffixes.
		for len(part) > 0 {
			n := len(part)
			if part[n-1].isWord("ASC") || part[n-1].isWord("DESC") {
				part = part[:n-1]
				continue
			}
			if n >= 2 && part[n-2].isWord("COLLATE") {
				part = part[:n-2]
				continue
			}
			break
		}
		if len(part) == 0 {
			return nil, "", fmt.Errorf("empty key in %q", createSQL)
		}
		keys = append(keys, createSQL[part[0].start:part[len(part)-1].end])
	}
	if closing+1 < len(toks) && toks[closing+1].isWord("WHERE") {
		where = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(createSQL[toks[closing+1].end:]), ";"))
	}
	return keys, where, nil
}

// tokenKind classifies a token.
type tokenKind int

const (
	tokWord   tokenKind = iota // bare identifier, keyword or number
	tokQuoted                  // quoted identifier: "x", `x` or [x]
	tokString                  // string literal 'x'
	tokPunct                   // any other single character
)

// token is one lexical token of an SQL statement, with its byte span.
type token struct {
	kind       tokenKind
	text       string
	start, end int
}

// isWord reports whether the token is the bare keyword kw.
func (t token) isWord(kw string) bool { return t.kind == tokWord && strings.EqualFold(t.text, kw) }

// isPunct reports whether the token is the punctuation p.
func (t token) isPunct(p string) bool { return t.kind == tokPunct && t.text == p }

// ident returns the identifier a token names, with quotes removed.
func (t token) ident() string {
	switch t.kind {
	case tokQuoted:
		body := t.text[1 : len(t.text)-1]
		switch t.text[0] {
		case '"':
			return strings.ReplaceAll(body, `""`, `"`)
		case '`':
			return strings.ReplaceAll(body, "``", "`")
		}
		return body // [x] has no escapes
	case tokString: // SQLite accepts 'x' where an identifier is expected
		return strings.ReplaceAll(t.text[1:len(t.text)-1], "''", "'")
	}
	return t.text
}

// lexSQL splits SQLite SQL text into tokens, skipping whitespace and
// comments.
func lexSQL(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				i = len(s)
			} else {
				i += 2 + end + 2
			}
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated quote at offset %d in %q", i, s)
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			kind := tokQuoted
			if c == '\'' {
				kind = tokString
			}
			toks = append(toks, token{kind: kind, text: s[i : j+1], start: i, end: j + 1})
			i = j + 1
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated [ at offset %d in %q", i, s)
			}
			toks = append(toks, token{kind: tokQuoted, text: s[i : i+j+1], start: i, end: i + j + 1})
			i += j + 1
		case isIdentByte(c):
			j := i
			for j < len(s) && (isIdentByte(s[j]) || s[j] == '$') {
				j++
			}
			toks = append(toks, token{kind: tokWord, text: s[i:j], start: i, end: j})
			i = j
		default:
			toks = append(toks, token{kind: tokPunct, text: s[i : i+1], start: i, end: i + 1})
			i++
		}
	}
	return toks, nil
}

// isIdentByte reports whether c can be part of a bare identifier or number.
func isIdentByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// matchParen returns the index of the parenthesis that closes toks[open],
// or -1.
func matchParen(toks []token, open int) int {
	depth := 0
	for i := open; i < len(toks); i++ {
		switch {
		case toks[i].isPunct("("):
			depth++
		case toks[i].isPunct(")"):
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitTopLevel splits tokens at the commas outside parentheses.
func splitTopLevel(toks []token) [][]token {
	var out [][]token
	depth, start := 0, 0
	for i, tk := range toks {
		switch {
		case tk.isPunct("("):
			depth++
		case tk.isPunct(")"):
			depth--
		case tk.isPunct(",") && depth == 0:
			out = append(out, toks[start:i])
			start = i + 1
		}
	}
	return append(out, toks[start:])
}
