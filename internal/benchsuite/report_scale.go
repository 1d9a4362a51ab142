package benchsuite

import (
	"fmt"
	"io"
	"strings"
)

// ScaleInputs are the results of `scripts/bench.sh scale`, any of which
// may be missing.
type ScaleInputs struct {
	Files *Results // the image with many small files
	Big   *Results // the 10 GiB image
	Tags  *Results // 100,000-tag listings
	UI    string   // go test -bench output of the UI's 100,000-tag list
}

// WriteScale renders the scale sections of RESULTS.md.
func WriteScale(w io.Writer, main *Results, s ScaleInputs) {
	writeGoals(w, main, s)
	if s.Files != nil {
		writeFilesScale(w, s.Files)
	}
	if s.Big != nil {
		writeBigScale(w, main, s.Big)
	}
	if s.Tags != nil && s.Tags.Scale != nil {
		writeTagsScale(w, s.Tags.Scale.Tags)
	}
	if s.UI != "" {
		fmt.Fprintf(w, "\n## Scale: the UI's tag list at 100,000 tags\n\n`go test -run '^$' -bench TagList100k ./ui` (first screen: open the tags screen of a file:// repository\nof 100,000 tags, list its first page and draw it; the other lines: one Update and one View per key press):\n\n```\n")
		for _, l := range strings.Split(s.UI, "\n") {
			if strings.HasPrefix(l, "Benchmark") {
				fmt.Fprintln(w, l)
			}
		}
		fmt.Fprintf(w, "```\n")
	}
}

func writeFilesScale(w io.Writer, r *Results) {
	blobs := max(r.Image.Files-2, 1)
	fmt.Fprintf(w, "\n## Scale: %d small files\n\nImage with %d files in its fs tree: %d blobs, %.1f MiB stored; median of %d. Time per blob = wall / blobs.\n\n",
		r.Image.FSFiles, r.Image.FSFiles, blobs, float64(r.Image.Stored)/(1<<20), r.Reps)
	fmt.Fprintf(w, "| backend | operation | tool | runs (failed) | median s | ms per blob | time ratio to the best peer | CPU s | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, row := range Rows(r.Runs) {
		best := row.Best()
		for _, st := range append([]Stat{row.Ours}, row.Peers...) {
			if st.N == 0 {
				fmt.Fprintf(w, "| %s | %s | %s | 0 (%d) | failed: %s | | | | |\n", row.Backend, row.Op, st.Tool, st.Failed, strings.ReplaceAll(st.Err, "|", "/"))
				continue
			}
			ratio := "–"
			if best.N > 0 {
				ratio = fmt.Sprintf("%.2f", st.Wall/best.Wall)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %d (%d) | %.2f | %.2f | %s | %.2f | %s |\n", row.Backend, row.Op, st.Tool, st.N, st.Failed,
				st.Wall, 1000*st.Wall/float64(blobs), ratio, st.CPU, mib(st.RSS))
		}
	}
}

func writeBigScale(w io.Writer, main, big *Results) {
	fmt.Fprintf(w, "\n## Scale: %.1f GiB image\n\nPeak RSS must not grow with the image: pf-registry's peak RSS on the %.1f GiB image beside the same\noperation on the %.0f MiB image of the main table.\n\n",
		float64(big.Image.Logical)/(1<<30), float64(big.Image.Logical)/(1<<30), float64(main.Image.Logical)/(1<<20))
	fmt.Fprintf(w, "| backend | operation | median s | MB/s | CPU s | peak RSS MiB | peak RSS MiB at %.0f MiB |\n|---|---|---|---|---|---|---|\n", float64(main.Image.Logical)/(1<<20))
	small := map[string]Stat{}
	for _, row := range Rows(main.Runs) {
		small[row.Backend+" "+row.Op] = row.Ours
	}
	for _, row := range Rows(big.Runs) {
		st := row.Ours
		if st.N == 0 {
			fmt.Fprintf(w, "| %s | %s | failed: %s | | | | |\n", row.Backend, row.Op, strings.ReplaceAll(st.Err, "|", "/"))
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %.1f | %.0f | %.1f | %s | %s |\n", row.Backend, row.Op, st.Wall, mbps(big.Image.Stored, st.Wall), st.CPU, mib(st.RSS),
			cell(small[row.Backend+" "+row.Op], func(s Stat) string { return mib(s.RSS) }))
	}
}

func writeTagsScale(w io.Writer, runs []TagRun) {
	if len(runs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## Scale: listing %d tags\n\nOne repository; a listing counts only when it prints every tag, and is stopped after the timeout of the run.\n\n| backend | tool | runs (failed) | median s | CPU s | peak RSS MiB | server CPU s |\n|---|---|---|---|---|---|---|\n", runs[0].Tags)
	type key struct{ b, t string }
	by := map[key][]Run{}
	var order []key
	for _, r := range runs {
		k := key{r.Backend, r.Tool}
		if by[k] == nil {
			order = append(order, k)
		}
		by[k] = append(by[k], Run{Tool: r.Tool, Sample: r.Sample})
	}
	for _, k := range order {
		st := stat(k.t, by[k])
		if st.N == 0 {
			fmt.Fprintf(w, "| %s | %s | 0 (%d) | failed: %s | | | |\n", k.b, k.t, st.Failed, strings.ReplaceAll(st.Err, "|", "/"))
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %d (%d) | %.2f | %.2f | %s | %s |\n", k.b, k.t, st.N, st.Failed, st.Wall, st.CPU, mib(st.RSS), srvCPU(st))
	}
}

// writeGoals checks the measured figures against the goals of the
// performance work, saying which lines meet them.
func writeGoals(w io.Writer, main *Results, s ScaleInputs) {
	fmt.Fprintf(w, "\n## Goals\n\n| goal | measured | met |\n|---|---|---|\n")
	rows := Rows(main.Runs)
	var behind []string
	var maxRSS int64
	push := map[string]float64{}
	for _, r := range rows {
		maxRSS = max(maxRSS, r.Ours.RSS)
		if r.Op == "push" {
			push[r.Backend] = r.Ours.Wall
		}
		if (r.Op == "push" || r.Op == "pull") && r.Ratio > 1 {
			behind = append(behind, fmt.Sprintf("%s %s %.2f", r.Backend, r.Op, r.Ratio))
		}
	}
	goal(w, "push and pull ≤ 1.0× the best peer", orNone(behind, "all lines at or under 1.0"), len(behind) == 0)
	for _, r := range rows {
		if r.Backend == "file" && r.Op == "pull" && r.Ours.N > 0 {
			v := mbps(main.Image.Stored, r.Ours.Wall) / main.Limits.SHA256
			goal(w, "file:// pull ≥ 50 % of one core's SHA-256", fmt.Sprintf("%.0f %%", 100*v), v >= 0.5)
		}
	}
	var slow []string
	for _, r := range rows {
		if r.Op == "repush" && r.Ours.N > 0 && push[r.Backend] > 0 {
			if p := 100 * r.Ours.Wall / push[r.Backend]; p >= 2 {
				slow = append(slow, fmt.Sprintf("%s %.1f %%", r.Backend, p))
			}
		}
	}
	goal(w, "unchanged re-push < 2 % of a full push", orNone(slow, "every backend"), len(slow) == 0)
	big := maxRSS
	if s.Big != nil {
		for _, r := range Rows(s.Big.Runs) {
			big = max(big, r.Ours.RSS)
		}
	}
	goal(w, "peak RSS < 100 MiB (1 GiB and 10 GiB images)", fmt.Sprintf("%d MiB at 1 GiB, %d MiB at the largest image", maxRSS>>20, big>>20), big < 100<<20)
	if s.Files != nil {
		var over []string
		for _, r := range Rows(s.Files.Runs) {
			if r.Ratio > 1 {
				over = append(over, fmt.Sprintf("%s %s %.2f", r.Backend, r.Op, r.Ratio))
			}
		}
		goal(w, fmt.Sprintf("%d-file image ≤ 1.0× the peer", s.Files.Image.FSFiles), orNone(over, "all lines with a peer at or under 1.0"), len(over) == 0)
	}
	uiGoals(w, s.UI)
}

// uiGoals reads the UI benchmark's ms/first-screen and ms/frame figures.
func uiGoals(w io.Writer, out string) {
	first, frame := -1.0, -1.0
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		for i := 1; i < len(f); i++ {
			var v float64
			if _, err := fmt.Sscanf(f[i-1], "%g", &v); err != nil {
				continue
			}
			switch f[i] {
			case "ms/first-screen":
				first = max(first, v)
			case "ms/frame":
				frame = max(frame, v)
			}
		}
	}
	if first >= 0 {
		goal(w, "100,000-tag list: first screen < 1 s on file://", fmt.Sprintf("%.0f ms", first), first < 1000)
	}
	if frame >= 0 {
		goal(w, "100,000-tag list: frames < 16 ms", fmt.Sprintf("%.2f ms (slowest of scroll, page, filter)", frame), frame < 16)
	}
}

func goal(w io.Writer, what, measured string, met bool) {
	mark := "no"
	if met {
		mark = "yes"
	}
	fmt.Fprintf(w, "| %s | %s | %s |\n", what, measured, mark)
}

func orNone(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, "; ")
}
