package demo

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"path"
	"slices"
	"strings"

	"pf-registry/model"
)

// codeFiles and researchFiles are the working trees of the two kinds of
// project; file i of an image is entry i (beyond the list, generated
// modules).
var codeFiles = []string{
	"README.md", "pyproject.toml", "src/agent/__init__.py", "src/agent/planner.py", "src/agent/tools.py",
	"src/cache/pages.py", "scripts/run_agent.sh", "src/cache/evict.py", "tests/test_planner.py", "tests/test_pages.py",
	"docs/design.md", "src/agent/memory.py", "docs/architecture.png", "src/cache/prefetch.py", "tests/test_prefetch.py",
	"src/agent/merge.py",
}

var researchFiles = []string{
	"README.md", "notes/reading-list.md", "notes/kv-cache-survey.md", "data/papers.csv", "analysis/plot_latency.py",
	"analysis/requirements.txt", "drafts/summary.md", "data/latency.csv", "figures/latency.png", "notes/open-questions.md",
}

// FilePath is the path of file i of an agent's project.
func FilePath(agent string, i int) string {
	list := codeFiles
	if agent == "research-bot" {
		list = researchFiles
	}
	if i < len(list) {
		return list[i]
	}
	return fmt.Sprintf("src/gen/module_%03d.py", i)
}

var words = strings.Fields(`agent cache page token layer tensor commit branch merge fork
snapshot restore ledger effect trace message model adapter registry digest manifest
signature verify pull push stream buffer worker queue retry timeout context`)

func word(r *rand.Rand) string { return words[r.IntN(len(words))] }

// fileContent is the content of a file in the version a seed gives.
func fileContent(p string, seed uint64, i int) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(i)+0xf11e))
	var b strings.Builder
	switch path.Ext(p) {
	case ".png":
		return pngImage(r)
	case ".md":
		fmt.Fprintf(&b, "# %s\n\n", strings.TrimSuffix(path.Base(p), ".md"))
		for para := 0; para < 2+r.IntN(4); para++ {
			b.WriteString(sentence(r, 12+r.IntN(30)) + "\n\n")
		}
	case ".csv":
		b.WriteString("name,tokens,latency_ms\n")
		for l := 0; l < 20+r.IntN(40); l++ {
			fmt.Fprintf(&b, "%s-%s,%d,%.2f\n", word(r), word(r), 512<<r.IntN(6), 5+r.Float64()*80)
		}
	case ".sh":
		b.WriteString("#!/bin/sh\nset -eu\n")
		fmt.Fprintf(&b, "exec python -m agent --%s %d \"$@\"\n", word(r), r.IntN(100))
	case ".toml", ".txt":
		fmt.Fprintf(&b, "[project]\nname = \"%s-%s\"\nversion = \"0.%d.0\"\ndependencies = [\"numpy\", \"torch\"]\n", word(r), word(r), r.IntN(20))
	default:
		for l := 0; l < 20+r.IntN(60); l++ {
			fmt.Fprintf(&b, "def %s_%s(%s):\n    return %s(%d)\n\n", word(r), word(r), word(r), word(r), r.IntN(1000))
		}
	}
	return []byte(b.String())
}

func sentence(r *rand.Rand, n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = word(r)
	}
	s := strings.Join(ws, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// pngImage is a small real PNG (a diagram's worth of gradient), so file
// previews meet binary content.
func pngImage(r *rand.Rand) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 48, 32))
	base := uint8(r.IntN(200))
	for y := 0; y < 32; y++ {
		for x := 0; x < 48; x++ {
			img.Set(x, y, color.NRGBA{base + uint8(x*2), uint8(y * 6), 180, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // encoding to memory cannot fail
	}
	return b.Bytes()
}

// fsTree builds the working tree of an image and stores file contents.
func fsTree(spec ImageSpec, put func([]byte) (model.Digest, error)) (*model.FsTree, error) {
	tree := &model.FsTree{Kind: model.FsTreeKind}
	dirs := map[string]bool{}
	addDirs := func(p string) {
		for d := path.Dir(p); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
			tree.Entries = append(tree.Entries, model.FsEntry{Path: d, Mode: "0755", Kind: "dir"})
		}
	}
	for i := 0; i < spec.Files; i++ {
		if slices.Contains(spec.Removed, i) {
			continue
		}
		p := FilePath(spec.ProjectAgent, i)
		seed := spec.Project
		if s, ok := spec.Edits[i]; ok {
			seed = s ^ ownStream
		}
		content := fileContent(p, seed, i)
		d, err := put(content)
		if err != nil {
			return nil, err
		}
		mode := "0644"
		if m, ok := spec.Modes[i]; ok {
			mode = m
		}
		addDirs(p)
		tree.Entries = append(tree.Entries, model.FsEntry{Path: p, Mode: mode, Size: uint64(len(content)), Kind: "file", Blob: string(d)})
	}
	link, err := put([]byte("README.md"))
	if err != nil {
		return nil, err
	}
	addDirs("docs/index.md")
	tree.Entries = append(tree.Entries, model.FsEntry{Path: "docs/index.md", Mode: "0777", Size: 9, Kind: "symlink", Blob: string(link), LinkTarget: "README.md"})
	sortEntries(tree.Entries)
	return tree, nil
}

func sortEntries(es []model.FsEntry) {
	// Component-wise path order, as a sorted recursive walk produces.
	slices.SortFunc(es, func(a, b model.FsEntry) int {
		return strings.Compare(strings.ReplaceAll(a.Path, "/", "\x00"), strings.ReplaceAll(b.Path, "/", "\x00"))
	})
}

// sortedJSON renders v with sorted keys and without HTML escaping, as the
// pf CLI writes its untyped documents.
func sortedJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // maps of strings and numbers always encode
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// envDoc is the world.env blob. It carries one token the writer forgot to
// redact (a fake), which readers must mask.
func envDoc(spec ImageSpec) []byte {
	vars := map[string]string{
		"HOME": "/home/agent", "LANG": "C.UTF-8", "PATH": "/usr/local/bin:/usr/bin:/bin",
		"OPENAI_API_KEY": model.RedactedValue, "GIT_BRANCH": "main",
		"GITHUB_TOKEN": fmt.Sprintf("not-a-real-token-%016x", spec.Project*0x9e3779b97f4a7c15),
	}
	for k, v := range spec.Env {
		vars[k] = v
	}
	return sortedJSON(map[string]any{"kind": model.EnvKind, "cwd": "/workspace/" + spec.Fingerprint, "vars": vars})
}

// procsDoc is the world.procs blob: a respawn list for coding agents, a
// CRIU checkpoint (header line and a real tarball) for CI runners.
func procsDoc(spec ImageSpec) []byte {
	switch spec.Agent {
	case "claude-code":
		return sortedJSON(map[string]any{"kind": model.ProcsRespawn, "procs": []any{
			map[string]any{"argv": []string{"python", "-m", "http.server", "8000"}, "cwd": "/workspace/" + spec.Fingerprint},
			map[string]any{"argv": []string{"pytest", "--lf", "-q", "--api-token", "not-a-real-token"}},
		}})
	case "ci-runner":
		var tb bytes.Buffer
		tw := tar.NewWriter(&tb)
		for _, f := range []string{"core-1.img", "pstree.img", "mm-1.img"} {
			data := fileContent(f+".py", spec.Seed, len(f))
			_ = tw.WriteHeader(&tar.Header{Name: f, Mode: 0o600, Size: int64(len(data))})
			_, _ = tw.Write(data)
		}
		_ = tw.Close()
		return append(append(sortedJSON(map[string]any{"kind": model.ProcsCRIU, "criu_version": "4.0"}), '\n'), tb.Bytes()...)
	}
	return []byte(`{"kind":"procs.unsupported.v1"}`)
}

// modelDiffDoc is the model.diff envelope: the empty LoRA the CLI writes,
// or the spec's adapters.
func modelDiffDoc(spec ImageSpec) []byte {
	adapters := []any{}
	for i, a := range spec.Adapters {
		adapters = append(adapters, map[string]any{"name": a, "rank": 8 << (i % 3), "alpha": 16, "targets": []string{"q_proj", "v_proj"}})
	}
	return sortedJSON(map[string]any{"layout": model.ModelDiffLayout, "diff": map[string]any{"kind": "lora", "adapters": adapters}})
}
