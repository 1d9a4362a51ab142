package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// dialog is a modal box; while one is open it gets every key.
type dialog interface {
	// update returns the dialog to keep open (nil closes it) and a command.
	update(msg tea.Msg, sh *shared) (dialog, tea.Cmd)
	view(sh *shared) string
	// keys feed the help footer while the dialog is open.
	keys(sh *shared) []key.Binding
}

var (
	okKey     = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "ok"))
	cancelKey = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))
)

func (d *confirmDialog) keys(sh *shared) []key.Binding {
	return []key.Binding{sh.keys.Confirm, sh.keys.Deny}
}
func (d *inputDialog) keys(*shared) []key.Binding { return []key.Binding{okKey, cancelKey} }
func (d *pickDialog) keys(sh *shared) []key.Binding {
	return []key.Binding{sh.keys.Up, sh.keys.Down, okKey, cancelKey}
}

// confirmDialog asks yes or no.
type confirmDialog struct {
	title, body string
	yes         tea.Cmd
}

func (d *confirmDialog) update(msg tea.Msg, sh *shared) (dialog, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return d, nil
	}
	switch {
	case key.Matches(k, sh.keys.Confirm):
		return nil, d.yes
	case key.Matches(k, sh.keys.Deny), k.String() == "q":
		return nil, statusf("cancelled")
	}
	return d, nil
}

// dialogWidth is the text width of a dialog box on this terminal.
func dialogWidth(sh *shared, most int) int { return max(min(sh.width-6, most), 10) }

func (d *confirmDialog) view(sh *shared) string {
	st := sh.st
	w := dialogWidth(sh, 72)
	body := lipgloss.NewStyle().Width(w).Render(d.body)
	return st.Dialog.Render(lipgloss.NewStyle().Width(w).Render(st.DialogHead.Render(d.title)) + "\n\n" + body + "\n\n" +
		st.Muted.Render(fit("y/enter: yes   n/esc: no", w, false)))
}

// inputDialog asks for one line of text.
type inputDialog struct {
	title, hint string
	in          textinput.Model
	submit      func(string) tea.Cmd
}

func newInputDialog(sh *shared, title, hint, value string, submit func(string) tea.Cmd) *inputDialog {
	in := textinput.New()
	in.SetValue(value)
	in.CursorEnd()
	in.SetWidth(dialogWidth(sh, 70) - 3)
	in.Focus()
	return &inputDialog{title: title, hint: hint, in: in, submit: submit}
}

func (d *inputDialog) update(msg tea.Msg, sh *shared) (dialog, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch k.String() {
		case "enter":
			v := strings.TrimSpace(d.in.Value())
			if v == "" {
				return d, nil
			}
			return nil, d.submit(v)
		case "esc":
			return nil, statusf("cancelled")
		}
	}
	var cmd tea.Cmd
	d.in, cmd = d.in.Update(msg)
	return d, cmd
}

func (d *inputDialog) view(sh *shared) string {
	st := sh.st
	w := dialogWidth(sh, 72)
	wrap := lipgloss.NewStyle().Width(w)
	return st.Dialog.Render(st.DialogHead.Render(fit(d.title, w, false)) + "\n\n" + d.in.View() + "\n\n" +
		wrap.Render(st.Muted.Render(d.hint)) + "\n" + st.Muted.Render(fit("enter: ok   esc: cancel", w, false)))
}

// pickDialog chooses one of a few items.
type pickDialog struct {
	title  string
	items  []string
	cursor int
	pick   func(i int) tea.Cmd
}

func (d *pickDialog) update(msg tea.Msg, sh *shared) (dialog, tea.Cmd) {
	switch k := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(k, sh.keys.Up):
			d.cursor = max(d.cursor-1, 0)
		case key.Matches(k, sh.keys.Down):
			d.cursor = min(d.cursor+1, len(d.items)-1)
		case k.String() == "enter":
			if len(d.items) == 0 {
				return nil, nil
			}
			return nil, d.pick(d.cursor)
		case k.String() == "esc" || k.String() == "q":
			return nil, statusf("cancelled")
		}
	case tea.MouseWheelMsg:
		if k.Button == tea.MouseWheelUp {
			d.cursor = max(d.cursor-1, 0)
		} else {
			d.cursor = min(d.cursor+1, len(d.items)-1)
		}
	}
	return d, nil
}

func (d *pickDialog) view(sh *shared) string {
	st := sh.st
	w := dialogWidth(sh, 76)
	maxRows := max(sh.height-8, 3)
	off := 0
	if d.cursor >= maxRows {
		off = d.cursor - maxRows + 1
	}
	var b strings.Builder
	b.WriteString(lipgloss.NewStyle().Width(w).Render(st.DialogHead.Render(d.title)) + "\n")
	if len(d.items) == 0 {
		b.WriteString("\n" + st.Empty.Render("nothing to choose from") + "\n")
	}
	for i := off; i < len(d.items) && i < off+maxRows; i++ {
		line := fit("  "+d.items[i], w, false)
		if i == d.cursor {
			line = st.Selected.Render(fit("▸ "+d.items[i], w, false))
		}
		b.WriteString("\n" + line)
	}
	b.WriteString("\n\n" + st.Muted.Render("↑/↓: choose   enter: ok   esc: cancel"))
	return st.Dialog.Render(b.String())
}
