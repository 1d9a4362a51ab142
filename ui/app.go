package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"pf-registry/themes"
)

// replaceScreenMsg swaps the top screen (a root that turned out to be an
// image opens its detail instead of a repository list).
type replaceScreenMsg struct{ s screen }

// closer is implemented by screens that cancel background work when left.
type closer interface{ close() }

// filterer is implemented by screens whose list can hold a filter; esc
// then clears the filter instead of going back.
type filterer interface{ hasFilter() bool }

func (s *registriesScreen) hasFilter() bool { return s.tbl.filter != "" }
func (s *reposScreen) hasFilter() bool      { return s.tbl.filter != "" }
func (s *tagsScreen) hasFilter() bool       { return s.tbl.filter != "" }
func (s *localScreen) hasFilter() bool      { return s.tbl.filter != "" }

// chromeLines is the header, status and footer lines around the body.
const chromeLines = 3

// App is the root model: it routes messages to the active screen, owns
// the transfers, dialogs, help and the header/footer chrome.
type App struct {
	sh        *shared
	stack     []screen
	xfers     *transfers
	showXfers bool
	showHelp  bool
	dlg       dialog
	status    string
	statusErr bool
	spin      spinner.Model
	spinning  bool
	help      help.Model
	themeName string
	quitting  bool
	termW     int
	termH     int
}

func (m *App) top() screen { return m.stack[len(m.stack)-1] }

// Init asks for the background colour (light/dark) and starts the first
// screen's background loading.
func (m *App) Init() tea.Cmd {
	cmds := []tea.Cmd{m.top().Init()}
	if themes.Follows(m.themeName) {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

func (m *App) setStyles(st themes.Styles) {
	m.sh.st = st
	m.help.Styles = st.Help
	m.spin.Style = st.Spinner
}

func (m *App) busy() bool {
	for _, s := range m.stack {
		if s.Busy() {
			return true
		}
	}
	return m.xfers.running() > 0
}

// Update routes one message.
func (m *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	if !m.spinning && m.busy() && !m.quitting {
		m.spinning = true
		cmd = tea.Batch(cmd, m.spin.Tick)
	}
	return m, cmd
}

func (m *App) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
		return m.broadcast(msg)
	case tea.BackgroundColorMsg:
		if themes.Follows(m.themeName) {
			t, _ := themes.Resolve(m.themeName, msg.IsDark())
			m.setStyles(themes.NewStyles(t))
		}
		return nil
	case spinner.TickMsg:
		if !m.busy() {
			m.spinning = false
			return nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return cmd
	case statusMsg:
		m.status, m.statusErr = msg.text, msg.err
		return nil
	case dialogMsg:
		m.dlg = msg.d
		return nil
	case pushScreenMsg:
		m.stack = append(m.stack, msg.s)
		m.showXfers, m.status = false, ""
		return tea.Batch(msg.s.Init(), m.sizeMsg(msg.s))
	case replaceScreenMsg:
		if c, ok := m.top().(closer); ok {
			c.close()
		}
		m.stack[len(m.stack)-1] = msg.s
		return tea.Batch(msg.s.Init(), m.sizeMsg(msg.s))
	case popScreenMsg:
		m.pop()
		return nil
	case localImagesMsg:
		return pushPicker(m.sh, msg)
	case startJobMsg, jobProgressMsg, jobDoneMsg, jobTickMsg:
		return m.xfers.update(msg)
	case rootsChangedMsg, removeRootMsg:
		return m.broadcast(msg)
	case quitMsg:
		return m.quit()
	case sizeFor:
		for i, s := range m.stack {
			if s.ID() == msg.id {
				var cmd tea.Cmd
				m.stack[i], cmd = s.Update(msg.msg)
				return cmd
			}
		}
		return nil
	case targeted:
		for i, s := range m.stack {
			if s.ID() == msg.target() {
				var cmd tea.Cmd
				m.stack[i], cmd = s.Update(msg)
				return cmd
			}
		}
		return nil // the screen was left; drop the late result
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.PasteMsg:
		// Pasted text goes to the open input: a dialog or a list filter.
		if m.dlg == nil && !m.showXfers && m.top().Capturing() {
			var cmd tea.Cmd
			m.stack[len(m.stack)-1], cmd = m.top().Update(msg)
			return cmd
		}
	case tea.MouseClickMsg:
		return m.mouse(msg, msg.Mouse())
	case tea.MouseWheelMsg:
		return m.mouse(msg, msg.Mouse())
	}
	if m.dlg != nil {
		var cmd tea.Cmd
		m.dlg, cmd = m.dlg.update(msg, m.sh)
		return cmd
	}
	return nil
}

func (m *App) sizeMsg(s screen) tea.Cmd {
	w, h := m.termW, m.termH
	return func() tea.Msg { return sizeFor{id: s.ID(), msg: tea.WindowSizeMsg{Width: w, Height: h}} }
}

// sizeFor delivers a size to one screen (a freshly pushed one).
type sizeFor struct {
	id  int
	msg tea.WindowSizeMsg
}

func (m *App) resize(w, h int) {
	m.termW, m.termH = w, h
	m.sh.width = w
	m.sh.height = max(h-chromeLines, 1)
	m.help.SetWidth(w)
}

func (m *App) broadcast(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	for i, s := range m.stack {
		var cmd tea.Cmd
		m.stack[i], cmd = s.Update(msg)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func (m *App) pop() {
	if len(m.stack) <= 1 {
		return
	}
	if c, ok := m.top().(closer); ok {
		c.close()
	}
	m.stack = m.stack[:len(m.stack)-1]
	m.status = ""
}

func (m *App) quit() tea.Cmd {
	m.quitting = true
	for _, j := range m.xfers.jobs {
		if j.state == jobRunning {
			j.state = jobCancelled
			j.cancel()
		}
	}
	return tea.Quit
}

func (m *App) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.sh.keys
	if msg.String() == "ctrl+c" && m.dlg == nil {
		return m.quit()
	}
	if m.dlg != nil {
		var cmd tea.Cmd
		m.dlg, cmd = m.dlg.update(msg, m.sh)
		return cmd
	}
	if m.showHelp {
		if key.Matches(msg, k.Quit) && msg.String() != "q" {
			return m.quit()
		}
		m.showHelp = false
		return nil
	}
	top := m.top()
	if !m.showXfers && top.Capturing() {
		var cmd tea.Cmd
		m.stack[len(m.stack)-1], cmd = top.Update(msg)
		return cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		if n := m.xfers.running(); n > 0 {
			m.dlg = &confirmDialog{title: "Quit?",
				body: fmt.Sprintf("%d transfer(s) still running. Quit and cancel them?", n),
				yes:  func() tea.Msg { return quitMsg{} }}
			return nil
		}
		return m.quit()
	case key.Matches(msg, k.Help):
		m.showHelp = true
		return nil
	case key.Matches(msg, k.Transfers):
		m.showXfers = !m.showXfers
		return nil
	case key.Matches(msg, k.OpenRef):
		prefill := ""
		switch s := top.(type) {
		case *reposScreen:
			prefill = strings.TrimRight(s.root, "/") + "/"
		case *tagsScreen:
			prefill = s.repoRef
		}
		return openRefDialog(m.sh, prefill)
	}
	if m.showXfers {
		if key.Matches(msg, k.Back) {
			m.showXfers = false
			return nil
		}
		cmd, _ := m.xfers.handleKey(msg)
		return cmd
	}
	if key.Matches(msg, k.Back) && !(msg.String() == "esc" && hasFilter(top)) {
		if len(m.stack) > 1 {
			m.pop()
		}
		return nil
	}
	var cmd tea.Cmd
	m.stack[len(m.stack)-1], cmd = top.Update(msg)
	return cmd
}

// quitMsg quits after a confirmation.
type quitMsg struct{}

func hasFilter(s screen) bool {
	f, ok := s.(filterer)
	return ok && f.hasFilter()
}

// mouse routes clicks and the wheel to the body, in body coordinates.
func (m *App) mouse(msg tea.Msg, mo tea.Mouse) tea.Cmd {
	if m.dlg != nil {
		var cmd tea.Cmd
		m.dlg, cmd = m.dlg.update(msg, m.sh)
		return cmd
	}
	if m.showHelp {
		return nil
	}
	y := mo.Y - 1 // header line
	if y < 0 || y >= m.sh.height {
		return nil
	}
	if m.showXfers {
		switch w := msg.(type) {
		case tea.MouseWheelMsg:
			if w.Button == tea.MouseWheelUp {
				m.xfers.layerOff = max(m.xfers.layerOff-3, 0)
			} else {
				m.xfers.layerOff += 3
			}
		case tea.MouseClickMsg:
			m.xfers.click(y)
		}
		return nil
	}
	switch v := msg.(type) {
	case tea.MouseClickMsg:
		v.Y = y
		msg = v
	case tea.MouseWheelMsg:
		v.Y = y
		msg = v
	}
	var cmd tea.Cmd
	m.stack[len(m.stack)-1], cmd = m.top().Update(msg)
	return cmd
}

// View renders header, body, status line and help footer.
func (m *App) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "pf-registry — " + m.top().Title()
	v.ProgressBar = m.xfers.nativeBar()
	return v
}

func (m *App) render() string {
	if m.termW == 0 {
		return "loading…"
	}
	sh, st := m.sh, m.sh.st
	var body string
	switch {
	case m.showHelp:
		body = st.Section.Render("Keys") + "\n\n" + m.help.FullHelpView(m.fullHelp()) +
			"\n\n" + st.Muted.Render("Signature column: ✓ valid · ! default-key (public key, anyone can sign) · ✗ invalid · ? missing · … checking\n"+
			"Keys can be remapped in "+tildePath(sh.cfgPath)+" (keys: {quit: [q]}). Any key closes this page.")
	case m.showXfers:
		body = m.xfers.view()
	default:
		body = m.top().View()
	}
	body = fitBlock(body, sh.width, sh.height)
	if m.dlg != nil {
		body = fitBlock(lipgloss.Place(sh.width, sh.height, lipgloss.Center, lipgloss.Center, m.dlg.view(sh)), sh.width, sh.height)
	}
	status := m.status
	stStyle := st.Status
	if m.statusErr {
		stStyle = st.Error
	}
	if status == "" {
		status = m.hint()
	}
	footer := m.help.ShortHelpView(m.shortHelp())
	return m.header() + "\n" + body + "\n" + stStyle.Render(ansi.Truncate(status, sh.width, "…")) + "\n" +
		ansi.Truncate(footer, sh.width, "")
}

// hint is the status line when there is no message: counts and notes.
func (m *App) hint() string {
	if m.showXfers {
		return "x cancels the selected job, r retries a failed one"
	}
	switch s := m.top().(type) {
	case *tagsScreen:
		n := len(s.tags)
		more := ""
		if !s.done {
			more = "+ (more load as you scroll)"
		}
		return fmt.Sprintf("%d tags%s · %d inspected · sort: %s", n, more, len(s.verdicts),
			map[bool]string{true: "date", false: "name"}[s.byDate])
	case *reposScreen:
		if s.note != "" {
			return s.note
		}
		more := ""
		if !s.done {
			more = "+"
		}
		return fmt.Sprintf("%d repositories%s", len(s.repos), more)
	case *registriesScreen:
		return fmt.Sprintf("%d root(s) · config %s", len(s.rows)-1, tildePath(m.sh.cfgPath))
	}
	return ""
}

func (m *App) header() string {
	sh, st := m.sh, m.sh.st
	left := st.Title.Render("pf-registry")
	var crumbs []string
	for _, s := range m.stack {
		crumbs = append(crumbs, s.Title())
	}
	if m.showXfers {
		crumbs = append(crumbs, "transfers")
	}
	var right []string
	if m.busy() {
		right = append(right, m.spin.View())
	}
	if n := m.xfers.running(); n > 0 {
		done, total, _ := m.xfers.total()
		pct := ""
		if total > 0 {
			pct = fmt.Sprintf(" %d%%", done*100/total)
		}
		right = append(right, st.Info.Render(fmt.Sprintf("⇅ %d running%s", n, pct)))
	}
	if sh.regCfg.ReadOnly {
		right = append(right, st.Badge.Render("READ-ONLY"))
	}
	r := strings.Join(right, " ")
	room := sh.width - lipgloss.Width(left) - lipgloss.Width(r) - 2
	crumb := strings.Join(crumbs, " › ")
	if ansi.StringWidth(crumb) > room {
		crumb = ansi.TruncateLeft(crumb, ansi.StringWidth(crumb)-room+1, "…")
	}
	crumb = st.Crumb.Render(crumb)
	gap := max(sh.width-lipgloss.Width(left)-1-lipgloss.Width(crumb)-lipgloss.Width(r), 1)
	return left + " " + crumb + strings.Repeat(" ", gap) + r
}

func (m *App) shortHelp() []key.Binding {
	if m.dlg != nil {
		return m.dlg.keys(m.sh)
	}
	if m.showXfers {
		return m.xfers.shortHelp()
	}
	return m.top().ShortHelp()
}

func (m *App) fullHelp() [][]key.Binding {
	if m.showXfers {
		return m.xfers.fullHelp()
	}
	return m.top().FullHelp()
}

// fitBlock cuts s to n lines of at most w cells each.
func fitBlock(s string, w, n int) string {
	lines := strings.Split(clipLines(s, n), "\n")
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "…")
		}
	}
	return strings.Join(lines, "\n")
}

// clipLines cuts or pads s to exactly n lines.
func clipLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	for len(lines) < n {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
