package ui

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
)

// KeyMap holds every binding of the UI. Each field has a config name (the
// `keys:` section of the config file) so that every binding, built-ins
// included, can be remapped.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Open, Back, Filter, Sort, Refresh       key.Binding
	NextPane                                key.Binding
	Help, Quit, Transfers                   key.Binding
	Verify, Pull, Push, Copy                key.Binding
	YankRef, YankDigest, YankCmd            key.Binding
	AddRoot, RemoveRoot, OpenRef            key.Binding
	Cancel, Retry                           key.Binding
	Confirm, Deny                           key.Binding
}

// DefaultKeyMap is the built-in layout: arrows and vim keys.
func DefaultKeyMap() *KeyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return &KeyMap{
		Up:         b("↑/k", "up", "up", "k"),
		Down:       b("↓/j", "down", "down", "j"),
		PageUp:     b("pgup", "page up", "pgup", "ctrl+u"),
		PageDown:   b("pgdn", "page down", "pgdown", "ctrl+d"),
		Top:        b("g/home", "top", "g", "home"),
		Bottom:     b("G/end", "bottom", "G", "end"),
		Open:       b("enter/l", "open", "enter", "l", "right"),
		Back:       b("esc/h", "back", "esc", "h", "left", "backspace"),
		Filter:     b("/", "filter", "/"),
		Sort:       b("s", "sort", "s"),
		Refresh:    b("ctrl+r", "reload", "ctrl+r"),
		NextPane:   b("tab", "next pane", "tab"),
		Help:       b("?", "help", "?"),
		Quit:       b("q", "quit", "q", "ctrl+c"),
		Transfers:  b("t", "transfers", "t"),
		Verify:     b("v", "verify (deep)", "v"),
		Pull:       b("p", "pull to store", "p"),
		Push:       b("u", "push local image", "u"),
		Copy:       b("c", "copy to root", "c"),
		YankRef:    b("y", "copy ref", "y"),
		YankDigest: b("Y", "copy digest", "Y"),
		YankCmd:    b("ctrl+y", "copy pull command", "ctrl+y"),
		AddRoot:    b("a", "add root", "a"),
		RemoveRoot: b("d", "remove root", "d"),
		OpenRef:    b("o", "open reference", "o"),
		Cancel:     b("x", "cancel job", "x"),
		Retry:      b("r", "retry job", "r"),
		Confirm:    b("y/enter", "yes", "y", "enter"),
		Deny:       b("n/esc", "no", "n", "esc"),
	}
}

// byName maps config names to bindings.
func (k *KeyMap) byName() map[string]*key.Binding {
	return map[string]*key.Binding{
		"up": &k.Up, "down": &k.Down, "page_up": &k.PageUp, "page_down": &k.PageDown,
		"top": &k.Top, "bottom": &k.Bottom, "open": &k.Open, "back": &k.Back,
		"filter": &k.Filter, "sort": &k.Sort, "refresh": &k.Refresh, "next_pane": &k.NextPane,
		"help": &k.Help, "quit": &k.Quit, "transfers": &k.Transfers,
		"verify": &k.Verify, "pull": &k.Pull, "push": &k.Push, "copy": &k.Copy,
		"yank_ref": &k.YankRef, "yank_digest": &k.YankDigest, "yank_cmd": &k.YankCmd,
		"add_root": &k.AddRoot, "remove_root": &k.RemoveRoot, "open_ref": &k.OpenRef,
		"cancel": &k.Cancel, "retry": &k.Retry, "confirm": &k.Confirm, "deny": &k.Deny,
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
// label follows the first key.
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
