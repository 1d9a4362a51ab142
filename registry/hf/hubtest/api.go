package hubtest

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

var repoKinds = map[string]bool{"models": true, "datasets": true, "spaces": true}

// serve routes on the escaped path so that %2F inside a revision stays
// one segment.
func (h *Hub) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", "Root="+randomID()[:12])
	raw := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			writeErr(w, r, errf(400, "", "bad path"))
			return
		}
		segs[i] = u
	}
	switch {
	case len(segs) >= 2 && segs[0] == "lfs-upload":
		h.lfsBasicPut(w, r, segs[1])
		return
	case len(segs) >= 3 && segs[0] == "lfs-part":
		h.lfsPartPut(w, r, segs[1], segs[2])
		return
	case len(segs) >= 2 && segs[0] == "lfs-complete":
		h.lfsComplete(w, r, segs[1])
		return
	case len(segs) >= 2 && segs[0] == "lfs-storage":
		h.storageGet(w, r, segs[1])
		return
	}
	c, aerr := h.authenticate(r)
	if aerr != nil {
		writeErr(w, r, aerr)
		return
	}
	if segs[0] == "api" {
		h.serveAPI(w, r, c, segs[1:])
		return
	}
	// Git-side paths: /{P}{ns}/{name}/resolve|raw/{rev}/{path}, and
	// /{P}{ns}/{name}.git/info/lfs/objects/batch.
	kind := "models"
	if len(segs) > 0 && (segs[0] == "datasets" || segs[0] == "spaces") {
		kind, segs = segs[0], segs[1:]
	}
	if len(segs) == 6 && strings.HasSuffix(segs[1], ".git") && strings.Join(segs[2:], "/") == "info/lfs/objects/batch" && r.Method == http.MethodPost {
		h.lfsBatch(w, r, c, kind, segs[0], strings.TrimSuffix(segs[1], ".git"))
		return
	}
	if len(segs) >= 4 && (segs[2] == "resolve" || segs[2] == "raw") && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		h.resolve(w, r, c, kind, segs[0], segs[1], segs[3:])
		return
	}
	writeErr(w, r, errf(404, "", "Not Found"))
}

func (h *Hub) serveAPI(w http.ResponseWriter, r *http.Request, c caller, segs []string) {
	m := r.Method
	switch {
	case len(segs) == 2 && segs[0] == "repos" && segs[1] == "create" && m == http.MethodPost:
		h.createRepo(w, r, c)
		return
	case len(segs) == 2 && segs[0] == "repos" && segs[1] == "delete" && m == http.MethodDelete:
		h.deleteRepo(w, r, c)
		return
	case len(segs) == 1 && segs[0] == "whoami-v2" && m == http.MethodGet:
		h.whoami(w, r, c)
		return
	case len(segs) == 1 && repoKinds[segs[0]] && m == http.MethodGet:
		h.listRepos(w, r, c, segs[0])
		return
	}
	if len(segs) < 3 || !repoKinds[segs[0]] {
		writeErr(w, r, errf(404, "", "Not Found"))
		return
	}
	kind, ns, name, rest := segs[0], segs[1], segs[2], segs[3:]
	write := m != http.MethodGet && m != http.MethodHead && !(len(rest) > 0 && rest[0] == "paths-info")
	rp, aerr := h.lookup(c, kind, ns, name, write)
	if aerr != nil {
		writeErr(w, r, aerr)
		return
	}
	op := ""
	if len(rest) > 0 {
		op = rest[0]
	}
	switch {
	case op == "" && m == http.MethodGet:
		h.repoInfo(w, r, rp, "")
	case op == "revision" && len(rest) >= 2 && m == http.MethodGet:
		h.repoInfo(w, r, rp, strings.Join(rest[1:], "/"))
	case op == "preupload" && len(rest) >= 2 && m == http.MethodPost:
		h.preupload(w, r, rp, strings.Join(rest[1:], "/"))
	case op == "commit" && len(rest) >= 2 && m == http.MethodPost:
		h.commit(w, r, rp, strings.Join(rest[1:], "/"))
	case op == "tree" && len(rest) >= 2 && m == http.MethodGet:
		h.tree(w, r, rp, rest[1:])
	case op == "paths-info" && len(rest) >= 2 && m == http.MethodPost:
		h.pathsInfo(w, r, rp, strings.Join(rest[1:], "/"))
	case op == "refs" && len(rest) == 1 && m == http.MethodGet:
		h.refs(w, r, rp)
	case op == "branch" && len(rest) >= 2 && m == http.MethodDelete:
		h.deleteRef(w, r, rp.branches, strings.Join(rest[1:], "/"), "main")
	case op == "branch" && len(rest) >= 2 && m == http.MethodPost:
		h.branch(w, r, rp, strings.Join(rest[1:], "/"))
	case op == "tag" && len(rest) >= 2 && m == http.MethodDelete:
		h.deleteRef(w, r, rp.tags, strings.Join(rest[1:], "/"), "")
	case op == "tag" && len(rest) >= 2 && m == http.MethodPost:
		h.tag(w, r, rp, strings.Join(rest[1:], "/"))
	case op == "commits" && len(rest) >= 2 && m == http.MethodGet:
		h.listCommits(w, r, rp, strings.Join(rest[1:], "/"))
	default:
		writeErr(w, r, errf(404, "", "Not Found"))
	}
}

// lookup finds a repo the caller may read (and write). Like the Hub, a
// repo the caller cannot see is "not found": 401 for anonymous callers,
// 404 with a token.
func (h *Hub) lookup(c caller, kind, ns, name string, write bool) (*repo, *apiError) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rp := h.repos[kind+"/"+ns+"/"+name]
	if rp == nil || (rp.private && !h.member(c.user, ns)) {
		if c.user == "" {
			return nil, errf(401, "RepoNotFound", "Repository Not Found for url: %s/%s. Please make sure you specified the correct `repo_id` and `repo_type`. If you are trying to access a private or gated repo, make sure you are authenticated.", kind, ns+"/"+name)
		}
		return nil, errf(404, "RepoNotFound", "Repository Not Found for url: %s/%s.", kind, ns+"/"+name)
	}
	if write {
		if c.user == "" {
			return nil, errf(401, "", "You must be authenticated to access this resource")
		}
		if !h.member(c.user, ns) || !c.write {
			return nil, errf(403, "", "You don't have the rights to write to %s", ns+"/"+name)
		}
	}
	return rp, nil
}

// decode reads a JSON request body into v, or answers 400 and returns false.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(v); err != nil {
		writeErr(w, r, errf(400, "", "invalid JSON body: %v", err))
		return false
	}
	return true
}

// repoBody names a repository in create and delete requests.
type repoBody struct {
	Name         string `json:"name"`
	Organization string `json:"organization"`
	Type         string `json:"type"` // model (default), dataset or space
}

// kind is the repository kind of the body's type ("" when unknown).
func (b repoBody) kind() string {
	switch b.Type {
	case "", "model":
		return "models"
	case "dataset", "space":
		return b.Type + "s"
	}
	return ""
}

func (h *Hub) createRepo(w http.ResponseWriter, r *http.Request, c caller) {
	var body struct {
		repoBody
		Private    *bool   `json:"private"`
		Visibility *string `json:"visibility"`
	}
	if !decode(w, r, &body) {
		return
	}
	if c.user == "" {
		writeErr(w, r, errf(401, "", "You must be authenticated to create a repo"))
		return
	}
	ns := body.Organization
	if ns == "" {
		ns = c.user
	}
	kind := body.kind()
	if kind == "" {
		writeErr(w, r, errf(400, "", "invalid repo type %q", body.Type))
		return
	}
	if !validName(body.Name) {
		writeErr(w, r, errf(400, "", "invalid repo name %q", body.Name))
		return
	}
	private := false
	if body.Private != nil {
		private = *body.Private
	}
	if body.Visibility != nil {
		private = *body.Visibility != "public"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.member(c.user, ns) || !c.write {
		writeErr(w, r, errf(403, "", "You don't have the rights to create a repo under the namespace %q", ns))
		return
	}
	if h.repos[kind+"/"+ns+"/"+body.Name] != nil {
		writeErr(w, r, errf(409, "", "You already created this %s repo", strings.TrimSuffix(kind, "s")))
		return
	}
	rp, err := h.newRepo(kind, ns, body.Name, private)
	if err != nil {
		writeErr(w, r, errf(500, "", "%v", err))
		return
	}
	writeJSON(w, 200, map[string]string{"url": baseURL(r) + "/" + urlPrefix(kind) + rp.id(), "name": rp.id(), "id": rp.id()})
}

func validName(s string) bool {
	if s == "" || len(s) > 96 || strings.HasPrefix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (h *Hub) deleteRepo(w http.ResponseWriter, r *http.Request, c caller) {
	var body repoBody
	if !decode(w, r, &body) {
		return
	}
	kind := body.kind()
	if _, e := h.lookup(c, kind, body.Organization, body.Name, true); e != nil {
		writeErr(w, r, e)
		return
	}
	h.mu.Lock()
	delete(h.repos, kind+"/"+body.Organization+"/"+body.Name)
	h.mu.Unlock()
	w.WriteHeader(200)
}

func (h *Hub) whoami(w http.ResponseWriter, r *http.Request, c caller) {
	if c.user == "" {
		writeErr(w, r, errf(401, "", "Invalid credentials in Authorization header"))
		return
	}
	h.mu.Lock()
	orgs := []map[string]any{}
	for org, m := range h.orgs {
		if m[c.user] {
			orgs = append(orgs, map[string]any{"type": "org", "id": org, "name": org, "fullname": org})
		}
	}
	h.mu.Unlock()
	role := "read"
	if c.write {
		role = "write"
	}
	writeJSON(w, 200, map[string]any{
		"type": "user", "id": c.user, "name": c.user, "fullname": c.user, "email": c.user + "@example.invalid",
		"emailVerified": true, "isPro": false, "orgs": orgs, "canPay": false, "avatarUrl": "",
		"periodEnd": nil, "billingMode": "prepaid",
		"auth": map[string]any{"type": "access_token", "accessToken": map[string]any{
			"displayName": "test", "role": role, "createdAt": "2026-01-01T00:00:00.000Z"}},
	})
}

// listRepos answers GET /api/{kind}?author=&search=&limit= with Link paging.
func (h *Hub) listRepos(w http.ResponseWriter, r *http.Request, c caller, kind string) {
	q := r.URL.Query()
	limit := h.opt.ListPageSize
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 && l < limit {
		limit = l
	}
	offset := decodeCursor(q.Get("cursor"))
	h.mu.Lock()
	var all []*repo
	for _, rp := range h.repos {
		if rp.kind != kind || (rp.private && !h.member(c.user, rp.ns)) {
			continue
		}
		if a := q.Get("author"); a != "" && rp.ns != a {
			continue
		}
		if s := q.Get("search"); s != "" && !strings.Contains(rp.id(), s) {
			continue
		}
		all = append(all, rp)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id() < all[j].id() })
	out := []map[string]any{}
	end := min(offset+limit, len(all))
	for _, rp := range all[min(offset, len(all)):end] {
		out = append(out, map[string]any{
			"_id": rp.key(), "id": rp.id(), "author": rp.ns, "private": rp.private, "gated": false,
			"disabled": false, "downloads": 0, "likes": 0, "tags": []string{},
			"lastModified": rp.updatedAt.Format(time.RFC3339Nano), "createdAt": rp.created.Format(time.RFC3339Nano),
			"sha": rp.branches["main"],
		})
	}
	h.mu.Unlock()
	if end < len(all) {
		setNextLink(w, r, end)
	}
	h.listPages.Add(1)
	writeJSON(w, 200, out)
}

// setNextLink points the Link header at the same URL with cursor=next.
func setNextLink(w http.ResponseWriter, r *http.Request, next int) {
	q := r.URL.Query()
	q.Set("cursor", base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(next))))
	w.Header().Set("Link", "<"+baseURL(r)+r.URL.EscapedPath()+"?"+q.Encode()+`>; rel="next"`)
}

func decodeCursor(s string) int {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func (h *Hub) repoInfo(w http.ResponseWriter, r *http.Request, rp *repo, rev string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rev == "" {
		rev = "main"
	}
	c := rp.resolveRev(rev)
	if c == nil {
		writeErr(w, r, errf(404, "RevisionNotFound", "Invalid rev id: %s", rev))
		return
	}
	sib := []map[string]string{}
	names := make([]string, 0, len(c.files))
	for p := range c.files {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		sib = append(sib, map[string]string{"rfilename": p})
	}
	writeJSON(w, 200, map[string]any{
		"_id": rp.key(), "id": rp.id(), "author": rp.ns, "private": rp.private, "gated": false,
		"disabled": false, "downloads": 0, "likes": 0, "sha": c.id, "tags": []string{},
		"lastModified": c.date.Format(time.RFC3339Nano), "siblings": sib,
	})
}

func (h *Hub) refs(w http.ResponseWriter, r *http.Request, rp *repo) {
	type ref struct {
		Name         string `json:"name"`
		Ref          string `json:"ref"`
		TargetCommit string `json:"targetCommit"`
	}
	h.mu.Lock()
	branches, tags := []ref{}, []ref{}
	for n, id := range rp.branches {
		branches = append(branches, ref{n, "refs/heads/" + n, id})
	}
	for n, id := range rp.tags {
		tags = append(tags, ref{n, "refs/tags/" + n, id})
	}
	h.mu.Unlock()
	sort.Slice(branches, func(i, j int) bool { return branches[i].Name < branches[j].Name })
	sort.Slice(tags, func(i, j int) bool { return tags[i].Name < tags[j].Name })
	writeJSON(w, 200, map[string]any{"branches": branches, "converts": []ref{}, "tags": tags})
}

func validRefName(s string) bool {
	return s != "" && !strings.Contains(s, "..") && !strings.HasPrefix(s, "/") && !strings.HasSuffix(s, "/") &&
		!strings.ContainsAny(s, " ~^:?*[\\") && !strings.HasPrefix(s, "refs/")
}

// branch: POST /branch/{name} creates a branch (DELETE: deleteRef).
func (h *Hub) branch(w http.ResponseWriter, r *http.Request, rp *repo, name string) {
	var body struct {
		StartingPoint string `json:"startingPoint"`
		EmptyBranch   bool   `json:"emptyBranch"`
		Overwrite     bool   `json:"overwrite"`
	}
	if !readRefBody(w, r, &body, "branch", func() string { return name }) {
		return
	}
	start := body.StartingPoint
	if start == "" {
		start = "main"
	}
	h.createRef(w, r, rp, true, name, body.Overwrite, func() (*commit, string) {
		if body.EmptyBranch {
			return h.newCommit(rp, "", "empty branch", map[string]*entry{}), ""
		}
		return rp.resolveRev(start), start
	})
}

// tag: POST /tag/{rev} {"tag":...} creates a tag (DELETE /tag/{tag}:
// deleteRef).
func (h *Hub) tag(w http.ResponseWriter, r *http.Request, rp *repo, arg string) {
	var body struct {
		Tag     string `json:"tag"`
		Message string `json:"message"`
	}
	if !readRefBody(w, r, &body, "tag", func() string { return body.Tag }) {
		return
	}
	h.createRef(w, r, rp, false, body.Tag, false, func() (*commit, string) { return rp.resolveRev(arg), arg })
}

// createRef points a new branch (or tag) at the commit at returns (nil:
// the revision it names does not exist), unless the name is taken.
func (h *Hub) createRef(w http.ResponseWriter, r *http.Request, rp *repo, branch bool, name string, overwrite bool, at func() (*commit, string)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e := rp.refTaken(name, branch, overwrite); e != nil {
		writeErr(w, r, e)
		return
	}
	c, rev := at()
	if c == nil {
		writeErr(w, r, errf(404, "RevisionNotFound", "Invalid rev id: %s", rev))
		return
	}
	if branch {
		rp.branches[name] = c.id
	} else {
		rp.tags[name] = c.id
	}
	writeJSON(w, 200, map[string]any{})
}

// deleteRef answers the deletion of a branch or tag; protected (the
// default branch) cannot be deleted.
func (h *Hub) deleteRef(w http.ResponseWriter, r *http.Request, refs map[string]string, name, protected string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch _, ok := refs[name]; {
	case !ok:
		writeErr(w, r, errf(404, "RevisionNotFound", "Invalid rev id: %s", name))
	case name == protected:
		writeErr(w, r, errf(403, "", "Cannot delete the default branch"))
	default:
		delete(refs, name)
		w.WriteHeader(200)
	}
}

// readRefBody decodes the body of a branch or tag creation and checks the
// name it creates.
func readRefBody(w http.ResponseWriter, r *http.Request, body any, what string, name func() string) bool {
	if !decode(w, r, body) {
		return false
	}
	if !validRefName(name()) {
		writeErr(w, r, errf(400, "", "Invalid %s name %q", what, name()))
		return false
	}
	return true
}

// refTaken is the conflict a new branch (or tag) named name would make
// with the existing ones (h.mu held).
func (rp *repo) refTaken(name string, branch, overwrite bool) *apiError {
	_, isBranch := rp.branches[name]
	_, isTag := rp.tags[name]
	switch {
	case branch && isBranch && !overwrite:
		return errf(409, "", "Reference already exists: refs/heads/%s", name)
	case branch && isTag:
		return errf(409, "", "A tag named %s already exists", name)
	case !branch && isTag:
		return errf(409, "", "Tag %s already exists", name)
	case !branch && isBranch:
		return errf(409, "", "A branch named %s already exists", name)
	}
	return nil
}

func (h *Hub) listCommits(w http.ResponseWriter, r *http.Request, rp *repo, rev string) {
	h.mu.Lock()
	c := rp.resolveRev(rev)
	var out []map[string]any
	for ; c != nil; c = rp.commits[c.parent] {
		out = append(out, map[string]any{"id": c.id, "title": c.title, "message": c.title,
			"authors": []map[string]string{{"user": rp.ns, "avatar": ""}}, "date": c.date.Format(time.RFC3339Nano)})
	}
	h.mu.Unlock()
	if out == nil {
		writeErr(w, r, errf(404, "RevisionNotFound", "Invalid rev id: %s", rev))
		return
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(len(out)))
	writeJSON(w, 200, out)
}

// tree answers GET /api/{kind}/{id}/tree/{rev}[/{path}] with pagination.
func (h *Hub) tree(w http.ResponseWriter, r *http.Request, rp *repo, segs []string) {
	q := r.URL.Query()
	h.mu.Lock()
	rev, dir, c := rp.splitRevPath(segs)
	if c == nil {
		h.mu.Unlock()
		writeErr(w, r, errf(404, "RevisionNotFound", "Invalid rev id: %s", rev))
		return
	}
	dir = strings.Trim(dir, "/")
	items, ok := rp.listTree(c, dir, q.Get("recursive") == "true" || q.Get("recursive") == "1", q.Get("expand") == "true" || q.Get("expand") == "1")
	h.mu.Unlock()
	if !ok {
		writeErr(w, r, errf(404, "EntryNotFound", "%s does not exist on %q", dir, rev))
		return
	}
	offset := decodeCursor(q.Get("cursor"))
	end := min(offset+h.opt.TreePageSize, len(items))
	page := items[min(offset, len(items)):end]
	if page == nil {
		page = []treeItem{}
	}
	if end < len(items) {
		setNextLink(w, r, end)
	}
	h.treePages.Add(1)
	writeJSON(w, 200, page)
}

func (h *Hub) pathsInfo(w http.ResponseWriter, r *http.Request, rp *repo, rev string) {
	var body struct {
		Paths  []string `json:"paths"`
		Expand bool     `json:"expand"`
	}
	// The Python client sends a form body; accept JSON only (the JS client's).
	if !decode(w, r, &body) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c := rp.resolveRev(rev)
	if c == nil {
		writeErr(w, r, errf(404, "RevisionNotFound", "Invalid rev id: %s", rev))
		return
	}
	out := []treeItem{}
	for _, p := range body.Paths {
		p = strings.Trim(p, "/")
		if e, ok := c.files[p]; ok {
			out = append(out, rp.item(p, e, body.Expand))
		} else if c.isDir(p) {
			out = append(out, dirItem(p))
		}
	}
	writeJSON(w, 200, out)
}

// resolve serves file content: regular files directly, LFS files through
// a redirect to signed storage URLs, as the Hub does with its CDN.
func (h *Hub) resolve(w http.ResponseWriter, r *http.Request, c caller, kind, ns, name string, segs []string) {
	rp, aerr := h.lookup(c, kind, ns, name, false)
	if aerr != nil {
		writeErr(w, r, aerr)
		return
	}
	h.mu.Lock()
	rev, p, cm := rp.splitRevPath(segs)
	var e *entry
	if cm != nil {
		e = cm.files[p]
	}
	h.mu.Unlock()
	if cm == nil {
		writeErr(w, r, errf(404, "RevisionNotFound", "Invalid rev id: %s", rev))
		return
	}
	if e == nil {
		writeErr(w, r, errf(404, "EntryNotFound", "Entry not found"))
		return
	}
	w.Header().Set("X-Repo-Commit", cm.id)
	if e.lfs {
		w.Header().Set("X-Linked-Size", strconv.FormatInt(e.size, 10))
		w.Header().Set("X-Linked-ETag", `"`+e.sha256+`"`)
		w.Header().Set("ETag", `"`+e.gitOid+`"`)
		w.Header().Set("Location", baseURL(r)+h.storageURL(e.sha256))
		w.WriteHeader(http.StatusFound)
		h.redirects.Add(1)
		return
	}
	h.serveObject(w, r, e.sha256, `"`+e.gitOid+`"`)
}

func (h *Hub) serveObject(w http.ResponseWriter, r *http.Request, sha, etag string) {
	f, err := openFile(h.objectPath(sha))
	if err != nil {
		writeErr(w, r, errf(500, "", "object missing"))
		return
	}
	defer f.Close()
	if r.Header.Get("Range") != "" && r.Method == http.MethodGet {
		h.ranges.Add(1)
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, "", time.Time{}, f)
}
