package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"pf-registry/demo"
	"pf-registry/registry"
	_ "pf-registry/registry/file"
	_ "pf-registry/registry/oci"
	"pf-registry/store"
)

// The tests run in a temporary working directory holding one demo registry
// (generated once, deterministic), so that roots are the short relative
// reference "file://demo" and rendered frames do not depend on the
// machine's temp path.
const demoRoot = "file://demo"

// fixedNow is the clock of every test model.
var fixedNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// demoKey signs the demo images, so verdicts show valid / invalid /
// missing rather than default-key.
const demoKey = "ui-test-signing-key"

var demoResult *demo.Result

func TestMain(m *testing.M) {
	if os.Getenv(e2eChildEnv) == "1" {
		os.Exit(runE2EChild())
	}
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pf-ui-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	pkg, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Golden files stay in the package's testdata.
	if err := os.MkdirAll(filepath.Join(pkg, "testdata"), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.Symlink(filepath.Join(pkg, "testdata"), filepath.Join(dir, "testdata")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.Chdir(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv("PF_FILE_REG_SIGN_KEY", demoKey)
	os.Unsetenv("NO_COLOR")
	// An empty registry to copy to.
	if err := os.MkdirAll("mirror", 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Fixed demo keys (the demo reuses keys it finds), so that frames
	// show the same fingerprints on every run.
	if err := copyKeys(filepath.Join("demo", ".pf-demo-keys", "keys"), "demo", "demo-colleague"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	demoResult, err = demo.Generate("demo")
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo registry:", err)
		return 1
	}
	// Fixed modification times: the file backend reports them as the
	// tags' update time.
	for _, repo := range demo.Layout() {
		for i, tag := range repo.Tags {
			p := filepath.Join("demo", filepath.FromSlash(repo.Name), tag.Name, "manifest.json")
			tm := tag.Spec.Created.Add(time.Duration(i) * time.Minute)
			if err := os.Chtimes(p, tm, tm); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
	}
	return m.Run()
}

// copyKeys copies the named test keys (private and public) into dir.
func copyKeys(dir string, names ...string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, n := range names {
		for _, ext := range []string{".key", ".pub"} {
			b, err := os.ReadFile(filepath.Join("testdata", "keys", n+ext))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, n+ext), b, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// harness drives a Model like the Bubble Tea runtime does: it runs the
// returned commands in goroutines and feeds their messages back, without a
// terminal. Spinner and job ticks are dropped so that a test ends.
type harness struct {
	t    testing.TB
	m    *App
	msgs chan tea.Msg
	w, h int
	// now is the model's clock; tests move it forward.
	now time.Time
	dir string
	// quit is set when the program asked to end (tea.QuitMsg).
	quit bool
}

type harnessOpt func(*Options)

func newHarness(t testing.TB, w, h int, opts ...harnessOpt) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	// Relative paths: frames show them, so they must not depend on the
	// machine's temp directory.
	dir := filepath.Join("t", strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	o := Options{
		Roots:      []string{demoRoot},
		StorePath:  filepath.Join(dir, "store"),
		ConfigPath: filepath.Join(dir, "config.yaml"),
		Theme:      "dark",
	}
	hs := &harness{t: t, msgs: make(chan tea.Msg, 1024), w: w, h: h, now: fixedNow, dir: dir}
	o.Now = func() time.Time { return hs.now }
	for _, f := range opts {
		f(&o)
	}
	m, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	hs.m = m
	hs.exec(m.Init())
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	return hs
}

func withTheme(name string) harnessOpt { return func(o *Options) { o.Theme = name } }
func withReadOnly() harnessOpt         { return func(o *Options) { o.ReadOnly = true } }
func withRoots(r ...string) harnessOpt { return func(o *Options) { o.Roots = r } }

// exec runs a command (and batches) in the background.
func (h *harness) exec(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if msg == nil {
			return
		}
		h.msgs <- msg
	}()
}

// send delivers a message synchronously and schedules its commands.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			h.exec(c)
		}
		return
	}
	switch msg.(type) {
	case spinner.TickMsg, jobTickMsg:
		return
	case tea.QuitMsg:
		h.quit = true
		return
	}
	_, cmd := h.m.Update(msg)
	h.exec(cmd)
}

// key sends key presses, given as Bubble Tea key strings.
func (h *harness) key(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

// namedKeys are the keys that are not one printable rune.
var namedKeys = map[string]tea.KeyPressMsg{
	"enter": {Code: tea.KeyEnter}, "esc": {Code: tea.KeyEscape}, "tab": {Code: tea.KeyTab}, "shift+tab": {Code: tea.KeyTab, Mod: tea.ModShift},
	"up": {Code: tea.KeyUp}, "down": {Code: tea.KeyDown}, "left": {Code: tea.KeyLeft}, "right": {Code: tea.KeyRight},
	"backspace": {Code: tea.KeyBackspace}, "pgdown": {Code: tea.KeyPgDown}, "pgup": {Code: tea.KeyPgUp},
	"home": {Code: tea.KeyHome}, "end": {Code: tea.KeyEnd}, "space": {Code: tea.KeySpace, Text: " "},
	"ctrl+c": {Code: 'c', Mod: tea.ModCtrl}, "ctrl+y": {Code: 'y', Mod: tea.ModCtrl},
	"ctrl+r": {Code: 'r', Mod: tea.ModCtrl}, "ctrl+u": {Code: 'u', Mod: tea.ModCtrl},
	"ctrl+b": {Code: 'b', Mod: tea.ModCtrl}, "ctrl+f": {Code: 'f', Mod: tea.ModCtrl},
	"ctrl+d": {Code: 'd', Mod: tea.ModCtrl},
}

func keyMsg(k string) tea.KeyPressMsg {
	if m, ok := namedKeys[k]; ok {
		return m
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("keyMsg: unknown key " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// settle feeds background results until cond holds (or fails the test).
func (h *harness) settle(what string, cond func(m *App) bool) {
	h.t.Helper()
	deadline := time.After(20 * time.Second)
	poll := time.NewTicker(20 * time.Millisecond) // conditions on files
	defer poll.Stop()
	for !cond(h.m) {
		select {
		case msg := <-h.msgs:
			h.send(msg)
		case <-poll.C:
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s; screen:\n%s", what, h.plain())
		}
	}
}

// drain feeds results until nothing arrives for a short while.
func (h *harness) drain() {
	h.t.Helper()
	for {
		select {
		case msg := <-h.msgs:
			h.send(msg)
		case <-time.After(150 * time.Millisecond):
			return
		}
	}
}

func (h *harness) view() string  { return h.m.View().Content }
func (h *harness) plain() string { return ansi.Strip(h.view()) }

func (h *harness) contains(s string) bool { return strings.Contains(h.plain(), s) }

func (h *harness) requireContains(parts ...string) {
	h.t.Helper()
	p := h.plain()
	for _, s := range parts {
		if !strings.Contains(p, s) {
			h.t.Fatalf("screen lacks %q:\n%s", s, p)
		}
	}
}

func (h *harness) top() screen { return h.m.top() }

func topIs[T screen](m *App) bool {
	_, ok := m.top().(T)
	return ok
}

// idle reports that nothing loads in the background.
func idle(m *App) bool { return !m.busy() }

// press sends the first key of a binding, named as in the config file.
func (h *harness) press(name string) {
	h.t.Helper()
	b, ok := h.m.sh.keys.byName()[name]
	if !ok || len(b.Keys()) == 0 {
		h.t.Fatalf("no binding named %q", name)
	}
	h.send(keyMsg(b.Keys()[0]))
}

// typeText types each rune of s, without waiting in between.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(keyMsg(string(r)))
	}
}

// lines is the rendered frame, plain, one entry per terminal line.
func (h *harness) lines() []string { return strings.Split(h.plain(), "\n") }

// statusLine is the line under the body.
func (h *harness) statusLine() string { l := h.lines(); return l[len(l)-2] }

// footerLine is the last line (the short help).
func (h *harness) footerLine() string { l := h.lines(); return l[len(l)-1] }

// dialogOpen reports an overlay of type T on top.
func dialogOpen[T overlay](m *App) bool {
	_, ok := m.topOverlay().(T)
	return ok
}

// anyOverlay reports that something is over the screens.
func anyOverlay(m *App) bool { return m.topOverlay() != nil }

// lastNote is the newest message of the history.
func lastNote(m *App) note {
	if len(m.sh.notes) == 0 {
		return note{}
	}
	return m.sh.notes[len(m.sh.notes)-1]
}

// typeInto replaces the text of the open input (dialog or go-to bar) by
// typing: clear, then the runes.
func (h *harness) typeInto(s string) {
	h.t.Helper()
	h.press("clear_input")
	h.typeText(s)
}

// pullIntoStore pulls raw (a demo reference) into the harness's local
// store, as the app would have.
func (h *harness) pullIntoStore(raw string) {
	h.t.Helper()
	st, err := store.Open(filepath.Join(h.dir, "store"))
	if err != nil {
		h.t.Fatal(err)
	}
	reg, ref, err := registry.ForRef(raw, registry.Config{})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := reg.Pull(h.t.Context(), ref, st, registry.TransferOptions{}); err != nil {
		h.t.Fatal(err)
	}
}
