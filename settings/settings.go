// Package settings reads Prefect's settings the way Prefect 3.1 and later
// read them: from the environment, then a .env file, prefect.toml and
// pyproject.toml ([tool.prefect]) in the working directory, then the active
// profile of profiles.toml. The first source that sets a setting wins, under
// any of its names (PREFECT_SERVER_DATABASE_CONNECTION_URL and its older
// alias PREFECT_API_DATABASE_CONNECTION_URL are one setting).
//
// Getenv gives the result as a function of the setting's environment name,
// for the functions that take one (connect.DefaultURLSource,
// config.OptionsFromEnv).
package settings

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// aliases are the settings read under more than one name, newest first.
var aliases = [][]string{
	{"PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL"},
	{"PREFECT_SERVER_DATABASE_TIMEOUT", "PREFECT_API_DATABASE_TIMEOUT"},
	{"PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT", "PREFECT_API_DATABASE_CONNECTION_TIMEOUT"},
	{"PREFECT_SERVER_DATABASE_ECHO", "PREFECT_API_DATABASE_ECHO"},
	{"PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE", "PREFECT_SQLALCHEMY_POOL_SIZE"},
	{"PREFECT_SERVER_DATABASE_SQLALCHEMY_MAX_OVERFLOW", "PREFECT_SQLALCHEMY_MAX_OVERFLOW"},
}

// names returns the names of the setting that name is one of.
func names(name string) []string {
	for _, group := range aliases {
		if slices.Contains(group, name) {
			return group
		}
	}
	return []string{name}
}

// source is one place settings come from.
type source struct {
	origin string // "the environment", ".env", "prefect.toml", …
	get    func(string) string
}

// Settings are Prefect's settings from all their sources.
type Settings struct {
	sources []source
}

// Load reads the settings sources: getenv (pass os.Getenv), and the files
// .env, prefect.toml and pyproject.toml in dir and the profiles file. A file
// that does not exist is skipped; one that cannot be parsed is an error
// naming it.
func Load(getenv func(string) string, dir string) (*Settings, error) {
	s := &Settings{sources: []source{{origin: "the environment", get: getenv}}}
	dotenv, err := readDotEnv(filepath.Join(dir, ".env"))
	if err != nil {
		return nil, err
	}
	s.sources = append(s.sources, source{origin: ".env", get: mapGet(dotenv)})
	prefectToml, err := readToml(filepath.Join(dir, "prefect.toml"))
	if err != nil {
		return nil, err
	}
	s.sources = append(s.sources, source{origin: "prefect.toml", get: mapGet(flatten(prefectToml))})
	pyproject, err := readToml(filepath.Join(dir, "pyproject.toml"))
	if err != nil {
		return nil, err
	}
	tool, _ := pyproject["tool"].(map[string]any)
	prefectTable, _ := tool["prefect"].(map[string]any)
	s.sources = append(s.sources, source{origin: "pyproject.toml", get: mapGet(flatten(prefectTable))})

	profile, origin, err := s.activeProfile()
	if err != nil {
		return nil, err
	}
	s.sources = append(s.sources, source{origin: origin, get: mapGet(profile)})
	return s, nil
}

// Lookup returns the value of a setting, by any of its names, and where it
// came from ("" when no source sets it).
func (s *Settings) Lookup(name string) (value, origin string) {
	group := names(name)
	for _, src := range s.sources {
		for _, n := range group {
			if v := strings.TrimSpace(src.get(n)); v != "" {
				return v, fmt.Sprintf("%s (%s)", n, src.origin)
			}
		}
	}
	return "", ""
}

// Getenv returns a setting's value by its environment name, from the first
// source that sets it under any of its names.
func (s *Settings) Getenv(name string) string {
	v, _ := s.Lookup(name)
	return v
}

// activeProfile reads the profiles file (PREFECT_PROFILES_PATH, default
// $PREFECT_HOME/profiles.toml) and returns the settings of the active
// profile (PREFECT_PROFILE, else the file's "active" key).
func (s *Settings) activeProfile() (map[string]string, string, error) {
	path := s.Getenv("PREFECT_PROFILES_PATH")
	if path == "" {
		home := s.Getenv("PREFECT_HOME")
		if home == "" {
			home = "~/.prefect"
		}
		path = filepath.Join(home, "profiles.toml")
	}
	path, err := ExpandHome(path)
	if err != nil {
		return nil, "", err
	}
	doc, err := readToml(path)
	if err != nil {
		return nil, "", err
	}
	name := s.Getenv("PREFECT_PROFILE")
	if name == "" {
		name, _ = doc["active"].(string)
	}
	profiles, _ := doc["profiles"].(map[string]any)
	table, _ := profiles[name].(map[string]any)
	out := map[string]string{}
	for k, v := range table {
		out[strings.ToUpper(k)] = fmt.Sprint(v)
	}
	return out, fmt.Sprintf("profile %q of %s", name, path), nil
}

// ExpandHome expands a leading "~" as Prefect does.
func ExpandHome(path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("settings: expand %s: %w", path, err)
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~")), nil
}

func mapGet(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// flatten turns a TOML document of Prefect's settings ([server.database]
// connection_url = …) into environment names
// (PREFECT_SERVER_DATABASE_CONNECTION_URL).
func flatten(doc map[string]any) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			key := prefix + "_" + strings.ToUpper(k)
			if sub, ok := v.(map[string]any); ok {
				walk(key, sub)
				continue
			}
			out[key] = fmt.Sprint(v)
		}
	}
	walk("PREFECT", doc)
	return out
}

// readToml parses a TOML file; a missing file is an empty document.
func readToml(path string) (map[string]any, error) {
	doc := map[string]any{}
	if _, err := toml.DecodeFile(path, &doc); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return map[string]any{}, nil
		}
		// The parser's message quotes the file, which may hold a password:
		// only the position is given.
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("settings: %s is not valid TOML (line %d, column %d)", path, pe.Position.Line, pe.Position.Col)
		}
		return nil, fmt.Errorf("settings: %s cannot be read as TOML", path)
	}
	return doc, nil
}

// readDotEnv reads KEY=VALUE lines (with optional "export ", quotes and #
// comments) of a .env file; a missing file has none.
func readDotEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("settings: read %s: %w", path, err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0]:
			v = v[1 : len(v)-1]
		default:
			if i := strings.Index(v, " #"); i >= 0 {
				v = strings.TrimSpace(v[:i])
			}
		}
		out[strings.ToUpper(k)] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("settings: read %s: %w", path, err)
	}
	return out, nil
}
