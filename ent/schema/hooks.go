package schema

import (
	"context"

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
