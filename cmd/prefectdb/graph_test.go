package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGraphCommand checks that `prefectdb graph --out DIR` writes exactly
// the committed docs/schema.html and docs/schema.md, which `go generate`
// writes with the same command.
func TestGraphCommand(t *testing.T) {
	for _, args := range [][]string{
		{"graph", "--out", "DIR"},
		{"--out=DIR", "graph"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "nested", "docs")
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "DIR", dir)
			}
			out, err := runCLI(t, nil, args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, name := range []string{"schema.html", "schema.md"} {
				p := filepath.Join(dir, name)
				if !strings.Contains(out, "wrote "+p) {
					t.Errorf("output does not name %s:\n%s", p, out)
				}
				got, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from docs/%s: run `go generate ./...`", p, name)
				}
			}
		})
	}
}

func TestGraphCommandErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"graph", "extra"}, `unexpected argument "extra"`},
		{[]string{"graph", "--url", "sqlite:///x.db"}, "url"},
		{[]string{"graph", "--out"}, "out"},
	}
	for _, c := range cases {
		out, err := runCLI(t, nil, c.args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want a usage error mentioning %q\n%s", c.args, err, c.want, out)
		}
	}
	// The output directory cannot be created where a file is.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, nil, "graph", "--out", file); err == nil || !strings.Contains(err.Error(), "create") {
		t.Errorf("--out on a file: got %v, want an error creating the directory", err)
	}
}

// TestBinaryDoesNotLinkGraphviz: the Graphviz runtime (go-graphviz, whose
// package init compiles a WebAssembly module and writes a cache under
// $TMPDIR) belongs to `go generate` only. The binary writes the documents
// drawn there, so every command starts without it, even where $TMPDIR is
// not usable.
func TestBinaryDoesNotLinkGraphviz(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "go-graphviz") || strings.Contains(dep, "wazero") {
			t.Errorf("cmd/prefectdb links %s: drawing belongs to internal/cmd/schemadocs", dep)
		}
	}
	bin := filepath.Join(t.TempDir(), "prefectdb")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--version")
	cmd.Env = append(os.Environ(), "TMPDIR=/nonexistent/tmp")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "prefectdb ") {
		t.Errorf("prefectdb --version with an unusable TMPDIR: %v\n%s", err, out)
	}
}
