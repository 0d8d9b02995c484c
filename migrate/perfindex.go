package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"ariga.io/atlas/sql/schema"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/internal/catalog"
)

// PerformanceIndexPrefix starts the name of every index prefectdb adds
// beyond Prefect's schema. Drift and the adoption checks leave such indexes
// out, so a database with them still matches Prefect's schema.
const PerformanceIndexPrefix = "ix_prefectdb__"

// PerformanceIndex is an index that Prefect's schema does not have and that
// makes one of Prefect's queries read only what it returns. They are opt-in
// (off by default, so that a database stays exactly as Prefect's own
// migrations build it): SetPerformanceIndexes turns them on or off.
type PerformanceIndex struct {
	// Name is the index's name (PerformanceIndexPrefix + ...).
	Name string
	// Table is the indexed table.
	Table string
	// Columns and Where are the index's keys and predicate, in SQL that
	// PostgreSQL and SQLite both take.
	Columns, Where string
	// Serves says which query it is for.
	Serves string
}

// PerformanceIndexes lists prefectdb's opt-in indexes.
func PerformanceIndexes() []PerformanceIndex {
	return []PerformanceIndex{{
		Name:    PerformanceIndexPrefix + "flow_run__scheduled_by_queue",
		Table:   "flow_run",
		Columns: "work_queue_id, next_scheduled_start_time, id",
		Where:   "state_type = 'SCHEDULED'",
		Serves: "work-pool polls: each queue's next scheduled runs are one index range, " +
			"however many runs the table holds (with Prefect's indexes alone, a SQLite poll reads every scheduled run)",
	}}
}

func (p PerformanceIndex) create() string {
	return fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s) WHERE %s", p.Name, p.Table, p.Columns, p.Where)
}

func (p PerformanceIndex) drop() string { return "DROP INDEX IF EXISTS " + p.Name }

// SetPerformanceIndexes creates (on) or drops (off) every performance index,
// in one migration transaction under the migration lock, and returns the
// names of the indexes it created or dropped. The database must be migrated
// (the indexed tables must exist). Turning them on or off changes no row.
func (m *Migrator) SetPerformanceIndexes(ctx context.Context, on bool) ([]string, error) {
	var changed []string
	err := m.withLock(ctx, func(conn *sql.Conn) error {
		return m.inTx(ctx, conn, func(tx dialects.MigrationTx) (bool, error) {
			have, err := m.performanceIndexes(ctx, tx)
			if err != nil {
				return false, err
			}
			for _, p := range PerformanceIndexes() {
				if have[p.Name] == on {
					continue
				}
				stmt := p.drop()
				if on {
					stmt = p.create()
				}
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return false, fmt.Errorf("migrate: %s: %w", stmt, err)
				}
				changed = append(changed, p.Name)
			}
			return true, nil
		})
	})
	if len(changed) > 0 {
		m.d.AfterSchemaChange(m.db)
	}
	return changed, err
}

// PerformanceIndexesOn reports, for each performance index, whether the
// database has it.
func (m *Migrator) PerformanceIndexesOn(ctx context.Context) (map[string]bool, error) {
	return m.performanceIndexes(ctx, m.db)
}

func (m *Migrator) performanceIndexes(ctx context.Context, q schema.ExecQuerier) (map[string]bool, error) {
	live, err := m.d.ReadCatalog(ctx, q, AlembicTable, RevisionTable)
	if err != nil {
		return nil, fmt.Errorf("migrate: read catalog: %w", err)
	}
	out := map[string]bool{}
	for _, p := range PerformanceIndexes() {
		out[p.Name] = false
	}
	for _, t := range live.Tables {
		for _, ix := range t.Indexes {
			if _, ok := out[ix.Name]; ok {
				out[ix.Name] = true
			}
		}
	}
	return out, nil
}

// readCatalog reads the live schema without the bookkeeping tables and
// without prefectdb's performance indexes: what is compared with Prefect's
// schema.
func (m *Migrator) readCatalog(ctx context.Context, q catalog.Querier) (*catalog.Schema, error) {
	live, err := m.d.ReadCatalog(ctx, q, AlembicTable, RevisionTable)
	if err != nil {
		return nil, err
	}
	for _, t := range live.Tables {
		kept := t.Indexes[:0]
		for _, ix := range t.Indexes {
			if !strings.HasPrefix(ix.Name, PerformanceIndexPrefix) {
				kept = append(kept, ix)
			}
		}
		t.Indexes = kept
	}
	return live, nil
}
