package dbiface

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	entgo "entgo.io/ent"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/prefectdb/prefectdb/ent"
	"github.com/prefectdb/prefectdb/ent/automation"
	"github.com/prefectdb/prefectdb/ent/deployment"
	"github.com/prefectdb/prefectdb/ent/deploymentschedule"
	"github.com/prefectdb/prefectdb/ent/deploymentversion"
	"github.com/prefectdb/prefectdb/ent/flow"
	"github.com/prefectdb/prefectdb/ent/flowrun"
	"github.com/prefectdb/prefectdb/ent/flowrunnotificationpolicy"
	"github.com/prefectdb/prefectdb/ent/flowrunnotificationqueue"
	"github.com/prefectdb/prefectdb/ent/intercept"
	"github.com/prefectdb/prefectdb/ent/taskrun"
	"github.com/prefectdb/prefectdb/ent/workpool"
	"github.com/prefectdb/prefectdb/migrate"
)

// The Ent schema describes Prefect's newest release; a database may be at an
// older one (pinned with `migrate up --to`, or made by an older Prefect).
// These are the entities whose table or columns do not exist at every
// release, by Ent type name.
var releaseGated = map[string]string{
	"Automation":                automation.Table,
	"Deployment":                deployment.Table,
	"DeploymentSchedule":        deploymentschedule.Table,
	"DeploymentVersion":         deploymentversion.Table,
	"Flow":                      flow.Table,
	"FlowRun":                   flowrun.Table,
	"FlowRunNotificationPolicy": flowrunnotificationpolicy.Table,
	"FlowRunNotificationQueue":  flowrunnotificationqueue.Table,
	"TaskRun":                   taskrun.Table,
	"WorkPool":                  workpool.Table,
}

// levelCache holds the database's level, read once from its Alembic revision
// and read again after this interface migrates it.
type levelCache struct {
	mu    sync.Mutex
	level *migrate.Level
	// queueIndex: whether the database has the opt-in queue index (nil:
	// not read yet).
	queueIndex *bool
}

// Level returns the point of Prefect's migration chain the database is at:
// which Prefect release's schema it has. It is read from alembic_version
// once and kept until this interface migrates the database.
func (i *Interface) Level(ctx context.Context) (*migrate.Level, error) {
	i.levels.mu.Lock()
	defer i.levels.mu.Unlock()
	if i.levels.level != nil {
		return i.levels.level, nil
	}
	l, err := migrate.LevelOf(ctx, i.dialect, i.db)
	if err != nil {
		return nil, fmt.Errorf("dbiface: read the database's Prefect revision: %w", err)
	}
	i.levels.level = l
	return l, nil
}

// requireTable returns a *migrate.UnavailableError when the database's
// release does not have the table.
func (i *Interface) requireTable(ctx context.Context, table string) error {
	level, err := i.Level(ctx)
	if err != nil {
		return err
	}
	return level.CheckTable(table)
}

// forgetLevel makes the next Level read the revision again.
func (i *Interface) forgetLevel() {
	i.levels.mu.Lock()
	i.levels.level = nil
	i.levels.queueIndex = nil
	i.levels.mu.Unlock()
}

// queueIndexName is the opt-in index that serves work-pool polls.
const queueIndexName = migrate.PerformanceIndexPrefix + "flow_run__scheduled_by_queue"

// hasQueueIndex reports whether the database has the opt-in index of
// work-pool polls. It is read once and kept until this interface migrates
// the database or switches the performance indexes: turn them on before
// starting the processes that poll (or restart them).
func (i *Interface) hasQueueIndex(ctx context.Context) (bool, error) {
	i.levels.mu.Lock()
	defer i.levels.mu.Unlock()
	if i.levels.queueIndex != nil {
		return *i.levels.queueIndex, nil
	}
	on, err := i.migrator().PerformanceIndexesOn(ctx)
	if err != nil {
		return false, fmt.Errorf("dbiface: read the database's performance indexes: %w", err)
	}
	has := on[queueIndexName]
	i.levels.queueIndex = &has
	return has, nil
}

// SetPerformanceIndexes turns prefectdb's opt-in performance indexes on or
// off (see migrate.PerformanceIndexes) and returns the names of those it
// created or dropped. Queries of this interface use them at once; other
// processes see them when they next open the database.
func (i *Interface) SetPerformanceIndexes(ctx context.Context, on bool) ([]string, error) {
	changed, err := i.migrator().SetPerformanceIndexes(ctx, on)
	i.forgetLevel()
	if err != nil {
		return changed, fmt.Errorf("dbiface: performance indexes: %w", err)
	}
	return changed, nil
}

// GateReleases installs on an Ent client the interceptor and the hook that
// fit every query and mutation to the database's Prefect release, as levelOf
// reports it: columns the release lacks are left out of reads (they read as
// their zero value) and of writes (an empty default is dropped, a value is
// refused), and a table it lacks is refused, both with a
// *migrate.UnavailableError. Interfaces install it on their own client; it is
// exported for clients built by hand over the same database.
func GateReleases(c *ent.Client, levelOf func(context.Context) (*migrate.Level, error)) {
	c.Intercept(ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			query, err := intercept.NewQuery(q)
			if err != nil {
				return nil, err
			}
			table, level, missing, err := gateFor(ctx, levelOf, query.Type())
			if err != nil {
				return nil, err
			}
			if len(missing) == 0 {
				return next.Query(ctx, q)
			}
			// Columns selected by name (Select, GroupBy) must exist. Nested
			// queries (eager loading) see their parent's context: only the
			// query's own context is checked.
			if qc := entgo.QueryFromContext(ctx); qc != nil && qc.Type == query.Type() {
				for _, f := range qc.Fields {
					if slices.Contains(missing, f) {
						return nil, level.CheckColumn(table, f)
					}
				}
			}
			// Read every column the release has; the others keep their zero
			// value (the scan assigns the columns the query returned).
			query.WhereP(func(s *entsql.Selector) {
				cols := s.SelectedColumns()
				kept := make([]string, 0, len(cols))
				for _, c := range cols {
					if !namesColumn(c, missing) {
						kept = append(kept, c)
					}
				}
				if len(kept) < len(cols) {
					s.Select(kept...)
				}
			})
			return next.Query(ctx, q)
		})
	}))
	c.Use(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			table, level, missing, err := gateFor(ctx, levelOf, m.Type())
			if err != nil {
				return nil, err
			}
			for _, c := range missing {
				if v, set := m.Field(c); set {
					if !isEmptyValue(v) {
						return nil, level.CheckColumn(table, c)
					}
					// A client-side default of a column the release lacks.
					if err := m.ResetField(c); err != nil {
						return nil, err
					}
				}
				if m.FieldCleared(c) {
					if err := m.ResetField(c); err != nil {
						return nil, err
					}
				}
			}
			if len(missing) > 0 {
				// UpdateOne reads the row back: only the columns it has.
				ctx = ent.WithReadColumns(ctx, func(t, column string) bool {
					return t != table || !slices.Contains(missing, column)
				})
			}
			return next.Mutate(ctx, m)
		})
	})
}

// gateFor reads the database's level for an entity type that the releases
// gate: a table the level lacks is an error, and missing lists the columns of
// the table that it lacks. For other types it returns nothing.
func gateFor(ctx context.Context, levelOf func(context.Context) (*migrate.Level, error), typ string) (
	table string, level *migrate.Level, missing []string, err error) {
	table, ok := releaseGated[typ]
	if !ok {
		return "", nil, nil, nil
	}
	if level, err = levelOf(ctx); err != nil {
		return "", nil, nil, err
	}
	if err := level.CheckTable(table); err != nil {
		return "", nil, nil, err
	}
	return table, level, level.MissingColumns(table), nil
}

// namesColumn reports whether a selected column (bare, quoted or qualified:
// labels, "labels", "flow"."labels") is one of names.
func namesColumn(selected string, names []string) bool {
	c := selected
	if i := strings.LastIndexByte(c, '.'); i >= 0 {
		c = c[i+1:]
	}
	c = strings.Trim(c, "`\"")
	return slices.Contains(names, c)
}

// isEmptyValue reports whether a field value is a default that carries no
// data: nil, or an empty JSON object or list.
func isEmptyValue(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(v) == 0
	case []string:
		return len(v) == 0
	case []any:
		return len(v) == 0
	}
	return false
}
