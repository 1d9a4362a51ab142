// Package lineage relates the images under a registry root: it resolves
// each image's parents to the tags that hold them and orders the images
// into a fork tree (forks, merges, roots) that renders like
// `git log --graph`, for the command line and the UI alike.
package lineage

import (
	"cmp"
	"slices"
	"time"

	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// Image is one tagged image as listed and inspected.
type Image struct {
	Name string // "repo:tag" (or the reference of a root that is an image)
	Ref  string // full image reference
	In   *registry.Inspection
	Err  error // the image could not be inspected
}

// Node is one image of the graph: every tag that holds it, its parents and
// children.
type Node struct {
	ID        model.Digest   `json:"image_id"`
	Tags      []string       `json:"tags"`
	Refs      []string       `json:"refs"`
	Parents   []model.Digest `json:"parents"`
	Children  []model.Digest `json:"children"`
	Created   time.Time      `json:"created_at,omitzero"`
	Agent     string         `json:"agent,omitempty"`
	Signature signing.Status `json:"signature,omitempty"`
	// External marks a parent that no tag under the root holds.
	External bool `json:"external,omitempty"`
}

// Merge reports a node with two or more parents.
func (n *Node) Merge() bool { return len(n.Parents) > 1 }

// Fork reports a node with two or more children.
func (n *Node) Fork() bool { return len(n.Children) > 1 }

// Root reports a node without parents.
func (n *Node) Root() bool { return len(n.Parents) == 0 && !n.External }

// Graph is the fork tree of a set of images.
type Graph struct {
	// Nodes in drawing order: every child before its parents, newest
	// first among the images that are ready.
	Nodes []*Node `json:"nodes"`
	// Problems lists the images that could not be inspected.
	Problems []string `json:"problems,omitempty"`
	byID     map[model.Digest]*Node
}

// Node returns the node of an image ID, or nil.
func (g *Graph) Node(id model.Digest) *Node { return g.byID[id] }

// Parents resolves a node's parents to their nodes (external ones
// included), in manifest order.
func (g *Graph) Parents(n *Node) []*Node {
	out := make([]*Node, 0, len(n.Parents))
	for _, p := range n.Parents {
		out = append(out, g.byID[p])
	}
	return out
}

// Build makes the graph of a set of images. Images sharing an ID become
// one node with several tags; parents not among the images become
// external nodes.
func Build(images []Image) *Graph {
	g := &Graph{byID: map[model.Digest]*Node{}}
	for _, im := range images {
		if im.Err != nil || im.In == nil || im.In.Manifest == nil || im.In.ManifestError != "" {
			g.Problems = append(g.Problems, problem(im))
			continue
		}
		n := g.byID[im.In.ImageID]
		if n == nil {
			m := im.In.Manifest
			n = &Node{ID: im.In.ImageID, Parents: unique(m.Parents), Created: m.CreatedAt,
				Agent: m.Agent.Kind, Signature: im.In.Signature.Status()}
			g.byID[n.ID] = n
		}
		n.Tags = append(n.Tags, im.Name)
		n.Refs = append(n.Refs, im.Ref)
	}
	for _, n := range sortedNodes(g.byID) {
		for _, p := range n.Parents {
			pn := g.byID[p]
			if pn == nil {
				pn = &Node{ID: p, External: true}
				g.byID[p] = pn
			}
			pn.Children = append(pn.Children, n.ID)
		}
	}
	g.Nodes = topoOrder(g.byID)
	return g
}

func unique(ds []model.Digest) []model.Digest {
	out := make([]model.Digest, 0, len(ds))
	for _, d := range ds {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

func problem(im Image) string {
	if im.Err != nil {
		return im.Name + ": " + im.Err.Error()
	}
	if im.In != nil && im.In.ManifestError != "" {
		return im.Name + ": " + im.In.ManifestError
	}
	return im.Name + ": manifest unreadable"
}

// newer orders nodes newest first, then by first tag, then by ID, so
// that the order is deterministic.
func newer(a, b *Node) int {
	if c := b.Created.Compare(a.Created); c != 0 {
		return c
	}
	if len(a.Tags) > 0 && len(b.Tags) > 0 {
		if c := cmp.Compare(a.Tags[0], b.Tags[0]); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.ID, b.ID)
}

func sortedNodes(m map[model.Digest]*Node) []*Node {
	out := make([]*Node, 0, len(m))
	for _, n := range m {
		slices.Sort(n.Tags)
		slices.Sort(n.Refs)
		out = append(out, n)
	}
	slices.SortFunc(out, newer)
	return out
}

// topoOrder lists every child before its parents (Kahn's algorithm on the
// child → parent edges), the newest ready node first.
func topoOrder(m map[model.Digest]*Node) []*Node {
	all := sortedNodes(m)
	waiting := map[model.Digest]int{} // children not yet emitted
	for _, n := range all {
		waiting[n.ID] = len(n.Children)
	}
	var ready, out []*Node
	for _, n := range all {
		if waiting[n.ID] == 0 {
			ready = append(ready, n)
		}
	}
	emitted := map[model.Digest]bool{}
	for len(out) < len(all) {
		if len(ready) == 0 {
			// Only a cycle leaves nodes waiting (impossible with content
			// addressing, but the input is untrusted): take the newest.
			for _, n := range all {
				if !emitted[n.ID] {
					ready = append(ready, n)
					break
				}
			}
		}
		slices.SortStableFunc(ready, newer)
		n := ready[0]
		ready = ready[1:]
		if emitted[n.ID] {
			continue
		}
		emitted[n.ID] = true
		out = append(out, n)
		for _, p := range n.Parents {
			if waiting[p]--; waiting[p] == 0 && !emitted[p] {
				ready = append(ready, m[p])
			}
		}
	}
	return out
}
