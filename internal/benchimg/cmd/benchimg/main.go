// Command benchimg writes a benchmark image into a local store and prints
// its ID, for scripts/bench.sh:
//
//	go run ./internal/benchimg/cmd/benchimg -store DIR -bytes 1073741824 -seed 1 -files 200
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"pf-registry/internal/benchimg"
	"pf-registry/store"
)

func main() {
	var spec benchimg.Spec
	dir := flag.String("store", "", "local store directory to write into (required)")
	flag.Int64Var(&spec.Bytes, "bytes", 1<<30, "approximate logical size of the image")
	flag.Uint64Var(&spec.Seed, "seed", 1, "seed; the same seed and shape give the same image ID")
	flag.IntVar(&spec.Files, "files", 200, "files in the fs tree")
	flag.IntVar(&spec.FileMin, "file-min", 1<<10, "smallest file size")
	flag.IntVar(&spec.FileMax, "file-max", 20<<10, "largest file size")
	flag.Int64Var(&spec.DiffBytes, "diff-bytes", 0, "model diff size (default bytes/16, at most 64 MiB; -1 for none)")
	flag.Parse()
	if *dir == "" || spec.Bytes <= 0 || spec.Files < 0 {
		fmt.Fprintln(os.Stderr, "benchimg: -store DIR is required and -bytes must be positive")
		os.Exit(2)
	}
	st, err := store.Open(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchimg:", err)
		os.Exit(1)
	}
	t0 := time.Now()
	s, err := benchimg.Build(st, spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchimg:", err)
		os.Exit(1)
	}
	stored, _ := st.Size()
	fmt.Println(s.ID)
	fmt.Fprintf(os.Stderr, "benchimg: %s: %d blobs, %d B logical, %d B stored in the store, %s\n",
		s.ID, s.Blobs, s.Logical, stored, time.Since(t0).Round(time.Millisecond))
}
