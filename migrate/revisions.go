package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	entsql "entgo.io/ent/dialect/sql"
)

// RevisionTable is the table in which prefectdb records applied migrations.
// Prefect's own alembic_version table is left as it is.
const RevisionTable = "prefectdb_schema_revisions"

// createRevisionTable uses only types that PostgreSQL and SQLite share.
const createRevisionTable = `CREATE TABLE IF NOT EXISTS ` + RevisionTable + ` (
	version VARCHAR(255) NOT NULL PRIMARY KEY,
	description VARCHAR(255) NOT NULL,
	type INTEGER NOT NULL,
	applied INTEGER NOT NULL,
	total INTEGER NOT NULL,
	executed_at VARCHAR(64) NOT NULL,
	execution_time BIGINT NOT NULL,
	error TEXT,
	error_stmt TEXT,
	hash VARCHAR(255) NOT NULL,
	partial_hashes TEXT,
	operator_version VARCHAR(255) NOT NULL
)`

var revisionColumns = []string{"version", "description", "type", "applied", "total", "executed_at",
	"execution_time", "error", "error_stmt", "hash", "partial_hashes", "operator_version"}

// revisions implements Atlas's RevisionReadWriter over RevisionTable, on the
// connection or transaction a migration runs in.
type revisions struct {
	q       schema.ExecQuerier
	dialect string // Ent dialect name, used only to render placeholders
}

var _ atlasmigrate.RevisionReadWriter = (*revisions)(nil)

func (r *revisions) Ident() *atlasmigrate.TableIdent {
	return &atlasmigrate.TableIdent{Name: RevisionTable}
}

func (r *revisions) ReadRevisions(ctx context.Context) ([]*atlasmigrate.Revision, error) {
	return r.read(ctx, "")
}

func (r *revisions) ReadRevision(ctx context.Context, version string) (*atlasmigrate.Revision, error) {
	revs, err := r.read(ctx, version)
	if err != nil {
		return nil, err
	}
	if len(revs) == 0 {
		return nil, atlasmigrate.ErrRevisionNotExist
	}
	return revs[0], nil
}

func (r *revisions) read(ctx context.Context, version string) ([]*atlasmigrate.Revision, error) {
	sel := entsql.Dialect(r.dialect).Select(revisionColumns...).From(entsql.Table(RevisionTable)).OrderBy("version")
	if version != "" {
		sel.Where(entsql.EQ("version", version))
	}
	query, args := sel.Query()
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", RevisionTable, err)
	}
	defer rows.Close()
	var out []*atlasmigrate.Revision
	for rows.Next() {
		var (
			rev                       atlasmigrate.Revision
			executedAt                string
			execNanos                 int64
			errText, errStmt, partial sql.NullString
			typ                       int64
		)
		if err := rows.Scan(&rev.Version, &rev.Description, &typ, &rev.Applied, &rev.Total, &executedAt,
			&execNanos, &errText, &errStmt, &rev.Hash, &partial, &rev.OperatorVersion); err != nil {
			return nil, fmt.Errorf("scan %s: %w", RevisionTable, err)
		}
		rev.Type = atlasmigrate.RevisionType(typ)
		if rev.ExecutedAt, err = time.Parse(time.RFC3339Nano, executedAt); err != nil {
			return nil, fmt.Errorf("%s: revision %s: bad executed_at %q: %w", RevisionTable, rev.Version, executedAt, err)
		}
		rev.ExecutionTime = time.Duration(execNanos)
		rev.Error, rev.ErrorStmt = errText.String, errStmt.String
		if partial.String != "" {
			rev.PartialHashes = strings.Split(partial.String, ",")
		}
		out = append(out, &rev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", RevisionTable, err)
	}
	return out, nil
}

func (r *revisions) WriteRevision(ctx context.Context, rev *atlasmigrate.Revision) error {
	values := []any{rev.Version, rev.Description, int64(rev.Type), rev.Applied, rev.Total,
		rev.ExecutedAt.UTC().Format(time.RFC3339Nano), int64(rev.ExecutionTime),
		nullable(rev.Error), nullable(rev.ErrorStmt), rev.Hash,
		nullable(strings.Join(rev.PartialHashes, ",")), rev.OperatorVersion}
	query, args := entsql.Dialect(r.dialect).Insert(RevisionTable).
		Columns(revisionColumns...).Values(values...).
		OnConflict(entsql.ConflictColumns("version"), entsql.ResolveWithNewValues()).Query()
	if _, err := r.q.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("write %s: %w", RevisionTable, err)
	}
	return nil
}

func (r *revisions) DeleteRevision(ctx context.Context, version string) error {
	query, args := entsql.Dialect(r.dialect).Delete(RevisionTable).Where(entsql.EQ("version", version)).Query()
	if _, err := r.q.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("delete from %s: %w", RevisionTable, err)
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
