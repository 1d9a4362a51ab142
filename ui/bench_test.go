package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"pf-registry/model"
	"pf-registry/registry"
)

// benchModel is a root model showing a tag list of n entries with
// verdicts, at 140×40, built without a backend.
func benchModel(b *testing.B, n int) (*App, *tagsScreen) {
	b.Helper()
	m := benchRoot(b)
	s := newTagsScreen(m.sh, "file://demo", "file://demo/big", "big")
	statuses := []string{"valid", "default-key", "invalid", "missing"}
	var rows []tagRow
	for i := range n {
		ref := fmt.Sprintf("file://demo/big/build-%05d", i)
		name := fmt.Sprintf("build-%05d", i)
		rows = append(rows, tagRow{TagEntry: registry.TagEntry{Name: name, Ref: ref,
			Updated: fixedNow.Add(-time.Duration(i) * time.Minute)}, label: name})
		s.asked[ref] = true
		s.verdicts[ref] = verdictInfo{status: statuses[i%4], imageID: model.FromBytes([]byte(ref))}
	}
	m.stack = append(m.stack, s)
	m.Update(tagsPageMsg{id: s.id, rows: rows, done: true})
	if len(s.tbl.view) != n {
		b.Fatalf("%d rows in the view, want %d", len(s.tbl.view), n)
	}
	return m, s
}

// benchRoot is the root model at 140×40.
func benchRoot(b *testing.B) *App {
	b.Helper()
	m, err := New(context.Background(), Options{
		Roots: []string{demoRoot}, StorePath: "bench-store", ConfigPath: "bench-config.yaml", Theme: "dark",
		Now: func() time.Time { return fixedNow },
	})
	if err != nil {
		b.Fatal(err)
	}
	m.Update(tea.WindowSizeMsg{Width: 140, Height: 40})
	return m
}

func reportFrame(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
}

// BenchmarkTagList10k renders the 10,000-tag list after each input, the
// way the runtime does: one Update, one View per frame.
func BenchmarkTagList10k(b *testing.B) { benchTagList(b, 10_000) }

// BenchmarkTagList100k is the same at 100,000 tags, plus the first screen
// of a real file:// repository of 100,000 tags: list its first page
// through the backend, as the screen's command does, and draw it.
func BenchmarkTagList100k(b *testing.B) {
	b.Run("first-screen-file", func(b *testing.B) {
		repo := fileRepo(b, 100_000)
		for b.Loop() {
			m := benchRoot(b)
			s := newTagsScreen(m.sh, strings.TrimSuffix(repo, "/big"), repo, "big")
			m.stack = append(m.stack, s)
			m.Update(s.Init()())
			if v := m.View(); len(s.tbl.view) == 0 || !strings.Contains(v.Content, "t000000") {
				b.Fatalf("first screen shows no tags (%d rows, err %v)", len(s.tbl.view), s.err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/first-screen")
	})
	benchTagList(b, 100_000)
}

// fileRepo makes a file:// repository of n tags, each a directory with a
// manifest.json (hard links, a new original every 10,000 to stay under
// the file system's link limit: listing never reads them).
func fileRepo(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "big")
	orig := b.TempDir()
	for i := range n {
		one := filepath.Join(orig, fmt.Sprintf("m%d.json", i/10_000))
		if i%10_000 == 0 {
			if err := os.WriteFile(one, []byte("{}"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		tag := filepath.Join(dir, fmt.Sprintf("t%06d", i))
		if err := os.MkdirAll(tag, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.Link(one, filepath.Join(tag, "manifest.json")); err != nil {
			b.Fatal(err)
		}
	}
	return "file://" + dir
}

func benchTagList(b *testing.B, n int) {
	b.Run("scroll", func(b *testing.B) {
		m, s := benchModel(b, n)
		down, up := keyMsg("j"), keyMsg("k")
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := down
			if (i/500)%2 == 1 {
				k = up
			}
			m.Update(k)
			_ = m.View()
		}
		reportFrame(b)
		_ = s
	})
	b.Run("page", func(b *testing.B) {
		m, _ := benchModel(b, n)
		pg := tea.KeyPressMsg{Code: tea.KeyPgDown}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			m.Update(pg)
			_ = m.View()
		}
		reportFrame(b)
	})
	b.Run("filter", func(b *testing.B) {
		m, s := benchModel(b, n)
		m.Update(keyMsg("/"))
		typed := []string{"b", "7", "4", "2"}
		bs := tea.KeyPressMsg{Code: tea.KeyBackspace}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			// Type "b742" then erase it, one key per frame.
			if p := i % 8; p < 4 {
				m.Update(keyMsg(typed[p]))
			} else {
				m.Update(bs)
			}
			_ = m.View()
		}
		reportFrame(b)
		if !s.tbl.filtering {
			b.Fatal("left filter mode")
		}
	})
}
