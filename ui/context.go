package ui

import (
	"context"
	"fmt"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"pf-registry/registry"
	"pf-registry/store"
	"pf-registry/themes"
)

// shared is the context every screen holds: styles, keys, size, clock and
// the handles to the outside world. Screens read it; only the root model
// changes it.
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

	mu   sync.Mutex
	regs map[string]registry.Registry // by scheme
}

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

// refuseWrite shows the engine's read-only refusal of a write to target
// before a flow opens its dialogs; nil when writes are allowed.
func (s *shared) refuseWrite(target string) tea.Cmd {
	if err := s.regCfg.CheckWrite(target); err != nil {
		return statusErr(err)
	}
	return nil
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
	// popScreenMsg goes back one screen.
	popScreenMsg struct{}
	// statusMsg shows a line in the status bar.
	statusMsg struct {
		text string
		err  bool
	}
	// dialogMsg opens a modal dialog.
	dialogMsg struct{ d dialog }
	// startJobMsg starts a background transfer job.
	startJobMsg struct{ spec jobSpec }
	// rootsChangedMsg tells the registries screen to reload its rows.
	rootsChangedMsg struct{}
)

func emit(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

func statusf(format string, a ...any) tea.Cmd {
	return emit(statusMsg{text: fmt.Sprintf(format, a...)})
}

func statusErr(err error) tea.Cmd {
	return emit(statusMsg{text: errLine(err), err: true})
}

// screen is one page of the UI. Screens return their own value from
// Update; the root model replaces its stack entry.
type screen interface {
	Init() tea.Cmd
	Update(tea.Msg) (screen, tea.Cmd)
	View() string
	// Title is the breadcrumb part of the screen.
	Title() string
	// ShortHelp and FullHelp feed the help footer and the `?` page.
	ShortHelp() []keyBinding
	FullHelp() [][]keyBinding
	// Busy reports background loading (the header shows a spinner).
	Busy() bool
	// Capturing reports that keys go to an input (filter), so global keys
	// such as q are not taken by the root model.
	Capturing() bool
	// ID routes asynchronous results to the screen that asked for them.
	ID() int
}

var screenIDs struct {
	mu sync.Mutex
	n  int
}

func nextScreenID() int {
	screenIDs.mu.Lock()
	defer screenIDs.mu.Unlock()
	screenIDs.n++
	return screenIDs.n
}

// targeted is implemented by asynchronous results meant for one screen.
type targeted interface{ target() int }
