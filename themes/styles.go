package themes

import (
	"image/color"

	"charm.land/lipgloss/v2"

	"pf-registry/internal/termtext"
)

// Styles are the concrete styles every screen uses.
type Styles struct {
	Theme Theme

	App        lipgloss.Style
	Title      lipgloss.Style // app name in the header
	Crumb      lipgloss.Style // breadcrumb in the header
	CrumbSep   lipgloss.Style
	Badge      lipgloss.Style // e.g. READ-ONLY
	ColHeader  lipgloss.Style
	Row        lipgloss.Style
	Selected   lipgloss.Style
	Muted      lipgloss.Style
	Label      lipgloss.Style
	Value      lipgloss.Style
	Section    lipgloss.Style
	Error      lipgloss.Style
	Warn       lipgloss.Style
	OK         lipgloss.Style
	Unsigned   lipgloss.Style // the missing verdict: its own colour
	Trusted    lipgloss.Style // the trusted verdict: its own colour
	Info       lipgloss.Style
	Filter     lipgloss.Style
	Status     lipgloss.Style // status line under the body
	Pane       lipgloss.Style // bordered pane (detail viewport, log)
	PaneTitle  lipgloss.Style
	Dialog     lipgloss.Style
	DialogHead lipgloss.Style
	Spinner    lipgloss.Style
	Empty      lipgloss.Style
	// Footer and help page: key, description, separator, disabled key.
	HelpKey, HelpDesc, HelpSep, HelpOff lipgloss.Style
	// Dialog buttons, plain and selected.
	Button, ButtonOn lipgloss.Style
	// Match is a filter match inside a cell; Mark a marked row's gutter.
	Match, Mark lipgloss.Style

	BarFull, BarEmpty color.Color
}

// NewStyles derives all styles from a theme.
func NewStyles(t Theme) Styles {
	p := t.Palette
	mono := t.Name == Mono
	fg := func(c color.Color) lipgloss.Style {
		s := lipgloss.NewStyle()
		if c != nil {
			s = s.Foreground(c)
		}
		return s
	}
	s := Styles{Theme: t}
	s.App = lipgloss.NewStyle()
	s.Title = fg(p.AccentFg).Bold(true).Padding(0, 1)
	if p.Accent != nil {
		s.Title = s.Title.Background(p.Accent)
	} else {
		s.Title = s.Title.Reverse(true)
	}
	s.Crumb = fg(p.Fg).Bold(true)
	s.CrumbSep = fg(p.Muted)
	s.Badge = fg(p.Bad).Bold(true)
	s.ColHeader = fg(p.Muted).Bold(true).Underline(true)
	s.Row = fg(p.Fg)
	s.Selected = fg(p.SelFg).Bold(true)
	if p.SelBg != nil {
		s.Selected = s.Selected.Background(p.SelBg)
	} else {
		s.Selected = s.Selected.Reverse(true)
	}
	s.Muted = fg(p.Muted)
	if mono {
		s.Muted = s.Muted.Faint(true)
	}
	s.Label = fg(p.Muted)
	s.Value = fg(p.Fg)
	s.Section = fg(p.Accent).Bold(true)
	s.Error = fg(p.Bad).Bold(true)
	s.Warn = fg(p.Warn).Bold(true)
	s.OK = fg(p.OK)
	s.Unsigned = fg(p.Unsigned).Bold(true)
	s.Trusted = fg(p.Trusted).Bold(true)
	if mono {
		s.Unsigned = s.Unsigned.Underline(true)
	}
	s.Info = fg(p.Info)
	s.Filter = fg(p.Accent).Bold(true)
	s.Status = fg(p.Muted)
	border := lipgloss.RoundedBorder()
	if t.Name == HighContrast || mono {
		border = lipgloss.NormalBorder()
	}
	s.Pane = lipgloss.NewStyle().Border(border)
	if p.Border != nil {
		s.Pane = s.Pane.BorderForeground(p.Border)
	}
	s.PaneTitle = fg(p.Accent).Bold(true)
	s.Dialog = lipgloss.NewStyle().Border(lipgloss.DoubleBorder()).Padding(0, 1)
	if p.Accent != nil {
		s.Dialog = s.Dialog.BorderForeground(p.Accent)
	}
	s.DialogHead = fg(p.Accent).Bold(true)
	s.Spinner = fg(p.Accent)
	s.Empty = fg(p.Muted)

	helpStyles(&s, p, mono)
	s.BarFull, s.BarEmpty = p.BarFull, p.BarEmpty
	return s
}

// helpStyles: keys in the accent, descriptions in the text colour, so the
// footer reads on dark and light backgrounds alike.
func helpStyles(s *Styles, p Palette, mono bool) {
	fg := func(c color.Color) lipgloss.Style {
		if c == nil {
			return lipgloss.NewStyle()
		}
		return lipgloss.NewStyle().Foreground(c)
	}
	s.HelpKey = fg(p.Accent).Bold(true)
	s.HelpDesc = fg(p.Fg)
	s.HelpSep = fg(p.Muted)
	s.HelpOff = fg(p.Muted).Strikethrough(true)
	s.Button = fg(p.Fg).Padding(0, 0)
	s.ButtonOn = s.Selected
	s.Match = fg(p.Accent).Bold(true).Underline(true)
	s.Mark = fg(p.Info).Bold(true)
	if mono {
		s.HelpOff = lipgloss.NewStyle().Faint(true)
		s.Match = lipgloss.NewStyle().Underline(true)
	}
}

// Verdict styles a verdict status: symbol and word, coloured.
func (s Styles) Verdict(status string) string {
	return s.VerdictStyle(status).Render(termtext.VerdictSymbol(status) + " " + status)
}

// VerdictStyle is the style of one verdict status.
func (s Styles) VerdictStyle(status string) lipgloss.Style {
	switch status {
	case termtext.VerdictTrusted:
		return s.Trusted
	case termtext.VerdictUntrustedKey:
		return s.Info.Bold(true)
	case termtext.VerdictValid:
		return s.OK.Bold(true)
	case termtext.VerdictDefaultKey:
		return s.Warn
	case termtext.VerdictInvalid, termtext.VerdictError:
		return s.Error
	case termtext.VerdictMissing:
		return s.Unsigned
	case termtext.VerdictLocal:
		return s.Info
	}
	return s.Muted
}

// Phase styles a transfer phase word (queued, transferring, ...).
func (s Styles) Phase(phase string) lipgloss.Style {
	switch phase {
	case "done":
		return s.OK
	case "skipped":
		return s.Muted
	case "failed", "cancelled":
		return s.Error
	case "verifying":
		return s.Info
	case "transferring", "moving":
		return s.Filter
	}
	return s.Muted
}

// Role styles the role of a conversation message.
func (s Styles) Role(role string) lipgloss.Style {
	return byWord(role, map[string]lipgloss.Style{
		"user": s.Info.Bold(true), "human": s.Info.Bold(true),
		"assistant": s.OK.Bold(true), "model": s.OK.Bold(true), "system": s.Warn,
	}, s.Muted.Bold(true)) // tool results and the rest: muted
}

// Effect styles an effect class: what cannot be undone or reached the
// network stands out.
func (s Styles) Effect(class string) lipgloss.Style {
	return byWord(class, map[string]lipgloss.Style{
		"irreversible": s.Error, "network-only": s.Warn, "idempotent": s.Info,
	}, s.Muted)
}

// Change styles a line of a diff: "+" added, "-" removed, "~" changed.
func (s Styles) Change(sign string) lipgloss.Style {
	return byWord(sign, map[string]lipgloss.Style{"+": s.OK, "-": s.Error, "~": s.Warn}, s.Row)
}

// byWord is the style a table gives a word, def for the others.
func byWord(w string, table map[string]lipgloss.Style, def lipgloss.Style) lipgloss.Style {
	if st, ok := table[w]; ok {
		return st
	}
	return def
}
