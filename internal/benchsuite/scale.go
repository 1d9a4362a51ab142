package benchsuite

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// TagRun is one timed listing of a repository with many tags.
type TagRun struct {
	Backend string `json:"backend"`
	Tool    string `json:"tool"`
	Tags    int    `json:"tags"`
	Rep     int    `json:"rep"`
	Sample
}

// Scale holds the tag listings of `scripts/bench.sh scale`.
type Scale struct {
	Tags []TagRun `json:"tags"`
}

// FileTags makes n tags in repository dir/bench (file:// layout) by hard
// linking one image's manifest and signature into n directories: listing
// reads directories and manifests, never blobs. A fresh copy of the
// originals every 10,000 links stays under the file system's link limit.
func FileTags(dir, imageDir string, n int) (string, error) {
	repo := filepath.Join(dir, "bench")
	orig := filepath.Join(dir, "orig")
	for i := range n {
		tag := filepath.Join(repo, fmt.Sprintf("t%06d", i))
		if err := os.MkdirAll(tag, 0o755); err != nil {
			return "", err
		}
		for _, f := range []string{"manifest.json", "manifest.json.sig"} {
			src := filepath.Join(orig, fmt.Sprint(i/10_000), f)
			if i%10_000 == 0 {
				if err := copyFile(filepath.Join(imageDir, f), src); err != nil {
					return "", err
				}
			}
			if err := os.Link(src, filepath.Join(tag, f)); err != nil {
				return "", err
			}
		}
	}
	return repo, nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// OCITags adds tags t000001… next to tag t000000 of repository name in a
// stopped registry's filesystem storage, as the registry itself records a
// tag (a link file to the manifest digest), so that it can serve n tags
// without n uploads.
func OCITags(storage, name string, n int) error {
	tags := filepath.Join(storage, "docker/registry/v2/repositories", name, "_manifests/tags")
	link, err := os.ReadFile(filepath.Join(tags, "t000000/current/link"))
	if err != nil {
		return err
	}
	for i := 1; i < n; i++ {
		t := filepath.Join(tags, fmt.Sprintf("t%06d", i))
		digest := strings.TrimSpace(string(link))
		for _, p := range []string{filepath.Join(t, "current"), filepath.Join(t, "index", strings.Replace(digest, ":", "/", 1))} {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(p, "link"), link, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListTags times listing n tags on file:// and on the OCI registry with
// pf-registry and the peers, reps times each, taking turns; a listing still
// running after timeout is stopped and recorded as such.
func ListTags(ctx context.Context, e *Env, n, reps int, timeout time.Duration, log io.Writer) ([]TagRun, error) {
	imgDir := filepath.Join(e.Work, "tags-image")
	if out, err := runQuiet(e.pf("--store " + q(e.Store) + " push " + e.ImageID + " " + q("file://"+imgDir))); err != nil {
		return nil, fmt.Errorf("push the tag image: %v: %s", err, out)
	}
	repo, err := FileTags(filepath.Join(e.Work, "tags"), imgDir, n)
	if err != nil {
		return nil, err
	}
	oci := newOCI(e.Work)
	if err := oci.Reset(); err != nil {
		return nil, err
	}
	defer oci.Stop()
	if out, err := runQuiet(e.pf("copy " + q("file://"+imgDir) + " " + q("oci://"+oci.addr+"/bench/tags:t000000"))); err != nil {
		return nil, fmt.Errorf("push the tag image to the registry: %v: %s", err, out)
	}
	oci.Stop() // write the tags while it is down, then serve them
	if err := OCITags(filepath.Join(oci.dir, "data"), "bench/tags", n); err != nil {
		return nil, err
	}
	if err := oci.start(oci); err != nil {
		return nil, err
	}
	type lister struct{ backend, tool, cmd string }
	ociRepo := oci.addr + "/bench/tags"
	// Each lister prints one line per tag (pf-registry a header first);
	// a listing that does not hold every tag fails.
	count := func(cmd string, extra int) string {
		return fmt.Sprintf(`n=$(%s | wc -l); [ "$n" -eq %d ] || { echo "error: listed $n lines, want %d" >&2; exit 1; }`, cmd, n+extra, n+extra)
	}
	listers := []lister{
		{"file", "pf-registry", count(e.pf("tags "+q("file://"+repo)), 1)},
		{"file", "find", count("find "+q(repo)+" -mindepth 2 -maxdepth 2 -name manifest.json", 0)},
		{"oci", "pf-registry", count(e.pf("tags "+q("oci://"+ociRepo)), 1)},
		{"oci", "crane ls", count("crane ls "+q(ociRepo), 0)},
		{"oci", "regctl tag ls", count("regctl --host "+q("reg="+oci.addr+",tls=disabled")+" tag ls "+q(ociRepo), 0)},
	}
	var out []TagRun
	for rep := range reps {
		for i := range listers {
			l := listers[(i+rep)%len(listers)]
			pid := 0
			if l.backend == "oci" {
				pid = oci.PID()
			}
			s := Measure(ctx, l.cmd, e.Work, nil, pid, timeout)
			fmt.Fprintf(log, "rep %d  tags %-5s %-14s %6.2fs %s\n", rep+1, l.backend, l.tool, s.Wall, s.Err)
			out = append(out, TagRun{Backend: l.backend, Tool: l.tool, Tags: n, Rep: rep, Sample: s})
		}
	}
	return out, nil
}

// runQuiet runs a bash command line for set-up, returning its output on
// failure.
func runQuiet(command string) (string, error) {
	out, err := exec.Command("bash", "-c", command).CombinedOutput()
	return firstLine(string(out)), err
}
