package schema

import (
	"context"
	"strings"

	"entgo.io/ent"

	"github.com/prefectdb/prefectdb/types"
)

// finiteJSON replaces NaN, +Inf and -Inf inside the JSON values a mutation
// sets with null, as Prefect does on both databases: JSON has no such
// numbers, PostgreSQL rejects them and SQLite's JSON functions fail on them.
// The caller's maps and slices are not modified; changed values are copies.
func finiteJSON(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		for _, name := range m.Fields() {
			v, ok := m.Field(name)
			if !ok {
				continue
			}
			if clean, changed := types.WithoutNonFinite(v); changed {
				if err := m.SetField(name, clean); err != nil {
					return nil, err
				}
			}
		}
		return next.Mutate(ctx, m)
	})
}

// validValues refuses, on both databases alike, values that one of them
// cannot store as the other does: text with a NUL byte or that is not UTF-8,
// times outside years 1 to 9999, the same inside JSON values, and text over
// types.MaxIndexedTextBytes in an indexed column. The error
// is a *types.InvalidValueError naming the entity and field, never the value.
func validValues(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		for _, name := range m.Fields() {
			v, ok := m.Field(name)
			if !ok {
				continue
			}
			if reason := types.CheckValue(v); reason != "" {
				return nil, &types.InvalidValueError{Field: strings.ToLower(m.Type()) + "." + name, Reason: reason}
			}
		}
		for _, name := range indexedText(m.Type()) {
			v, ok := m.Field(name)
			if !ok {
				continue
			}
			if s, ok := v.(string); ok {
				if reason := types.CheckIndexedText(s); reason != "" {
					return nil, &types.InvalidValueError{Field: strings.ToLower(m.Type()) + "." + name, Reason: reason}
				}
			}
		}
		return next.Mutate(ctx, m)
	})
}

// nonNegativeLimits refuses a negative Limit or Offset on both databases:
// SQLite reads LIMIT -1 as "no limit" and PostgreSQL refuses it.
func nonNegativeLimits() ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			if qc := ent.QueryFromContext(ctx); qc != nil {
				if qc.Limit != nil && *qc.Limit < 0 {
					return nil, &types.InvalidValueError{Field: "limit", Reason: "must not be negative"}
				}
				if qc.Offset != nil && *qc.Offset < 0 {
					return nil, &types.InvalidValueError{Field: "offset", Reason: "must not be negative"}
				}
			}
			return next.Query(ctx, q)
		})
	})
}
