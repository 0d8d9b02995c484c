// Package migrate applies prefectdb's versioned migrations: one Atlas
// migration directory per database, generated from the Ent schema and
// embedded in the binary, with its atlas.sum integrity file and a down file
// for every version.
//
// Migrations run through Atlas's executor, one transaction per file, under a
// cross-process lock, and are recorded in prefectdb's own revision table. A
// database that Prefect 3.0 itself migrated to head is adopted as it is.
package migrate

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	atlasmigrate "ariga.io/atlas/sql/migrate"

	"github.com/prefectdb/prefectdb/dialects"
	"github.com/prefectdb/prefectdb/internal/catalog"
)

// embedded holds the generated migration directories and the logical schema.
//
//go:embed migrations schema.json releases.json
var embedded embed.FS

// Logical returns prefectdb's logical schema, as generated from the Ent
// schema by `go generate`.
func Logical() (*catalog.Schema, error) {
	b, err := embedded.ReadFile("schema.json")
	if err != nil {
		return nil, fmt.Errorf("migrate: read logical schema: %w", err)
	}
	s := &catalog.Schema{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("migrate: decode logical schema: %w", err)
	}
	return s, nil
}

// Desired returns the physical schema that the migrations build on d's
// database at head: Prefect's schema at the newest revision prefectdb knows,
// as Prefect's own migrations build it (catalog.HeadReference). The tests
// prove that the migrations build exactly this.
func Desired(d dialects.Migratable) (*catalog.Schema, error) {
	s, _, err := catalog.HeadReference(string(d.Kind()))
	if err != nil {
		return nil, fmt.Errorf("migrate: schema at head for %s: %w", d.Kind(), err)
	}
	return s, nil
}

// Dir returns the migration directory of d's database, after checking it
// against its atlas.sum.
func Dir(d dialects.Migratable) (atlasmigrate.Dir, error) {
	root := path.Join("migrations", string(d.Kind()))
	entries, err := fs.ReadDir(embedded, root)
	if err != nil {
		return nil, fmt.Errorf("migrate: no migrations for %s: %w", d.Kind(), err)
	}
	dir := &atlasmigrate.MemDir{}
	for _, e := range entries {
		if e.IsDir() || (!strings.HasSuffix(e.Name(), ".sql") && e.Name() != atlasmigrate.HashFileName) {
			continue
		}
		b, err := embedded.ReadFile(path.Join(root, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrate: read %s: %w", e.Name(), err)
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, fmt.Errorf("migrate: load %s: %w", e.Name(), err)
		}
	}
	if err := atlasmigrate.Validate(dir); err != nil {
		return nil, fmt.Errorf("migrate: %s migration directory does not match its atlas.sum: %w", d.Kind(), err)
	}
	return dir, nil
}

// downFile returns the down migration of the file with the given name.
func downFile(d dialects.Migratable, name string) (atlasmigrate.File, error) {
	b, err := embedded.ReadFile(path.Join("migrations", string(d.Kind()), "down", name))
	if err != nil {
		return nil, fmt.Errorf("migrate: no down migration for %s: %w", name, err)
	}
	return atlasmigrate.NewLocalFile(name, b), nil
}
