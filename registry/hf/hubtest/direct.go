package hubtest

import (
	"errors"
	"fmt"
	"os"
)

// Direct access to repositories, bypassing the API: tests use it to look at
// and tamper with what a client stored.

// branchHead returns a repository and the head commit of one of its
// branches (h.mu held).
func (h *Hub) branchHead(kind, repoID, branch string) (*repo, string, error) {
	rp := h.repos[kind+"/"+repoID]
	if rp == nil {
		return nil, "", fmt.Errorf("no repo %s/%s", kind, repoID)
	}
	head, ok := rp.branches[branch]
	if !ok {
		return nil, "", fmt.Errorf("no branch %s", branch)
	}
	return rp, head, nil
}

// WriteFile commits content at p on a branch directly (as LFS when lfs is
// set), bypassing the API. Tests use it to tamper with stored files.
func (h *Hub) WriteFile(kind, repoID, branch, p string, content []byte, lfs bool) error {
	sha, err := h.storeBytes(content)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	rp, head, err := h.branchHead(kind, repoID, branch)
	if err != nil {
		return err
	}
	c := h.newCommit(rp, head, "write "+p, rp.commits[head].files)
	e := &entry{size: int64(len(content)), sha256: sha, gitOid: gitBlobID(content), lfs: lfs, lastCommit: c.id}
	if lfs {
		e.gitOid = gitBlobID(lfsPointer(sha, e.size))
		rp.lfs[sha] = e.size
	}
	c.files[p] = e
	rp.branches[branch] = c.id
	return nil
}

// RemoveFile deletes p on a branch in a new commit.
func (h *Hub) RemoveFile(kind, repoID, branch, p string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	rp, head, err := h.branchHead(kind, repoID, branch)
	if err != nil {
		return err
	}
	if rp.commits[head].files[p] == nil {
		return fmt.Errorf("no file %s on %s", p, branch)
	}
	c := h.newCommit(rp, head, "remove "+p, rp.commits[head].files)
	delete(c.files, p)
	rp.branches[branch] = c.id
	return nil
}

// ReadFile returns the content of p at a revision (branch, tag or commit);
// ok is false when the repository, revision or file does not exist.
func (h *Hub) ReadFile(kind, repoID, rev, p string) (b []byte, ok bool, err error) {
	h.mu.Lock()
	rp := h.repos[kind+"/"+repoID]
	var e *entry
	if rp != nil {
		if c := rp.resolveRev(rev); c != nil {
			e = c.files[p]
		}
	}
	h.mu.Unlock()
	if e == nil {
		return nil, false, nil
	}
	b, err = os.ReadFile(h.objectPath(e.sha256))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("%s: the object of %s is missing", repoID, p)
	}
	return b, err == nil, err
}
