// Package dialects is the seam between prefectdb and a database: the
// Dialect interface, composed of one small interface per concern (Identity,
// Opener, SchemaRenderer, CatalogReader, Migrations, ErrorClassifier and the
// query families: Queries, SchedulingQueries, GraphQueries,
// TransitionQueries, IngestQueries), the parameter and result types of the
// query components, and the dialect-neutral helpers that go with them (the
// configuration-table cache, the SQLite writer context). Each database's
// implementation lives in its own package, dialects/postgres and
// dialects/sqlite, and nothing outside those two switches on the database's
// name; dialects/connect picks one for a URL, and dialects/dialecttest is
// the conformance suite each runs. URLs and connection options are package
// config's.
package dialects
