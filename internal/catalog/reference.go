package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

// referenceJSON is Prefect 3.0's migrated schema on both dialects, as the
// live catalogs report it. It was generated from the schema reference
// (prefect_schema.md, sections 3 to 8) and checked by hand.
//
//go:embed reference/prefect_30.json
var referenceJSON []byte

// referenceFile is the layout of reference/prefect_30.json.
type referenceFile struct {
	Source   string                      `json:"source"`
	Dialects map[string]referenceDialect `json:"dialects"`
}

// referenceDialect is one dialect's entry in reference/prefect_30.json.
type referenceDialect struct {
	AlembicHead string  `json:"alembic_head"`
	Schema      *Schema `json:"schema"`
}

// referenceDialectName maps the accepted dialect spellings to the keys of
// the reference file.
func referenceDialectName(dialect string) (string, error) {
	switch strings.ToLower(dialect) {
	case "postgres", "postgresql":
		return "postgres", nil
	case "sqlite", "sqlite3":
		return "sqlite", nil
	}
	return "", fmt.Errorf("catalog: unknown dialect %q (want \"postgres\" or \"sqlite\")", dialect)
}

// loadReference decodes the embedded reference file and returns the entry
// of one dialect.
func loadReference(dialect string) (referenceDialect, error) {
	name, err := referenceDialectName(dialect)
	if err != nil {
		return referenceDialect{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(referenceJSON))
	dec.DisallowUnknownFields()
	var f referenceFile
	if err := dec.Decode(&f); err != nil {
		return referenceDialect{}, fmt.Errorf("catalog: decode reference schema: %w", err)
	}
	d, ok := f.Dialects[name]
	if !ok || d.Schema == nil {
		return referenceDialect{}, fmt.Errorf("catalog: reference schema has no entry for %q", name)
	}
	return d, nil
}

// Reference returns Prefect 3.0's schema at the alembic head for one dialect
// ("postgres" or "sqlite"; "postgresql" and "sqlite3" are accepted too),
// exactly as that dialect's live catalog reports it: 36 application tables
// with their columns, primary keys, foreign keys, UNIQUE constraints and
// indexes, plus the enum types and the pg_trgm extension on PostgreSQL. The
// alembic_version bookkeeping table is not part of the model.
//
// Every call decodes a fresh copy, so the caller may modify the result.
func Reference(dialect string) (*Schema, error) {
	d, err := loadReference(dialect)
	if err != nil {
		return nil, err
	}
	return d.Schema, nil
}

// ReferenceRevision returns the alembic revision that Prefect 3.0 records in
// alembic_version.version_num at the head of one dialect's migration chain
// ("97429116795e" on PostgreSQL, "f93e1439f022" on SQLite).
func ReferenceRevision(dialect string) (string, error) {
	d, err := loadReference(dialect)
	if err != nil {
		return "", err
	}
	return d.AlembicHead, nil
}
