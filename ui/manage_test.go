package ui

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"pf-registry/internal/termtext"
	"pf-registry/internal/testimages"
	"pf-registry/registry"
	"pf-registry/registry/oci/ocitest"
	"pf-registry/signing"
	"pf-registry/store"
)

// releasePass is the passphrase of the test's signing key: no frame, note
// or log line may ever show it.
const releasePass = "correct-horse-battery-7431"

// demoCopy copies the demo registry for a test that changes it, with
// every file dated long before the grace period (so that a deletion's
// sweep removes blobs), and returns its root.
func demoCopy(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("t", "reg-"+strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dir, os.DirFS("demo")); err != nil {
		t.Fatal(err)
	}
	age(t, dir)
	return "file://" + filepath.ToSlash(dir)
}

// age dates every file under dir long before the grace period.
func age(t *testing.T, dir string) {
	t.Helper()
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// emptyRoot makes an empty registry directory and returns its root.
func emptyRoot(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join("t", name+"-"+strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return "file://" + filepath.ToSlash(dir)
}

// withKeyring verifies with the demo's keys, as `pf-registry demo` leaves
// the key store.
func withKeyring(t *testing.T) harnessOpt {
	ring := demoKeyring(t)
	return func(o *Options) { o.Registry.Keys = ring }
}

// seedKeys fills the harness's key store as `pf-registry demo` does (the
// demo key trusted, the colleague's known) plus the signing key "release"
// (testdata/keys, under releasePass).
func seedKeys(t *testing.T, h *harness) {
	t.Helper()
	st := keyStore(h.m.sh)
	for _, name := range []string{"demo", "demo-colleague"} {
		b, err := os.ReadFile(filepath.Join("demo", ".pf-demo-keys", "keys", name+".pub"))
		if err != nil {
			t.Fatal(err)
		}
		if name == "demo" {
			_, err = st.Trust(b, name, name)
		} else {
			_, err = st.Import(b, name, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join("testdata", "keys", "release.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(b, "release", signing.StaticPassphrase([]byte(releasePass))); err != nil {
		t.Fatal(err)
	}
}

// settleDialog waits for the dry run or check a key started and the
// dialog it opens.
func settleDialog[T overlay](h *harness, what string) {
	h.t.Helper()
	h.settle(what, func(m *App) bool { return dialogOpen[T](m) && idle(m) })
}

// goTo types a location or a view's name in the go-to bar.
func goTo(h *harness, where string) {
	h.t.Helper()
	h.press("command")
	h.typeText(where)
	h.press("submit")
}

// home goes back to the registries screen.
func home(h *harness) {
	h.t.Helper()
	for !topIs[*registriesScreen](h.m) {
		h.press("back")
	}
}

// pullFirst pulls the first n images of a repository of the demo into the
// local store, and waits for the jobs.
func pullFirst(t *testing.T, h *harness, repo string, n int) {
	t.Helper()
	openRepo(t, h, repo)
	for range n {
		h.press("mark")
	}
	jobs := len(h.m.xfers.jobs) + n
	h.press("pull")
	h.settle("pulls", func(m *App) bool { return len(m.xfers.jobs) == jobs && idle(m) })
}

// pickKey presses sign and takes the first key offered.
func pickKey(h *harness) {
	h.t.Helper()
	h.press("sign")
	settleDialog[*pickDialog](h, "the signing keys")
	h.press("submit")
}

// ended waits for the n-th job to end, and for the screens to settle.
func ended(h *harness, n int) *job {
	h.t.Helper()
	h.settle(fmt.Sprintf("job %d", n), func(m *App) bool { return len(m.xfers.jobs) == n && m.xfers.running() == 0 && idle(m) })
	return h.m.xfers.jobs[n-1]
}

// manageViews drives a model through every screen, pane and dialog of
// signing and management, on its own copy of the demo, and returns each
// frame in order.
func manageViews(t *testing.T, w, ht int) [][2]string {
	src, mirror := demoCopy(t), emptyRoot(t, "mirror")
	h := newHarness(t, w, ht, withRoots(src, mirror), withKeyring(t))
	seedKeys(t, h)
	var out [][2]string
	shot := func(name string) { out = append(out, [2]string{name, h.view()}) }

	h.settle("roots", idle)
	goTo(h, "keys")
	h.settle("keys", func(m *App) bool { return topIs[*keysScreen](m) && idle(m) })
	shot("keys")
	h.press("untrust") // demo, the first row
	shot("keys-untrust")
	h.press("dismiss")
	h.press("back")

	// Every verdict in one list, the SIGNATURE column whole.
	openFirstRoot(h)
	h.press("search")
	h.press("submit")
	h.settle("search", func(m *App) bool { return topIs[*tagsScreen](m) && idle(m) })
	shot("search-verdicts")
	home(h)

	openRepo(t, h, "refactor")
	h.press("help")
	shot("help-tags")
	h.press("back")
	h.press("sign")
	settleDialog[*pickDialog](h, "the signing keys")
	shot("sign-pick")
	h.press("submit")
	h.typeText("typed-not-shown")
	shot("sign-passphrase")
	h.press("dismiss")
	h.press("retag")
	shot("retag")
	h.press("dismiss")
	h.press("mark")
	h.press("mark")
	h.press("delete")
	settleDialog[*confirmDialog](h, "the deletion's dry run")
	shot("delete-confirm")
	h.press("dismiss")
	h.press("bottom")
	h.press("open")
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	toPane(t, h, h.top().(*detailScreen), "Signatures")
	shot("detail-signatures")

	home(h)
	h.press("top")
	h.press("down")
	h.press("sync")
	shot("sync-pick")
	h.press("submit")
	shot("sync-dest")
	h.press("submit")
	settleDialog[*confirmDialog](h, "the mirror's dry run")
	shot("sync-confirm")
	h.press("dismiss")

	// Two images in the local store, one removed, then its blobs
	// collected once they are older than the grace period.
	pullFirst(t, h, "refactor", 2)
	goTo(h, "du")
	h.settle("usage", func(m *App) bool { return topIs[*usageScreen](m) && idle(m) })
	shot("usage")
	h.press("delete")
	settleDialog[*confirmDialog](h, "the removal's dry run")
	shot("images-rm-confirm")
	h.press("confirm")
	h.settle("removed", func(m *App) bool { return idle(m) && h.top().(*usageScreen).rows() == 1 })
	age(t, filepath.Join(h.dir, "store"))
	h.press("gc")
	settleDialog[*confirmDialog](h, "the gc's dry run")
	shot("gc-confirm")
	return out
}

func TestGoldenManage(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {140, 40}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			for _, f := range manageViews(t, sz[0], sz[1]) {
				t.Run(f[0], func(t *testing.T) { golden.RequireEqual(t, f[1]) })
			}
		})
	}
}

// TestSignaturesPane: the detail lists every signature of an image with
// its kind, key, status and reason, the deciding one first, and the
// summary names the trusted key.
func TestSignaturesPane(t *testing.T) {
	h := newHarness(t, 140, 40, withKeyring(t))
	d := openImage(t, h, "refactor", "v3")
	h.requireContains("Signature  ✔ trusted  by trusted key demo (", "2 signatures (Signatures pane)")
	toPane(t, h, d, "Signatures")
	h.requireContains("2 signatures; the strongest decides the verdict (trusted)",
		"✔ trusted  Sigstore bundle · ecdsa-p256", "Key        demo (", "Reason     signed by trusted key demo",
		"✓ valid  HMAC signature", "Where      manifest.json.sig", "Key        PF_FILE_REG_SIGN_KEY")
	lines := h.lines()
	first := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "✔ trusted  Sigstore bundle") })
	hmac := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "✓ valid  HMAC signature") })
	if first < 0 || hmac < first {
		t.Fatalf("the deciding signature is not listed first:\n%s", h.plain())
	}
	// A bundle by a key the store does not know names its hint.
	home(h)
	d = openImage(t, h, "nightly", "2026-11-26")
	toPane(t, h, d, "Signatures")
	h.requireContains("✗ invalid  HMAC signature", "manifest bytes do not match the signed digest", "✗ invalid  Sigstore bundle")
}

// TestSignImage signs an image with a key of the store: the key is
// chosen, the passphrase given in a dialog that never draws it (a wrong
// one is refused whole, naming COSIGN_PASSWORD), and the list and the
// detail show the new signature. No frame, message or job ever holds the
// passphrase.
func TestSignImage(t *testing.T) {
	src := demoCopy(t)
	h := newHarness(t, 140, 40, withRoots(src), withKeyring(t))
	seedKeys(t, h)
	var frames []string
	shot := func() { frames = append(frames, h.view()) }
	s := openRepo(t, h, "research")
	h.press("top") // experiment, untrusted-key
	h.press("sign")
	settleDialog[*pickDialog](h, "the signing keys")
	h.requireContains("Sign bob/research-agent:experiment with which key?", "release", "ecdsa-p256")
	shot()
	h.press("submit")
	// Wrong first: refused, with the reason whole in the history.
	for _, r := range releasePass[:10] + "x" {
		h.typeText(string(r))
		shot()
	}
	h.requireContains("Passphrase of key release", "what you type is not shown")
	h.press("submit")
	h.settle("refused", func(m *App) bool { return idle(m) && lastNote(m).err })
	shot()
	if n := lastNote(h.m); !strings.Contains(n.text, "does not open with this passphrase") || !strings.Contains(n.text, envPassword) {
		t.Fatalf("wrong passphrase: %q", n.text)
	}
	// Right.
	pickKey(h)
	d := h.m.topOverlay().(*secretDialog)
	h.typeText(releasePass)
	shot()
	h.press("submit")
	if d.in.Value() != "" {
		t.Fatal("the passphrase stays in the dialog's input after it was given")
	}
	h.settle("signed", func(m *App) bool { return idle(m) && strings.HasPrefix(lastNote(m).text, "signed ") })
	shot()
	h.requireContains("signed " + src + "/bob/research-agent/experiment with key release")
	// The keyring was rebuilt from the store: the new signature is known.
	h.press("open")
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	toPane(t, h, h.top().(*detailScreen), "Signatures")
	shot()
	h.requireContains("~ untrusted-key  Sigstore bundle", "Key        release (")
	h.press("notifications")
	shot()
	h.press("back")
	h.press("transfers")
	shot()
	h.press("back")
	if got := s.verdicts[src+"/bob/research-agent/experiment"].status; got != "untrusted-key" {
		t.Fatalf("verdict after signing: %s", got)
	}
	for i, f := range frames {
		if strings.Contains(f, releasePass[:6]) || strings.Contains(ansi.Strip(f), releasePass[:6]) {
			t.Fatalf("frame %d shows the passphrase:\n%s", i, ansi.Strip(f))
		}
	}
	for _, n := range h.m.sh.notes {
		if strings.Contains(n.text, releasePass[:6]) {
			t.Fatalf("a message holds the passphrase: %q", n.text)
		}
	}
	if len(h.m.xfers.jobs) != 0 {
		t.Fatalf("signing started %d jobs", len(h.m.xfers.jobs))
	}
}

// TestSignWithEnvPassword: COSIGN_PASSWORD gives the passphrase, as on the
// command line; nothing is asked.
func TestSignWithEnvPassword(t *testing.T) {
	t.Setenv(envPassword, releasePass)
	src := demoCopy(t)
	h := newHarness(t, 120, 30, withRoots(src), withKeyring(t))
	seedKeys(t, h)
	openRepo(t, h, "nightly")
	h.press("top")
	pickKey(h)
	if dialogOpen[*secretDialog](h.m) {
		t.Fatal("a passphrase was asked with COSIGN_PASSWORD set")
	}
	h.settle("signed", func(m *App) bool { return idle(m) && strings.HasPrefix(lastNote(m).text, "signed ") })
	// Refused: the tampered image's signature fails, so it is not signed.
	h.press("down")
	pickKey(h)
	h.settle("refused", func(m *App) bool { return idle(m) && lastNote(m).err })
	if n := lastNote(h.m); !strings.Contains(n.text, "refusing to sign") {
		t.Fatalf("signing the tampered image: %q", n.text)
	}
}

// TestSignWithoutAKey: with no private key in the store, signing says how
// to make one.
func TestSignWithoutAKey(t *testing.T) {
	h := newHarness(t, 120, 30)
	openRepo(t, h, "nightly")
	h.press("sign")
	h.settle("refused", func(m *App) bool { return idle(m) && !anyOverlay(m) })
	if n := lastNote(h.m); !n.err || !strings.Contains(n.text, "pf-registry keys generate NAME") {
		t.Fatalf("sign without a key: %q", n.text)
	}
}

// TestKeysScreen: trust and untrust keys; untrusting asks first, No by
// default; the keyring is rebuilt and every open list judges its images
// again.
func TestKeysScreen(t *testing.T) {
	h := newHarness(t, 120, 30, withKeyring(t))
	seedKeys(t, h)
	s := openRepo(t, h, "refactor")
	h.requireContains("✔ trusted")
	goTo(h, "keys")
	h.settle("keys", func(m *App) bool { return topIs[*keysScreen](m) && idle(m) })
	h.requireContains("demo ", "demo-colleague", "release", "✔ trusted", "✓ signs")

	h.press("untrust") // demo
	h.requireContains("Untrust key demo?", " No ")
	h.press("submit") // No is selected
	if !h.contains("✔ trusted") || h.m.sh.working != 0 {
		t.Fatalf("enter on the untrust question untrusted:\n%s", h.plain())
	}
	h.press("untrust")
	h.press("confirm")
	h.settle("untrusted", func(m *App) bool { return idle(m) && !h.contains("✔ trusted") })
	h.requireContains("untrusted key demo")
	for _, tg := range s.tags {
		if v := s.verdicts[tg.Ref].status; v == "trusted" || v == "" {
			t.Fatalf("%s after untrusting demo: %q", tg.Name, v)
		}
	}
	// Trust the colleague's key: bob's images become trusted.
	h.press("top")
	h.press("trust")
	h.settle("trusted", func(m *App) bool { return idle(m) && h.contains("✔ trusted") })
	h.requireContains("trusted key demo-colleague")
	home(h)
	openRepo(t, h, "research")
	h.requireContains("main", "✔ trusted")
}

// TestKeysFromRegistries: the registries screen opens the key store.
func TestKeysFromRegistries(t *testing.T) {
	h := newHarness(t, 120, 30)
	h.settle("roots", idle)
	h.press("keys")
	h.settle("keys", func(m *App) bool { return topIs[*keysScreen](m) && idle(m) })
	h.requireContains("no keys in", "pf-registry keys generate NAME")
}

// TestDeleteConfirmDefaultsNo: the deletion's question names what goes
// and starts on No: enter deletes nothing.
func TestDeleteConfirmDefaultsNo(t *testing.T) {
	src := demoCopy(t)
	h := newHarness(t, 120, 30, withRoots(src))
	openRepo(t, h, "nightly")
	h.press("delete")
	settleDialog[*confirmDialog](h, "the deletion's dry run")
	h.requireContains("Delete ci/nightly:2026-11-25?", "Goes: 1 image (ci/nightly:2026-11-25), its signatures and", " No ")
	h.press("submit")
	h.drain()
	if len(h.m.xfers.jobs) != 0 || anyOverlay(h.m) {
		t.Fatalf("enter on the delete question: %d jobs, overlay %v", len(h.m.xfers.jobs), anyOverlay(h.m))
	}
	if _, err := os.Stat(filepath.Join(strings.TrimPrefix(src, "file://"), "ci", "nightly", "2026-11-25", "manifest.json")); err != nil {
		t.Fatalf("the image is gone after No: %v", err)
	}
	h.requireContains("cancelled", "2026-11-25")
}

// TestDeleteMarkedImages deletes two marked images: the question counts
// the blobs and bytes only they reach, the job shows in transfers, the
// list reloads without them, and every image left still verifies.
func TestDeleteMarkedImages(t *testing.T) {
	src := demoCopy(t)
	h := newHarness(t, 120, 30, withRoots(src))
	s := openRepo(t, h, "refactor")
	h.press("down")
	h.press("mark") // v2
	h.press("mark") // v3
	h.press("delete")
	settleDialog[*confirmDialog](h, "the deletion's dry run")
	plan, err := deleteRefs(context.Background(), h.m.sh, []string{src + "/alice/refactor-agent/v2", src + "/alice/refactor-agent/v3"},
		registry.DeleteOptions{DryRun: true})
	if err != nil || len(plan.Blobs) == 0 {
		t.Fatalf("dry run: %v, %d blobs", err, len(plan.Blobs))
	}
	h.requireContains("Delete 2 images?", "alice/refactor-agent:v2 and alice/refactor-agent:v3",
		fmt.Sprintf("%d blobs no remaining image reaches (%s)", len(plan.Blobs), nbsp(termtext.Bytes(plan.Bytes))))
	h.press("confirm")
	j := ended(h, 1)
	if j.state != jobDone {
		t.Fatalf("delete job: %v %v", j.state, j.err)
	}
	h.settle("reloaded", func(m *App) bool { return len(s.tags) == 1 && idle(m) })
	h.requireContains(fmt.Sprintf("2 images and %d blobs removed, %s freed", len(plan.Blobs), termtext.Bytes(plan.Bytes)))
	if len(s.tbl.marked) != 0 {
		t.Fatal("marks kept after the delete")
	}
	h.press("transfers")
	h.requireContains("delete 2 images under "+src, "images 2 of 2 finished", "unused blob")
	h.press("back")
	// What is left is whole.
	for _, ref := range []string{src + "/alice/refactor-agent/v1", src + "/team/merge-bot/merged", src + "/bob/research-agent/main"} {
		reg, r, err := registry.ForRef(ref, registry.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := reg.Verify(context.Background(), r, registry.VerifyOptions{Deep: true}); err != nil || !rep.Complete {
			t.Fatalf("%s after the delete: %v", ref, err)
		}
	}
}

// TestRetag retags an image: a bad destination keeps the dialog and the
// typed text; a good one adds the tag, and the list shows it.
func TestRetag(t *testing.T) {
	src := demoCopy(t)
	h := newHarness(t, 120, 30, withRoots(src))
	s := openRepo(t, h, "refactor")
	h.press("retag")
	h.requireContains("Retag alice/refactor-agent:v1 as", "> "+src+"/alice/refactor-agent/v1")
	h.typeInto("oci://127.0.0.1:5000/a/b:c")
	h.press("submit")
	if !dialogOpen[*inputDialog](h.m) || !h.contains("retag stays in one registry") || !h.contains("> oci://127.0.0.1:5000/a/b:c") {
		t.Fatalf("another registry: the dialog closed or lost the text:\n%s", h.plain())
	}
	h.typeInto(src + "/alice/refactor-agent/stable")
	h.press("submit")
	h.settle("retagged", func(m *App) bool { return len(s.tags) == 4 && idle(m) })
	h.requireContains("retagged "+src+"/alice/refactor-agent/v1 as "+src+"/alice/refactor-agent/stable", "stable")
	if v := s.verdicts[src+"/alice/refactor-agent/stable"]; v.imageID != demoResult.Images["alice/refactor-agent/v1"] {
		t.Fatalf("the new tag holds %s", v.imageID)
	}
	// Onto an existing tag: asked first, No by default.
	h.press("retag")
	h.typeInto(src + "/alice/refactor-agent/v2")
	h.press("submit")
	settleDialog[*confirmDialog](h, "the destination check")
	h.requireContains("Replace an existing image?")
	h.press("submit")
	if h.m.sh.working != 0 {
		t.Fatal("enter on the replace question retagged")
	}
}

// mirrorHarness opens a copy of the demo and an empty root, the copy
// selected.
func mirrorHarness(t *testing.T) (h *harness, src, mirror string) {
	src, mirror = demoCopy(t), emptyRoot(t, "mirror")
	h = newHarness(t, 120, 30, withRoots(src, mirror))
	h.settle("roots", idle)
	h.press("top")
	h.press("down")
	return h, src, mirror
}

// TestSyncRoot mirrors a root to an empty one as a job with overall
// progress; the images whose signature fails are refused and named.
func TestSyncRoot(t *testing.T) {
	h, src, mirror := mirrorHarness(t)
	h.press("sync")
	h.requireContains("Mirror "+src+" to which root?", mirror)
	h.press("submit")
	h.requireContains("> " + mirror)
	h.press("submit")
	settleDialog[*confirmDialog](h, "the mirror's dry run")
	h.requireContains("Copies 10 images (0 already there", " No ")
	h.press("confirm")
	j := ended(h, 1)
	if j.state != jobFailed || !strings.Contains(errLine(j.err), "2 of the 10 image(s) to copy failed") {
		t.Fatalf("sync: %v %v", j.state, j.err)
	}
	if j.snap.Images != 10 || j.snap.ImagesDone != 10 {
		t.Fatalf("overall progress: %d of %d images", j.snap.ImagesDone, j.snap.Images)
	}
	h.press("transfers")
	h.requireContains("sync   "+src+" → "+mirror, "images 10 of 10 finished")
	h.press("back")
	// Again: only what is missing (the two refused) would be copied.
	rep, err := runSync(context.Background(), h.m.sh, src, mirror, registry.SyncOptions{DryRun: true})
	if err != nil || rep.Present != 8 {
		t.Fatalf("after the mirror: %d present, %v", rep.Present, err)
	}
}

// TestSyncRepository mirrors one repository to the same name under
// another root.
func TestSyncRepository(t *testing.T) {
	h, _, mirror := mirrorHarness(t)
	openFirstRoot(h)
	h.press("filter")
	h.typeText("refactor")
	h.press("submit")
	h.press("sync")
	h.press("submit")
	h.requireContains("> " + mirror + "/alice/refactor-agent")
	h.press("submit")
	settleDialog[*confirmDialog](h, "the mirror's dry run")
	h.requireContains("Copies 3 images", "v1, v2 and v3")
	h.press("confirm")
	if j := ended(h, 1); j.state != jobDone {
		t.Fatalf("sync: %v %v", j.state, j.err)
	}
	if n := lastNote(h.m); !strings.Contains(n.text, "3 copied, 0 already there, 0 failed") {
		t.Fatalf("sync: %q", n.text)
	}
}

// TestStoreUsageAndGC: the usage view splits each image's bytes into
// unique and shared and says what gc would free; removing an image and
// collecting its blobs empty what only it reached.
func TestStoreUsageAndGC(t *testing.T) {
	h := newHarness(t, 120, 30)
	pullFirst(t, h, "refactor", 2)
	home(h)
	h.press("top")
	h.press("open")
	h.settle("local", func(m *App) bool { return topIs[*localScreen](m) && idle(m) })
	h.press("usage")
	h.settle("usage", func(m *App) bool { return topIs[*usageScreen](m) && idle(m) })
	u := h.top().(*usageScreen).u
	if len(u.Images) != 2 || u.Images[0].Shared == 0 || u.Reclaimable != 0 {
		t.Fatalf("usage: %+v", u)
	}
	h.requireContains("Store "+termtext.Bytes(u.Total), "reclaimable by gc 0 B (0 blobs)", "UNIQUE", "SHARED",
		termtext.Bytes(u.Images[0].Unique))
	unique := u.Images[0].Unique
	h.press("delete") // the selected image: the largest unique share
	settleDialog[*confirmDialog](h, "the removal's dry run")
	h.requireContains("Remove "+u.Images[0].ImageID.Short()+" from the local store?", "written less than 1h ago", "pf-registry gc --grace 0")
	h.press("confirm")
	h.settle("removed", func(m *App) bool {
		return len(m.xfers.jobs) == 3 && idle(m) && len(h.top().(*usageScreen).u.Images) == 1
	})
	if u := h.top().(*usageScreen).u; u.Reclaimable != unique {
		t.Fatalf("reclaimable after the removal: %d, want %d", u.Reclaimable, unique)
	}
	age(t, filepath.Join(h.dir, "store"))
	h.press("gc")
	settleDialog[*confirmDialog](h, "the gc's dry run")
	h.requireContains("Collect the local store's garbage?", "no remaining image reaches ("+nbsp(termtext.Bytes(unique))+")")
	h.press("confirm")
	h.settle("collected", func(m *App) bool {
		u := h.top().(*usageScreen).u
		return len(m.xfers.jobs) == 4 && idle(m) && u.Reclaimable == 0
	})
	if u := h.top().(*usageScreen).u; len(u.Images) != 1 || u.Blobs != 30 {
		t.Fatalf("after gc: %+v", u)
	}
	// The local store screen followed.
	h.press("back")
	h.settle("local", func(m *App) bool { return idle(m) && len(h.top().(*localScreen).images) == 1 })
}

// TestLocalStoreBulkRemove: marks on the local store screen, removed in
// one job.
func TestLocalStoreBulkRemove(t *testing.T) {
	h := newHarness(t, 120, 30)
	pullFirst(t, h, "refactor", 3)
	goTo(h, "store")
	h.settle("local", func(m *App) bool { return topIs[*localScreen](m) && idle(m) })
	// A local image has no signatures to list: the pane says why.
	h.press("open")
	h.settle("local detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	toPane(t, h, h.top().(*detailScreen), "Signatures")
	h.requireContains("the local store keeps no signatures")
	h.press("back")
	h.press("mark")
	h.press("mark")
	h.press("delete")
	settleDialog[*confirmDialog](h, "the removal's dry run")
	h.requireContains("Remove 2 images from the local store?")
	h.press("confirm")
	h.settle("removed", func(m *App) bool { return idle(m) && len(h.top().(*localScreen).images) == 1 })
}

// TestReadOnlyManagement: in read-only mode every signing and management
// key is off, says why when pressed, and help lists it as off.
func TestReadOnlyManagement(t *testing.T) {
	h := newHarness(t, 140, 40, withReadOnly())
	h.settle("roots", idle)
	check := func(where string, names ...string) {
		t.Helper()
		for _, k := range names {
			h.press(k)
			if !strings.Contains(h.statusLine(), "read-only") || anyOverlay(h.m) || len(h.m.xfers.jobs) != 0 || h.m.sh.working != 0 {
				t.Fatalf("%s: %s in read-only mode: status %q, overlay %v", where, k, h.statusLine(), anyOverlay(h.m))
			}
		}
		h.press("help")
		for _, k := range names {
			desc := h.m.sh.keys.byName()[k].Help().Desc
			h.requireContains(desc + " (off: read-only mode)")
		}
		h.press("back")
	}
	h.press("top")
	h.press("down")
	check("registries", "sync")
	h.press("open")
	h.settle("repositories", func(m *App) bool { return topIs[*reposScreen](m) && idle(m) })
	check("repositories", "sync")
	h.press("back")
	openRepo(t, h, "refactor")
	check("tags", "delete", "sign", "retag")
	h.press("open")
	h.settle("detail", func(m *App) bool { return topIs[*detailScreen](m) && idle(m) })
	check("detail", "sign", "retag")
	goTo(h, "du")
	h.settle("usage", func(m *App) bool { return topIs[*usageScreen](m) && idle(m) })
	check("usage", "delete", "gc")
	h.press("back")
	goTo(h, "store")
	h.settle("local", func(m *App) bool { return topIs[*localScreen](m) && idle(m) })
	check("local store", "delete")
	if f := h.footerLine(); strings.Contains(f, "delete") {
		t.Fatalf("the footer advertises delete in read-only mode: %q", f)
	}
}

// TestOCISignatureTags: on an OCI registry without a referrers API, an
// image's cosign signature tag is folded into its row, with the count,
// not listed as a row of its own.
func TestOCISignatureTags(t *testing.T) {
	host := ocitest.Distribution(t)
	k, err := signing.NewStore(filepath.Join("demo", ".pf-demo-keys")).Private("demo", signing.StaticPassphrase(nil))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg, ref, err := registry.ForRef(demoRoot+"/alice/refactor-agent/v1", registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reg.Pull(context.Background(), ref, st, registry.TransferOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oci, dst, err := registry.ForRef("oci://"+host+"/pf/sig:v1", registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oci.Push(context.Background(), st, rep.Inspection.ImageID, dst, registry.TransferOptions{SignWith: []*signing.PrivateKey{k}}); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 120, 30, withRoots("oci://"+host), withKeyring(t))
	openFirstRoot(h)
	h.press("open")
	s := h.top().(*tagsScreen)
	h.settle("tags", func(m *App) bool { return idle(m) && len(s.tags) > 0 })
	if len(s.tags) != 1 {
		t.Fatalf("%d rows: the signature tag is listed as an image:\n%s", len(s.tags), h.plain())
	}
	h.requireContains("v1 +1 sig", "✔ trusted")
}

// TestHostileNamesInManagement: the dialogs of signing and management show
// a registry's hostile repository and tag names escaped: the retag input,
// the delete question, the key picker, the mirror's questions and its job.
func TestHostileNamesInManagement(t *testing.T) {
	t.Setenv(envPassword, releasePass)
	src, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	id := testimages.HostileImage(t, src)
	dir := filepath.Join("t", "hostile-manage")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	root := "file://" + filepath.ToSlash(dir)
	reg, ref, err := registry.ForRef(root+"/ev"+testimages.Hostile+"/repo/t"+testimages.Hostile, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Push(context.Background(), src, id, ref, registry.TransferOptions{}); err != nil {
		t.Fatal(err)
	}
	mirror := emptyRoot(t, "mirror")
	h := newHarness(t, 220, 40, withRoots(root, mirror))
	seedKeys(t, h)
	var frames []string
	shot := func() { frames = append(frames, h.view()) }
	openFirstRoot(h)
	h.press("sync")
	shot()
	h.press("submit")
	shot()
	h.press("dismiss")
	h.press("open")
	h.settle("tags", func(m *App) bool { return topIs[*tagsScreen](m) && idle(m) })
	h.press("retag")
	shot()
	h.press("dismiss")
	h.press("delete")
	settleDialog[*confirmDialog](h, "the deletion's dry run")
	shot()
	h.press("dismiss")
	pickKey(h)
	h.settle("signed", func(m *App) bool { return idle(m) && m.sh.working == 0 })
	shot()
	home(h)
	h.press("top")
	h.press("down")
	h.press("sync")
	h.press("submit")
	h.press("submit")
	settleDialog[*confirmDialog](h, "the mirror's dry run")
	shot()
	h.press("confirm")
	ended(h, 1)
	h.press("transfers")
	shot()
	h.press("open")
	shot()
	checkFramesSafe(t, frames)
	all := ansi.Strip(strings.Join(frames, "\n"))
	for _, want := range []string{`ev\x1b[31m`, `t\x1b[31m`} {
		if !strings.Contains(all, want) {
			t.Errorf("no frame shows %q escaped", want)
		}
	}
}

// TestDetailFollowsAMovedImage: signing an IPFS image gives it a new
// reference; its open detail follows it and reads the image there.
func TestDetailFollowsAMovedImage(t *testing.T) {
	h := newHarness(t, 120, 30)
	d := openImage(t, h, "refactor", "v1")
	from, to := demoRoot+"/alice/refactor-agent/v1", demoRoot+"/alice/refactor-agent/v2"
	h.m.sh.working++ // as runOp does
	h.send(opDoneMsg{text: "signed", moved: map[string]string{from: to}, changes: []string{to, from}})
	h.settle("followed", func(m *App) bool {
		return idle(m) && d.data != nil && d.data.in.ImageID == demoResult.Images["alice/refactor-agent/v2"]
	})
	h.requireContains("Reference  " + to)
}
