package lineage_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pf-registry/demo"
	"pf-registry/internal/fault"
	"pf-registry/lineage"
	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/file"
	"pf-registry/signing"
)

func id(name string) model.Digest { return model.FromBytes([]byte(name)) }

// img is an inspected image named name, created at hour h, with parents.
func img(name string, h int, parents ...string) lineage.Image {
	m := &model.Manifest{CreatedAt: time.Date(2026, 11, 1, h, 0, 0, 0, time.UTC), Agent: model.Agent{Kind: "bot"}}
	for _, p := range parents {
		m.Parents = append(m.Parents, id(p))
	}
	return lineage.Image{Name: name, Ref: "file://r/" + name, In: &registry.Inspection{ImageID: id(name), Manifest: m,
		Signature: signing.Result{Checks: []signing.Check{{Status: signing.Valid}}}}}
}

// drawing is the graph column and the first tag of each row.
func drawing(g *lineage.Graph) string {
	var b strings.Builder
	for _, r := range lineage.Render(g) {
		line := r.Graph
		if r.Node != nil {
			name := r.Node.ID.Short()
			if len(r.Node.Tags) > 0 {
				name = r.Node.Tags[0]
			}
			line += " " + name
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return b.String()
}

func TestRender(t *testing.T) {
	cases := []struct {
		name   string
		images []lineage.Image
		want   string
	}{
		{"linear", []lineage.Image{img("a", 1), img("b", 2, "a"), img("c", 3, "b")}, "* c\n* b\n* a\n"},
		{"fork", []lineage.Image{img("a", 1), img("b", 3, "a"), img("c", 2, "a")}, "* b\n| * c\n|/\n* a\n"},
		{"merge", []lineage.Image{img("r", 1), img("p1", 3, "r"), img("p2", 2, "r"), img("m", 4, "p1", "p2")},
			"* m\n|\\\n* | p1\n| * p2\n|/\n* r\n"},
		{"two roots", []lineage.Image{img("a", 1), img("x", 2)}, "* x\n* a\n"},
		{"root between lanes", []lineage.Image{img("a", 1), img("b", 4, "a"), img("x", 3), img("c", 2, "a")},
			"* b\n| * x\n| * c\n|/\n* a\n"},
		{"lane shifts left", []lineage.Image{img("a", 1), img("b", 5, "a"), img("c", 4, "a"), img("d", 3, "a"), img("x", 6)},
			"* x\n* b\n| * c\n|/\n| * d\n|/\n* a\n"},
		{"merge into an older lane", []lineage.Image{img("a", 1), img("b", 2, "a"), img("c", 3, "a"), img("m", 4, "c", "b")},
			"* m\n|\\\n* | c\n| * b\n|/\n* a\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := lineage.Build(tc.images)
			if got := drawing(g); got != tc.want {
				t.Fatalf("drawing\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestBuildResolvesParents(t *testing.T) {
	dup := img("a", 1)
	dup.Name = "mirror:a"
	malformed := img("m", 3)
	malformed.In.ManifestError = "manifest: parents[0]: not a digest"
	g := lineage.Build([]lineage.Image{img("a", 1), dup, img("b", 2, "a", "gone"), malformed,
		{Name: "broken", Err: fault.NotFoundf("manifest.json is missing")}})
	a, b := g.Node(id("a")), g.Node(id("b"))
	if len(a.Tags) != 2 || a.Tags[1] != "mirror:a" || !a.Root() || len(a.Children) != 1 {
		t.Fatalf("a: %+v", a)
	}
	ps := g.Parents(b)
	if len(ps) != 2 || ps[0] != a || !ps[1].External || !b.Merge() {
		t.Fatalf("parents of b: %+v", ps)
	}
	if len(g.Problems) != 2 || !strings.Contains(g.Problems[0], "m: manifest: parents[0]") || !strings.Contains(g.Problems[1], "broken: manifest.json is missing") || g.Node(id("m")) != nil {
		t.Fatalf("problems: %v", g.Problems)
	}
	if got := lineage.Label(ps[1]); got != id("gone").Short()+" (parent not under this root)" {
		t.Errorf("external label %q", got)
	}
	evil := img("e\x1b]0;pwned\x07", 5)
	evil.In.Manifest.Agent.Kind = "bot\x1b[2J"
	evil.In.Manifest.Parents = []model.Digest{"sha256:\x1b]0;x\x07"}
	for _, n := range lineage.Build([]lineage.Image{evil}).Nodes {
		if l := lineage.Label(n); strings.ContainsAny(l, "\x1b\x07") {
			t.Errorf("label keeps control characters: %q", l)
		}
	}
}

func TestCollectDemo(t *testing.T) {
	dir := t.TempDir()
	res, err := demo.Generate(filepath.Join(dir, "reg"))
	if err != nil {
		t.Fatal(err)
	}
	reg, root, err := registry.ForRoot(res.Root, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	images, err := lineage.Collect(t.Context(), reg, root, 4)
	if err != nil {
		t.Fatal(err)
	}
	g := lineage.Build(images)
	if len(g.Nodes) != 10 || len(g.Problems) != 0 {
		t.Fatalf("%d nodes, problems %v", len(g.Nodes), g.Problems)
	}
	merged := g.Node(res.Images["team/merge-bot/merged"])
	var parents []string
	for _, p := range g.Parents(merged) {
		parents = append(parents, strings.Join(p.Tags, ","))
	}
	if got := strings.Join(parents, " + "); got != "alice/refactor-agent:v3 + bob/research-agent:experiment" {
		t.Fatalf("merge parents resolve to %q", got)
	}
	roots := 0
	for _, n := range g.Nodes {
		if n.Root() {
			roots++
		}
	}
	if roots != 6 { // alice v1, bob main, unsigned, three nightlies
		t.Errorf("%d roots", roots)
	}
	text := lineage.Text(g)
	for _, want := range []string{"* " + merged.ID.Short(), "|\\", "(merge of 2)", "✗ invalid", "? missing"} {
		if !strings.Contains(text, want) {
			t.Errorf("drawing lacks %q:\n%s", want, text)
		}
	}
	if os.Getenv("PF_SHOW_GRAPH") != "" {
		t.Log("\n" + text)
	}
}
