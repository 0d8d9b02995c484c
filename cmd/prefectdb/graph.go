package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/prefectdb/prefectdb/docs"
)

// graph writes schema.html (the interactive drawing of the Ent schema) and
// schema.md (its Mermaid ER diagrams) into --out: the documents `go generate
// ./...` drew from the schema compiled into this binary (internal/cmd/
// schemadocs), embedded by package docs. Nothing is drawn at run time, so
// no command starts the Graphviz runtime.
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
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	for _, name := range docs.SchemaFileNames() {
		b, err := docs.SchemaFile(name)
		if err != nil {
			return fmt.Errorf("read the embedded %s: %w", name, err)
		}
		p := filepath.Join(*out, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	return nil
}
