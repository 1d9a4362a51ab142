package benchsuite

import (
	"slices"
	"sort"
)

// Results is everything one suite run measured; scale runs fill Scale.
type Results struct {
	Date    string   `json:"date"`
	Machine Machine  `json:"machine"`
	Image   Image    `json:"image"`
	Reps    int      `json:"reps"`
	Limits  Limits   `json:"limits"`
	Runs    []Run    `json:"runs"`
	Scale   *Scale   `json:"scale,omitempty"`
	Notes   []string `json:"notes,omitempty"`
}

// Image describes what every tool moved.
type Image struct {
	Logical int64 `json:"logical_bytes"`
	Stored  int64 `json:"stored_bytes"` // the payload: stored blobs, manifest and signature
	Files   int   `json:"files"`        // files of the payload (blobs + 2)
	FSFiles int   `json:"fs_files"`     // files in the image's fs tree
}

// Stat is the median of one tool's successful runs of one operation.
type Stat struct {
	Tool   string  `json:"tool"`
	N      int     `json:"n"`
	Failed int     `json:"failed"`
	Err    string  `json:"err,omitempty"`
	Wall   float64 `json:"wall_s"`
	// MinWall and MaxWall show the spread of the runs (a shared machine).
	MinWall float64 `json:"min_wall_s"`
	MaxWall float64 `json:"max_wall_s"`
	CPU     float64 `json:"cpu_s"`
	RSS     int64   `json:"rss_bytes"`
	SrvCPU  float64 `json:"srv_cpu_s"`
	SrvRSS  int64   `json:"srv_rss"`
}

// Row compares pf-registry with the best peer on one backend and operation.
type Row struct {
	Backend, Op string
	Ours        Stat
	Peers       []Stat // fastest first
	// Ratio is our median time over the best peer's (< 1: we are faster);
	// 0 when either side has no successful run.
	Ratio float64
}

// Best is the fastest peer with a successful run (zero Stat if none).
func (r Row) Best() Stat {
	for _, p := range r.Peers {
		if p.N > 0 {
			return p
		}
	}
	return Stat{}
}

var opOrder = []string{"push", "pull", "repush", "copy"}
var backendOrder = []string{"file", "oci", "s3", "ipfs", "hf"}

// Rows summarises runs by backend and operation, in a fixed order.
func Rows(runs []Run) []Row {
	type key struct{ b, op string }
	by := map[key]map[string][]Run{}
	for _, r := range runs {
		k := key{r.Backend, r.Op}
		if by[k] == nil {
			by[k] = map[string][]Run{}
		}
		by[k][r.Tool] = append(by[k][r.Tool], r)
	}
	var out []Row
	for _, b := range backendOrder {
		for _, op := range opOrder {
			tools := by[key{b, op}]
			if tools == nil {
				continue
			}
			row := Row{Backend: b, Op: op}
			for name, rs := range tools {
				st := stat(name, rs)
				if rs[0].Ours {
					row.Ours = st
				} else {
					row.Peers = append(row.Peers, st)
				}
			}
			sort.Slice(row.Peers, func(i, j int) bool { return peerLess(row.Peers[i], row.Peers[j]) })
			if best := row.Best(); best.N > 0 && row.Ours.N > 0 {
				row.Ratio = row.Ours.Wall / best.Wall
			}
			out = append(out, row)
		}
	}
	return out
}

func peerLess(a, b Stat) bool {
	if (a.N > 0) != (b.N > 0) {
		return a.N > 0
	}
	if a.Wall != b.Wall {
		return a.Wall < b.Wall
	}
	return a.Tool < b.Tool
}

func stat(name string, rs []Run) Stat {
	st := Stat{Tool: name}
	var wall, cpu, srvCPU []float64
	var rss, srvRSS []float64
	for _, r := range rs {
		if r.Err != "" {
			st.Failed++
			st.Err = r.Err
			continue
		}
		wall = append(wall, r.Wall)
		cpu = append(cpu, r.CPU)
		srvCPU = append(srvCPU, r.SrvCPU)
		rss = append(rss, float64(r.RSS))
		srvRSS = append(srvRSS, float64(r.SrvRSS))
	}
	st.N = len(wall)
	if st.N == 0 {
		return st
	}
	st.Wall, st.CPU, st.SrvCPU = median(wall), median(cpu), median(srvCPU)
	st.MinWall, st.MaxWall = slices.Min(wall), slices.Max(wall)
	st.RSS, st.SrvRSS = int64(slices.Max(rss)), int64(slices.Max(srvRSS))
	return st
}

// median of a non-empty slice (the mean of the middle two for even sizes).
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// limitFor is the machine limit an operation is held against: one core
// of SHA-256 (every byte is hashed once) and the medium the bytes cross,
// loopback TCP or, for file://, writing into the page cache.
func limitFor(l Limits, backend string) (float64, string) {
	if backend == "file" {
		if l.CacheWrite < l.SHA256 {
			return l.CacheWrite, "page-cache write"
		}
		return l.SHA256, "SHA-256"
	}
	if l.Loopback < l.SHA256 {
		return l.Loopback, "loopback"
	}
	return l.SHA256, "SHA-256"
}
