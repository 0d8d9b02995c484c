package schemaviz

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/goccy/go-graphviz"
)

// gvMu serialises layouts: a Graphviz context is not safe for concurrent
// use, and one layout takes well under a second.
var gvMu sync.Mutex

// SVG lays the DOT source out with Graphviz's dot engine and returns the
// drawing as an SVG element ready to be inlined in HTML: without the XML
// prologue, the DOCTYPE, comments (which name the Graphviz version) or a
// fixed size.
func SVG(ctx context.Context, dot string) (string, error) {
	gvMu.Lock()
	defer gvMu.Unlock()
	gv, err := graphviz.New(ctx)
	if err != nil {
		return "", fmt.Errorf("schemaviz: start graphviz: %w", err)
	}
	defer gv.Close()
	graph, err := graphviz.ParseBytes([]byte(dot))
	if err != nil {
		return "", fmt.Errorf("schemaviz: parse dot: %w", err)
	}
	defer graph.Close()
	var buf bytes.Buffer
	if err := gv.Render(ctx, graph, graphviz.SVG, &buf); err != nil {
		return "", fmt.Errorf("schemaviz: render svg: %w", err)
	}
	return cleanSVG(buf.String())
}

var (
	svgComment = regexp.MustCompile(`(?s)<!--.*?-->\n?`)
	svgOpen    = regexp.MustCompile(`<svg width="[^"]*" height="[^"]*"\s+viewBox="([^"]*)"`)
)

func cleanSVG(s string) (string, error) {
	i := strings.Index(s, "<svg")
	if i < 0 {
		return "", fmt.Errorf("schemaviz: graphviz produced no <svg> element")
	}
	s = svgComment.ReplaceAllString(s[i:], "")
	if !svgOpen.MatchString(s) {
		return "", fmt.Errorf("schemaviz: unexpected <svg> element from graphviz: %.120q", s)
	}
	s = svgOpen.ReplaceAllString(s, `<svg id="schema" viewBox="$1" role="img" aria-label="prefectdb schema graph"`)
	return strings.TrimSpace(s) + "\n", nil
}
