package ui

import (
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"pf-registry/internal/fault"
)

// Help groups: the columns of the full help page, in this order.
const (
	groupMove  = "move"
	groupView  = "view"
	groupImage = "image"
	// groupManage: signing, keys, deleting, retagging, mirroring.
	groupManage = "manage"
	groupCopy   = "clipboard"
	groupApp    = "app"
)

var groupOrder = []string{groupMove, groupView, groupImage, groupManage, groupCopy, groupApp}

// binding is one key of a screen or overlay, declared once: dispatch, the
// footer and the help page all come from the same list.
type binding struct {
	key   *key.Binding
	group string
	// short puts it in the footer.
	short bool
	run   func() tea.Cmd
	// off, when set and non-nil, disables the binding: pressing it shows
	// the error, help shows why.
	off func() error
}

// bind builds a binding.
func bind(k *key.Binding, group string, short bool, run func() tea.Cmd) binding {
	return binding{key: k, group: group, short: short, run: run}
}

// unless disables a binding while off returns an error.
func (b binding) unless(off func() error) binding {
	b.off = off
	return b
}

// dispatch runs the first binding that matches msg; handled is false when
// none does. A disabled binding shows its reason instead.
func dispatch(bs []binding, msg tea.KeyPressMsg, sh *shared) (cmd tea.Cmd, handled bool) {
	for _, b := range bs {
		if !key.Matches(msg, *b.key) {
			continue
		}
		if b.off != nil {
			if err := b.off(); err != nil {
				sh.fail(err)
				return nil, true
			}
		}
		if b.run == nil {
			return nil, true
		}
		return b.run(), true
	}
	return nil, false
}

// offReason is the short reason a disabled binding shows in help.
func offReason(err error) string {
	if errors.Is(err, fault.ErrReadOnly) {
		return "read-only mode"
	}
	return errLine(err)
}

func (b binding) disabled() error {
	if b.off == nil {
		return nil
	}
	return b.off()
}

// shortHelpView renders the footer: the short bindings that are enabled,
// cut to width, always ending with help and quit.
func shortHelpView(sh *shared, bs []binding, tail []binding) string {
	st := sh.st
	sep := st.HelpSep.Render(" · ")
	item := func(b binding) string {
		h := b.key.Help()
		return st.HelpKey.Render(h.Key) + " " + st.HelpDesc.Render(h.Desc)
	}
	var tailParts []string
	for _, b := range tail {
		if b.key.Enabled() {
			tailParts = append(tailParts, item(b))
		}
	}
	end := strings.Join(tailParts, sep)
	room := sh.width - ansi.StringWidth(end) - ansi.StringWidth(sep)
	var parts []string
	used := 0
	for _, b := range bs {
		if !b.short || !b.key.Enabled() || b.disabled() != nil {
			continue
		}
		p := item(b)
		w := ansi.StringWidth(p) + ansi.StringWidth(sep)
		if used+w > room {
			break
		}
		parts = append(parts, p)
		used += w
	}
	if end != "" {
		parts = append(parts, end)
	}
	return ansi.Truncate(strings.Join(parts, sep), sh.width, "")
}

// fullHelpView renders every binding by group, in columns; disabled ones
// say why.
func fullHelpView(sh *shared, bs []binding) string {
	st := sh.st
	cols := map[string][]string{}
	seen := map[*key.Binding]bool{}
	for _, b := range bs {
		if !b.key.Enabled() || seen[b.key] {
			continue
		}
		seen[b.key] = true
		h := b.key.Help()
		line := st.HelpKey.Render(fit(h.Key, 8, false)) + " " + st.HelpDesc.Render(h.Desc)
		if err := b.disabled(); err != nil {
			line = st.HelpOff.Render(fit(h.Key, 8, false) + " " + h.Desc + " (off: " + offReason(err) + ")")
		}
		cols[b.group] = append(cols[b.group], line)
	}
	var blocks []string
	for _, g := range groupOrder {
		if len(cols[g]) == 0 {
			continue
		}
		blocks = append(blocks, st.Section.Render(g)+"\n"+strings.Join(cols[g], "\n"))
	}
	return joinColumns(blocks, sh.width)
}

// joinColumns lays blocks side by side, wrapping to a new row of blocks
// when the width runs out.
func joinColumns(blocks []string, width int) string {
	var rows []string
	var row []string
	rowW := 0
	flush := func() {
		if len(row) > 0 {
			rows = append(rows, sideBySide(row))
		}
		row, rowW = nil, 0
	}
	for _, b := range blocks {
		w := blockWidth(b) + 3
		if rowW+w > width && len(row) > 0 {
			flush()
		}
		row = append(row, b)
		rowW += w
	}
	flush()
	return strings.Join(rows, "\n\n")
}

func blockWidth(b string) int {
	w := 0
	for _, l := range strings.Split(b, "\n") {
		w = max(w, ansi.StringWidth(l))
	}
	return w
}

// sideBySide joins blocks with three spaces between them.
func sideBySide(blocks []string) string {
	var cols [][]string
	var widths []int
	h := 0
	for _, b := range blocks {
		ls := strings.Split(b, "\n")
		cols = append(cols, ls)
		widths = append(widths, blockWidth(b))
		h = max(h, len(ls))
	}
	var out []string
	for i := range h {
		var line strings.Builder
		for c, ls := range cols {
			cell := ""
			if i < len(ls) {
				cell = ls[i]
			}
			if c < len(cols)-1 {
				cell += strings.Repeat(" ", widths[c]-ansi.StringWidth(cell)+3)
			}
			line.WriteString(cell)
		}
		out = append(out, strings.TrimRight(line.String(), " "))
	}
	return strings.Join(out, "\n")
}
