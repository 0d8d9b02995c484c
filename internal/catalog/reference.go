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

// headReferenceJSON is the schema that Prefect's own migrations build at the
// newest revision prefectdb knows, on both dialects, in the same layout. It
// is generated from the schema dumps in reference/releases/ by loading them
// into real databases and reading their catalogs
// (go test ./migrate -run TestHeadReference -update-reference), and checked
// against them by the same test.
//
//go:embed reference/prefect_head.json
var headReferenceJSON []byte

// ReferenceFile is the layout of the reference files: one schema per
// dialect, with the Alembic revision it belongs to.
type ReferenceFile struct {
	Source   string                      `json:"source"`
	Dialects map[string]ReferenceDialect `json:"dialects"`
}

// ReferenceDialect is one dialect's entry in a reference file.
type ReferenceDialect struct {
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

// loadReference decodes the embedded 3.0 reference file and returns the
// entry of one dialect.
func loadReference(dialect string) (ReferenceDialect, error) {
	return decodeReference(referenceJSON, dialect)
}

func decodeReference(b []byte, dialect string) (ReferenceDialect, error) {
	name, err := referenceDialectName(dialect)
	if err != nil {
		return ReferenceDialect{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f ReferenceFile
	if err := dec.Decode(&f); err != nil {
		return ReferenceDialect{}, fmt.Errorf("catalog: decode reference schema: %w", err)
	}
	d, ok := f.Dialects[name]
	if !ok || d.Schema == nil {
		return ReferenceDialect{}, fmt.Errorf("catalog: reference schema has no entry for %q", name)
	}
	return d, nil
}

// HeadReference returns the schema that Prefect's own migrations build at
// the newest revision prefectdb knows, for one dialect, with that revision.
// Every call decodes a fresh copy.
func HeadReference(dialect string) (*Schema, string, error) {
	d, err := decodeReference(headReferenceJSON, dialect)
	if err != nil {
		return nil, "", err
	}
	return d.Schema, d.AlembicHead, nil
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
