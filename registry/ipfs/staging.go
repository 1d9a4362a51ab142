package ipfs

import (
	"context"
	"errors"
	"path"
	"strconv"
	"strings"
	"time"

	"pf-registry/internal/crashpoint"
	"pf-registry/internal/fault"
	"pf-registry/internal/stale"
)

// staleStaging is the age after which a staging directory is taken to
// belong to an interrupted push, whichever host staged it.
const staleStaging = 24 * time.Hour

// abandonTimeout bounds the removal of a failed push's staging directory,
// which runs after the push's own context may have been cancelled.
const abandonTimeout = 10 * time.Second

// A push gives its directory a name in two steps, each one MFS call (MFS
// cannot replace a directory in one): the pinned staging directory is
// renamed to a ready name that says which name it is for, ready:<repo>:
// <tag>:<staging name> (the switch is decided), then the old entry is
// removed and the ready directory moved to the name. A push killed before
// the first step leaves the old image; after it, a reader that finds the
// name missing reads the newest ready directory for it, and the next push
// (to any name) finishes the move.
const readyPrefix = "ready:"

func readyName(t target, staging string) string {
	return readyPrefix + t.repo + ":" + t.tag + ":" + path.Base(staging)
}

// readyTarget reads the name a ready directory is for, and its staging
// name.
func readyTarget(name string) (target, string, bool) {
	f := strings.Split(name, ":")
	if len(f) != 4 || f[0]+":" != readyPrefix || !validName(f[1]) || !validName(f[2]) {
		return target{}, "", false
	}
	return target{raw: f[1] + ":" + f[2], repo: f[1], tag: f[2]}, f[3], true
}

// stagedAt is the creation time a staging name starts with.
func stagedAt(name string) (time.Time, bool) {
	created, _, ok := strings.Cut(name, "-")
	sec, err := strconv.ParseInt(created, 10, 64)
	return time.Unix(sec, 0), ok && err == nil
}

// abandoned reports whether the push that staged name is over: its
// process ended (on this host), or it is older than staleStaging.
func abandoned(name string) bool {
	created, ok := stagedAt(name)
	if !ok {
		return false
	}
	_, owner, _ := strings.Cut(name, "-")
	return stale.Abandoned(owner, created) || time.Since(created) >= staleStaging
}

// switchName is the switch of a named push: ready, then named; hash is
// the CID of the staged directory.
func (s *sink) switchName(ctx context.Context, hash string) error {
	s.mu.Lock()
	staging, decided := s.staging, s.decided
	s.mu.Unlock()
	if !decided {
		ready, err := s.b.makeReady(ctx, staging, s.t)
		if err != nil {
			return err
		}
		// Decided: from here on a failure leaves the ready directory for
		// readers and the next push, and a retried commit writes into it.
		s.mu.Lock()
		s.staging, s.decided = ready, true
		s.mu.Unlock()
		staging = ready
	}
	err := s.b.name(ctx, staging, s.t)
	if errors.Is(err, fault.ErrNotFound) {
		// Another push found this directory already at the name and
		// removed the ready entry (dropStaleStaging): the switch is done.
		var st struct{ Hash string }
		if s.b.c.callJSON(ctx, "files/stat", args("arg", s.t.indexPath()), nil, &st) == nil && st.Hash == hash {
			return nil
		}
	}
	return err
}

// install moves a pinned staging directory to the name t: ready, then
// named.
func (b *Backend) install(ctx context.Context, staging string, t target) error {
	ready, err := b.makeReady(ctx, staging, t)
	if err != nil {
		return err
	}
	return b.name(ctx, ready, t)
}

// makeReady renames a staging directory to its ready name for t: the
// switch is decided.
func (b *Backend) makeReady(ctx context.Context, staging string, t target) (string, error) {
	ready := stagingRoot + "/" + readyName(t, staging)
	if err := b.c.callJSON(ctx, "files/mv", args("arg", staging, "arg", ready), nil, nil); err != nil {
		return "", err
	}
	crashpoint.Step("ipfs.ready")
	return ready, nil
}

// name moves a ready directory to its name.
func (b *Backend) name(ctx context.Context, ready string, t target) error {
	dest := t.indexPath()
	if err := b.c.callJSON(ctx, "files/mkdir", args("arg", path.Dir(dest), "parents", "true"), nil, nil); err != nil {
		return err
	}
	// force: also succeeds when the name is new.
	if err := b.c.callJSON(ctx, "files/rm", args("arg", dest, "force", "true"), nil, nil); err != nil {
		return err
	}
	crashpoint.Step("ipfs.unlinked")
	if err := b.c.callJSON(ctx, "files/mv", args("arg", ready, "arg", dest), nil, nil); err != nil {
		return err
	}
	crashpoint.Step("ipfs.named")
	b.dropNamedReady(ctx, ready, t)
	return nil
}

// dropNamedReady removes a ready directory that is still listed once its
// directory is at the name. Under concurrent MFS edits of the staging
// directory the daemon has been seen to keep the moved entry there too;
// the copy is finished work (the same CID as the name), so it goes.
func (b *Backend) dropNamedReady(ctx context.Context, ready string, t target) {
	var r, n struct{ Hash string }
	if b.c.callJSON(ctx, "files/stat", args("arg", ready), nil, &r) != nil {
		return
	}
	if b.c.callJSON(ctx, "files/stat", args("arg", t.indexPath()), nil, &n) == nil && n.Hash == r.Hash {
		_ = b.c.callJSON(ctx, "files/rm", args("arg", ready, "recursive", "true", "force", "true"), nil, nil)
	}
}

// pendingSwitch returns the directory of the newest ready directory for
// t, if any: the image a killed push decided to name t.
func (b *Backend) pendingSwitch(ctx context.Context, t target) (cid string, ok bool, err error) {
	entries, err := b.filesLs(ctx, stagingRoot)
	if errors.Is(err, fault.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	best := ""
	for _, e := range entries {
		if rt, _, isReady := readyTarget(e.Name); isReady && rt == t && e.Type == 1 && e.Name > best {
			best, cid = e.Name, e.Hash
		}
	}
	return cid, best != "", nil
}

// dropReady removes the ready directories for t.
func (b *Backend) dropReady(ctx context.Context, t target) error {
	entries, err := b.filesLs(ctx, stagingRoot)
	if errors.Is(err, fault.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if rt, _, ok := readyTarget(e.Name); ok && rt == t {
			if err := b.c.callJSON(ctx, "files/rm", args("arg", stagingRoot+"/"+e.Name, "recursive", "true", "force", "true"), nil, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropStaleStaging finishes the switches killed pushes decided, and
// removes staging directories of interrupted pushes (their blobs would
// otherwise stay referenced from MFS and never be collected). Best effort:
// a failure here must not stop a push.
func (b *Backend) dropStaleStaging(ctx context.Context) {
	entries, err := b.filesLs(ctx, stagingRoot)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := stagingRoot + "/" + e.Name
		t, staged, ready := readyTarget(e.Name)
		if !ready {
			if abandoned(e.Name) {
				_ = b.c.callJSON(ctx, "files/rm", args("arg", p, "force", "true"), nil, nil)
			}
			continue
		}
		// One already at its name is a leftover entry (see dropNamedReady).
		// Otherwise a live writer finishes its own switch (moving its
		// directory meanwhile would fail the writer's move; readers find
		// it through pendingSwitch). A gone writer's switch is finished
		// here, but one older than staleStaging whose name exists is left
		// undone (other writers may have named newer images since).
		var st struct{ Hash string }
		err := b.c.callJSON(ctx, "files/stat", args("arg", t.indexPath()), nil, &st)
		created, _ := stagedAt(staged)
		switch {
		case err == nil && st.Hash == e.Hash:
			_ = b.c.callJSON(ctx, "files/rm", args("arg", p, "recursive", "true", "force", "true"), nil, nil)
		case !abandoned(staged):
		case errors.Is(err, fault.ErrNotFound), err == nil && time.Since(created) < staleStaging:
			_ = b.name(ctx, p, t)
		case err == nil:
			_ = b.c.callJSON(ctx, "files/rm", args("arg", p, "force", "true"), nil, nil)
		}
	}
}

// stage creates the staging directory on first use, so that a push that
// fails before its first blob (a source whose signature does not verify)
// leaves nothing in MFS. After a failure it returns that failure: the push
// is over.
func (s *sink) stage(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return s.failed
	}
	if s.staged {
		return nil
	}
	if err := s.b.c.callJSON(ctx, "files/mkdir", args("arg", s.staging, "parents", "true"), nil, nil); err != nil {
		return err
	}
	s.staged = true
	return nil
}

// watch abandons the push when ctx (the push's, or the copy's) is
// cancelled before Commit: an interrupted transfer stops between two blobs
// without a failing one.
func (s *sink) watch(ctx context.Context) {
	s.stopWatch = context.AfterFunc(ctx, func() { _ = s.abandon(ctx, ctx.Err()) })
}

// fail ends the push after a blob failed, unless the failure may pass:
// the engine tries that blob again, and tells Abort if it gives up.
func (s *sink) fail(ctx context.Context, err error) error {
	if errors.Is(err, fault.ErrTransient) {
		return err
	}
	return s.abandon(ctx, err)
}

// Abort implements registry.Aborter: the transfer failed, so the staging
// directory goes.
func (s *sink) Abort(ctx context.Context, err error) { _ = s.abandon(ctx, err) }

// abandon removes the staging directory after a blob failed (the engine
// commits nothing then) and returns err. Later blobs of the push get err
// too, so that whichever reaches the engine first names the cause.
func (s *sink) abandon(ctx context.Context, err error) error {
	s.mu.Lock()
	if s.failed == nil {
		s.failed = err
	}
	staged := s.staged && !s.decided // a decided switch is left to finish
	s.staged = false
	s.mu.Unlock()
	if staged {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonTimeout)
		defer cancel()
		_ = s.b.c.callJSON(ctx, "files/rm", args("arg", s.staging, "recursive", "true", "force", "true"), nil, nil)
	}
	return err
}
