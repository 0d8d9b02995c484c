// Command schemadocs draws the schema documents (docs/schema.html, the
// interactive graph laid out by Graphviz, and docs/schema.md, its Mermaid
// diagrams) from the Ent schema. It runs from ent/generate.go; the prefectdb
// binary does not draw, it writes the documents drawn here and embedded by
// package docs, so no command of it starts the Graphviz runtime.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"

	"github.com/prefectdb/prefectdb/internal/schemaviz"
)

func main() {
	out := flag.String("out", "../docs", "directory to write schema.html and schema.md into")
	flag.Parse()
	g, err := schemaviz.CompiledGraph()
	if err != nil {
		log.Fatalf("schemadocs: %v", err)
	}
	paths, err := schemaviz.Write(context.Background(), g, *out)
	if err != nil {
		log.Fatalf("schemadocs: %v", err)
	}
	for _, p := range paths {
		fmt.Printf("wrote %s\n", p)
	}
}
