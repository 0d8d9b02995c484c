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
