package benchsuite

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMeasureReportsTheChildAndItsFailure(t *testing.T) {
	if _, err := os.Stat(timeBin); err != nil {
		t.Fatalf("%s is missing (Debian package time; scripts/bench.sh installs it)", timeBin)
	}
	ctx := context.Background()
	// dd fills a 64 MiB buffer: the child's own peak, not this process's.
	s := Measure(ctx, "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null", t.TempDir(), nil, 0, time.Minute)
	if s.Err != "" || s.Wall <= 0 || s.RSS < 32<<20 {
		t.Fatalf("sample %+v: want success, wall > 0 and a peak RSS of at least 32 MiB", s)
	}
	f := Measure(ctx, "echo 'boom: something failed' >&2; exit 3", t.TempDir(), nil, 0, time.Minute)
	if !strings.Contains(f.Err, "exit status 3") || !strings.Contains(f.Err, "something failed") {
		t.Fatalf("failed run: Err %q, want the exit status and the stderr line", f.Err)
	}
}

func TestMeasureStopsTheWholeCommandOnTimeout(t *testing.T) {
	dir := t.TempDir()
	// A grandchild of GNU time that would outlive it if only time were killed.
	s := Measure(context.Background(), "sh -c 'echo $$ > pid; exec sleep 600' | cat", dir, nil, 0, time.Second)
	if !strings.Contains(s.Err, "did not finish within 1s") {
		t.Fatalf("Err %q, want the timeout", s.Err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	// The kill is sent when Measure returns; a loaded machine may take a
	// moment to deliver it, so the state is read until the process is gone
	// or a zombie (dead, waiting to be reaped), for at most 10 s.
	state := ""
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		stat, err := os.ReadFile("/proc/" + strings.TrimSpace(string(b)) + "/stat")
		if err != nil {
			return
		}
		state = strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))[0]
		if state == "Z" || state == "X" {
			return
		}
	}
	t.Fatalf("the sleeping grandchild is still alive 10 s after the timeout (state %s)", state)
}

func TestErrorLinePicksTheFailure(t *testing.T) {
	got := errorLine("NOTICE: Config file not found - using defaults\nFailed to create file system: bad\n")
	if got != "Failed to create file system: bad" {
		t.Fatalf("errorLine = %q", got)
	}
	if got := errorLine("just one line\nand another"); got != "just one line" {
		t.Fatalf("errorLine without an error word = %q", got)
	}
}

func runs(backend, op, tool string, ours bool, walls ...float64) []Run {
	var out []Run
	for i, w := range walls {
		out = append(out, Run{Backend: backend, Op: op, Tool: tool, Ours: ours, Rep: i, Sample: Sample{Wall: w, CPU: w / 2, RSS: int64(i+1) << 20}})
	}
	return out
}

func TestRowsTakeMediansAndTheBestPeer(t *testing.T) {
	var all []Run
	all = append(all, runs("oci", "push", "pf-registry", true, 3, 1, 2)...)
	all = append(all, runs("oci", "push", "oras", false, 4, 4, 5)...)
	all = append(all, runs("oci", "push", "regctl", false, 9, 1, 9)...)
	failed := runs("oci", "push", "crane", false, 1)
	failed[0].Err = "exit status 1: boom"
	all = append(all, failed...)
	all = append(all, runs("file", "pull", "pf-registry", true, 2, 2, 2)...)
	rows := Rows(all)
	if len(rows) != 2 || rows[0].Backend != "file" || rows[1].Op != "push" {
		t.Fatalf("rows %+v: want file pull, then oci push", rows)
	}
	oci := rows[1]
	if oci.Ours.Wall != 2 || oci.Ours.RSS != 3<<20 || oci.Ours.N != 3 {
		t.Fatalf("ours %+v: want median 2 s over 3 runs and the largest RSS", oci.Ours)
	}
	if b := oci.Best(); b.Tool != "oras" || b.Wall != 4 {
		t.Fatalf("best peer %+v, want oras at 4 s (regctl's median is 9)", b)
	}
	if oci.Ratio != 0.5 {
		t.Fatalf("ratio %v, want 0.5", oci.Ratio)
	}
	if last := oci.Peers[len(oci.Peers)-1]; last.Tool != "crane" || last.N != 0 || last.Failed != 1 {
		t.Fatalf("failed peer %+v should sort last with its failure counted", last)
	}
	if rows[0].Ratio != 0 {
		t.Fatalf("a row without peers has ratio %v, want 0", rows[0].Ratio)
	}
}

func TestMedianAndRotate(t *testing.T) {
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Fatalf("median = %v", m)
	}
	ts := []tool{{name: "a"}, {name: "b"}, {name: "c"}}
	if r := rotate(ts, 4); r[0].name != "b" || r[2].name != "a" || len(r) != 3 {
		t.Fatalf("rotate = %v", r)
	}
	if s := slug("@huggingface/hub"); s != "huggingfacehub" {
		t.Fatalf("slug = %q", s)
	}
}

func TestReportAndChart(t *testing.T) {
	var all []Run
	all = append(all, runs("s3", "push", "pf-registry", true, 2, 2, 2)...)
	all = append(all, runs("s3", "push", "aws s3 cp", false, 4, 4, 4)...)
	all = append(all, runs("s3", "repush", "pf-registry", true, 0.1, 0.1, 0.1)...)
	all = append(all, runs("hf", "pull", "pf-registry", true, 3, 3, 3)...)
	all = append(all, runs("hf", "pull", "@huggingface/hub", false, 2, 2, 2)...)
	r := &Results{Date: "today", Reps: 3, Image: Image{Logical: 1 << 30, Stored: 1e9, Files: 402, FSFiles: 200},
		Limits: Limits{SHA256: 2000, Loopback: 4000, CacheWrite: 1500}, Runs: all}
	var md strings.Builder
	WriteMarkdown(&md, r, "ratios.png")
	for _, want := range []string{
		"| s3 | push | 500 | aws s3 cp | 250 | **0.50** | 0.25 of SHA-256 |",
		"| s3 | repush | 10000 | – | – | – | 5.0 % of our push |",
		"| hf | pull | 333 | @huggingface/hub | 500 | **1.50** |",
		"![time ratio pf-registry / best peer](ratios.png)",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("RESULTS.md lacks %q:\n%s", want, md.String())
		}
	}
	var img bytes.Buffer
	if err := WriteChart(&img, Rows(all), "test"); err != nil {
		t.Fatal(err)
	}
	p, err := png.Decode(&img)
	if err != nil {
		t.Fatal(err)
	}
	// Two bars (s3 push, hf pull): the image grows with the rows.
	if b := p.Bounds(); b.Dx() != 900 || b.Dy() < 50+2*22 {
		t.Fatalf("chart is %v", b)
	}
}

func TestTagFixtures(t *testing.T) {
	img := t.TempDir()
	for _, f := range []string{"manifest.json", "manifest.json.sig"} {
		if err := os.WriteFile(filepath.Join(img, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := FileTags(t.TempDir(), img, 12_345)
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(repo)
	if len(ents) != 12_345 {
		t.Fatalf("%d tags, want 12345", len(ents))
	}
	if b, _ := os.ReadFile(filepath.Join(repo, "t012344", "manifest.json.sig")); string(b) != "manifest.json.sig" {
		t.Fatalf("last tag's signature holds %q", b)
	}

	storage := t.TempDir()
	tags := filepath.Join(storage, "docker/registry/v2/repositories/bench/tags/_manifests/tags")
	os.MkdirAll(filepath.Join(tags, "t000000/current"), 0o755)
	os.WriteFile(filepath.Join(tags, "t000000/current/link"), []byte("sha256:abcd"), 0o644)
	if err := OCITags(storage, "bench/tags", 5); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"t000004/current/link", "t000004/index/sha256/abcd/link"} {
		if b, err := os.ReadFile(filepath.Join(tags, p)); err != nil || string(b) != "sha256:abcd" {
			t.Fatalf("%s: %q %v", p, b, err)
		}
	}
}

func TestGoalsReadTheUIBenchmark(t *testing.T) {
	var b strings.Builder
	uiGoals(&b, "BenchmarkTagList100k/first-screen-file-2  2  478598210 ns/op  478.6 ms/first-screen\n"+
		"BenchmarkTagList100k/scroll-2  200  1000 ns/op  3.50 ms/frame\nBenchmarkTagList100k/filter-2  200  1000 ns/op  21.00 ms/frame\n")
	for _, want := range []string{"| 100,000-tag list: first screen < 1 s on file:// | 479 ms | yes |", "| 100,000-tag list: frames < 16 ms | 21.00 ms (slowest of scroll, page, filter) | no |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("goals lack %q:\n%s", want, b.String())
		}
	}
}
