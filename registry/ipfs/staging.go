package ipfs

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"pf-registry/internal/fault"
)

// staleStaging is the age after which a staging directory is taken to
// belong to an interrupted push.
const staleStaging = 24 * time.Hour

// abandonTimeout bounds the removal of a failed push's staging directory,
// which runs after the push's own context may have been cancelled.
const abandonTimeout = 10 * time.Second

// dropStaleStaging removes staging directories of interrupted pushes (their
// blobs would otherwise stay referenced from MFS and never be collected).
// Best effort: a failure here must not stop a push.
func (b *Backend) dropStaleStaging(ctx context.Context) {
	entries, err := b.filesLs(ctx, stagingRoot)
	if err != nil {
		return
	}
	for _, e := range entries {
		created, _, ok := strings.Cut(e.Name, "-")
		sec, err := strconv.ParseInt(created, 10, 64)
		if !ok || err != nil || time.Since(time.Unix(sec, 0)) < staleStaging {
			continue
		}
		_ = b.c.callJSON(ctx, "files/rm", args("arg", stagingRoot+"/"+e.Name, "force", "true"), nil, nil)
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
	staged := s.staged
	s.staged = false
	s.mu.Unlock()
	if staged {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonTimeout)
		defer cancel()
		_ = s.b.c.callJSON(ctx, "files/rm", args("arg", s.staging, "recursive", "true", "force", "true"), nil, nil)
	}
	return err
}
