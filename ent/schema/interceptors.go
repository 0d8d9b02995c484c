package schema

import (
	"context"
	"reflect"

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
			if qc != nil && qc.Unique == nil && isTraversal(q) &&
				(qc.Op == ent.OpQueryAll || qc.Op == ent.OpQueryFirst || qc.Op == ent.OpQueryOnly) {
				unique := false
				qc.Unique = &unique
				modify := reflect.ValueOf(q).MethodByName("Modify")
				if modify.IsValid() {
					modify.Call([]reflect.Value{reflect.ValueOf(func(s *sql.Selector) {
						s.GroupBy(s.C(idColumn))
					})})
				}
			}
			return next.Query(ctx, q)
		})
	})
}

// isTraversal reports whether q starts from another query (an edge
// traversal such as flowRun.QueryArtifacts()): Ent keeps that start in the
// unexported field path of every generated query.
func isTraversal(q ent.Query) bool {
	v := reflect.ValueOf(q)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return false
	}
	path := v.Elem().FieldByName("path")
	return path.IsValid() && path.Kind() == reflect.Func && !path.IsNil()
}
