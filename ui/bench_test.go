package ui

import (
	"context"
	"fmt"
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
	m, err := New(context.Background(), Options{
		Roots: []string{demoRoot}, StorePath: "bench-store", ConfigPath: "bench-config.yaml", Theme: "dark",
		Now: func() time.Time { return fixedNow },
	})
	if err != nil {
		b.Fatal(err)
	}
	m.Update(tea.WindowSizeMsg{Width: 140, Height: 40})
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

func reportFrame(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
}

// BenchmarkTagList10k renders the 10,000-tag list after each input, the
// way the runtime does: one Update, one View per frame.
func BenchmarkTagList10k(b *testing.B) {
	b.Run("scroll", func(b *testing.B) {
		m, s := benchModel(b, 10_000)
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
		m, _ := benchModel(b, 10_000)
		pg := tea.KeyPressMsg{Code: tea.KeyPgDown}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			m.Update(pg)
			_ = m.View()
		}
		reportFrame(b)
	})
	b.Run("filter", func(b *testing.B) {
		m, s := benchModel(b, 10_000)
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
