package lineage

import (
	"fmt"
	"slices"
	"strings"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/signing"
)

// Row is one line of the drawing: a node's row (Node set) or a connector
// between two node rows (Node nil). Graph is the lane drawing, two cells
// per lane: "*" for the node, "|" for a lane passing by, "/" "\" "_" for
// lanes joining and splitting.
type Row struct {
	Graph string
	Node  *Node
}

// edge joins a lane of one node row to a lane of the next.
type edge struct{ from, to int }

// Render draws the graph like `git log --graph`: one row per node in
// g.Nodes order, and a connector row wherever lanes fork, merge or shift.
// A row's Graph covers the lanes open at that row, without trailing
// blanks.
func Render(g *Graph) []Row {
	var lanes []model.Digest // the image each lane waits for
	var rows []Row
	for _, n := range g.Nodes {
		col := slices.Index(lanes, n.ID)
		if col < 0 {
			lanes = append(lanes, n.ID)
			col = len(lanes) - 1
		}
		cells := make([]byte, 2*len(lanes))
		for i := range lanes {
			cells[2*i], cells[2*i+1] = '|', ' '
		}
		cells[2*col] = '*'
		rows = append(rows, Row{Graph: strings.TrimRight(string(cells), " "), Node: n})
		next, edges := advance(lanes, col, n.Parents)
		if line := connector(edges, max(len(lanes), len(next))); line != "" {
			rows = append(rows, Row{Graph: line})
		}
		lanes = next
	}
	return rows
}

// advance replaces the lane of the node at col by its parents that no
// other lane waits for yet, and returns where every old lane goes.
func advance(lanes []model.Digest, col int, parents []model.Digest) ([]model.Digest, []edge) {
	var fresh []model.Digest
	for _, p := range parents {
		if !slices.Contains(lanes, p) && !slices.Contains(fresh, p) {
			fresh = append(fresh, p)
		}
	}
	next := slices.Concat(lanes[:col], fresh, lanes[col+1:])
	var edges []edge
	for i, id := range lanes {
		if i != col {
			edges = append(edges, edge{i, slices.Index(next, id)})
			continue
		}
		for _, p := range parents {
			edges = append(edges, edge{i, slices.Index(next, p)})
		}
	}
	return next, edges
}

// rank settles cells two edges draw on: a lane going straight down wins
// over a slanted one, which wins over the underline of a long jump.
var rank = map[byte]int{' ': 0, '_': 1, '/': 2, '\\': 2, '|': 3}

// connector draws the edges between two node rows, or returns "" when
// every lane goes straight down.
func connector(edges []edge, lanes int) string {
	if !slices.ContainsFunc(edges, func(e edge) bool { return e.from != e.to }) {
		return ""
	}
	cells := []byte(strings.Repeat(" ", 2*lanes))
	put := func(i int, c byte) {
		if i >= 0 && i < len(cells) && rank[c] > rank[cells[i]] {
			cells[i] = c
		}
	}
	for _, e := range edges {
		switch {
		case e.to == e.from:
			put(2*e.from, '|')
		case e.to > e.from:
			put(2*e.from+1, '\\')
			for i := 2*e.from + 2; i < 2*e.to; i++ {
				put(i, '_')
			}
		default:
			put(2*e.from-1, '/')
			for i := 2*e.to + 1; i < 2*e.from-1; i++ {
				put(i, '_')
			}
		}
	}
	return strings.TrimRight(string(cells), " ")
}

// Label is a node's one-line description, safe for a terminal: short ID,
// tags, creation time, agent, signature verdict and what kind of node it
// is.
func Label(n *Node) string {
	if n.External {
		return termtext.Line(n.ID.Short()) + " (parent not under this root)"
	}
	parts := []string{n.ID.Short()}
	if len(n.Tags) > 0 {
		parts = append(parts, strings.Join(n.Tags, ", "))
	}
	if !n.Created.IsZero() {
		parts = append(parts, n.Created.UTC().Format("2006-01-02 15:04"))
	}
	if n.Agent != "" {
		parts = append(parts, n.Agent)
	}
	if n.Signature != "" {
		parts = append(parts, verdict(n.Signature))
	}
	var kind []string
	if n.Merge() {
		kind = append(kind, fmt.Sprintf("merge of %d", len(n.Parents)))
	}
	if n.Fork() {
		kind = append(kind, fmt.Sprintf("forked %d ways", len(n.Children)))
	}
	if n.Root() {
		kind = append(kind, "root")
	}
	s := strings.Join(parts, "  ")
	if len(kind) > 0 {
		s += "  (" + strings.Join(kind, ", ") + ")"
	}
	return termtext.Line(s)
}

func verdict(s signing.Status) string {
	return termtext.VerdictSymbol(string(s)) + " " + string(s)
}

// Text renders the whole graph with labels, one line per row.
func Text(g *Graph) string {
	var b strings.Builder
	for _, r := range Render(g) {
		line := r.Graph
		if r.Node != nil {
			line += " " + Label(r.Node)
		}
		b.WriteString(line + "\n")
	}
	for _, p := range g.Problems {
		b.WriteString("! " + termtext.Line(p) + "\n")
	}
	return b.String()
}
