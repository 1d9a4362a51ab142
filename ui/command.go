package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"pf-registry/internal/fault"
	"pf-registry/registry"
)

// commandBar is the `:` bar on the status line: a root, repository or
// image reference to jump to, or a view's name. tab completes.
type commandBar struct {
	overlayBase
	sh    *shared
	in    textinput.Model
	words []string // completions
	err   string
	run   func(string) (tea.Cmd, error)
}

// commandWords are the views the bar knows by name.
var commandWords = []string{"registries", "store", "du", "keys", "transfers", "messages", "help", "quit"}

func newCommandBar(sh *shared, prefill string, words []string, run func(string) (tea.Cmd, error)) *commandBar {
	in := textinput.New()
	in.Prompt = ":"
	in.SetValue(prefill)
	in.CursorEnd()
	in.SetWidth(max(sh.width-4, 10))
	in.Focus()
	return &commandBar{sh: sh, in: in, words: words, run: run}
}

func (c *commandBar) hint() string {
	if c.err != "" {
		return "✗ " + c.err
	}
	return "go to a root, repository or image reference, or: " + strings.Join(commandWords, ", ") + ", tree ROOT (its fork tree)"
}

func (c *commandBar) bindings() []binding {
	k := c.sh.keys
	return []binding{
		bind(&k.Submit, groupView, true, c.submit),
		bind(&k.Dismiss, groupView, true, func() tea.Cmd { c.close(); return nil }),
		bind(&k.ClearInput, groupView, true, func() tea.Cmd { c.in.SetValue(""); return nil }),
		bind(&k.NextPane, groupView, true, c.complete),
	}
}

func (c *commandBar) submit() tea.Cmd {
	v := strings.TrimSpace(c.in.Value())
	if v == "" {
		c.close()
		return nil
	}
	cmd, err := c.run(v)
	if err != nil {
		c.err = errLine(err)
		return nil
	}
	c.close()
	return cmd
}

// complete extends the input to the next completion that starts with it.
func (c *commandBar) complete() tea.Cmd {
	v := c.in.Value()
	var match []string
	for _, w := range c.words {
		if strings.HasPrefix(w, v) && w != v {
			match = append(match, w)
		}
	}
	if len(match) == 0 {
		return nil
	}
	slices.Sort(match)
	c.in.SetValue(match[0])
	c.in.CursorEnd()
	return nil
}

func (c *commandBar) input(msg tea.KeyPressMsg) tea.Cmd { return typeInto(&c.in, &c.err, msg) }
func (c *commandBar) update(msg tea.Msg) tea.Cmd        { return pasteInto(&c.in, msg) }

func (c *commandBar) render(sh *shared, body string) string {
	lines := strings.Split(body, "\n")
	bar := c.in.View()
	if len(lines) > 0 {
		lines[len(lines)-1] = fit(bar, sh.width, false)
	}
	return strings.Join(lines, "\n")
}

// resolvedMsg is where a typed location leads.
type resolvedMsg struct {
	s   screen
	err error
}

// resolve finds out what a typed location is: an image opens its detail,
// a repository its tags, a root its repositories. A host that cannot be
// reached reports that, not a later listing error.
func resolve(sh *shared, target string) func() tea.Msg {
	return func() tea.Msg {
		reg, ref, err := sh.openRoot(target)
		if err != nil {
			return resolvedMsg{err: err}
		}
		ctx, cancel := context.WithTimeout(sh.ctx, 15*time.Second)
		defer cancel()
		ok, existsErr := reg.Exists(ctx, ref)
		if existsErr == nil && ok {
			return resolvedMsg{s: newDetailScreen(sh, image{ref: target}, target)}
		}
		if existsErr != nil && !errors.Is(existsErr, fault.ErrNotFound) {
			return resolvedMsg{err: existsErr}
		}
		if l, err := reg.Tags(ctx, ref, registry.ListOptions{Limit: 1}); err == nil && len(l.Tags) > 0 {
			return resolvedMsg{s: newTagsScreen(sh, "", target, "")}
		}
		l, err := reg.List(ctx, ref, registry.ListOptions{Limit: 1})
		switch {
		case err != nil:
			return resolvedMsg{err: err}
		case l.Image:
			return resolvedMsg{s: newDetailScreen(sh, image{ref: target, root: target}, target)}
		}
		return resolvedMsg{s: newReposScreen(sh, target)}
	}
}
