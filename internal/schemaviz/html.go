package schemaviz

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"text/template"
)

var (
	//go:embed page.html
	pageHTML string
	//go:embed page.css
	pageCSS string
	//go:embed page.js
	pageJS string
)

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// pageGroup is a group as the legend shows it; its fields are HTML-escaped.
type pageGroup struct{ ID, Title string }

// HTML renders the interactive page: the Graphviz drawing inlined as SVG,
// the model as JSON, and the page's own stylesheet and script, all in one
// file that needs no network. A Content-Security-Policy with the hashes of
// the inline style and script forbids every fetch.
func HTML(ctx context.Context, m *Model) ([]byte, error) {
	svg, err := SVG(ctx, DOT(m))
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("schemaviz: encode model: %w", err)
	}
	var css strings.Builder
	css.WriteString(pageCSS)
	css.WriteString("/* group colours */\n")
	var groups []pageGroup
	for _, g := range m.Groups {
		fmt.Fprintf(&css, ".legend [data-group=%q] { color: %s; }\n.legend [data-group=%q] .dot { background: %s; }\n", g.ID, g.Header, g.ID, g.Header)
		groups = append(groups, pageGroup{ID: html.EscapeString(g.ID), Title: html.EscapeString(g.Title)})
	}
	var b bytes.Buffer
	err = pageTemplate.Execute(&b, map[string]any{
		"Stats":      Stats(m),
		"CSS":        css.String(),
		"JS":         pageJS,
		"StyleHash":  cspHash(css.String()),
		"ScriptHash": cspHash(pageJS),
		"Groups":     groups,
		"SVG":        svg,
		// json.Marshal escapes <, > and &, so the data cannot end the
		// script element.
		"JSON": string(data),
	})
	if err != nil {
		return nil, fmt.Errorf("schemaviz: render page: %w", err)
	}
	return b.Bytes(), nil
}

// Stats is the one-line summary shown in the page's header.
func Stats(m *Model) string {
	return fmt.Sprintf("%d entities · %d relations · %d groups", len(m.Entities), len(m.Relations), len(m.Groups))
}

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}
