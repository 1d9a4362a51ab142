package ui

import (
	"sync"

	tea "charm.land/bubbletea/v2"
)

// screen is one page of the UI. The root model knows screens only through
// this contract: it asks for the bindings, hint, filter state and prefill
// and never looks at a concrete screen type.
type screen interface {
	Init() tea.Cmd
	// Update handles messages other than bound keys: results of the
	// screen's commands, sizes, the mouse, and keys while Capturing.
	Update(tea.Msg) (screen, tea.Cmd)
	View() string
	// Title is the breadcrumb part of the screen.
	Title() string
	// Bindings are the screen's keys, declared once (see binding).
	Bindings() []binding
	// Hint is the status line when there is no message.
	Hint() string
	// Prefill is what the go-to bar proposes on this screen (its own
	// location).
	Prefill() string
	// Busy reports background loading (the header shows a spinner).
	Busy() bool
	// Capturing reports that keys go to an input (a filter being typed).
	Capturing() bool
	// ClearFilter drops the list filter, reporting whether there was one
	// (esc then clears it instead of going back).
	ClearFilter() bool
	// ID routes asynchronous results to the screen that asked for them.
	ID() int
	// close cancels the screen's background work when it is left.
	close()
}

// keyHolder is a screen that cannot act on keys yet: its first rows are
// still loading. The app holds the keys typed meanwhile and hands them on,
// in order, once the rows are in (typeahead), so "enter enter" typed fast
// opens a root and then its first repository.
type keyHolder interface {
	holdsKeys() bool
}

// screenBase holds what every screen has and the contract's defaults.
type screenBase struct {
	id int
	sh *shared
}

func newBase(sh *shared) screenBase { return screenBase{id: nextScreenID(), sh: sh} }

func (b *screenBase) ID() int           { return b.id }
func (b *screenBase) Hint() string      { return "" }
func (b *screenBase) Prefill() string   { return "" }
func (b *screenBase) Busy() bool        { return false }
func (b *screenBase) Capturing() bool   { return false }
func (b *screenBase) ClearFilter() bool { return false }
func (b *screenBase) close()            {}

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
