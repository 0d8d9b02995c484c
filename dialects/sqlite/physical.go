package sqlite

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prefectdb/prefectdb/ent/schema/storage"
	"github.com/prefectdb/prefectdb/internal/catalog"
)

// physicalTypes maps logical column kinds to the declared types of Prefect's
// SQLite schema.
var physicalTypes = map[string]string{
	storage.KindUUID:      "CHAR(36)",
	storage.KindTimestamp: "DATETIME",
	storage.KindJSONB:     "JSON",
	storage.KindJSON:      "JSON",
	storage.KindInterval:  "DATETIME",
	storage.KindVarchar:   "VARCHAR",
	storage.KindText:      "TEXT",
	storage.KindBoolean:   "BOOLEAN",
	storage.KindInteger:   "INTEGER",
	storage.KindSmallint:  "SMALLINT",
	storage.KindFloat:     "FLOAT",
}

// generateUUID is the default expression Prefect uses for ids on SQLite: a
// random version-4 UUID in lowercase hyphenated text.
const generateUUID = "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || " +
	"substr(lower(hex(randomblob(2))),2) || '-' || substr('89ab',abs(random()) % 4 + 1, 1) || " +
	"substr(lower(hex(randomblob(2))),2) || '-' || lower(hex(randomblob(6)))"

// nowExpr is Prefect's SQLite "now" with six fractional digits.
const nowExpr = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"

// enumWidths records the VARCHAR width of enum columns where it is not the
// longest label: state_type columns were created before CANCELLING existed.
var enumWidths = map[string]int{"state_type": 9}

// notNullColumns are columns that are nullable on PostgreSQL but NOT NULL in
// Prefect's SQLite schema.
var notNullColumns = map[string]bool{"artifact_collection.latest_id": true}

// ascendingIndexes lost their DESC keys when Prefect's SQLite migrations
// rebuilt their tables (prefect_schema.md §8).
var ascendingIndexes = map[string]bool{
	"ix_flow_run__end_time_desc":                    true,
	"ix_flow_run__expected_start_time_desc":         true,
	"uq_flow_run_state__flow_run_id_timestamp_desc": true,
	"ix_task_run__end_time_desc":                    true,
	"ix_task_run__expected_start_time_desc":         true,
	"uq_task_run_state__task_run_id_timestamp_desc": true,
}

// Physical turns prefectdb's logical schema into the schema Prefect 3.0's
// migrations build on SQLite: declared types, default expressions, enum
// columns as VARCHAR(n) without CHECK constraints, and the index history of
// Prefect's SQLite migrations (indexes that exist on SQLite only, DESC keys
// that were lost in table rebuilds).
func Physical(logical *catalog.Schema) (*catalog.Schema, error) {
	s := logical.Clone()
	enums := map[string][]string{}
	for _, e := range s.Enums {
		enums[e.Name] = e.Values
	}
	s.Enums, s.Extensions = nil, nil
	for _, t := range s.Tables {
		for _, c := range t.Columns {
			typ, err := physicalType(c.Type, enums)
			if err != nil {
				return nil, fmt.Errorf("sqlite: %s.%s: %w", t.Name, c.Name, err)
			}
			c.Type = typ
			if c.Default, err = physicalDefault(c.Default); err != nil {
				return nil, fmt.Errorf("sqlite: %s.%s: %w", t.Name, c.Name, err)
			}
			if notNullColumns[t.Name+"."+c.Name] {
				c.Nullable = false
			}
		}
		for _, idx := range t.Indexes {
			if ascendingIndexes[idx.Name] {
				for _, p := range idx.Parts {
					p.Desc = false
				}
			}
		}
		t.Indexes = append(t.Indexes, sqliteOnlyIndexes[t.Name]...)
	}
	return s, nil
}

func physicalType(kind string, enums map[string][]string) (string, error) {
	if name, ok := strings.CutPrefix(kind, storage.KindEnumPrefix); ok {
		values, ok := enums[name]
		if !ok {
			return "", fmt.Errorf("enum type %q has no values", name)
		}
		width, ok := enumWidths[name]
		if !ok {
			width = len(slices.MaxFunc(values, func(a, b string) int { return len(a) - len(b) }))
		}
		return fmt.Sprintf("VARCHAR(%d)", width), nil
	}
	if typ, ok := physicalTypes[kind]; ok {
		return typ, nil
	}
	return "", fmt.Errorf("unknown logical kind %q", kind)
}

func physicalDefault(def string) (string, error) {
	switch {
	case def == "":
		return "", nil
	case def == storage.DefaultGenerateUUID:
		return generateUUID, nil
	case def == storage.DefaultNow:
		return nowExpr, nil
	case def == storage.DefaultIntervalZero:
		return "'0'", nil
	case def == "false":
		return "'0'", nil
	case def == "true":
		return "'1'", nil
	case strings.HasPrefix(def, "'"):
		return def, nil
	case strings.Trim(def, "0123456789") == "":
		return "'" + def + "'", nil
	}
	return "", fmt.Errorf("unknown logical default %q", def)
}

// caseInsensitiveIndex is an index for name search; Prefect's SQLite
// migrations created it with COLLATE NOCASE, and some table rebuilds dropped
// the collation again (collate == "").
func caseInsensitiveIndex(name, collate string) *catalog.Index {
	return &catalog.Index{Name: name, Parts: []*catalog.IndexPart{{Column: "name", Collate: collate}}}
}

// sqliteOnlyIndexes are the indexes that Prefect's SQLite migrations create
// and its PostgreSQL migrations do not (prefect_schema.md §8).
var sqliteOnlyIndexes = map[string][]*catalog.Index{
	"artifact_collection": {{Name: "ix_artifact__key_created_desc", Parts: []*catalog.IndexPart{{Column: "key"}, {Column: "created", Desc: true}}}},
	"block_document": {
		{Name: "ix_block_document__block_type_name_name", Parts: []*catalog.IndexPart{{Column: "block_type_name"}, {Column: "name"}}},
		caseInsensitiveIndex("ix_block_document_name_case_insensitive", "NOCASE"),
	},
	"block_type": {caseInsensitiveIndex("ix_block_type_name_case_insensitive", "")},
	"deployment": {caseInsensitiveIndex("ix_deployment_name_case_insensitive", "")},
	"flow":       {caseInsensitiveIndex("ix_flow_name_case_insensitive", "NOCASE")},
	"flow_run":   {caseInsensitiveIndex("ix_flow_run_name_case_insensitive", "")},
	"task_run":   {caseInsensitiveIndex("ix_task_run_name_case_insensitive", "")},
}
