package ui

import (
	"fmt"
	"os"
	"path/filepath"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"pf-registry/signing"
)

// envPassword is cosign's passphrase variable, read as the command line
// reads it: set (even empty) it is the passphrase, and nothing is asked.
const envPassword = "COSIGN_PASSWORD"

// keyStore is the key store beside the config file, as the command line
// finds it (--config's directory, else $XDG_CONFIG_HOME/pf-registry).
func keyStore(sh *shared) *signing.Store { return signing.NewStore(filepath.Dir(sh.cfgPath)) }

// keysListMsg is the key store's entries.
type keysListMsg struct {
	id      int
	entries []signing.Entry
	err     error
}

func (m keysListMsg) target() int { return m.id }

// listKeys reads the key store (in a tea.Cmd).
func listKeys(sh *shared, id int) func() tea.Msg {
	st := keyStore(sh)
	return func() tea.Msg {
		es, err := st.List()
		return keysListMsg{id: id, entries: es, err: err}
	}
}

// keysScreen is the key store: the keys that sign (with a private part)
// and those whose signatures are recognised, trusted or not.
type keysScreen struct {
	listBase
	entries []signing.Entry
	loading bool
	err     error
}

func newKeysScreen(sh *shared) *keysScreen {
	s := &keysScreen{listBase: newListBase(sh,
		column{title: "NAME"},
		column{title: "ALGORITHM", width: 10, drop: 2},
		column{title: "FINGERPRINT", width: 16},
		column{title: "TRUSTED", width: 9},
		column{title: "PRIVATE", width: 8, drop: 1},
		column{title: "PROBLEM", width: 8, drop: 3},
	)}
	s.tbl.name = func(i int) string { return s.entries[i].Name }
	return s
}

func (s *keysScreen) Title() string { return "keys" }
func (s *keysScreen) Busy() bool    { return s.loading }

func (s *keysScreen) Hint() string {
	k := s.sh.keys
	return s.countHint(len(s.entries), "key", " in "+tildePath(filepath.Dir(s.sh.cfgPath))) + " · " +
		k.Trust.Help().Key + " trusts, " + k.Untrust.Help().Key + " untrusts · " + k.Sign.Help().Key +
		" on an image signs with a key that has a private part (`pf-registry keys generate NAME` makes one)"
}

func (s *keysScreen) Init() tea.Cmd {
	s.loading = true
	return listKeys(s.sh, s.id)
}

func (s *keysScreen) Update(msg tea.Msg) (screen, tea.Cmd) {
	if cmd, ok := s.listUpdate(msg, func() tea.Cmd { return nil }); ok {
		return s, cmd
	}
	switch msg := msg.(type) {
	case keysListMsg:
		s.loading = false
		s.entries, s.err = msg.entries, msg.err
		for i, e := range s.entries {
			s.entries[i].Problem = safe(e.Problem)
		}
		s.tbl.setRows(len(s.entries))
	case opDoneMsg:
		if msg.ring != nil {
			return s, s.Init()
		}
	}
	return s, nil
}

func (s *keysScreen) Bindings() []binding {
	k := s.sh.keys
	sel := func(f func(*shared, signing.Entry) tea.Cmd) func() tea.Cmd {
		return onSelected(&s.listBase, &s.entries, func(e signing.Entry) tea.Cmd { return f(s.sh, e) })
	}
	return append(s.navBindings(),
		bind(&k.Trust, groupManage, true, sel(trustKey)),
		bind(&k.Untrust, groupManage, true, sel(untrustKey)),
		bind(&k.Refresh, groupView, false, s.Init),
	)
}

// trustKey trusts a key the store holds; its signatures then verify as
// trusted.
func trustKey(sh *shared, e signing.Entry) tea.Cmd {
	if e.Trusted {
		sh.infof("%s is trusted already", e.Name)
		return nil
	}
	return changeKeys(sh, "trusting key "+e.Name+"…", func(st *signing.Store) (string, error) {
		got, err := st.TrustKnown(e.Name)
		return "trusted key " + got.Name + " (" + got.Fingerprint + "): images it signed verify as trusted", err
	})
}

// untrustKey asks first (No by default): the key's images stop being
// trusted, and roots that require trusted signatures refuse them.
func untrustKey(sh *shared, e signing.Entry) tea.Cmd {
	if !e.Trusted {
		sh.infof("%s is not trusted", e.Name)
		return nil
	}
	return confirm(sh, "Untrust key "+e.Name+"?",
		fmt.Sprintf("Images signed only by %s (%s) stop verifying as trusted, and roots that require trusted signatures refuse them. "+
			"A key that was only trusted, not generated or imported here, leaves the key store.", e.Name, e.Fingerprint), "Untrust",
		func() tea.Cmd {
			return changeKeys(sh, "untrusting key "+e.Name+"…", func(st *signing.Store) (string, error) {
				return "untrusted key " + e.Name + " (" + e.Fingerprint + ")", st.Untrust(e.Name)
			})
		})
}

// changeKeys changes the key store in a tea.Cmd and rebuilds the keyring,
// which the root model puts in force.
func changeKeys(sh *shared, status string, change func(*signing.Store) (string, error)) tea.Cmd {
	st := keyStore(sh)
	return sh.runOp(status, func() opDoneMsg {
		text, err := change(st)
		if err != nil {
			return opDoneMsg{err: err}
		}
		ring, err := st.Keyring()
		if err != nil {
			return opDoneMsg{err: err}
		}
		return opDoneMsg{text: text, ring: ring}
	})
}

func (s *keysScreen) View() string {
	empty := ""
	switch {
	case s.err != nil:
		empty = "✗ " + errLine(s.err)
	case s.loading:
		empty = "reading the key store…"
	case len(s.entries) == 0:
		empty = "no keys in " + tildePath(filepath.Dir(s.sh.cfgPath)) + " — `pf-registry keys generate NAME` makes a signing key, " +
			"`pf-registry keys trust FILE.pub` trusts a signer's key"
	}
	return s.tbl.render(s.sh, s.cell, empty, 0)
}

func (s *keysScreen) cell(i, col int) (string, lipgloss.Style) {
	st := s.sh.st
	e := s.entries[i]
	yes := func(b bool, on string, style lipgloss.Style) (string, lipgloss.Style) {
		if b {
			return on, style
		}
		return "–", st.Muted
	}
	switch col {
	case 0:
		return e.Name, st.Row
	case 1:
		return string(e.Algorithm), st.Muted
	case 2:
		return e.Fingerprint, st.Muted
	case 3:
		return yes(e.Trusted, "✔ trusted", st.Trusted)
	case 4:
		return yes(e.Private, "✓ signs", st.OK)
	case 5:
		return yes(e.Problem != "", "✗ "+e.Problem, st.Error)
	}
	return "", st.Row
}

// signImage signs an image with a key of the store that has a private
// part: choose the key, give its passphrase (COSIGN_PASSWORD, else a
// dialog that never shows it), then sign in a tea.Cmd.
func signImage(sh *shared, im image) tea.Cmd {
	return waitFor(sh, "Reading the key store…", listKeys(sh, 0), func(msg tea.Msg) tea.Cmd {
		m := msg.(keysListMsg)
		if m.err != nil {
			sh.fail(m.err)
			return nil
		}
		var signers []signing.Entry
		var items []string
		for _, e := range m.entries {
			if e.Private && e.Problem == "" {
				signers = append(signers, e)
				items = append(items, fmt.Sprintf("%-16s %-10s %s%s", e.Name, e.Algorithm, e.Fingerprint,
					map[bool]string{true: "  trusted"}[e.Trusted]))
			}
		}
		if len(signers) == 0 {
			sh.notify("no key to sign with in "+tildePath(filepath.Dir(sh.cfgPath))+
				": make one with `pf-registry keys generate NAME`, or import a cosign.key with `pf-registry keys import`", true)
			return nil
		}
		return pick(sh, "Sign "+im.name()+" with which key?", items, func(i int) tea.Cmd {
			e := signers[i]
			if p, ok := os.LookupEnv(envPassword); ok {
				return signCmd(sh, im, e.Name, []byte(p))
			}
			askSecret(sh, "Passphrase of key "+e.Name, "what you type is not shown; "+envPassword+" gives it without asking",
				func(p []byte) tea.Cmd { return signCmd(sh, im, e.Name, p) })
			return nil
		})
	})
}

// signCmd opens the private key with pass, clears pass, and signs.
func signCmd(sh *shared, im image, name string, pass []byte) tea.Cmd {
	st := keyStore(sh)
	return sh.runOp("signing "+im.ref+" with key "+name+"…", func() opDoneMsg {
		k, err := st.Private(name, signing.StaticPassphrase(pass))
		clear(pass)
		if err != nil {
			return opDoneMsg{err: err}
		}
		reg, ref, err := sh.openRef(im.ref)
		if err != nil {
			return opDoneMsg{err: err}
		}
		in, err := reg.Sign(sh.ctx, ref, []*signing.PrivateKey{k})
		if err != nil {
			return opDoneMsg{err: err}
		}
		done := opDoneMsg{text: fmt.Sprintf("signed %s with key %s", safe(in.Ref), name),
			changes: []string{in.Ref}}
		// The key may be newer than the keyring the registries verify
		// with: rebuilt, its signatures are recognised everywhere.
		if ring, err := st.Keyring(); err == nil {
			done.ring = ring
		}
		if in.Ref != im.ref {
			done.moved = map[string]string{im.ref: in.Ref}
			done.changes = append(done.changes, im.ref)
		}
		return done
	})
}

// secretDialog asks for a passphrase. What is typed is never drawn (not
// even as dots) and the input is emptied as soon as it is given.
type secretDialog struct {
	overlayBase
	sh          *shared
	title, note string
	in          textinput.Model
	give        func([]byte) tea.Cmd
}

func askSecret(sh *shared, title, note string, give func([]byte) tea.Cmd) {
	in := textinput.New()
	in.EchoMode = textinput.EchoNone
	in.SetWidth(dialogWidth(sh, 70) - 3)
	in.Focus()
	sh.open(&secretDialog{sh: sh, title: title, note: note, in: in, give: give})
}

func (d *secretDialog) bindings() []binding {
	k := d.sh.keys
	return []binding{
		bind(&k.Submit, groupView, true, func() tea.Cmd {
			p := []byte(d.in.Value())
			d.in.Reset()
			d.close()
			return d.give(p)
		}),
		bind(&k.Dismiss, groupView, true, func() tea.Cmd {
			d.in.Reset()
			d.close()
			d.sh.infof("cancelled")
			return nil
		}),
		bind(&k.ClearInput, groupView, true, func() tea.Cmd { d.in.Reset(); return nil }),
	}
}

func (d *secretDialog) input(msg tea.KeyPressMsg) tea.Cmd {
	var cmd tea.Cmd
	d.in, cmd = d.in.Update(msg)
	return cmd
}

func (d *secretDialog) update(msg tea.Msg) tea.Cmd { return pasteInto(&d.in, msg) }

func (d *secretDialog) render(sh *shared, _ string) string {
	st := sh.st
	w := dialogWidth(sh, 72)
	box := st.DialogHead.Render(fit(d.title, w, false)) + "\n\n" + d.in.View() + "\n\n" +
		st.Muted.Render(wrap(d.note, w)) + "\n" + st.Muted.Render(fit(shortKeys(sh, d.bindings()), w, false))
	return placeDialog(sh, st.Dialog.Render(box))
}
