package migrate

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/prefectdb/prefectdb/dialects"
)

// Stamp records the database as migrated to target without running any
// migration, as `prefect server database stamp REVISION` does: Prefect's
// alembic_version is set to target's Alembic revision, prefectdb's own
// history records every migration up to target (as adopted) and forgets
// the ones after it. target is resolved as by UpTo (a release, an Alembic
// revision, a prefectdb version, head); there is no default.
//
// Stamping changes no table but the two bookkeeping ones. It is for a
// database whose schema is known to be at target already (restored from a
// dump, fixed by hand); stamping a database that is not makes later
// migrations fail or, worse, succeed on the wrong schema, so check it with
// Drift afterwards.
func (m *Migrator) Stamp(ctx context.Context, target string) (*Step, error) {
	if target == "" {
		return nil, fmt.Errorf("migrate: stamp needs a target (a Prefect release, an Alembic revision, a prefectdb version or head)")
	}
	_, chain, at, err := m.target(target)
	if err != nil {
		return nil, err
	}
	if at < 0 {
		return nil, fmt.Errorf("migrate: stamp needs a migration to stamp, not %s: use migrate down --to base to empty the database", target)
	}
	var step *Step
	err = m.withLock(ctx, func(conn *sql.Conn) error {
		return m.inTx(ctx, conn, func(tx dialects.MigrationTx) (bool, error) {
			revs, err := m.appliedRevisions(ctx, tx)
			if err != nil {
				return false, err
			}
			recorded := map[string]bool{}
			for _, r := range revs {
				if chain.IndexOfVersion(r.Version) > at {
					if err := m.revisions(tx).DeleteRevision(ctx, r.Version); err != nil {
						return false, fmt.Errorf("migrate: stamp: forget %s: %w", r.Version, err)
					}
					continue
				}
				recorded[r.Version] = true
			}
			for i := 0; i <= at; i++ {
				if !recorded[chain.Links[i].Version] {
					if err := m.recordAdopted(ctx, tx, chain, i, i); err != nil {
						return false, err
					}
				}
			}
			if err := stampAlembic(ctx, tx, chain.AlembicAt(at)); err != nil {
				return false, err
			}
			step = &Step{Direction: Adopt, Version: chain.Links[at].Version,
				Description: fmt.Sprintf("stamped at %s (Alembic %s); no migration ran", chain.Describe(at), chain.AlembicAt(at))}
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	m.d.AfterSchemaChange(m.db)
	s := m.report(*step)
	return &s, nil
}
