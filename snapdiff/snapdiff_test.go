package snapdiff_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"pf-registry/demo"
	"pf-registry/model"
	"pf-registry/registry"
	_ "pf-registry/registry/file"
	"pf-registry/snapdiff"
	"pf-registry/store"
)

// sharedBytes reads the two image directories of a file:// registry: the
// stored size of B's blob files, and of those A also has at the same path.
// It knows nothing of walks and digests, so it checks the diff's byte
// accounting independently.
func sharedBytes(t *testing.T, dirA, dirB string) (total, shared int64) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(dirB, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		total += fi.Size()
		rel, _ := filepath.Rel(dirB, p)
		if _, err := os.Stat(filepath.Join(dirA, rel)); err == nil {
			shared += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total, shared
}

func paths(fs []snapdiff.File) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Path)
	}
	return out
}

func changed(fs []snapdiff.FileChange) []string {
	out := []string{}
	for _, f := range fs {
		s := f.Path
		if f.Content {
			s += " content"
		}
		if f.ModeA != f.ModeB {
			s += " mode " + f.ModeA + "→" + f.ModeB
		}
		out = append(out, s)
	}
	return out
}

func TestDiffDemoImages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reg")
	res, err := demo.Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		a, b                      string
		added, removed, changed   []string
		unchanged                 int
		pages                     snapdiff.Pages
		prefix, newMsgs, dropped  int
		effAdded, effRemoved, irr int
		envAdded, envChanged      []string
		adaptersB                 []string
		notes                     int
	}{
		{a: "alice/refactor-agent/v1", b: "alice/refactor-agent/v2",
			added: []string{"docs/architecture.png", "src/cache/prefetch.py"}, removed: []string{},
			changed: []string{"src/agent/planner.py content"}, unchanged: 18,
			pages:  snapdiff.Pages{APages: 4, BPages: 6, Shared: 3, Changed: 1, New: 2},
			prefix: 24, newMsgs: 16, effAdded: 5, envAdded: []string{}, envChanged: []string{"GIT_BRANCH"},
			adaptersB: []string{"refactor-style"}},
		{a: "alice/refactor-agent/v2", b: "alice/refactor-agent/v3",
			added: []string{"tests/test_prefetch.py"}, removed: []string{"tests/test_pages.py"},
			changed: []string{"scripts/run_agent.sh mode 0644→0755", "src/cache/evict.py content"}, unchanged: 18,
			pages:  snapdiff.Pages{APages: 6, BPages: 8, Shared: 5, Changed: 1, New: 2},
			prefix: 40, newMsgs: 21, effAdded: 7, envAdded: []string{}, envChanged: []string{},
			adaptersB: []string{"refactor-style"}},
		{a: "bob/research-agent/main", b: "bob/research-agent/experiment",
			added: []string{"figures", "figures/latency.png"}, removed: []string{},
			changed: []string{"notes/kv-cache-survey.md content"}, unchanged: 13,
			pages:  snapdiff.Pages{APages: 5, BPages: 6, Shared: 4, Changed: 1, New: 1},
			prefix: 26, newMsgs: 7, dropped: 4, effAdded: 3, effRemoved: 2, envAdded: []string{"EXPERIMENT"}, envChanged: []string{},
			adaptersB: []string{}},
		{a: "alice/refactor-agent/v3", b: "team/merge-bot/merged",
			added: []string{"src/agent/merge.py"}, removed: []string{}, changed: []string{}, unchanged: 21,
			pages:  snapdiff.Pages{APages: 8, BPages: 8, Shared: 7, Changed: 1},
			prefix: 61, newMsgs: 5, effRemoved: 20, envAdded: []string{}, envChanged: []string{},
			adaptersB: []string{"refactor-style", "research-eviction"}, notes: 1},
		{a: "ci/nightly/2026-11-25", b: "ci/nightly/2026-11-27",
			added: []string{"docs/design.md"}, removed: []string{},
			changed: []string{"scripts/run_agent.sh content", "src/agent/tools.py content"}, unchanged: 15,
			pages:  snapdiff.Pages{APages: 3, BPages: 0, Removed: 3},
			prefix: 10, newMsgs: 5, dropped: 2, effAdded: 2, effRemoved: 1, envAdded: []string{}, envChanged: []string{},
			adaptersB: []string{}},
		{a: "alice/refactor-agent/v2", b: "alice/refactor-agent/v2",
			added: []string{}, removed: []string{}, changed: []string{}, unchanged: 21,
			pages:  snapdiff.Pages{APages: 6, BPages: 6, Shared: 6},
			prefix: 40, envAdded: []string{}, envChanged: []string{}, adaptersB: []string{"refactor-style"}},
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	open := func(tag string) *registry.Content {
		reg, ref, err := registry.ForRef(res.Root+"/"+tag, registry.Config{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := registry.OpenContent(ctx, reg, ref)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range cases {
		t.Run(tc.a+"→"+tc.b, func(t *testing.T) {
			d, err := snapdiff.Compute(ctx, open(tc.a), open(tc.b), tc.a, tc.b, st)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			check("added", paths(d.Files.Added), tc.added)
			check("removed", paths(d.Files.Removed), tc.removed)
			check("changed", changed(d.Files.Changed), tc.changed)
			check("unchanged", d.Files.Unchanged, tc.unchanged)
			check("pages", d.Pages, tc.pages)
			check("trace", [3]int{d.Trace.CommonPrefix, len(d.Trace.New), d.Trace.Dropped}, [3]int{tc.prefix, tc.newMsgs, tc.dropped})
			check("effects", [2]int{len(d.Effects.Added), d.Effects.Removed}, [2]int{tc.effAdded, tc.effRemoved})
			var envAdded, envChanged []string = []string{}, []string{}
			for _, v := range d.Env.Added {
				envAdded = append(envAdded, v.Name)
			}
			for _, v := range d.Env.Changed {
				envChanged = append(envChanged, v.Name)
			}
			check("env added", envAdded, tc.envAdded)
			check("env changed", envChanged, tc.envChanged)
			check("adapters", d.Model.AdaptersB, tc.adaptersB)
			check("notes", len(d.Notes), tc.notes)

			root := strings.TrimPrefix(res.Root, "file://")
			total, shared := sharedBytes(t, filepath.Join(root, tc.a), filepath.Join(root, tc.b))
			check("bytes", [3]int64{d.Bytes.BStored, d.Bytes.SharedBytes, d.Bytes.PullBAfterA}, [3]int64{total, shared, total - shared})
			if d.Bytes.PullBNow == nil || *d.Bytes.PullBNow != total {
				t.Errorf("pull now into an empty store = %v, want %d", d.Bytes.PullBNow, total)
			}
		})
	}
}

func TestDiffEffectsAndSecrets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reg")
	res, err := demo.Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var cs []*registry.Content
	for _, tag := range []string{"alice/refactor-agent/v1", "alice/refactor-agent/v3"} {
		reg, ref, _ := registry.ForRef(res.Root+"/"+tag, registry.Config{})
		c, err := registry.OpenContent(ctx, reg, ref)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	d, err := snapdiff.Compute(ctx, cs[0], cs[1], "v1", "v3", nil)
	if err != nil {
		t.Fatal(err)
	}
	irr := 0
	for _, e := range d.Effects.Added {
		if e.Class == model.EffectIrreversible {
			irr++
		}
	}
	if irr != d.Effects.AddedIrreversible || d.Bytes.PullBNow != nil {
		t.Errorf("irreversible %d / %d; pull now %v without a store", irr, d.Effects.AddedIrreversible, d.Bytes.PullBNow)
	}
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"session_secret_hex\"", "not-a-real-token-"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("diff JSON holds %q", secret)
		}
	}
}
