// Package docs holds prefectdb's documents. The schema documents
// (schema.html and schema.md) are drawn from the Ent schema by `go generate
// ./...` (internal/cmd/schemadocs) and embedded here, so that the prefectdb
// binary can write them (`prefectdb graph`) without drawing anything itself.
package docs

import "embed"

//go:embed schema.html schema.md
var schemaFiles embed.FS

// SchemaFileNames are the schema documents' file names, in the order
// prefectdb graph writes them.
func SchemaFileNames() []string { return []string{"schema.html", "schema.md"} }

// SchemaFile returns the content of one of the schema documents.
func SchemaFile(name string) ([]byte, error) {
	return schemaFiles.ReadFile(name)
}
