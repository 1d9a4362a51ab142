package themes

import (
	"image/color"

	"charm.land/bubbles/v2/help"
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
	Info       lipgloss.Style
	Filter     lipgloss.Style
	Status     lipgloss.Style // status line under the body
	Pane       lipgloss.Style // bordered pane (detail viewport, log)
	PaneTitle  lipgloss.Style
	Dialog     lipgloss.Style
	DialogHead lipgloss.Style
	Spinner    lipgloss.Style
	Empty      lipgloss.Style
	Help       help.Styles

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

	s.Help = help.DefaultStyles(t.IsDark)
	if mono {
		plain := lipgloss.NewStyle()
		s.Help = help.Styles{
			Ellipsis: plain, ShortKey: plain.Bold(true), ShortDesc: plain, ShortSeparator: plain,
			FullKey: plain.Bold(true), FullDesc: plain, FullSeparator: plain,
		}
	} else if t.Name == HighContrast {
		k := fg(p.Accent).Bold(true)
		d := fg(p.Fg)
		s.Help = help.Styles{
			Ellipsis: d, ShortKey: k, ShortDesc: d, ShortSeparator: d,
			FullKey: k, FullDesc: d, FullSeparator: d,
		}
	}
	s.BarFull, s.BarEmpty = p.BarFull, p.BarEmpty
	return s
}

// Verdict styles a verdict status: symbol and word, coloured.
func (s Styles) Verdict(status string) string {
	return s.VerdictStyle(status).Render(termtext.VerdictSymbol(status) + " " + status)
}

// VerdictStyle is the style of one verdict status.
func (s Styles) VerdictStyle(status string) lipgloss.Style {
	switch status {
	case termtext.VerdictValid:
		return s.OK.Bold(true)
	case termtext.VerdictDefaultKey:
		return s.Warn
	case termtext.VerdictInvalid, termtext.VerdictError:
		return s.Error
	case termtext.VerdictMissing:
		return s.Warn.Underline(true)
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
