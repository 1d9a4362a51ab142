package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"

	tea "charm.land/bubbletea/v2"

	"pf-registry/internal/termtext"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// Managing registries and the local store: delete (a dry run first, then a
// confirmation that names what goes, No by default), retag, mirror a
// repository or a root, and the local store's removals and gc. Deletions
// and mirrors are jobs (the transfers view shows them); every write key is
// off in read-only mode, with the engine's refusal as the reason.

// Job operations of management.
const (
	opDelete   = "delete"
	opSync     = "sync"
	opImagesRm = "images rm"
	opGC       = "gc"
)

// outcomeText is what the last run of a job did, written by the job's
// goroutine and read by Update once the job ended.
type outcomeText struct {
	mu sync.Mutex
	s  string
}

func (o *outcomeText) set(s string) { o.mu.Lock(); o.s = s; o.mu.Unlock() }
func (o *outcomeText) get() string  { o.mu.Lock(); defer o.mu.Unlock(); return o.s }

// opDoneMsg ends a short write run in a tea.Cmd rather than as a job
// (sign, retag, trust): the status line says how it went, and every screen
// hears what changed.
type opDoneMsg struct {
	text    string
	err     error
	changes []string          // locations written to
	moved   map[string]string // an image's old reference → its new one (IPFS)
	ring    *signing.Keyring  // the key store changed: its keyring, rebuilt
}

// runOp starts a short write in a tea.Cmd; the header's spinner turns
// until its opDoneMsg arrives.
func (sh *shared) runOp(status string, f func() opDoneMsg) tea.Cmd {
	sh.working++
	sh.infof("%s", status)
	return func() tea.Msg { return f() }
}

// deletion is one deletion as the UI runs it: a dry run, a question, then
// the job.
type deletion struct {
	op    string
	title string // the question
	yes   string // its yes button
	what  string // what goes, for the job list ("3 images under …")
	names map[string]string
	// changes are the locations written to (the references deleted).
	changes []string
	run     func(ctx context.Context, opt registry.DeleteOptions) (*registry.DeleteReport, error)
}

// deletePlan is a dry run's answer.
type deletePlan struct {
	rep *registry.DeleteReport
	err error
}

// ask runs the deletion dry (holding the keys meanwhile), then asks with
// its account, No by default; yes starts the real deletion, which works it
// out again.
func (d deletion) ask(sh *shared) tea.Cmd {
	return waitFor(sh, "Working out what "+strings.ToLower(d.yes)+" would remove…", func() tea.Msg {
		rep, err := d.run(sh.ctx, registry.DeleteOptions{DryRun: true})
		return deletePlan{rep: rep, err: err}
	}, func(msg tea.Msg) tea.Cmd {
		p := msg.(deletePlan)
		if p.err != nil {
			sh.fail(p.err)
			return nil
		}
		if len(p.rep.Images) == 0 && len(p.rep.Blobs) == 0 {
			why := "no blob is left that no image reaches"
			if len(p.rep.Kept) > 0 {
				why = "kept: " + d.kept(p.rep)
			}
			sh.infof("nothing to remove; %s", why)
			return nil
		}
		return confirm(sh, d.title, d.account(p.rep), d.yes, func() tea.Cmd { return start(sh, d.spec()) })
	})
}

// spec is the job that deletes for real.
func (d deletion) spec() jobSpec {
	out := &outcomeText{}
	return jobSpec{op: d.op, src: d.what, changes: d.changes, outcome: out.get,
		run: func(ctx context.Context, p func(registry.Event)) (*registry.Report, error) {
			rep, err := d.run(ctx, registry.DeleteOptions{Progress: func(ev registry.Event) {
				if ev.Kind == registry.KindBlob && ev.Role == "" {
					ev.Role = "unused blob" // the transfers view names blobs by role
				}
				p(ev)
			}})
			if rep != nil {
				out.set(deleteSummary(rep))
			}
			return nil, err
		}}
}

// account says what a dry run found would go: the images by name (a few),
// the blobs no remaining image reaches and their bytes, what the grace
// period keeps, and the backend's notes.
func (d deletion) account(rep *registry.DeleteReport) string {
	goes := fmt.Sprintf("%s no remaining image reaches (%s)", count(len(rep.Blobs), "blob"), nbsp(termtext.Bytes(rep.Bytes)))
	if n := len(rep.Images); n > 0 {
		var names []string
		for _, im := range rep.Images {
			name, ok := d.names[im.Ref]
			if !ok {
				name = safe(im.Ref)
			}
			if im.Leftover {
				name += " (leftovers only)"
			}
			names = append(names, name)
		}
		also := " and "
		if d.op == opDelete {
			also = ", " + map[bool]string{true: "its", false: "their"}[n == 1] + " signatures and "
		}
		goes = count(n, "image") + " (" + andMore(names, 4) + ")" + also + goes
	}
	parts := []string{"Goes: " + goes + "."}
	if n := len(rep.Kept); n > 0 {
		parts = append(parts, "Kept: "+d.kept(rep))
	}
	for _, n := range rep.Notes {
		parts = append(parts, "Note: "+safe(n))
	}
	return strings.Join(parts, "\n")
}

// kept says which unreached blobs the grace period keeps, and why.
func (d deletion) kept(rep *registry.DeleteReport) string {
	var size int64
	for _, b := range rep.Kept {
		size += b.Size
	}
	s := fmt.Sprintf("%s (%s) no image reaches, written less than %s ago: a push or pull in progress may need them.",
		count(len(rep.Kept), "blob"), nbsp(termtext.Bytes(size)), strings.TrimSuffix(strings.TrimSuffix(registry.DefaultGrace.String(), "0s"), "0m"))
	if d.op == opGC || d.op == opImagesRm {
		s += " `pf-registry gc --grace 0` removes them now."
	}
	return s
}

// nbsp keeps a size on one line when its text wraps.
func nbsp(s string) string { return strings.ReplaceAll(s, " ", "\u00a0") }

// deleteSummary is the log line of a finished deletion.
func deleteSummary(rep *registry.DeleteReport) string {
	return fmt.Sprintf("%s and %s removed, %s freed", count(len(rep.Images), "image"), count(len(rep.Blobs), "blob"), termtext.Bytes(rep.Bytes))
}

// andMore lists names, the first few of them: "a, b and 3 more".
func andMore(names []string, most int) string {
	switch {
	case len(names) == 0:
		return ""
	case len(names) > most:
		return strings.Join(names[:most], ", ") + " and " + itoa(len(names)-most) + " more"
	case len(names) == 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// deleteImages deletes images of registries (the marked ones, or the one
// selected): manifests and signatures first, then the blobs no remaining
// image reaches.
func deleteImages(sh *shared, ims []image) tea.Cmd {
	d := deletion{op: opDelete, yes: "Delete", names: map[string]string{}}
	for _, im := range ims {
		d.changes = append(d.changes, im.ref)
		d.names[im.ref] = im.name()
	}
	d.what, d.title = ims[0].ref, "Delete "+ims[0].name()+"?"
	if len(ims) > 1 {
		d.title = "Delete " + count(len(ims), "image") + "?"
		d.what = count(len(ims), "image")
		if ims[0].root != "" {
			d.what += " under " + ims[0].root
		}
	}
	refs := d.changes
	d.run = func(ctx context.Context, opt registry.DeleteOptions) (*registry.DeleteReport, error) {
		return deleteRefs(ctx, sh, refs, opt)
	}
	return d.ask(sh)
}

// deleteRefs deletes (or dry-runs) refs, one call per registry.
func deleteRefs(ctx context.Context, sh *shared, refs []string, opt registry.DeleteOptions) (*registry.DeleteReport, error) {
	return registry.DeleteAll(ctx, refs, sh.openRef, opt)
}

// localManager opens the local store's manager (inside tea.Cmds); cfg is
// the registry config as it was when the action began.
func localManager(sh *shared, cfg registry.Config) (*registry.Local, error) {
	st, err := sh.openStore()
	if err != nil {
		return nil, err
	}
	return registry.NewLocal(st, cfg), nil
}

// removeLocalImages removes images from the local store, then the blobs no
// remaining image reaches.
func removeLocalImages(sh *shared, ids []model.Digest) tea.Cmd {
	cfg := sh.regCfg
	d := deletion{op: opImagesRm, yes: "Remove", names: map[string]string{}, what: "local " + ids[0].Short(),
		title: "Remove " + ids[0].Short() + " from the local store?"}
	if len(ids) > 1 {
		d.what = count(len(ids), "local image")
		d.title = "Remove " + count(len(ids), "image") + " from the local store?"
	}
	for _, id := range ids {
		d.names[id.String()] = id.Short()
	}
	d.run = func(ctx context.Context, opt registry.DeleteOptions) (*registry.DeleteReport, error) {
		l, err := localManager(sh, cfg)
		if err != nil {
			return nil, err
		}
		return l.Remove(ctx, ids, opt)
	}
	return d.ask(sh)
}

// collectGarbage removes the local store's blobs that no image reaches.
func collectGarbage(sh *shared) tea.Cmd {
	cfg := sh.regCfg
	d := deletion{op: opGC, yes: "Collect", what: "local store " + tildePath(sh.storePath),
		title: "Collect the local store's garbage?"}
	d.run = func(ctx context.Context, opt registry.DeleteOptions) (*registry.DeleteReport, error) {
		l, err := localManager(sh, cfg)
		if err != nil {
			return nil, err
		}
		return l.GC(ctx, opt)
	}
	return d.ask(sh)
}

// retagImage asks for the new reference (in the same registry) and retags
// in a tea.Cmd, asking first (No by default) when it already holds an
// image.
func retagImage(sh *shared, im image) tea.Cmd {
	ask(sh, "Retag "+im.name()+" as", "a new reference in the same registry; blobs are not moved where the backend copies server side",
		safe(im.ref), func(dst string) (tea.Cmd, error) {
			d, err := registry.ParseRef(dst)
			if err != nil {
				return nil, err
			}
			s, err := registry.ParseRef(im.ref)
			if err != nil {
				return nil, err
			}
			switch {
			case d.Scheme != s.Scheme:
				return nil, fmt.Errorf("retag stays in one registry (%s): copy (%s) moves an image to another", s.Scheme, sh.keys.Copy.Help().Key)
			case dst == im.ref:
				return nil, fmt.Errorf("that is the image itself: give another tag")
			}
			return guardThen(sh, dst, im.ref, func() tea.Cmd { return retagCmd(sh, im.ref, dst) }), nil
		})
	return nil
}

func retagCmd(sh *shared, src, dst string) tea.Cmd {
	return sh.runOp("retagging "+src+" as "+dst+"…", func() opDoneMsg {
		reg, s, err := sh.openRef(src)
		if err != nil {
			return opDoneMsg{err: err}
		}
		_, d, err := sh.openRef(dst)
		if err != nil {
			return opDoneMsg{err: err}
		}
		rep, err := reg.Retag(sh.ctx, s, d)
		if err != nil {
			return opDoneMsg{err: err}
		}
		return opDoneMsg{text: fmt.Sprintf("retagged %s as %s (image %s, %s)", src, dst, rep.ImageID.Short(), count(rep.Blobs, "blob")),
			changes: []string{dst}}
	})
}

// syncFlow mirrors src (a root, or a repository named rel under its root)
// to another root: choose it, confirm the destination (the same name under
// it), then a dry run's account, No by default, then the job.
func syncFlow(sh *shared, src, srcRoot, rel string) tea.Cmd {
	roots := sh.otherRoots(srcRoot)
	if len(roots) == 0 {
		sh.infof("no other root to mirror to: add one on the registries screen (%s)", sh.keys.AddRoot.Help().Key)
		return nil
	}
	return pick(sh, "Mirror "+safe(src)+" to which root?", roots, func(i int) tea.Cmd {
		dst := roots[i]
		if r, err := registry.ParseRoot(dst); err == nil && rel != "" {
			if under, err := registry.RepoUnder(r, rel); err == nil {
				dst = under.Raw
			}
		}
		// Names come from the registry: the input shows them escaped.
		ask(sh, "Mirror "+safe(src)+" to", "the destination: each image goes under it with the same repository name and tag; "+
			"images already there are left alone", safe(dst), func(dst string) (tea.Cmd, error) {
			if _, err := registry.ParseRoot(dst); err != nil {
				return nil, err
			}
			if strings.TrimRight(dst, "/") == strings.TrimRight(src, "/") {
				return nil, fmt.Errorf("that is the source itself: give another destination")
			}
			return syncAsk(sh, src, dst), nil
		})
		return nil
	})
}

// syncPlanMsg is a dry-run sync's answer.
type syncPlanMsg struct {
	rep *registry.SyncReport
	err error
}

// syncAsk compares source and destination (a dry run, holding the keys),
// then asks with what would be copied.
func syncAsk(sh *shared, src, dst string) tea.Cmd {
	return waitFor(sh, "Comparing "+safe(src)+" with "+safe(dst)+"…", func() tea.Msg {
		rep, err := runSync(sh.ctx, sh, src, dst, registry.SyncOptions{DryRun: true})
		return syncPlanMsg{rep: rep, err: err}
	}, func(msg tea.Msg) tea.Cmd {
		p := msg.(syncPlanMsg)
		if p.err != nil {
			sh.fail(p.err)
			return nil
		}
		var missing []string
		for _, im := range p.rep.Images {
			if im.State == registry.SyncMissing {
				missing = append(missing, safe(strings.TrimPrefix(im.Destination, strings.TrimRight(dst, "/")+"/")))
			}
		}
		if len(missing) == 0 {
			sh.infof("%s already holds all %s of %s", safe(dst), count(p.rep.Present, "image"), safe(src))
			return nil
		}
		body := fmt.Sprintf("Copies %s (%d already there are left alone): %s.\n"+
			"Each is checked as a copy is (an image whose signature does not pass is refused, and named in the job's error); "+
			"blobs the destination has are not moved again, and running it again finishes an interrupted mirror.",
			count(len(missing), "image"), p.rep.Present, andMore(missing, 3))
		return confirm(sh, "Mirror "+safe(src)+" to "+safe(dst)+"?", body, "Mirror", func() tea.Cmd { return start(sh, syncSpec(sh, src, dst)) })
	})
}

func runSync(ctx context.Context, sh *shared, src, dst string, opt registry.SyncOptions) (*registry.SyncReport, error) {
	sreg, sref, err := sh.openRoot(src)
	if err != nil {
		return nil, err
	}
	dreg, dref, err := sh.openRoot(dst)
	if err != nil {
		return nil, err
	}
	return registry.Sync(ctx, sreg, sref, dreg, dref, opt)
}

func syncSpec(sh *shared, src, dst string) jobSpec {
	out := &outcomeText{}
	return jobSpec{op: opSync, src: src, dst: dst, outcome: out.get,
		run: func(ctx context.Context, p func(registry.Event)) (*registry.Report, error) {
			rep, err := runSync(ctx, sh, src, dst, registry.SyncOptions{TransferOptions: sh.transferOptions(p)})
			if rep != nil {
				out.set(fmt.Sprintf("%d copied, %d already there, %d failed: %s moved (%s), %d skipped",
					rep.Copied, rep.Present, rep.Failed, count(rep.Transferred, "blob"), termtext.Bytes(rep.Bytes), rep.Skipped))
			}
			return nil, err
		}}
}

// manageHelp is the help page's paragraph on signing and management.
func manageHelp(sh *shared) string {
	k := sh.keys
	return k.Delete.Help().Key + " deletes the marked images (or the selected one), " + k.GC.Help().Key +
		" collects the local store's garbage: each runs dry first, and the question names what goes and starts on No. " +
		k.Sign.Help().Key + " signs with a key of the key store (" + k.Keys.Help().Key + " on the registries screen, or `keys`); " +
		"its passphrase comes from " + envPassword + " or a dialog that never shows it. " + k.Retag.Help().Key +
		" retags in the same registry, " + k.Sync.Help().Key + " mirrors a repository or a root to another root, " +
		k.Usage.Help().Key + " (or `du`) shows what the local store's images occupy. "
}

// signRetagBindings sign and retag the image a screen selects (the first
// of a selection).
func signRetagBindings(sh *shared, sel func() []image, where string) []binding {
	k := sh.keys
	one := func(f func(*shared, image) tea.Cmd) func() tea.Cmd {
		return func() tea.Cmd {
			if ims := sel(); len(ims) > 0 {
				return f(sh, ims[0])
			}
			return nil
		}
	}
	return []binding{
		bind(&k.Sign, groupManage, true, one(signImage)).unless(sh.writeOff(where)),
		bind(&k.Retag, groupManage, false, one(retagImage)).unless(sh.writeOff(where)),
	}
}
