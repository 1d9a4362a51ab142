// Command pfbench is the driver behind scripts/bench.sh:
//
//	pfbench suite  [flags] -out FILE.json   time every tool on every backend
//	pfbench tags   [flags] -out FILE.json   list 100,000 tags on file:// and OCI
//	pfbench report -dir bench               write RESULTS.md and the chart
//
// The script builds the binaries, generates the image, writes its file
// layout (the payload) and OCI layout, and passes their paths.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"pf-registry/internal/benchsuite"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: pfbench suite|tags|report [flags]"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "suite", "tags":
		err = run(ctx, os.Args[1], os.Args[2:])
	case "report":
		err = report(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q: want suite, tags or report", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pfbench:", err)
	os.Exit(1)
}

func run(ctx context.Context, mode string, args []string) error {
	var e benchsuite.Env
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	fs.StringVar(&e.Work, "work", "", "scratch directory")
	fs.StringVar(&e.PF, "pf", "", "pf-registry binary")
	fs.StringVar(&e.Store, "store", "", "local store holding the image")
	fs.StringVar(&e.ImageID, "id", "", "image ID")
	fs.StringVar(&e.Payload, "payload", "", "the image in the file layout")
	fs.StringVar(&e.Layout, "layout", "", "the image as an OCI image layout (tag v1)")
	fs.StringVar(&e.HFPeer, "hf-peer", "", "node script driving @huggingface/hub")
	fs.StringVar(&e.Testhub, "testhub", "", "test hub binary")
	fs.StringVar(&e.Timeout, "timeout", "30m", "timeout of one command")
	fs.BoolVar(&e.WithPeers, "peers", true, "run the peer tools too")
	reps := fs.Int("reps", 3, "repetitions")
	ops := fs.String("ops", "push,pull,repush,copy", "operations")
	backends := fs.String("backends", "file,oci,s3,ipfs,hf", "backends")
	logical := fs.Int64("logical", 0, "logical size of the image (for the report)")
	fsFiles := fs.Int("fs-files", 0, "files in the image's fs tree (for the report)")
	tags := fs.Int("tags", 100_000, "tags to list (tags mode)")
	tagsTimeout := fs.Duration("tags-timeout", 3*time.Minute, "stop a listing after this long (tags mode)")
	limits := fs.Bool("limits", true, "measure the machine's limits first")
	out := fs.String("out", "", "JSON file to write")
	fs.Parse(args)
	if e.Work == "" || e.PF == "" || *out == "" {
		return fmt.Errorf("%s: -work, -pf and -out are required", mode)
	}
	res := &benchsuite.Results{Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Machine: benchsuite.DescribeMachine(), Reps: *reps}
	stored, files := benchsuite.DirSize(e.Payload)
	res.Image = benchsuite.Image{Logical: *logical, Stored: stored, Files: files, FSFiles: *fsFiles}
	var err error
	if mode == "tags" {
		res.Scale = &benchsuite.Scale{}
		res.Scale.Tags, err = benchsuite.ListTags(ctx, &e, *tags, *reps, *tagsTimeout, os.Stderr)
		if err != nil {
			return err
		}
		return writeJSON(*out, res)
	}
	if *limits {
		fmt.Fprintln(os.Stderr, "measuring the machine's limits")
		if res.Limits, err = benchsuite.MeasureLimits(e.Work, e.Payload, max(stored, 256<<20)); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "limits (MB/s): %+v\n", res.Limits)
	}
	res.Runs, err = benchsuite.Suite(ctx, &e, benchsuite.Options{Reps: *reps, Ops: strings.Split(*ops, ","),
		Backends: strings.Split(*backends, ","), Log: os.Stderr})
	if err != nil {
		return err
	}
	return writeJSON(*out, res)
}

// writeJSON writes atomically (temp file + rename).
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readJSON(path string) (*benchsuite.Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r benchsuite.Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &r, nil
}

// report renders dir/RESULTS.md and dir/ratios.png from the JSON files a
// suite and the scale runs left in dir.
func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	dir := fs.String("dir", "bench", "results directory")
	fs.Parse(args)
	main, err := readJSON(filepath.Join(*dir, "results.json"))
	if err != nil {
		return err
	}
	png, err := os.Create(filepath.Join(*dir, "ratios.png.tmp"))
	if err != nil {
		return err
	}
	title := fmt.Sprintf("pf-registry vs the best peer, %.0f MiB image, median of %d (%s)", float64(main.Image.Logical)/(1<<20), main.Reps, main.Date)
	if err := benchsuite.WriteChart(png, benchsuite.Rows(main.Runs), title); err != nil {
		png.Close()
		return err
	}
	png.Close()
	if err := os.Rename(png.Name(), filepath.Join(*dir, "ratios.png")); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*dir, "PROFILES.md")); err == nil {
		main.Notes = append(main.Notes, "Where the time goes on the lines where pf-registry is behind: [PROFILES.md](PROFILES.md).")
	}
	var b strings.Builder
	benchsuite.WriteMarkdown(&b, main, "ratios.png")
	scale := benchsuite.ScaleInputs{}
	scale.Files, _ = readJSON(filepath.Join(*dir, "scale-files.json"))
	scale.Big, _ = readJSON(filepath.Join(*dir, "scale-big.json"))
	scale.Tags, _ = readJSON(filepath.Join(*dir, "scale-tags.json"))
	if ui, err := os.ReadFile(filepath.Join(*dir, "ui-100k.txt")); err == nil {
		scale.UI = string(ui)
	}
	benchsuite.WriteScale(&b, main, scale)
	tmp := filepath.Join(*dir, "RESULTS.md.tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(*dir, "RESULTS.md"))
}
