// Package storage holds the Ent schema annotations that describe how Prefect
// stores a column, a foreign key or a uniqueness rule, where Ent's own schema
// API has no words for it: the logical column kind (jsonb or json, text or
// varchar, interval, a named enum type), the server default, the name and ON
// DELETE policy of a foreign key (or that Prefect has no foreign key at all),
// and whether a unique index is really a UNIQUE constraint.
//
// The annotations are dialect-neutral. The schema generator reads them from
// the Ent graph and each dialect package turns them into that database's
// physical types, default expressions and constraint names.
package storage

import (
	"encoding/json"
	"fmt"

	"entgo.io/ent/schema"
)

// Logical column kinds. The dialects map each to a physical type.
const (
	KindUUID      = "uuid"
	KindTimestamp = "timestamp"
	KindJSONB     = "jsonb"
	KindJSON      = "json"
	KindInterval  = "interval"
	KindVarchar   = "varchar"
	KindText      = "text"
	KindBoolean   = "boolean"
	KindInteger   = "integer"
	KindSmallint  = "smallint"
	KindFloat     = "float"
	// KindEnumPrefix prefixes a named enum kind: "enum:state_type".
	KindEnumPrefix = "enum:"
)

// Logical server defaults. Literal defaults are stored as SQL literals
// ("'[]'", "'NOT_READY'", "0", "false").
const (
	DefaultGenerateUUID = "GENERATE_UUID"
	DefaultNow          = "NOW"
	DefaultIntervalZero = "INTERVAL_ZERO"
)

// Annotation names, as they appear in the Ent graph.
const (
	ColumnName     = "PrefectColumn"
	ForeignKeyName = "PrefectForeignKey"
	UniqueName     = "PrefectUnique"
)

// Column annotates a field with its logical kind and server default.
type Column struct {
	// Kind overrides the kind inferred from the Ent field type.
	Kind string `json:"kind,omitempty"`
	// Default is the server default in logical notation.
	Default string `json:"default,omitempty"`
}

// Name implements schema.Annotation.
func (Column) Name() string { return ColumnName }

// Merge implements schema.Merger, so that Kind and Default can be given by
// separate annotations on one field.
func (c Column) Merge(other schema.Annotation) schema.Annotation {
	var o Column
	switch v := other.(type) {
	case Column:
		o = v
	case *Column:
		o = *v
	default:
		return c
	}
	if o.Kind != "" {
		c.Kind = o.Kind
	}
	if o.Default != "" {
		c.Default = o.Default
	}
	return c
}

// Kind sets the logical kind of a column.
func Kind(kind string) Column { return Column{Kind: kind} }

// Enum declares a column of the named enum type.
func Enum(typeName string) Column { return Column{Kind: KindEnumPrefix + typeName} }

// Default sets the server default of a column, in logical notation.
func Default(def string) Column { return Column{Default: def} }

// DefaultString sets a quoted string literal as server default.
func DefaultString(s string) Column { return Column{Default: QuoteLiteral(s)} }

// QuoteLiteral renders s as a single-quoted SQL string literal.
func QuoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

// ForeignKey annotates the edge that holds a foreign-key column.
type ForeignKey struct {
	// OnDelete is the ON DELETE action: "CASCADE", "SET NULL", "RESTRICT" or
	// "NO ACTION".
	OnDelete string `json:"on_delete,omitempty"`
	// Symbol overrides the conventional constraint name
	// fk_<table>__<column>__<referenced table> (legacy names).
	Symbol string `json:"symbol,omitempty"`
	// None means Prefect's database has no constraint for this reference:
	// the edge exists for traversal from Go only.
	None bool `json:"none,omitempty"`
}

// Name implements schema.Annotation.
func (ForeignKey) Name() string { return ForeignKeyName }

// OnDelete declares a foreign key with the given ON DELETE action.
func OnDelete(action string) ForeignKey { return ForeignKey{OnDelete: action} }

// NoForeignKey declares a reference that Prefect keeps without a constraint.
func NoForeignKey() ForeignKey { return ForeignKey{None: true} }

// ON DELETE actions.
const (
	Cascade  = "CASCADE"
	SetNull  = "SET NULL"
	Restrict = "RESTRICT"
	NoAction = "NO ACTION"
)

// Unique annotates a unique index that Prefect declares as a UNIQUE
// constraint rather than a unique index.
type Unique struct {
	Constraint bool `json:"constraint"`
}

// Name implements schema.Annotation.
func (Unique) Name() string { return UniqueName }

// Constraint marks a unique index as a UNIQUE constraint.
func Constraint() Unique { return Unique{Constraint: true} }

// Decode converts an annotation value as found in the Ent graph (a decoded
// JSON object) into the annotation type T.
func Decode[T any](v any) (T, error) {
	var out T
	if v == nil {
		return out, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return out, fmt.Errorf("storage: encode annotation: %w", err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("storage: decode annotation: %w", err)
	}
	return out, nil
}
