package schemaviz

import (
	"fmt"
	"html"
	"strings"
)

// Colours and fonts of the drawing. The page's stylesheet uses the same
// font families, so that the browser draws text with the metrics Graphviz
// assumed when it measured labels (Helvetica and Courier, whose metric
// twins Liberation Sans and Liberation Mono ship with Debian's Chromium).
const (
	labelFont      = "Helvetica"
	fieldFont      = "Courier"
	fieldSize      = 12
	headerSize     = 17
	tableSize      = 11
	edgeColour     = "#64748b"
	edgeLabelColor = "#334155"
	currentColour  = "#ea580c"
	nameColour     = "#0f172a"
	kindColour     = "#64748b"
	flagColour     = "#1e40af"
	refColour      = "#7c3aed"
	pkColour       = "#b45309"
)

// NodeID is the id of an entity's element in the SVG.
func NodeID(entity string) string { return "e-" + entity }

// FieldID is the id of a field row in the label of an entity. Graphviz
// draws the row as a link whose group has this id prefixed with "a_".
func FieldID(entity, field string) string { return "f-" + entity + "-" + field }

// HeaderID is the id of the header row in the label of an entity.
func HeaderID(entity string) string { return "h-" + entity }

// RelationID is the id of a relation's element in the SVG.
func RelationID(r *Relation) string { return "r-" + r.From + "-" + r.Name }

// DOT renders the model as a Graphviz digraph: one cluster per group, one
// HTML-table node per entity with a row per field, and one edge per
// relation from its owner to its target, tied to the field rows that hold
// and that are referenced by the reference column.
func DOT(m *Model) string {
	var b strings.Builder
	b.WriteString("digraph schema {\n")
	fmt.Fprintf(&b, "  graph [rankdir=TB, nodesep=0.3, ranksep=0.5, pad=0.3, fontname=%q, newrank=true, bgcolor=\"transparent\"];\n", labelFont)
	fmt.Fprintf(&b, "  node [shape=plain, fontname=%q, fontsize=%d];\n", fieldFont, fieldSize)
	fmt.Fprintf(&b, "  edge [fontname=%q, fontsize=11, fontcolor=%q, color=%q, arrowsize=0.9, penwidth=1.3];\n", labelFont, edgeLabelColor, edgeColour)
	for _, g := range m.Groups {
		fmt.Fprintf(&b, "  subgraph %s {\n", quote("cluster_"+g.ID))
		fmt.Fprintf(&b, "    graph [id=%s, class=%s, label=<<B>%s</B>>, labeljust=l, fontsize=60, fontcolor=%q, style=\"rounded,filled\", fillcolor=%q, color=%q, penwidth=2, margin=18];\n",
			quote("g-"+g.ID), quote("group group-"+g.ID), esc(g.Title), g.Header, g.Fill, g.Border)
		for _, e := range m.Entities {
			if e.Group == g.ID {
				fmt.Fprintf(&b, "    %s [id=%s, class=%s, label=<%s>];\n", quote(e.Name), quote(NodeID(e.Name)),
					quote("entity group-"+g.ID), nodeLabel(e, g))
			}
		}
		b.WriteString("  }\n")
	}
	for _, r := range m.Relations {
		writeEdge(&b, m, r)
	}
	b.WriteString("}\n")
	return b.String()
}

func writeEdge(b *strings.Builder, m *Model, r *Relation) {
	tail, head := quote(r.From), quote(r.To)
	// The holder's end attaches to the reference column, the other end to
	// the referenced primary key.
	switch {
	case r.Column != "" && r.Holder == r.From:
		tail += ":" + quote(r.Column)
		head += ":" + quote(pkName(m, r.To))
	case r.Column != "":
		tail += ":" + quote(pkName(m, r.From))
		head += ":" + quote(r.Column)
	}
	attrs := []string{
		"id=" + quote(RelationID(r)),
		"class=" + quote(relationClass(r)),
		"label=" + quote(EdgeLabel(r)),
		"tooltip=" + quote(RelationTitle(m, r)),
		"dir=both",
	}
	// Ranks follow the one-to-many edges, parents above children; a
	// pointer held by the owner (M2O, or O2O with the column on the owner's
	// side) does not constrain them, which keeps the drawing compact.
	if r.Cardinality == M2O || (r.Cardinality == O2O && r.Holder == r.From) {
		attrs = append(attrs, "constraint=false")
	}
	arrowTail, arrowHead := arrows(r)
	attrs = append(attrs, "arrowtail="+arrowTail, "arrowhead="+arrowHead)
	switch {
	case r.Role == RoleCurrentState:
		attrs = append(attrs, "color="+quote(currentColour), "fontcolor="+quote(currentColour), "penwidth=2.6", `style="bold"`)
	case !r.FK:
		attrs = append(attrs, `style="dashed"`)
	}
	fmt.Fprintf(b, "  %s -> %s [%s];\n", tail, head, strings.Join(attrs, ", "))
}

// EdgeLabel is the text drawn on a relation: the edge name and its
// cardinality, and the role of a current-state pointer or state history.
func EdgeLabel(r *Relation) string {
	s := r.Name + " · " + r.Cardinality
	switch {
	case r.Role == RoleCurrentState && !strings.Contains(r.Name, "current"):
		s += " · current state"
	case r.Role == RoleHistory:
		s += " · history"
	}
	return s
}

// RelationTitle is the one-line description of a relation shown as its
// tooltip.
func RelationTitle(m *Model, r *Relation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s.%s → %s (%s)", r.From, r.Name, r.To, r.Cardinality)
	if r.Inverse != "" {
		fmt.Fprintf(&b, ", inverse %s.%s", r.To, r.Inverse)
	}
	if r.Column != "" {
		fmt.Fprintf(&b, "; column %s.%s", tableOf(m, r.Holder), r.Column)
		switch {
		case r.FK:
			fmt.Fprintf(&b, ", foreign key ON DELETE %s", r.OnDelete)
		default:
			b.WriteString(", no foreign key in the database")
		}
	}
	switch r.Role {
	case RoleCurrentState:
		b.WriteString("; the run's current state")
	case RoleHistory:
		b.WriteString("; every state of the run (history)")
	}
	return b.String()
}

func relationClass(r *Relation) string {
	c := "rel " + strings.ToLower(r.Cardinality)
	if r.FK {
		c += " fk"
	} else {
		c += " nofk"
	}
	if r.Role != "" {
		c += " " + r.Role
	}
	return c
}

// arrows returns crow's-foot arrow shapes for the tail (owner) and head
// (target) ends. The shape nearest the node comes first: "crowodot" is
// zero or many, "teeodot" zero or one, "teetee" exactly one.
func arrows(r *Relation) (tail, head string) {
	one := "teeodot"
	if r.Required {
		one = "teetee"
	}
	switch r.Cardinality {
	case O2M:
		return one, "crowodot"
	case M2O:
		return "crowodot", one
	case O2O:
		if r.Holder == r.From {
			return "teeodot", one
		}
		return one, "teeodot"
	default:
		return "crowodot", "crowodot"
	}
}

func pkName(m *Model, entity string) string {
	if e := m.Entity(entity); e != nil {
		for _, f := range e.Fields {
			if f.PK {
				return f.Name
			}
		}
	}
	return "id"
}

func tableOf(m *Model, entity string) string {
	if e := m.Entity(entity); e != nil {
		return e.Table
	}
	return entity
}

// nodeLabel is the HTML-like label of an entity: a coloured header with
// the entity and table names, then one row per field in a fixed-width
// font: name (with ? when nullable), kind, and flags.
func nodeLabel(e *Entity, g *Group) string {
	nameWidth, kindWidth := 0, 0
	for _, f := range e.Fields {
		nameWidth = max(nameWidth, len(fieldName(f)))
		kindWidth = max(kindWidth, len(f.Kind))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<TABLE BORDER="1" COLOR=%q CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" BGCOLOR="white">`, g.Header)
	fmt.Fprintf(&b, `<TR><TD BGCOLOR=%q ALIGN="LEFT" CELLPADDING="6" ID="%s" HREF="#%s" TOOLTIP="%s"><FONT FACE=%q POINT-SIZE="%d" COLOR="white"><B>%s</B></FONT><FONT FACE=%q POINT-SIZE="%d" COLOR="#e2e8f0">  %s</FONT></TD></TR>`,
		g.Header, HeaderID(e.Name), NodeID(e.Name), esc(e.Name+" (table "+e.Table+", "+g.Title+")"), labelFont, headerSize, esc(e.Name), labelFont, tableSize, esc(e.Table))
	for _, f := range e.Fields {
		name := fieldName(f)
		fmt.Fprintf(&b, `<TR><TD PORT=%q ALIGN="LEFT" BGCOLOR="white" ID="%s" HREF="#%s" TOOLTIP="%s">`, f.Name, FieldID(e.Name, f.Name), FieldID(e.Name, f.Name), esc(FieldTitle(e, f)))
		fmt.Fprintf(&b, `<FONT COLOR=%q>%s</FONT>`, nameColour, esc(pad(name, nameWidth+2)))
		flags := flagText(f)
		kind := f.Kind
		if flags != "" {
			kind = pad(kind, kindWidth+2)
		}
		fmt.Fprintf(&b, `<FONT COLOR=%q>%s</FONT>`, kindColour, esc(kind))
		if flags != "" {
			colour := flagColour
			switch {
			case f.PK:
				colour = pkColour
			case f.Ref:
				colour = refColour
			}
			fmt.Fprintf(&b, `<FONT COLOR=%q>%s</FONT>`, colour, esc(flags))
		}
		b.WriteString(`</TD></TR>`)
	}
	b.WriteString(`</TABLE>`)
	return b.String()
}

func fieldName(f *Field) string {
	if f.Optional {
		return f.Name + "?"
	}
	return f.Name
}

// flagText is the flags column of a field: PK, FK, ref (a reference
// without a foreign key), UQ (unique on its own). Enums show in the kind
// column ("enum:state_type").
func flagText(f *Field) string {
	var flags []string
	if f.PK {
		flags = append(flags, "PK")
	}
	if f.FK {
		flags = append(flags, "FK")
	}
	if f.Ref {
		flags = append(flags, "ref")
	}
	if f.Unique && !f.PK {
		flags = append(flags, "UQ")
	}
	return strings.Join(flags, " ")
}

// FieldTitle is the one-line description of a field shown as its tooltip.
func FieldTitle(e *Entity, f *Field) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s.%s: %s", e.Table, f.Name, f.Kind)
	if f.Optional {
		b.WriteString(", nullable")
	} else {
		b.WriteString(", not null")
	}
	if f.PK {
		b.WriteString(", primary key")
	}
	if f.FK {
		b.WriteString(", foreign key")
	}
	if f.Ref {
		b.WriteString(", reference without a foreign key")
	}
	if f.Unique && !f.PK {
		b.WriteString(", unique")
	}
	if len(f.Enum) > 0 {
		fmt.Fprintf(&b, ", one of %s", strings.Join(f.Enum, " "))
	}
	if f.Default != "" {
		fmt.Fprintf(&b, ", default %s", f.Default)
	}
	fmt.Fprintf(&b, " (Go %s)", f.GoType)
	return b.String()
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

// quote renders s as a DOT double-quoted string. Quoting every ID keeps
// DOT keywords (node, edge, graph, ...) usable as entity names.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// esc escapes text for a Graphviz HTML-like label.
func esc(s string) string { return html.EscapeString(s) }
