package schema

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
)

// groupTraversalsByID makes edge traversals to an entity with PostgreSQL
// `json` columns work. Ent removes duplicate rows of a traversal with SELECT
// DISTINCT over every column, and PostgreSQL's json type (which Prefect uses
// for artifact.data, artifact.metadata_, artifact_collection.data and
// metadata_, and event_resources.resource) has no equality operator, so the
// query fails there. The interceptor removes duplicates by grouping on the
// primary key instead: every selected column depends on it, which both
// PostgreSQL and SQLite accept, and LIMIT and ORDER BY keep their meaning.
// Queries that set Unique themselves are left as they are.
func groupTraversalsByID(idColumn string) ent.Interceptor {
	return ent.InterceptFunc(func(next ent.Querier) ent.Querier {
		return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
			qc := ent.QueryFromContext(ctx)
			if tq, ok := q.(traversalQuery); ok && qc != nil && qc.Unique == nil && tq.IsEdgeTraversal() &&
				(qc.Op == ent.OpQueryAll || qc.Op == ent.OpQueryFirst || qc.Op == ent.OpQueryOnly) {
				unique := false
				qc.Unique = &unique
				tq.ModifySelector(func(s *sql.Selector) {
					s.GroupBy(s.C(idColumn))
				})
			}
			return next.Query(ctx, q)
		})
	})
}

// traversalQuery is what groupTraversalsByID needs of a query. Every query
// builder of package ent has these methods, generated from
// ent/template/query_traversal.tmpl; package ent cannot be imported here (it
// is generated from this package). IsEdgeTraversal reports whether the query
// starts from another query (an edge traversal such as
// flowRun.QueryArtifacts()); ModifySelector adds a modifier to the query's
// SELECT, as the query's Modify does.
type traversalQuery interface {
	IsEdgeTraversal() bool
	ModifySelector(func(*sql.Selector))
}
