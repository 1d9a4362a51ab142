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

func (d *confirmDialog) view(sh *shared) string {
	st := sh.st
	w := min(max(sh.width-10, 30), 72)
	body := lipgloss.NewStyle().Width(w).Render(d.body)
	return st.Dialog.Render(st.DialogHead.Render(d.title) + "\n\n" + body + "\n\n" +
		st.Muted.Render("y/enter: yes   n/esc: no"))
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
	in.SetWidth(min(max(sh.width-16, 30), 70))
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
	return st.Dialog.Render(st.DialogHead.Render(d.title) + "\n\n" + d.in.View() + "\n\n" +
		st.Muted.Render(d.hint+"   enter: ok   esc: cancel"))
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
	w := min(max(sh.width-12, 30), 76)
	maxRows := max(sh.height-8, 3)
	off := 0
	if d.cursor >= maxRows {
		off = d.cursor - maxRows + 1
	}
	var b strings.Builder
	b.WriteString(st.DialogHead.Render(d.title) + "\n")
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
