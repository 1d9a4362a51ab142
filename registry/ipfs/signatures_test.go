package ipfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pf-registry/registry"
	"pf-registry/registry/signtest"
)

// mfsFiles reads and rewrites image directories with the ipfs CLI.
type mfsFiles struct{ k *kubo }

// dir returns the image directory's CID and its MFS name ("" for a CID).
func (f mfsFiles) dir(t testing.TB, ref registry.Ref) (cid, name string) {
	s := strings.TrimPrefix(ref.Raw, "ipfs://")
	repo, tag, ok := strings.Cut(s, ":")
	if !ok {
		return s, ""
	}
	name = IndexRoot + "/" + repo + "/" + tag
	return f.k.ipfs(t, "files", "stat", "--hash", name), name
}

func (f mfsFiles) Names(t testing.TB, ref registry.Ref) []string {
	cid, _ := f.dir(t, ref)
	return entryNames(t, f.k, cid)
}

func (f mfsFiles) Read(t testing.TB, ref registry.Ref, name string) []byte {
	cid, _ := f.dir(t, ref)
	out, err := f.k.run("cat", cid+"/"+name)
	if err != nil {
		t.Fatalf("ipfs cat %s/%s: %v: %s", cid, name, err, out)
	}
	return []byte(out)
}

// Write builds a new directory with the file replaced; a name moves to it,
// a CID reference becomes the new CID.
func (f mfsFiles) Write(t testing.TB, ref registry.Ref, name string, data []byte) registry.Ref {
	cid, mfsName := f.dir(t, ref)
	p := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	file := f.k.ipfs(t, "add", "-Q", "--pin=false", p)
	tmp := "/sigtest-" + strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", "")
	f.k.ipfs(t, "files", "cp", "/ipfs/"+cid, tmp)
	f.k.ipfs(t, "files", "rm", "--force", tmp+"/"+name)
	f.k.ipfs(t, "files", "cp", "/ipfs/"+file, tmp+"/"+name)
	dir := f.k.ipfs(t, "files", "stat", "--hash", tmp)
	f.k.ipfs(t, "pin", "add", dir)
	if mfsName == "" {
		f.k.ipfs(t, "files", "rm", "-r", tmp)
		return mustRef(t, "ipfs://"+dir)
	}
	f.k.ipfs(t, "files", "rm", "-r", mfsName)
	f.k.ipfs(t, "files", "mv", tmp, mfsName)
	return ref
}

func TestSignatures(t *testing.T) {
	k := needDaemon(t)
	run := runSeq.Add(1)
	var n int
	signtest.Run(t, signtest.Harness{
		Open: func(t testing.TB, cfg registry.Config) registry.Registry { return openIPFS(t, cfg) },
		NewRef: func(t testing.TB) registry.Ref {
			n++
			return mustRef(t, fmt.Sprintf("ipfs://sig-%d-%d:v1", run, n))
		},
		Files: mfsFiles{k},
	})
}
