package migrate

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	atlasmigrate "ariga.io/atlas/sql/migrate"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dialects"
)

// Head is the target that names the newest migration.
const Head = "head"

// Link is one migration of a database's chain and the Prefect Alembic
// revision that its schema corresponds to.
type Link struct {
	// Version is prefectdb's version of the migration (the file's prefix).
	Version string
	// Name is the migration file's name.
	Name string
	// Alembic is the Prefect Alembic revision the migration stands for: the
	// revision Prefect records in alembic_version once it is applied.
	Alembic string
	// Releases are the Prefect release tags whose Alembic head this is.
	Releases []string
}

// Chain is the ordered migration chain of one database kind, with the Prefect
// releases mapped onto it.
type Chain struct {
	Kind  config.Kind
	Links []Link
	// releases are every known release in tag order with their head.
	releases []release
}

type release struct {
	tag     string
	alembic string
}

// releasesFile is the layout of releases.json.
type releasesFile struct {
	Releases []map[string]string `json:"releases"`
}

// alembicRevisionPattern matches Prefect's Alembic revision identifiers.
var alembicRevisionPattern = regexp.MustCompile(`^[0-9a-f]{12}$`)

// ChainOf returns the migration chain of d's database.
func ChainOf(d dialects.Migratable) (*Chain, error) {
	dir, err := Dir(d)
	if err != nil {
		return nil, err
	}
	return buildChain(d, dir)
}

func buildChain(d dialects.Migratable, dir atlasmigrate.Dir) (*Chain, error) {
	files, err := dir.Files()
	if err != nil {
		return nil, fmt.Errorf("migrate: read migration directory: %w", err)
	}
	c := &Chain{Kind: d.Kind()}
	seen := map[string]bool{}
	for i, f := range files {
		rev := strings.SplitN(f.Desc(), "_", 2)[0]
		switch {
		case i == 0:
			rev = d.AlembicHead() // the 3.0 baseline
		case !alembicRevisionPattern.MatchString(rev):
			// A migration of prefectdb's own (tests add such files): it does
			// not move Prefect's revision. Every embedded migration names one
			// (TestEmbeddedChainNamesRevisions).
			rev = ""
		}
		if rev != "" && seen[rev] {
			return nil, fmt.Errorf("migrate: %s: Alembic revision %s has two migrations", f.Name(), rev)
		}
		seen[rev] = true
		c.Links = append(c.Links, Link{Version: f.Version(), Name: f.Name(), Alembic: rev})
	}
	b, err := embedded.ReadFile("releases.json")
	if err != nil {
		return nil, fmt.Errorf("migrate: read releases: %w", err)
	}
	var rf releasesFile
	if err := json.Unmarshal(b, &rf); err != nil {
		return nil, fmt.Errorf("migrate: decode releases.json: %w", err)
	}
	for _, r := range rf.Releases {
		tag, rev := r["release"], r[string(d.Kind())]
		i := c.indexOfAlembic(rev)
		if i < 0 {
			return nil, fmt.Errorf("migrate: releases.json: Prefect %s's %s head %q has no migration", tag, d.Kind(), rev)
		}
		c.Links[i].Releases = append(c.Links[i].Releases, tag)
		c.releases = append(c.releases, release{tag: tag, alembic: rev})
	}
	return c, nil
}

func (c *Chain) indexOfAlembic(rev string) int {
	if rev == "" {
		return -1
	}
	return slices.IndexFunc(c.Links, func(l Link) bool { return l.Alembic == rev })
}

// IndexOfAlembic returns the position of the migration that stands for an
// Alembic revision, or -1 when the chain does not know the revision.
func (c *Chain) IndexOfAlembic(rev string) int { return c.indexOfAlembic(rev) }

// IndexOfVersion returns the position of a prefectdb version, or -1.
func (c *Chain) IndexOfVersion(version string) int {
	return slices.IndexFunc(c.Links, func(l Link) bool { return l.Version == version })
}

// AlembicAt returns the Alembic revision recorded for the schema at
// position i: that of the newest migration up to i that names one.
func (c *Chain) AlembicAt(i int) string {
	for ; i >= 0; i-- {
		if c.Links[i].Alembic != "" {
			return c.Links[i].Alembic
		}
	}
	return ""
}

// Releases returns the known Prefect release tags, oldest first.
func (c *Chain) Releases() []string {
	out := make([]string, len(c.releases))
	for i, r := range c.releases {
		out[i] = r.tag
	}
	return out
}

// SupportedReleases describes the supported range, e.g. "Prefect 3.0.0 to
// 3.8.3 (and the unreleased revisions after it)".
func (c *Chain) SupportedReleases() string {
	if len(c.releases) == 0 {
		return "no Prefect release"
	}
	s := fmt.Sprintf("Prefect %s to %s", c.releases[0].tag, c.releases[len(c.releases)-1].tag)
	if last := c.indexOfAlembic(c.releases[len(c.releases)-1].alembic); last < len(c.Links)-1 {
		s += fmt.Sprintf(" and the %d newer revision(s) up to %s", len(c.Links)-1-last, c.Links[len(c.Links)-1].Alembic)
	}
	return s
}

// Resolve finds the migration a target names: "head" (or ""), a Prefect
// release ("3.4.0", or "3.4" for the newest 3.4.x), an Alembic revision, or
// a prefectdb version.
func (c *Chain) Resolve(target string) (int, error) {
	switch t := strings.TrimSpace(target); {
	case t == "" || strings.EqualFold(t, Head):
		return len(c.Links) - 1, nil
	default:
		if i := c.IndexOfVersion(t); i >= 0 {
			return i, nil
		}
		if i := c.indexOfAlembic(t); i >= 0 {
			return i, nil
		}
		tag := strings.TrimPrefix(t, "v")
		for j := len(c.releases) - 1; j >= 0; j-- {
			r := c.releases[j]
			if r.tag == tag || strings.HasPrefix(r.tag, tag+".") {
				return c.indexOfAlembic(r.alembic), nil
			}
		}
	}
	return -1, &UnknownTargetError{Target: target, Supported: c.SupportedReleases()}
}

// Describe says which Prefect release(s) the schema at position i belongs
// to, e.g. "Prefect 3.4.7 to 3.4.18" or "Prefect 3.8.3 + unreleased
// revisions".
func (c *Chain) Describe(i int) string {
	if i < 0 || i >= len(c.Links) {
		return "no Prefect release"
	}
	// Releases whose head is exactly this link.
	if tags := c.Links[i].Releases; len(tags) > 0 {
		if len(tags) == 1 {
			return "Prefect " + tags[0]
		}
		return fmt.Sprintf("Prefect %s to %s", tags[0], tags[len(tags)-1])
	}
	for j := i - 1; j >= 0; j-- {
		if tags := c.Links[j].Releases; len(tags) > 0 {
			return fmt.Sprintf("newer than Prefect %s (a revision no release tag has as its head)", tags[len(tags)-1])
		}
	}
	return "no Prefect release"
}

// UnknownTargetError is returned for a migration target that names no
// migration of the chain.
type UnknownTargetError struct {
	Target    string
	Supported string
}

func (e *UnknownTargetError) Error() string {
	return fmt.Sprintf("unknown migration target %q: give a Prefect release (e.g. 3.4.0), a Prefect Alembic revision, "+
		"a prefectdb version, %q, %q or %q; supported: %s", e.Target, Head, Base, OneStep, e.Supported)
}
