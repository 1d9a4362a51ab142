package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"pf-registry/registry"
	"pf-registry/signing"
	"pf-registry/store"
	"pf-registry/themes"
)

// shared is the context every screen holds: styles, keys, size, clock and
// the handles to the outside world. Screens read it; what they change
// (messages, overlays to open) they change from Update, on the UI's
// goroutine.
type shared struct {
	st     themes.Styles
	keys   *KeyMap
	width  int
	height int // body height available to the active screen
	now    func() time.Time

	storePath string
	regCfg    registry.Config
	cfg       *Config
	cfgPath   string
	cliRoots  []string
	xferOpt   registry.TransferOptions // concurrency and strictness of jobs

	// ctx is cancelled when the program ends; every backend call derives
	// from it.
	ctx context.Context

	// notes is the message history; the last one is the status line until
	// cleared.
	notes      []note
	showStatus bool
	// pending overlays, opened by the current Update: the root model
	// stacks them before the next key is read, so type-ahead reaches them.
	pending []overlay
	// jobs to start and screens to open, taken by the root model in the
	// same way.
	jobs    []jobSpec
	screens []screen

	mu   sync.Mutex
	regs map[string]registry.Registry // by scheme

	// working counts the short writes running in tea.Cmds (sign, retag,
	// trust): the header's spinner turns while there are any.
	working int

	// Inside images: the image marked as A of the next diff, and what was
	// read for the session (fork trees by root, walks by image ID).
	diffBase *image
	lineages lineageCache
	walks    walkCache
}

// note is one message of the history.
type note struct {
	at   time.Time
	text string
	err  bool
}

// maxNotes bounds the message history.
const maxNotes = 200

// notify shows a message in the status line and keeps it in the history.
// Messages name references and quote registries: they are made safe here.
func (s *shared) notify(text string, isErr bool) {
	s.notes = append(s.notes, note{at: s.now(), text: safe(text), err: isErr})
	if len(s.notes) > maxNotes {
		s.notes = s.notes[len(s.notes)-maxNotes:]
	}
	s.showStatus = true
}

func (s *shared) infof(format string, a ...any) { s.notify(fmt.Sprintf(format, a...), false) }

// fail shows an error (one line; the history keeps it whole).
func (s *shared) fail(err error) { s.notify(errLine(err), true) }

// status is the current status-line message, if any.
func (s *shared) status() (note, bool) {
	if !s.showStatus || len(s.notes) == 0 {
		return note{}, false
	}
	return s.notes[len(s.notes)-1], true
}

// push opens a screen at once.
func (s *shared) push(sc screen) tea.Cmd {
	s.screens = append(s.screens, sc)
	return nil
}

// open stacks an overlay (a dialog) at once.
func (s *shared) open(o overlay) { s.pending = append(s.pending, o) }

// openRoot parses a root and returns its registry, reusing one registry per
// scheme. Only called from inside tea.Cmds.
func (s *shared) openRoot(root string) (registry.Registry, registry.Ref, error) {
	ref, err := registry.ParseRoot(root)
	if err != nil {
		return nil, ref, err
	}
	reg, err := s.registryFor(ref.Scheme)
	return reg, ref, err
}

// openRef parses an image reference and returns its registry.
func (s *shared) openRef(r string) (registry.Registry, registry.Ref, error) {
	ref, err := registry.ParseRef(r)
	if err != nil {
		return nil, ref, err
	}
	reg, err := s.registryFor(ref.Scheme)
	return reg, ref, err
}

func (s *shared) registryFor(scheme string) (registry.Registry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.regs[scheme]; ok {
		return r, nil
	}
	r, err := registry.Open(scheme, s.regCfg)
	if err != nil {
		return nil, err
	}
	if s.regs == nil {
		s.regs = map[string]registry.Registry{}
	}
	s.regs[scheme] = r
	return r, nil
}

// setKeyring puts a rebuilt keyring in force: registries are opened again
// with it (each keeps the config it was opened with), so verdicts follow.
func (s *shared) setKeyring(ring *signing.Keyring) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regCfg.Keys = ring
	s.regs = nil
}

// writeOff is the engine's read-only refusal of a write to target, nil
// when writes are allowed; write bindings are disabled with it.
func (s *shared) writeOff(target string) func() error {
	return func() error { return s.regCfg.CheckWrite(target) }
}

// transferOptions are the job-wide options with a progress callback.
func (s *shared) transferOptions(p func(registry.Event)) registry.TransferOptions {
	o := s.xferOpt
	o.Progress = p
	return o
}

// openStore opens the local store (inside tea.Cmds only).
func (s *shared) openStore() (*store.Store, error) { return store.Open(s.storePath) }

// Messages shared between screens and the root model.
type (
	// pushScreenMsg opens a screen on top of the stack.
	pushScreenMsg struct{ s screen }
	// replaceScreenMsg swaps the top screen (a root that turned out to be
	// an image opens its detail instead of a repository list).
	replaceScreenMsg struct{ s screen }
	// statusMsg shows a line in the status bar (from a background command).
	statusMsg struct {
		text string
		err  bool
	}
	// startJobMsg starts a background transfer job.
	startJobMsg struct{ spec jobSpec }
	// rootsChangedMsg tells the registries screen to reload its rows.
	rootsChangedMsg struct{}
	// jobEndedMsg tells every screen that a job ended, so views of what
	// it changed (the store, a destination) reload.
	jobEndedMsg struct {
		op, src, dst string
		ok           bool
		// changes are the other locations the job wrote to (the images
		// a deletion removed).
		changes []string
	}
	// quitMsg quits after a confirmation.
	quitMsg struct{}
)

func emit(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// wrote reports that the job may have changed what is under loc (or loc
// itself): a write that ended well, or a deletion or sync, which may have
// done part of its work before failing.
func (m jobEndedMsg) wrote(loc string) bool {
	if !m.ok && m.op != opDelete && m.op != opSync {
		return false
	}
	return touches(append([]string{m.dst}, m.changes...), loc)
}

// touches reports that one of the written locations lies under loc, or
// holds it.
func touches(written []string, loc string) bool {
	loc = strings.TrimRight(loc, "/")
	if loc == "" {
		return false
	}
	for _, w := range written {
		w = strings.TrimRight(w, "/")
		if w != "" && (strings.HasPrefix(w, loc) || strings.HasPrefix(loc, w)) {
			return true
		}
	}
	return false
}

// errMsg is the status message of an error from a background command.
func errMsg(err error) statusMsg { return statusMsg{text: errLine(err), err: true} }
