package ui

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// confirmDialog asks yes or no. No is selected first: enter alone never
// says yes to a risky question.
type confirmDialog struct {
	overlayBase
	sh          *shared
	title, body string
	yesLabel    string
	yes         func() tea.Cmd
	sel         bool // true: Yes selected
}

// confirm opens a confirmation at once.
func confirm(sh *shared, title, body, yesLabel string, yes func() tea.Cmd) tea.Cmd {
	sh.open(&confirmDialog{sh: sh, title: title, body: body, yesLabel: yesLabel, yes: yes})
	return nil
}

func (d *confirmDialog) answer(yes bool) tea.Cmd {
	d.close()
	if yes {
		return d.yes()
	}
	d.sh.infof("cancelled")
	return nil
}

func (d *confirmDialog) bindings() []binding {
	k := d.sh.keys
	return []binding{
		bind(&k.Confirm, groupView, true, func() tea.Cmd { return d.answer(true) }),
		bind(&k.Deny, groupView, true, func() tea.Cmd { return d.answer(false) }),
		bind(&k.Switch, groupView, true, func() tea.Cmd { d.sel = !d.sel; return nil }),
		bind(&k.Submit, groupView, true, func() tea.Cmd { return d.answer(d.sel) }),
	}
}

func (d *confirmDialog) render(sh *shared, _ string) string {
	st := sh.st
	w := dialogWidth(sh, 72)
	no, yes := st.Button.Render(" No "), st.Button.Render(" "+d.yesLabel+" ")
	if d.sel {
		yes = st.ButtonOn.Render(" " + d.yesLabel + " ")
	} else {
		no = st.ButtonOn.Render(" No ")
	}
	keys := st.Muted.Render(fit(d.sh.keys.Confirm.Help().Key+": "+strings.ToLower(d.yesLabel)+"   "+
		d.sh.keys.Deny.Help().Key+": no   "+d.sh.keys.Switch.Help().Key+" "+d.sh.keys.Submit.Help().Key+": choose", w, false))
	box := st.DialogHead.Render(fit(d.title, w, false)) + "\n\n" + wrap(d.body, w) + "\n\n" +
		no + "  " + yes + "\n\n" + keys
	return placeDialog(sh, st.Dialog.Render(box))
}

// inputDialog asks for one line of text. A value that does not pass keeps
// the dialog open with the error and the typed text.
type inputDialog struct {
	overlayBase
	sh          *shared
	title, note string
	in          textinput.Model
	err         string
	submit      func(string) (tea.Cmd, error)
}

// ask opens an input dialog at once.
func ask(sh *shared, title, hint, value string, submit func(string) (tea.Cmd, error)) *inputDialog {
	in := textinput.New()
	in.SetValue(value)
	in.CursorEnd()
	in.SetWidth(dialogWidth(sh, 70) - 3)
	in.Focus()
	d := &inputDialog{sh: sh, title: title, note: hint, in: in, submit: submit}
	sh.open(d)
	return d
}

func (d *inputDialog) bindings() []binding {
	k := d.sh.keys
	return []binding{
		bind(&k.Submit, groupView, true, d.ok),
		bind(&k.Dismiss, groupView, true, func() tea.Cmd { d.close(); d.sh.infof("cancelled"); return nil }),
		bind(&k.ClearInput, groupView, true, func() tea.Cmd { d.in.SetValue(""); return nil }),
	}
}

func (d *inputDialog) ok() tea.Cmd {
	v := strings.TrimSpace(d.in.Value())
	if v == "" {
		d.err = "type a value, or " + d.sh.keys.Dismiss.Help().Key + " to cancel"
		return nil
	}
	cmd, err := d.submit(v)
	if err != nil {
		d.err = errLine(err)
		return nil
	}
	d.close()
	return cmd
}

func (d *inputDialog) input(msg tea.KeyPressMsg) tea.Cmd { return typeInto(&d.in, &d.err, msg) }
func (d *inputDialog) update(msg tea.Msg) tea.Cmd        { return pasteInto(&d.in, msg) }

// typeInto edits a text input with a key and clears its error.
func typeInto(in *textinput.Model, errText *string, msg tea.KeyPressMsg) tea.Cmd {
	*errText = ""
	var cmd tea.Cmd
	*in, cmd = in.Update(msg)
	return cmd
}

// pasteInto puts pasted text into a text input.
func pasteInto(in *textinput.Model, msg tea.Msg) tea.Cmd {
	if p, ok := msg.(tea.PasteMsg); ok {
		var cmd tea.Cmd
		*in, cmd = in.Update(p)
		return cmd
	}
	return nil
}

func (d *inputDialog) render(sh *shared, _ string) string {
	st := sh.st
	w := dialogWidth(sh, 72)
	box := st.DialogHead.Render(fit(d.title, w, false)) + "\n\n" + d.in.View() + "\n\n"
	if d.err != "" {
		box += st.Error.Render(wrap(d.err, w)) + "\n"
	}
	box += st.Muted.Render(wrap(d.note, w)) + "\n" + st.Muted.Render(fit(shortKeys(d.sh, d.bindings()), w, false))
	return placeDialog(sh, st.Dialog.Render(box))
}

// shortKeys is a dialog's key line: "enter: ok   esc: cancel".
func shortKeys(sh *shared, bs []binding) string {
	var parts []string
	for _, b := range bs {
		if b.short && b.key.Enabled() {
			h := b.key.Help()
			parts = append(parts, h.Key+": "+h.Desc)
		}
	}
	return strings.Join(parts, "   ")
}

// pickDialog chooses one of a few items.
type pickDialog struct {
	overlayBase
	sh     *shared
	title  string
	items  []string
	cursor int
	pick   func(i int) tea.Cmd
}

func pick(sh *shared, title string, items []string, fn func(i int) tea.Cmd) tea.Cmd {
	sh.open(&pickDialog{sh: sh, title: title, items: items, pick: fn})
	return nil
}

func (d *pickDialog) move(n int) tea.Cmd {
	d.cursor = min(max(d.cursor+n, 0), max(len(d.items)-1, 0))
	return nil
}

func (d *pickDialog) bindings() []binding {
	k := d.sh.keys
	return []binding{
		bind(&k.Up, groupMove, true, func() tea.Cmd { return d.move(-1) }),
		bind(&k.Down, groupMove, true, func() tea.Cmd { return d.move(1) }),
		bind(&k.Submit, groupView, true, func() tea.Cmd {
			d.close()
			if len(d.items) == 0 {
				return nil
			}
			return d.pick(d.cursor)
		}),
		bind(&k.Dismiss, groupView, true, func() tea.Cmd { d.close(); d.sh.infof("cancelled"); return nil }),
	}
}

func (d *pickDialog) update(msg tea.Msg) tea.Cmd {
	if w, ok := msg.(tea.MouseWheelMsg); ok {
		if w.Button == tea.MouseWheelUp {
			return d.move(-1)
		}
		return d.move(1)
	}
	return nil
}

func (d *pickDialog) render(sh *shared, _ string) string {
	st := sh.st
	w := dialogWidth(sh, 76)
	maxRows := max(sh.height-8, 3)
	off := 0
	if d.cursor >= maxRows {
		off = d.cursor - maxRows + 1
	}
	var b strings.Builder
	b.WriteString(lipgloss.NewStyle().Width(w).Render(st.DialogHead.Render(wrap(d.title, w))) + "\n")
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
	b.WriteString("\n\n" + st.Muted.Render(fit(shortKeys(sh, d.bindings()), w, false)))
	return placeDialog(sh, st.Dialog.Render(b.String()))
}

// waitDialog holds the keys while a short background check runs (the
// destination of a copy, the local images to push), so nothing typed
// meanwhile lands on the screen behind; its result decides what opens
// next.
type waitDialog struct {
	overlayBase
	sh   *shared
	text string
	then func(tea.Msg) tea.Cmd
}

// waitFor opens a wait dialog and runs work in the background; then gets
// its result unless the user cancelled.
func waitFor(sh *shared, text string, work func() tea.Msg, then func(tea.Msg) tea.Cmd) tea.Cmd {
	w := &waitDialog{sh: sh, text: text, then: then}
	sh.open(w)
	return func() tea.Msg { return overlayMsg{o: w, msg: work()} }
}

func (w *waitDialog) bindings() []binding {
	k := w.sh.keys
	return []binding{bind(&k.Dismiss, groupView, true, func() tea.Cmd { w.close(); w.sh.infof("cancelled"); return nil })}
}

func (w *waitDialog) update(msg tea.Msg) tea.Cmd {
	w.close()
	return w.then(msg)
}

func (w *waitDialog) render(sh *shared, _ string) string {
	wd := dialogWidth(sh, 60)
	return placeDialog(sh, sh.st.Dialog.Render(fit(w.text, wd, false)+"\n\n"+
		sh.st.Muted.Render(fit(shortKeys(sh, w.bindings()), wd, false))))
}
