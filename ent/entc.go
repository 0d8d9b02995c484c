//go:build ignore

// entc.go runs Ent's code generator with the features prefectdb uses.
package main

import (
	"log"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	err := entc.Generate("./schema", &gen.Config{
		Templates: []*gen.Template{
			// UpdateOne reads back only the columns of the database's
			// Prefect release.
			gen.MustParse(gen.NewTemplate("prefectdb").ParseFiles("template/release_columns.tmpl")),
			// Code that needs Ent's unexported internals is generated, so
			// that an Ent upgrade that changes them fails loudly: client
			// Bind/ScanRow and NewNotFoundError for raw-SQL rows, the query
			// methods that ent/schema's interceptors use, and the create
			// methods behind dbiface.Upsert.
			gen.MustParse(gen.NewTemplate("prefectdb_internals").ParseFiles(
				"template/raw_rows.tmpl",
				"template/query_traversal.tmpl",
				"template/create_upsert.tmpl",
			)),
		},
		Features: []gen.Feature{
			gen.FeatureUpsert,
			gen.FeatureLock,
			gen.FeatureModifier,
			gen.FeatureExecQuery,
			gen.FeatureIntercept,
			gen.FeatureNamedEdges,
		},
	})
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}
