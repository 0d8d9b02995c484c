package postgres

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/prefectdb/prefectdb/ent/schema/storage"
	"github.com/prefectdb/prefectdb/internal/catalog"
)

// maxIdentifierLength is PostgreSQL's limit on identifier length (NAMEDATALEN-1).
const maxIdentifierLength = 63

// physicalTypes maps logical column kinds to PostgreSQL's format_type() text.
var physicalTypes = map[string]string{
	storage.KindUUID:      "uuid",
	storage.KindTimestamp: "timestamp with time zone",
	storage.KindJSONB:     "jsonb",
	storage.KindJSON:      "json",
	storage.KindInterval:  "interval",
	storage.KindVarchar:   "character varying",
	storage.KindText:      "text",
	storage.KindBoolean:   "boolean",
	storage.KindInteger:   "integer",
	storage.KindSmallint:  "smallint",
	storage.KindFloat:     "double precision",
}

// Physical turns prefectdb's logical schema into the schema Prefect 3.0's
// migrations build on PostgreSQL: physical types and default expressions,
// the pg_trgm extension, the native enum types, constraint names shortened
// to 63 characters the way SQLAlchemy does, and the indexes that exist on
// PostgreSQL only.
func Physical(logical *catalog.Schema) (*catalog.Schema, error) {
	s := logical.Clone()
	s.Extensions = []string{"pg_trgm"}
	for _, t := range s.Tables {
		for _, c := range t.Columns {
			typ, err := physicalType(c.Type)
			if err != nil {
				return nil, fmt.Errorf("postgres: %s.%s: %w", t.Name, c.Name, err)
			}
			c.Type = typ
			if c.Default, err = physicalDefault(c.Default, typ); err != nil {
				return nil, fmt.Errorf("postgres: %s.%s: %w", t.Name, c.Name, err)
			}
		}
		for _, fk := range t.ForeignKeys {
			fk.Name = shortenIdentifier(fk.Name)
		}
		t.Indexes = append(t.Indexes, postgresOnlyIndexes[t.Name]...)
	}
	return s, nil
}

func physicalType(kind string) (string, error) {
	if name, ok := strings.CutPrefix(kind, storage.KindEnumPrefix); ok {
		return name, nil
	}
	if typ, ok := physicalTypes[kind]; ok {
		return typ, nil
	}
	return "", fmt.Errorf("unknown logical kind %q", kind)
}

func physicalDefault(def, typ string) (string, error) {
	switch {
	case def == "":
		return "", nil
	case def == storage.DefaultGenerateUUID:
		return "gen_random_uuid()", nil
	case def == storage.DefaultNow:
		return "CURRENT_TIMESTAMP", nil
	case def == storage.DefaultIntervalZero:
		return "'00:00:00'::interval", nil
	case def == "true" || def == "false":
		return def, nil
	case strings.HasPrefix(def, "'"):
		return def + "::" + typ, nil
	case strings.Trim(def, "0123456789") == "":
		return def, nil
	}
	return "", fmt.Errorf("unknown logical default %q", def)
}

// shortenIdentifier shortens a generated constraint name that is longer than
// PostgreSQL allows the way SQLAlchemy's naming convention does: the first 55
// characters, an underscore and the last 4 hex digits of the name's MD5.
func shortenIdentifier(name string) string {
	if len(name) <= maxIdentifierLength {
		return name
	}
	sum := md5.Sum([]byte(name))
	h := hex.EncodeToString(sum[:])
	return name[:maxIdentifierLength-8] + "_" + h[len(h)-4:]
}

// trigramIndex is a GIN trigram index for ILIKE name search.
func trigramIndex(name string) *catalog.Index {
	return &catalog.Index{Name: name, Method: "gin", Parts: []*catalog.IndexPart{{Column: "name", OpClass: "gin_trgm_ops"}}}
}

// postgresOnlyIndexes are the indexes that Prefect's PostgreSQL migrations
// create and its SQLite migrations do not (prefect_schema.md §8).
var postgresOnlyIndexes = map[string][]*catalog.Index{
	"artifact": {{
		Name:    "ix_artifact__key_created_desc",
		Parts:   []*catalog.IndexPart{{Column: "key"}, {Column: "created", Desc: true}},
		Include: []string{"id", "updated", "type", "task_run_id", "flow_run_id"},
	}},
	"block_document": {
		{Name: "ix_block_document__block_type_name__name", Parts: []*catalog.IndexPart{{Column: "block_type_name"}, {Column: "name"}}},
		trigramIndex("trgm_ix_block_document_name"),
	},
	"block_schema": {{Name: "ix_block_schema__capabilities", Method: "gin", Parts: []*catalog.IndexPart{{Column: "capabilities"}}}},
	"block_type":   {trigramIndex("trgm_ix_block_type_name")},
	"deployment":   {trigramIndex("trgm_ix_deployment_name")},
	"flow":         {trigramIndex("trgm_ix_flow_name")},
	"flow_run": {
		{Name: "ix_flow_run__coalesce_start_time_expected_start_time_asc", Parts: []*catalog.IndexPart{{Expr: "COALESCE(start_time, expected_start_time)"}}},
		{Name: "ix_flow_run__coalesce_start_time_expected_start_time_desc", Parts: []*catalog.IndexPart{{Expr: "COALESCE(start_time, expected_start_time)", Desc: true}}},
		{
			Name:  "ix_flow_run__scheduler_deployment_id_auto_scheduled_next_schedu",
			Parts: []*catalog.IndexPart{{Column: "deployment_id"}, {Column: "auto_scheduled"}, {Column: "next_scheduled_start_time"}},
			Where: "(state_type = 'SCHEDULED'::state_type)",
		},
		trigramIndex("trgm_ix_flow_run_name"),
	},
	"task_run":   {trigramIndex("trgm_ix_task_run_name")},
	"work_queue": {trigramIndex("trgm_ix_work_queue_name")},
}
