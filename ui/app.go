package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"pf-registry/registry"
	"pf-registry/themes"
)

// chromeLines is the header, status and footer lines around the body.
const chromeLines = 3

// quitWait bounds how long quitting waits for cancelled jobs to clean up
// their staging files.
const quitWait = 10 * time.Second

// App is the root model: it routes messages to the active screen and the
// overlays (transfers, help, dialogs), and draws the header, status line
// and footer. It knows screens only through the screen contract.
type App struct {
	sh        *shared
	stack     []screen
	overlays  []overlay
	xfers     *transfers
	spin      spinner.Model
	spinning  bool
	themeName string
	quitting  bool
	quitAsk   overlay // the open quit question, if any
	held      []tea.KeyPressMsg
	termW     int
	termH     int
}

func (m *App) top() screen { return m.stack[len(m.stack)-1] }

func (m *App) topOverlay() overlay {
	if len(m.overlays) == 0 {
		return nil
	}
	return m.overlays[len(m.overlays)-1]
}

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
	m.spin.Style = st.Spinner
}

func (m *App) busy() bool {
	for _, s := range m.stack {
		if s.Busy() {
			return true
		}
	}
	return m.xfers.running() > 0 || m.sh.working > 0
}

// Update routes one message, then takes the overlays and jobs it opened,
// so keys that follow reach them, and hands on the keys held for a list
// whose first rows this message brought.
func (m *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmds := append([]tea.Cmd{m.update(msg)}, m.flush()...)
	cmds = append(cmds, m.replay()...)
	m.prune()
	if !m.spinning && m.busy() && !m.quitting {
		m.spinning = true
		cmds = append(cmds, m.spin.Tick)
	}
	return m, tea.Batch(cmds...)
}

// flush takes the screens, overlays and jobs that handling a message
// opened.
func (m *App) flush() []tea.Cmd {
	var cmds []tea.Cmd
	for len(m.sh.pending) > 0 || len(m.sh.jobs) > 0 || len(m.sh.screens) > 0 {
		screens := m.sh.screens
		m.sh.screens = nil
		for _, s := range screens {
			cmds = append(cmds, m.push(s))
		}
		m.overlays = append(m.overlays, m.sh.pending...)
		m.sh.pending = nil
		jobs := m.sh.jobs
		m.sh.jobs = nil
		for _, j := range jobs {
			cmds = append(cmds, m.xfers.start(j))
		}
	}
	return cmds
}

// maxHeld bounds the keys held for a loading screen.
const maxHeld = 16

// holding reports whether keys wait for the top screen's first rows.
func (m *App) holding() bool {
	h, ok := m.top().(keyHolder)
	return ok && h.holdsKeys() && m.topOverlay() == nil
}

// replay hands the held keys on once the top screen can act on them; a
// key that opens another screen still loading leaves the rest held for it.
func (m *App) replay() []tea.Cmd {
	var cmds []tea.Cmd
	for len(m.held) > 0 && !m.holding() && !m.quitting {
		k := m.held[0]
		m.held = m.held[1:]
		m.prune()
		cmds = append(cmds, m.key(k))
		cmds = append(cmds, m.flush()...)
	}
	return cmds
}

// prune drops closed overlays.
func (m *App) prune() {
	keep := m.overlays[:0]
	for _, o := range m.overlays {
		if !o.closed() {
			keep = append(keep, o)
		}
	}
	m.overlays = keep
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
		m.sh.notify(msg.text, msg.err)
		return nil
	case overlayMsg:
		for _, o := range m.overlays {
			if o == msg.o && !o.closed() {
				return o.update(msg.msg)
			}
		}
		return nil
	case resolvedMsg:
		if msg.err != nil {
			m.sh.fail(msg.err)
			return nil
		}
		return m.push(msg.s)
	case pushScreenMsg:
		return m.push(msg.s)
	case replaceScreenMsg:
		m.top().close()
		m.stack[len(m.stack)-1] = msg.s
		return m.startScreen(msg.s)
	case startJobMsg, jobProgressMsg, jobDoneMsg, jobTickMsg:
		return m.xfers.update(msg)
	case jobEndedMsg:
		for _, w := range append([]string{msg.dst}, msg.changes...) {
			if msg.wrote(w) {
				m.sh.lineages.forgetUnder(w) // the tree under it changed
			}
		}
		return m.broadcast(msg)
	case rootsChangedMsg, removeRootMsg:
		return m.broadcast(msg)
	case opDoneMsg:
		return m.opDone(msg)
	case quitMsg:
		return m.quit()
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
		m.sh.showStatus = false
		return m.key(msg)
	case tea.PasteMsg:
		if o := m.topOverlay(); o != nil {
			return o.update(msg)
		}
		return m.toTop(msg)
	case tea.MouseClickMsg:
		return m.mouse(msg, msg.Mouse())
	case tea.MouseWheelMsg:
		return m.mouse(msg, msg.Mouse())
	}
	return nil
}

func (m *App) push(s screen) tea.Cmd {
	m.stack = append(m.stack, s)
	m.overlays = nil
	m.sh.showStatus = false
	return m.startScreen(s)
}

// startScreen starts a new screen's loading and gives it the size.
func (m *App) startScreen(s screen) tea.Cmd {
	cmd := s.Init()
	_, sized := s.Update(tea.WindowSizeMsg{Width: m.termW, Height: m.termH})
	return tea.Batch(cmd, sized)
}

func (m *App) toTop(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	m.stack[len(m.stack)-1], cmd = m.top().Update(msg)
	return cmd
}

func (m *App) resize(w, h int) {
	m.termW, m.termH = w, h
	m.sh.width = w
	m.sh.height = max(h-chromeLines, 1)
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
	m.top().close()
	m.stack = m.stack[:len(m.stack)-1]
	m.sh.showStatus = false
}

// quit cancels running jobs and waits (bounded) until they have cleaned
// up, then ends the program.
func (m *App) quit() tea.Cmd {
	m.quitting = true
	var wait []chan struct{}
	for _, j := range m.xfers.jobs {
		if j.state == jobRunning {
			j.state = jobCancelled
			j.cancel()
			wait = append(wait, j.done)
		}
	}
	if len(wait) == 0 {
		return tea.Quit
	}
	m.sh.infof("cancelling %d transfer(s) and removing their staging files…", len(wait))
	return func() tea.Msg {
		deadline := time.After(quitWait)
		for _, d := range wait {
			select {
			case <-d:
			case <-deadline:
				return tea.QuitMsg{}
			}
		}
		return tea.QuitMsg{}
	}
}

// askQuit quits, asking first (No by default) while transfers run.
func (m *App) askQuit() tea.Cmd {
	n := m.xfers.running()
	if n == 0 {
		return m.quit()
	}
	confirm(m.sh, "Quit?", fmt.Sprintf("%d transfer(s) still running. Quit and cancel them?", n), "Quit",
		func() tea.Cmd { return emit(quitMsg{}) })
	m.quitAsk = m.sh.pending[len(m.sh.pending)-1]
	return nil
}

// opDone reports a short write and tells every screen what it changed; a
// changed key store's keyring is put in force first.
func (m *App) opDone(msg opDoneMsg) tea.Cmd {
	sh := m.sh
	sh.working--
	if msg.err != nil {
		sh.fail(msg.err)
	} else {
		sh.infof("%s", msg.text)
	}
	if msg.ring != nil {
		sh.setKeyring(msg.ring)
		sh.lineages.forgetAll() // the trees carry verdicts
	}
	for _, w := range msg.changes {
		sh.lineages.forgetUnder(w)
	}
	return m.broadcast(msg)
}

// globalBindings are the keys every context has.
func (m *App) globalBindings() []binding {
	k := m.sh.keys
	return []binding{
		bind(&k.Back, groupView, false, m.back),
		bind(&k.Command, groupApp, true, func() tea.Cmd { return m.command("") }),
		bind(&k.OpenRef, groupApp, false, func() tea.Cmd { return m.command(m.top().Prefill()) }),
		bind(&k.Transfers, groupApp, true, m.showTransfers),
		bind(&k.Notifications, groupApp, false, m.showNotes),
		bind(&k.Help, groupApp, true, m.showHelp),
		bind(&k.Quit, groupApp, true, m.askQuit),
	}
}

// back clears a filter first, then leaves the screen.
func (m *App) back() tea.Cmd {
	if !m.top().ClearFilter() {
		m.pop()
	}
	return nil
}

func (m *App) showTransfers() tea.Cmd {
	if !m.closeIfTop("transfers") {
		m.sh.open(&transfersPage{t: m.xfers})
	}
	return nil
}

// closeIfTop closes the top page when it is the one named: the key that
// opened a page closes it.
func (m *App) closeIfTop(crumb string) bool {
	o := m.topOverlay()
	if o == nil || o.crumb() != crumb {
		return false
	}
	if c, ok := o.(interface{ close() }); ok {
		c.close()
	}
	return true
}

func (m *App) showNotes() tea.Cmd {
	if !m.closeIfTop("Messages") {
		m.sh.open(notesPage(m.sh))
	}
	return nil
}

func (m *App) showHelp() tea.Cmd {
	if m.closeIfTop("Keys") {
		return nil
	}
	st := m.sh.st
	var bs []binding
	if o := m.topOverlay(); o != nil {
		bs = o.bindings()
	} else {
		bs = m.top().Bindings()
	}
	bs = append(bs, m.globalBindings()...)
	text := fullHelpView(m.sh, bs) + "\n\n" + st.Muted.Render(wrap(
		"Signature column: ✔ trusted · ~ untrusted-key (a key you do not trust) · ✓ valid (your key) · "+
			"! default-key (the public key: anyone can sign) · ✗ invalid · ? missing · … not checked. "+
			"Registries: ◆ is the local store, › a root given on the command line; CREDENTIALS is how the backend "+
			"authenticates, SIGNING KEY the key it verifies and signs with (PF_<BACKEND>_REG_SIGN_KEY, else the public default key). "+
			insideHelp(m.sh)+manageHelp(m.sh)+
			"Keys can be remapped in "+tildePath(m.sh.cfgPath)+" (keys: {quit: [q]}).", m.sh.width))
	m.sh.open(newTextPage(m.sh, "Keys", strings.Split(text, "\n")))
	return nil
}

// command opens the go-to bar.
func (m *App) command(prefill string) tea.Cmd {
	words := append(append([]string{}, commandWords...), m.sh.allRoots()...)
	for _, r := range m.sh.allRoots() {
		words = append(words, "tree "+r)
	}
	m.sh.open(newCommandBar(m.sh, prefill, words, m.goTo))
	return nil
}

// goTo acts on what the go-to bar was given.
func (m *App) goTo(v string) (tea.Cmd, error) {
	switch v {
	case "q", "quit":
		return m.askQuit(), nil
	case "help":
		return m.showHelp(), nil
	case "transfers":
		return m.showTransfers(), nil
	case "messages", "log":
		return m.showNotes(), nil
	case "store":
		return m.push(newLocalScreen(m.sh)), nil
	case "keys":
		return m.push(newKeysScreen(m.sh)), nil
	case "du", "usage":
		return m.push(newUsageScreen(m.sh)), nil
	case "registries", "home":
		for len(m.stack) > 1 {
			m.pop()
		}
		return nil, nil
	case "tree":
		return nil, errTreeRoot
	}
	if root, ok := strings.CutPrefix(v, "tree "); ok {
		return treeOf(m.sh, strings.TrimSpace(root))
	}
	if _, err := registry.ParseRoot(v); err != nil {
		return nil, err
	}
	return waitFor(m.sh, "Opening "+v+"…", resolve(m.sh, v), func(msg tea.Msg) tea.Cmd { return emit(msg) }), nil
}

func (m *App) key(msg tea.KeyPressMsg) tea.Cmd {
	// A quit key that types no text (ctrl+c) works everywhere, even in
	// inputs and dialogs; pressed again while asking, it quits at once.
	if key.Matches(msg, m.sh.keys.Quit) && msg.Text == "" {
		if m.quitAsk != nil && !m.quitAsk.closed() {
			return m.quit()
		}
		return m.askQuit()
	}
	if m.holding() {
		// Leaving or quitting acts at once and drops what was typed ahead.
		if key.Matches(msg, m.sh.keys.Back, m.sh.keys.Quit) {
			m.held = nil
		} else {
			if len(m.held) < maxHeld {
				m.held = append(m.held, msg)
			}
			return nil
		}
	}
	if o := m.topOverlay(); o != nil {
		if cmd, ok := dispatch(o.bindings(), msg, m.sh); ok {
			return cmd
		}
		if o.modal() {
			return o.input(msg)
		}
		if cmd, ok := dispatch(m.globalBindings(), msg, m.sh); ok {
			return cmd
		}
		return o.input(msg)
	}
	top := m.top()
	if top.Capturing() {
		return m.toTop(msg)
	}
	if cmd, ok := dispatch(top.Bindings(), msg, m.sh); ok {
		return cmd
	}
	cmd, _ := dispatch(m.globalBindings(), msg, m.sh)
	return cmd
}

// mouse routes clicks and the wheel to the top overlay or the screen, in
// body coordinates.
func (m *App) mouse(msg tea.Msg, mo tea.Mouse) tea.Cmd {
	y := mo.Y - 1 // header line
	switch v := msg.(type) {
	case tea.MouseClickMsg:
		v.Y = y
		msg = v
	case tea.MouseWheelMsg:
		v.Y = y
		msg = v
	}
	if o := m.topOverlay(); o != nil {
		return o.update(msg)
	}
	if y < 0 || y >= m.sh.height {
		return nil
	}
	return m.toTop(msg)
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
	body := fitBlock(m.top().View(), sh.width, sh.height)
	for _, o := range m.overlays {
		body = fitBlock(o.render(sh, body), sh.width, sh.height)
	}
	line, style := m.hint(), st.Status
	if n, ok := sh.status(); ok {
		line, style = n.text, st.Status
		if n.err {
			style = st.Error
			line += "  (" + sh.keys.Notifications.Help().Key + ": messages)"
		}
	}
	line = strings.Join(strings.Fields(line), " ")
	return m.header() + "\n" + body + "\n" + style.Render(ansi.Truncate(line, sh.width, "…")) + "\n" + m.footer()
}

// hint is the status line when there is no message.
func (m *App) hint() string {
	if o := m.topOverlay(); o != nil && o.hint() != "" {
		return o.hint()
	}
	return m.top().Hint()
}

func (m *App) footer() string {
	k := m.sh.keys
	tail := []binding{{key: &k.Help}, {key: &k.Quit}}
	if o := m.topOverlay(); o != nil {
		if o.modal() {
			return shortHelpView(m.sh, o.bindings(), nil)
		}
		return shortHelpView(m.sh, o.bindings(), tail)
	}
	return shortHelpView(m.sh, append(m.top().Bindings(), m.globalBindings()[:4]...), tail)
}

func (m *App) header() string {
	sh, st := m.sh, m.sh.st
	left := st.Title.Render("pf-registry")
	var crumbs []string
	for _, s := range m.stack {
		crumbs = append(crumbs, s.Title())
	}
	for _, o := range m.overlays {
		if c := o.crumb(); c != "" {
			crumbs = append(crumbs, c)
		}
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
	if n := m.xfers.unseen; n > 0 {
		right = append(right, st.Error.Render(fmt.Sprintf("✗ %d failed", n)))
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
	return ansi.Truncate(left+" "+crumb+strings.Repeat(" ", gap)+r, sh.width, "")
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
