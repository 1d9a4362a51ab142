package file

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pf-registry/internal/crashpoint"
	"pf-registry/internal/fault"
	"pf-registry/internal/stale"
	"pf-registry/model"
	"pf-registry/registry"
	"pf-registry/signing"
)

// Every write of the sink goes through an os.Root on the image directory:
// a symlink inside it (blobs/, a shard, .pf-staging) that leads out of it
// makes the write fail instead of landing elsewhere.
//
// Replacing an image means replacing manifest.json, manifest.json.sig and
// the Sigstore bundles beside them (manifest.json.<fingerprint>.sigstore.json),
// files no single rename switches together. A commit therefore goes
// through a journal:
//
//  1. the files and an intent (who writes, which manifest it replaces and
//     which it installs, the bundles, whether bundles of the replaced
//     manifest are dropped) are written to a fresh directory in .pf-staging;
//  2. that directory is renamed to .pf-staging/commit: the switch is now
//     decided;
//  3. the bundles, the signature, then the manifest are renamed into place,
//     then the bundles the new image does not have are removed;
//  4. the journal is removed.
//
// A process killed before step 2 leaves the old image; after it, the next
// open by this tool (a push, or a pull, verify or inspect without
// --readonly) finishes steps 3–4 once the writer is gone, so the new image
// appears. Meanwhile, and during step 3 of a live push, a reader may see
// new signatures next to the old manifest or old bundles next to the new
// one: those fail verification, and a signature that fails never weakens
// one that verifies, so neither is taken for the image's verdict. A journal
// is not applied when the manifest changed since it was written (another
// tool pushed meanwhile). Adding signatures (sign) is the same switch with
// bundles only, installing the manifest it replaces.
const journal = stagingDir + "/commit"

// journalWait bounds how long a push waits for another live process to
// finish its own switch.
const journalWait = 10 * time.Second

// journalStale is the age after which a journal is finished whoever wrote
// it: a switch is a few renames, and a pid can be reused.
const journalStale = 10 * time.Minute

// step marks a step of a write where crash tests kill the process.
func step(name string) { crashpoint.Step("file." + name) }

// tidy finishes a switch a killed writer left pending and removes
// abandoned staging files. Best effort; never in read-only mode.
func (d *dirImage) tidy() {
	if d.readOnly {
		return
	}
	if _, err := os.Lstat(filepath.Join(d.dir, stagingDir)); err != nil {
		return // nothing was ever staged here
	}
	if root, err := os.OpenRoot(d.dir); err == nil {
		_ = rollForward(root, false)
		cleanStaging(root)
		root.Close()
	}
}

// writeErr names the path that could not be written and why a symlink
// may be the cause.
func (d *dirImage) writeErr(rel string, err error) error {
	if strings.Contains(err.Error(), "escapes") {
		return fault.WithHint(fmt.Errorf("refusing to write %s in %s: a symlink inside the image directory leads out of it", rel, d.dir),
			"remove the symlink; a push writes only inside the image directory")
	}
	return fault.WithHint(fmt.Errorf("cannot write %s in %s: %w", rel, d.dir, err), "check the directory's permissions and free space")
}

// stageFile writes r to a fresh staging file (synced) and returns its
// name relative to the root. Nothing is kept if r fails; r's own error is
// returned as is, a failure to write as a *writeFailure.
func stageFile(root *os.Root, dir string, r io.Reader) (string, error) {
	name := path.Join(dir, stale.Name("tmp"))
	var f *os.File
	err := fs.ErrNotExist
	// Another commit removes an empty .pf-staging: create it again then.
	for try := 0; try < 3 && errors.Is(err, fs.ErrNotExist); try++ {
		if err = root.MkdirAll(dir, 0o755); err == nil {
			f, err = root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		}
	}
	if err != nil {
		return "", &writeFailure{dir, err}
	}
	src := &sourceReader{r: r}
	_, err = io.Copy(f, src)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		root.Remove(name)
		if src.err != nil {
			return "", src.err
		}
		return "", &writeFailure{dir, err}
	}
	return name, nil
}

// writeFailure is a file system error while writing rel.
type writeFailure struct {
	rel string
	err error
}

func (w *writeFailure) Error() string { return w.rel + ": " + w.err.Error() }
func (w *writeFailure) Unwrap() error { return w.err }

// sourceReader remembers the error of the stream being staged, to tell it
// from a write error.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// asWriteErr turns a *writeFailure into the one-line error of writeErr and
// passes other errors (the source's) through.
func (d *dirImage) asWriteErr(err error) error {
	var wf *writeFailure
	if errors.As(err, &wf) {
		return d.writeErr(wf.rel, wf.err)
	}
	return err
}

// PutBlob writes one blob through a staging file renamed into place.
func (d *dirImage) PutBlob(_ context.Context, b *registry.Blob) error {
	rc, err := b.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	root, err := d.openRoot()
	if err != nil {
		return err
	}
	defer root.Close()
	rel := b.Digest.ShardPath()
	tmp, err := stageFile(root, stagingDir, rc)
	if err != nil {
		return d.asWriteErr(err)
	}
	step("blob")
	return d.place(root, tmp, rel)
}

// place renames a staged file to rel, creating its directory.
func (d *dirImage) place(root *os.Root, tmp, rel string) error {
	err := root.MkdirAll(path.Dir(rel), 0o755)
	if err == nil {
		err = root.Rename(tmp, rel)
	}
	if err != nil {
		root.Remove(tmp)
		return d.writeErr(rel, err)
	}
	return nil
}

// openRoot opens the image directory for writing, creating it if needed.
func (d *dirImage) openRoot() (*os.Root, error) {
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return nil, fault.WithHint(fmt.Errorf("cannot create %s: %w", d.dir, err), "check the directory's permissions")
	}
	root, err := os.OpenRoot(d.dir)
	if err != nil {
		return nil, fault.WithHint(fmt.Errorf("cannot open %s: %w", d.dir, err), "check the directory's permissions")
	}
	return root, nil
}

// Commit switches manifest and signature through the journal (see above),
// dropping the bundles of the image it replaces.
func (d *dirImage) Commit(_ context.Context, manifest, sig []byte) error {
	if sig == nil {
		return fmt.Errorf("%s: a file registry image needs a signature", d.ref)
	}
	return d.commit(&switchSet{manifest: manifest, sig: sig, installs: model.FromBytes(manifest), prune: true})
}

// CommitSigned implements registry.SignedSink: Commit with the bundles.
func (d *dirImage) CommitSigned(_ context.Context, manifest, sig []byte, b registry.Bundles) ([]signing.Check, error) {
	files, err := b.Files(manifest)
	if err != nil {
		return nil, err
	}
	err = d.commit(&switchSet{manifest: manifest, sig: sig, installs: model.FromBytes(manifest), bundles: files, prune: true})
	return registry.Checks(files), err
}

// AddSignatures implements registry.SignedSink: a switch of bundles only,
// refused when manifest.json is no longer manifest.
func (d *dirImage) AddSignatures(_ context.Context, manifest []byte, b registry.Bundles) ([]signing.Check, error) {
	files, err := b.Files(manifest)
	if err != nil {
		return nil, err
	}
	want := model.FromBytes(manifest)
	if err := d.checkManifest(want); err != nil {
		return nil, err
	}
	if err := d.commit(&switchSet{installs: want, bundles: files}); err != nil {
		return nil, err
	}
	return registry.Checks(files), d.checkManifest(want)
}

// checkManifest fails with registry.ErrChanged unless manifest.json has
// digest want.
func (d *dirImage) checkManifest(want model.Digest) error {
	root, err := d.openRoot()
	if err != nil {
		return err
	}
	defer root.Close()
	cur, err := currentManifest(root)
	if err != nil {
		return err
	}
	if cur != string(want) {
		return registry.Changed(d.ref)
	}
	return nil
}

// switchSet is what one switch installs: manifest and signature (nil: kept
// as they are), the bundles, and whether bundles not among them go.
type switchSet struct {
	manifest, sig []byte
	installs      model.Digest
	bundles       []registry.BundleFile
	prune         bool
}

func (d *dirImage) commit(set *switchSet) error {
	root, err := d.openRoot()
	if err != nil {
		return err
	}
	defer root.Close()
	stage, err := stageCommit(root, set)
	if err != nil {
		return d.asWriteErr(err)
	}
	step("staged")
	if err := installJournal(root, stage); err != nil {
		root.RemoveAll(stage)
		return d.writeErr(journal, err)
	}
	step("journal")
	if err := rollForward(root, true); err != nil {
		return d.writeErr("manifest.json", err)
	}
	root.Remove(stagingDir) // only succeeds when empty
	return nil
}

// stageCommit writes the journal directory: the files and the intent.
func stageCommit(root *os.Root, set *switchSet) (string, error) {
	replaces, err := currentManifest(root)
	if err != nil {
		return "", &writeFailure{"manifest.json", err}
	}
	stage := path.Join(stagingDir, stale.Name("stage"))
	err = fs.ErrNotExist
	for try := 0; try < 3 && errors.Is(err, fs.ErrNotExist); try++ {
		err = root.MkdirAll(stage, 0o755) // see stageFile
	}
	if err != nil {
		return "", &writeFailure{stagingDir, err}
	}
	self := stale.Self()
	intent := fmt.Sprintf("pid %d\nhost %s\nreplaces %s\ninstalls %s\n", self.PID, self.Host, replaces, set.installs)
	if set.prune {
		intent += "prune\n"
	}
	type file struct {
		name string
		data []byte
	}
	var files []file
	for _, b := range set.bundles {
		files = append(files, file{b.Name, b.Data})
		intent += "bundle " + b.Name + "\n"
	}
	if set.manifest != nil {
		files = append(files, file{"manifest.json.sig", set.sig}, file{"manifest.json", set.manifest})
	}
	for _, f := range append(files, file{"intent", []byte(intent)}) {
		tmp, err := stageFile(root, stage, bytes.NewReader(f.data))
		if err == nil {
			if err = root.Rename(tmp, path.Join(stage, f.name)); err != nil {
				err = &writeFailure{stage, err}
			}
		}
		if err != nil {
			root.RemoveAll(stage)
			return "", err
		}
	}
	if err := syncDir(root, stage); err != nil {
		return "", &writeFailure{stage, err}
	}
	return stage, nil
}

// installJournal renames the staged directory to the journal, after a
// journal of another live process is done.
func installJournal(root *os.Root, stage string) error {
	deadline := time.Now().Add(journalWait)
	for {
		err := root.Rename(stage, journal)
		if err == nil {
			return syncDir(root, stagingDir)
		}
		if time.Now().After(deadline) {
			return err
		}
		if _, serr := root.Lstat(journal); errors.Is(serr, fs.ErrNotExist) {
			continue // the other journal was dropped meanwhile: try again
		} else if serr != nil {
			return err
		}
		if ferr := rollForward(root, false); ferr != nil && !errors.Is(ferr, errBusy) {
			return ferr
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// errBusy: the journal belongs to a process that is still running.
var errBusy = errors.New("another process is switching this image")

// rollForward finishes a pending switch. Unless own is set (the writer
// itself), a journal is only taken over when its writer is gone.
func rollForward(root *os.Root, own bool) error {
	fi, err := root.Lstat(journal + "/intent")
	if errors.Is(err, fs.ErrNotExist) {
		if _, err := root.Lstat(journal); err == nil {
			return dropJournal(root) // not written by this tool
		}
		return nil
	}
	if err != nil {
		return err
	}
	in, err := readIntent(root)
	if err != nil {
		return dropJournal(root)
	}
	if !own && !in.owner.Gone(fi.ModTime()) && time.Since(fi.ModTime()) < journalStale {
		return errBusy
	}
	cur, err := currentManifest(root)
	if err != nil {
		return err
	}
	if cur == in.replaces || cur == in.installs {
		if err := applyJournal(root, in); err != nil {
			return err
		}
	}
	return dropJournal(root)
}

// applyJournal renames the journal's files into place (those already moved
// are skipped), bundles first and the manifest last, then drops the
// bundles the new image does not have.
func applyJournal(root *os.Root, in intent) error {
	type move struct{ name, step string }
	var moves []move
	for _, b := range in.bundles {
		moves = append(moves, move{b, "bundle"})
	}
	moves = append(moves, move{"manifest.json.sig", "sig"}, move{"manifest.json", "manifest"})
	for _, f := range moves {
		if err := root.Rename(journal+"/"+f.name, f.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		step(f.step)
	}
	if !in.prune {
		return nil
	}
	return pruneBundles(root, in.bundles)
}

// pruneBundles removes every bundle beside the manifest but keep.
func pruneBundles(root *os.Root, keep []string) error {
	dir, err := root.Open(".")
	if err != nil {
		return err
	}
	names, err := dir.Readdirnames(-1)
	dir.Close()
	if err != nil {
		return err
	}
	for _, n := range names {
		if registry.IsBundleFile(n) && !slices.Contains(keep, n) {
			if err := root.Remove(n); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	step("prune")
	return nil
}

// dropJournal moves the journal aside before deleting it: deleting it in
// place could race with another writer installing its own journal under
// the same name once this one is empty.
func dropJournal(root *os.Root) error {
	trash := path.Join(stagingDir, stale.Name("done"))
	if err := root.Rename(journal, trash); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // someone else finished it
		}
		return err
	}
	return root.RemoveAll(trash)
}

type intent struct {
	owner              stale.Owner
	replaces, installs string
	bundles            []string
	prune              bool
}

func readIntent(root *os.Root) (intent, error) {
	f, _, err := openRegularIn(root, journal+"/intent")
	if err != nil {
		return intent{}, err
	}
	defer f.Close()
	var in intent
	sc := bufio.NewScanner(io.LimitReader(f, 4096))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "pid":
			in.owner.PID, _ = strconv.Atoi(v)
		case "host":
			in.owner.Host = v
		case "replaces":
			in.replaces = v
		case "installs":
			in.installs = v
		case "bundle":
			if !registry.IsBundleFile(v) {
				return intent{}, errors.New("malformed intent")
			}
			in.bundles = append(in.bundles, v)
		case "prune":
			in.prune = true
		}
	}
	if in.owner.PID <= 0 || in.installs == "" || in.replaces == "" {
		return intent{}, errors.New("malformed intent")
	}
	return in, nil
}

// currentManifest is the digest of manifest.json, or "none".
func currentManifest(root *os.Root) (string, error) {
	f, _, err := openRegularIn(root, "manifest.json")
	if errors.Is(err, fs.ErrNotExist) {
		return "none", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	if err != nil {
		return "", err
	}
	return string(model.FromBytes(b)), nil
}

// syncDir makes renames in dir durable.
func syncDir(root *os.Root, dir string) error {
	f, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// cleanStaging removes staging files and directories whose writer is gone.
func cleanStaging(root *os.Root) {
	dir, err := root.Open(stagingDir)
	if err != nil {
		return
	}
	ents, err := dir.ReadDir(-1)
	dir.Close()
	if err != nil {
		return
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err == nil && stale.Abandoned(e.Name(), fi.ModTime()) {
			root.RemoveAll(path.Join(stagingDir, e.Name()))
		}
	}
}

// openRegularIn is openRegular for a name inside root.
func openRegularIn(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	return checkRegular(f, err, name)
}
