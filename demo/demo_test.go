package demo_test

import (
	"path/filepath"
	"strings"
	"testing"

	"pf-registry/demo"
	"pf-registry/model"
	"pf-registry/registry/registrytest"
	"pf-registry/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// ledgerOf decodes the effects ledger of an image in a store.
func ledgerOf(t *testing.T, st *store.Store, id model.Digest) (*model.Ledger, []byte) {
	t.Helper()
	m := registrytest.ReadManifest(t, st, id)
	b, err := st.ReadBlob(m.Effects.Ledger, model.MaxDocSize)
	if err != nil {
		t.Fatal(err)
	}
	l, err := model.ParseLedger(b)
	if err != nil {
		t.Fatal(err)
	}
	return l, b
}

func TestBuildIsDeterministic(t *testing.T) {
	spec := demo.ImageSpec{Seed: 5, Files: 8, Pages: 2, SharedPages: 1, Messages: 20, Diverge: 12}
	a, err := demo.Build(openStore(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := demo.Build(openStore(t), spec)
	if err != nil || a != b {
		t.Fatalf("same spec, IDs %s and %s (%v)", a, b, err)
	}
}

func TestDemoLedgers(t *testing.T) {
	st := openStore(t)
	ids := map[string]model.Digest{}
	classes := map[model.EffectClass]int{}
	for _, repo := range demo.Layout() {
		for _, tag := range repo.Tags {
			spec := tag.Spec
			for _, p := range tag.ParentTags {
				spec.Parents = append(spec.Parents, ids[p])
			}
			id, err := demo.Build(st, spec)
			if err != nil {
				t.Fatal(err)
			}
			ids[repo.Name+"/"+tag.Name] = id
			l, raw := ledgerOf(t, st, id)
			if len(spec.Parents) == 2 {
				if l.Merged == nil || l.Kind != model.MergedLedgerKind {
					t.Fatalf("%s: merge without a merged ledger: %+v", tag.Name, l)
				}
				continue
			}
			if !l.Header.SessionSecret || !strings.Contains(string(raw), `"session_secret_hex":"`) || len(l.Entries) == 0 {
				t.Fatalf("%s/%s: ledger without a session secret or entries: %+v", repo.Name, tag.Name, l.Header)
			}
			for _, e := range l.Entries {
				classes[e.Class]++
			}
		}
	}
	for _, c := range []model.EffectClass{model.EffectPure, model.EffectIdempotent, model.EffectIrreversible, model.EffectNetworkOnly} {
		if classes[c] == 0 {
			t.Errorf("no %s effect in the demo (%v)", c, classes)
		}
	}
	// The merge points at its parents' ledgers.
	merged, _ := ledgerOf(t, st, ids["team/merge-bot/merged"])
	raw, err := st.Manifest(ids["alice/refactor-agent/v3"])
	if err != nil {
		t.Fatal(err)
	}
	v3, err := model.ParseManifest(raw)
	if err != nil || merged.Merged.ParentA != v3.Effects.Ledger {
		t.Errorf("merged parent_a %s, want v3's ledger %s", merged.Merged.ParentA, v3.Effects.Ledger)
	}
}

func TestGenerateDemo(t *testing.T) {
	res, err := demo.Generate(filepath.Join(t.TempDir(), "reg"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 10 || !strings.HasSuffix(res.Tampered, "/ci/nightly/2026-11-26") {
		t.Fatalf("%d images, tampered %s", len(res.Images), res.Tampered)
	}
}
