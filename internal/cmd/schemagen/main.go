// Command schemagen writes what prefectdb generates from its Ent schema
// besides the Ent client: the logical schema (migrate/schema.json) and the
// atlas.sum of each database's migration directory. It runs from
// ent/generate.go after Ent's own code generation, and its output is
// deterministic.
//
// The migration files themselves are not generated: the first of each
// directory is Prefect 3.0's schema (rendered once from the Ent schema when it
// described Prefect 3.0, and kept as it was), and each later one reproduces
// one of Prefect's Alembic revisions, written by hand from Prefect's
// migration and checked against the schema Prefect's own migrations build.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"

	"github.com/prefectdb/prefectdb/internal/schemagen"
)

func main() {
	schemaDir := flag.String("schema", "./schema", "Ent schema package directory")
	out := flag.String("out", "../migrate", "migrate package directory")
	flag.Parse()
	if err := run(*schemaDir, *out); err != nil {
		log.Fatalf("schemagen: %v", err)
	}
}

func run(schemaDir, out string) error {
	g, err := entc.LoadGraph(schemaDir, &gen.Config{})
	if err != nil {
		return fmt.Errorf("load ent graph: %w", err)
	}
	logical, err := schemagen.Logical(g)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(logical, "", "  ")
	if err != nil {
		return fmt.Errorf("encode logical schema: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "schema.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	for _, d := range []string{"postgres", "sqlite"} {
		if err := writeSum(filepath.Join(out, "migrations", d)); err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
	}
	return nil
}

// writeSum rewrites the atlas.sum of one migration directory.
func writeSum(dir string) error {
	local, err := atlasmigrate.NewLocalDir(dir)
	if err != nil {
		return err
	}
	sum, err := local.Checksum()
	if err != nil {
		return fmt.Errorf("checksum: %w", err)
	}
	return atlasmigrate.WriteSumFile(local, sum)
}
