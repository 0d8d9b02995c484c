package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/prefectdb/prefectdb/internal/schemaviz"
)

// graph writes schema.html (the interactive drawing of the Ent schema) and
// schema.md (its Mermaid ER diagrams) into --out, drawn from the schema
// compiled into this binary. `go generate ./...` runs it to write docs/.
func graph(ctx context.Context, flagArgs []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("prefectdb graph", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.String("out", ".", "directory to write schema.html and schema.md into")
	if err := fs.Parse(flagArgs); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	g, err := schemaviz.CompiledGraph()
	if err != nil {
		return err
	}
	paths, err := schemaviz.Write(ctx, g, *out)
	if err != nil {
		return err
	}
	for _, p := range paths {
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	return nil
}
