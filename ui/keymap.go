package ui

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
)

// KeyMap holds every binding of the UI, dialog and filter keys included.
// Each field has a config name (the `keys:` section of the config file) so
// that every binding can be remapped.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Open, Back, Filter, Sort, Refresh       key.Binding
	NextPane, Mark                          key.Binding
	Help, Quit, Transfers, Notifications    key.Binding
	Command, OpenRef, Search                key.Binding
	Verify, Pull, Push, Copy                key.Binding
	YankRef, YankDigest, YankCmd            key.Binding
	AddRoot, RemoveRoot                     key.Binding
	Cancel, Retry                           key.Binding
	// Inside an image: panes, in-pane search, folding, diff, fork tree.
	PrevPane, NextMatch, PrevMatch, Fold key.Binding
	DiffMark, Diff, ForkTree             key.Binding
	// Signatures and management: sign, the key store, delete, retag,
	// sync, the local store's usage and gc.
	Sign, Keys, Trust, Untrust     key.Binding
	Delete, Retag, Sync, Usage, GC key.Binding
	// Dialogs and inputs.
	Confirm, Deny, Submit, Dismiss, Switch, ClearInput, DeleteChar key.Binding
}

// DefaultKeyMap is the built-in layout: arrows and vim keys.
func DefaultKeyMap() *KeyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return &KeyMap{
		Up:            b("↑/k", "up", "up", "k"),
		Down:          b("↓/j", "down", "down", "j"),
		PageUp:        b("pgup", "page up", "pgup", "ctrl+b"),
		PageDown:      b("pgdn", "page down", "pgdown", "ctrl+f"),
		Top:           b("g/home", "top", "g", "home"),
		Bottom:        b("G/end", "end (loads every page)", "G", "end"),
		Open:          b("enter", "open", "enter", "l", "right"),
		Back:          b("esc", "back", "esc", "h", "left", "backspace"),
		Filter:        b("/", "filter", "/"),
		Sort:          b("s", "sort", "s"),
		Refresh:       b("ctrl+r", "reload", "ctrl+r"),
		NextPane:      b("tab", "next pane", "tab"),
		Mark:          b("space", "mark", "space"),
		Help:          b("?", "help", "?"),
		Quit:          b("q", "quit", "q", "ctrl+c"),
		Transfers:     b("t", "transfers", "t"),
		Notifications: b("L", "messages", "L"),
		Command:       b(":", "go to", ":"),
		OpenRef:       b("o", "open reference", "o"),
		Search:        b("F", "find in all repositories", "F"),
		Verify:        b("v", "verify", "v"),
		Pull:          b("p", "pull", "p"),
		Push:          b("u", "push local image", "u"),
		Copy:          b("c", "copy to root", "c"),
		YankRef:       b("y", "copy ref", "y"),
		YankDigest:    b("Y", "copy image ID", "Y"),
		YankCmd:       b("ctrl+y", "copy pull command", "ctrl+y"),
		AddRoot:       b("a", "add root", "a"),
		RemoveRoot:    b("d", "remove root", "d"),
		Cancel:        b("x", "cancel job", "x"),
		Retry:         b("r", "retry job", "r"),
		PrevPane:      b("⇧tab", "previous pane", "shift+tab"),
		NextMatch:     b("n", "next match", "n"),
		PrevMatch:     b("N", "previous match", "N"),
		Fold:          b("z", "fold/unfold long messages", "z"),
		DiffMark:      b("m", "mark as A of a diff", "m"),
		Diff:          b("=", "diff marked A with this", "="),
		ForkTree:      b("T", "fork tree", "T"),
		Sign:          b("S", "sign", "S"),
		Keys:          b("K", "keys", "K"),
		Trust:         b("+", "trust key", "+"),
		Untrust:       b("-", "untrust key", "-"),
		Delete:        b("ctrl+d", "delete", "ctrl+d"),
		Retag:         b("R", "retag", "R"),
		Sync:          b("M", "mirror (sync) to a root", "M"),
		Usage:         b("U", "store usage", "U"),
		GC:            b("C", "collect garbage (gc)", "C"),
		Confirm:       b("y", "yes", "y"),
		Deny:          b("n/esc", "no", "n", "esc"),
		Submit:        b("enter", "ok", "enter"),
		Dismiss:       b("esc", "cancel", "esc"),
		Switch:        b("←/→", "switch", "left", "right", "tab"),
		ClearInput:    b("ctrl+u", "clear", "ctrl+u"),
		DeleteChar:    b("backspace", "delete", "backspace"),
	}
}

// byName maps config names to bindings.
func (k *KeyMap) byName() map[string]*key.Binding {
	return map[string]*key.Binding{
		"up": &k.Up, "down": &k.Down, "page_up": &k.PageUp, "page_down": &k.PageDown,
		"top": &k.Top, "bottom": &k.Bottom, "open": &k.Open, "back": &k.Back,
		"filter": &k.Filter, "sort": &k.Sort, "refresh": &k.Refresh, "next_pane": &k.NextPane,
		"mark": &k.Mark, "help": &k.Help, "quit": &k.Quit, "transfers": &k.Transfers,
		"notifications": &k.Notifications, "command": &k.Command, "open_ref": &k.OpenRef,
		"search": &k.Search, "verify": &k.Verify, "pull": &k.Pull, "push": &k.Push, "copy": &k.Copy,
		"yank_ref": &k.YankRef, "yank_digest": &k.YankDigest, "yank_cmd": &k.YankCmd,
		"add_root": &k.AddRoot, "remove_root": &k.RemoveRoot,
		"cancel": &k.Cancel, "retry": &k.Retry, "confirm": &k.Confirm, "deny": &k.Deny,
		"submit": &k.Submit, "dismiss": &k.Dismiss, "switch": &k.Switch, "clear_input": &k.ClearInput,
		"delete_char": &k.DeleteChar,
		"prev_pane":   &k.PrevPane, "next_match": &k.NextMatch, "prev_match": &k.PrevMatch, "fold": &k.Fold,
		"diff_mark": &k.DiffMark, "diff": &k.Diff, "fork_tree": &k.ForkTree,
		"sign": &k.Sign, "keys": &k.Keys, "trust": &k.Trust, "untrust": &k.Untrust,
		"delete": &k.Delete, "retag": &k.Retag, "sync": &k.Sync, "usage": &k.Usage, "gc": &k.GC,
	}
}

// KeyNames lists the remappable binding names.
func KeyNames() []string {
	var out []string
	for n := range DefaultKeyMap().byName() {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Rebind applies overrides from the config file: name → keys. The help
// label follows the keys.
func (k *KeyMap) Rebind(over map[string][]string) error {
	names := k.byName()
	var unknown []string
	for name, keys := range over {
		b, ok := names[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		if len(keys) == 0 {
			b.Unbind()
			continue
		}
		b.SetKeys(keys...)
		b.SetHelp(strings.Join(keys, "/"), b.Help().Desc)
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("config keys: unknown binding %s (known: %s)",
			strings.Join(unknown, ", "), strings.Join(KeyNames(), ", "))
	}
	return nil
}
