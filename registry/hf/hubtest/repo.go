package hubtest

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// repo is one repository with git-like history: commits holding full file
// maps, branches and tags pointing at commits.
type repo struct {
	kind      string // models, datasets, spaces
	ns, name  string
	private   bool
	created   time.Time
	commits   map[string]*commit
	branches  map[string]string // name → commit id
	tags      map[string]string
	lfs       map[string]int64 // LFS objects uploaded to this repo: oid → size
	updatedAt time.Time
}

func (r *repo) id() string  { return r.ns + "/" + r.name }
func (r *repo) key() string { return r.kind + "/" + r.id() }

// urlPrefix is "" for models, "datasets/" otherwise (git/resolve paths).
func urlPrefix(kind string) string {
	if kind == "models" {
		return ""
	}
	return kind + "/"
}

type commit struct {
	id, parent string
	title      string
	date       time.Time
	files      map[string]*entry
}

// entry is one file in a commit.
type entry struct {
	size       int64
	sha256     string // of the content; the object's name on disk
	gitOid     string // git blob id of the content (regular) or pointer (LFS)
	lfs        bool
	lastCommit string
}

const lfsPointerFmt = "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"

func gitBlobID(content []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(content))
	h.Write(content)
	return hex.EncodeToString(h.Sum(nil))
}

func lfsPointer(oid string, size int64) []byte {
	return fmt.Appendf(nil, lfsPointerFmt, oid, size)
}

// defaultGitattributes mirrors the start of the Hub's default file: the
// patterns that route binary formats to LFS.
const defaultGitattributes = `*.bin filter=lfs diff=lfs merge=lfs -text
*.gz filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
*.tar filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
*.zst filter=lfs diff=lfs merge=lfs -text
`

// objectPath is where content with this sha256 is stored.
func (h *Hub) objectPath(sha string) string { return filepath.Join(h.dir, "objects", sha) }

// storeBytes writes small content as an object and returns its sha256.
func (h *Hub) storeBytes(b []byte) (string, error) {
	sum := sha256.Sum256(b)
	sha := hex.EncodeToString(sum[:])
	p := h.objectPath(sha)
	if _, err := os.Stat(p); err == nil {
		return sha, nil
	}
	tmp, err := os.CreateTemp(filepath.Join(h.dir, "tmp"), "obj-")
	if err != nil {
		return "", err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return sha, os.Rename(tmp.Name(), p)
}

// storeStream copies r into an object, checking size and sha256 when given.
func (h *Hub) storeStream(r io.Reader, wantSHA string, wantSize int64) (string, int64, error) {
	tmp, err := os.CreateTemp(filepath.Join(h.dir, "tmp"), "obj-")
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(tmp.Name())
	hs := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, hs), r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", n, err
	}
	sha := hex.EncodeToString(hs.Sum(nil))
	if wantSize >= 0 && n != wantSize {
		return sha, n, fmt.Errorf("size mismatch: got %d bytes, expected %d", n, wantSize)
	}
	if wantSHA != "" && sha != wantSHA {
		return sha, n, fmt.Errorf("sha256 mismatch: got %s, expected %s", sha, wantSHA)
	}
	return sha, n, os.Rename(tmp.Name(), h.objectPath(sha))
}

// newRepo creates a repo with an initial commit holding .gitattributes, as
// the Hub does (h.mu held).
func (h *Hub) newRepo(kind, ns, name string, private bool) (*repo, error) {
	ga := []byte(defaultGitattributes)
	sha, err := h.storeBytes(ga)
	if err != nil {
		return nil, err
	}
	r := &repo{kind: kind, ns: ns, name: name, private: private, created: now(),
		commits: map[string]*commit{}, branches: map[string]string{}, tags: map[string]string{},
		lfs: map[string]int64{}}
	c := h.newCommit(r, "", "initial commit", map[string]*entry{})
	c.files[".gitattributes"] = &entry{size: int64(len(ga)), sha256: sha, gitOid: gitBlobID(ga), lastCommit: c.id}
	r.branches["main"] = c.id
	h.repos[r.key()] = r
	return r, nil
}

// newCommit records a commit whose files start as a copy of files.
func (h *Hub) newCommit(r *repo, parent, title string, files map[string]*entry) *commit {
	h.seq++
	id := sha1.Sum(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d\x00%d", r.key(), parent, title, h.seq, time.Now().UnixNano()))
	c := &commit{id: hex.EncodeToString(id[:]), parent: parent, title: title, date: now(),
		files: make(map[string]*entry, len(files)+4)}
	for p, e := range files {
		c.files[p] = e
	}
	r.commits[c.id] = c
	r.updatedAt = c.date
	return c
}

// resolveRev finds the commit a revision names: branch, tag or commit id.
func (r *repo) resolveRev(rev string) *commit {
	if id, ok := r.branches[rev]; ok {
		return r.commits[id]
	}
	if id, ok := r.tags[rev]; ok {
		return r.commits[id]
	}
	if c, ok := r.commits[rev]; ok {
		return c
	}
	return nil
}

// splitRevPath splits segments into a revision and a file path. Revisions
// may contain '/' when not URL-encoded, so the shortest prefix naming an
// existing revision wins, as on the Hub.
func (r *repo) splitRevPath(segs []string) (rev, p string, c *commit) {
	for i := 1; i <= len(segs); i++ {
		cand := strings.Join(segs[:i], "/")
		if c := r.resolveRev(cand); c != nil {
			return cand, strings.Join(segs[i:], "/"), c
		}
	}
	if len(segs) == 0 {
		return "", "", nil
	}
	return segs[0], strings.Join(segs[1:], "/"), nil
}

// treeItem is one element of a tree or paths-info answer.
type treeItem struct {
	Type       string     `json:"type"`
	Oid        string     `json:"oid"`
	Size       int64      `json:"size"`
	Path       string     `json:"path"`
	LFS        *lfsInfo   `json:"lfs,omitempty"`
	LastCommit *lastCommt `json:"lastCommit,omitempty"`
}

type lfsInfo struct {
	Oid         string `json:"oid"`
	Size        int64  `json:"size"`
	PointerSize int    `json:"pointerSize"`
}

type lastCommt struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Date  string `json:"date"`
}

func (r *repo) item(p string, e *entry, expand bool) treeItem {
	it := treeItem{Type: "file", Oid: e.gitOid, Size: e.size, Path: p}
	if e.lfs {
		it.LFS = &lfsInfo{Oid: e.sha256, Size: e.size, PointerSize: len(lfsPointer(e.sha256, e.size))}
	}
	if expand {
		if c := r.commits[e.lastCommit]; c != nil {
			it.LastCommit = &lastCommt{ID: c.id, Title: c.title, Date: c.date.Format(time.RFC3339Nano)}
		}
	}
	return it
}

func dirItem(p string) treeItem {
	sum := sha1.Sum([]byte("tree " + p))
	return treeItem{Type: "directory", Oid: hex.EncodeToString(sum[:]), Path: p}
}

// listTree lists files and directories under dir ("" = root), sorted by
// path; ok is false when dir is neither the root nor a directory.
func (r *repo) listTree(c *commit, dir string, recursive, expand bool) (items []treeItem, ok bool) {
	dirs := map[string]bool{}
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	for p, e := range c.files {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		rest := p[len(prefix):]
		ok = true
		if !recursive {
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				dirs[prefix+rest[:i]] = true
				continue
			}
			items = append(items, r.item(p, e, expand))
			continue
		}
		items = append(items, r.item(p, e, expand))
		for d := path.Dir(rest); d != "."; d = path.Dir(d) {
			dirs[prefix+d] = true
		}
	}
	for d := range dirs {
		items = append(items, dirItem(d))
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Path < items[j].Path })
	return items, ok || dir == ""
}

// isDir reports whether p is a directory in c.
func (c *commit) isDir(p string) bool {
	for f := range c.files {
		if strings.HasPrefix(f, p+"/") {
			return true
		}
	}
	return false
}
