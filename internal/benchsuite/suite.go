package benchsuite

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Run is one timed command of the suite.
type Run struct {
	Backend string `json:"backend"`
	Op      string `json:"op"` // push, pull, repush, copy
	Tool    string `json:"tool"`
	Ours    bool   `json:"ours"`
	Rep     int    `json:"rep"`
	Sample
}

// Options choose what a suite run measures.
type Options struct {
	Reps     int
	Ops      []string // subset of push, pull, repush, copy
	Backends []string // subset of file, oci, s3, ipfs, hf
	Log      io.Writer
}

// Suite runs every selected backend and operation Reps times, tools taking
// turns, and returns every run.
func Suite(ctx context.Context, e *Env, opt Options) ([]Run, error) {
	all := e.backends()
	var bs []*backend
	for _, b := range all {
		if slices.Contains(opt.Backends, b.name) {
			bs = append(bs, b)
		}
	}
	r := &suite{e: e, opt: opt, stored: payloadSize(e)}
	defer func() {
		for _, b := range all {
			b.srv.Stop()
		}
	}()
	for _, b := range all {
		if b.srv != nil && (slices.Contains(opt.Backends, b.name) || r.isCopyTarget(all, b)) {
			if err := b.srv.Reset(); err != nil {
				return nil, err
			}
		}
	}
	for rep := range opt.Reps {
		for i, b := range all {
			if slices.Contains(bs, b) {
				r.backend(ctx, b, all[(i+1)%len(all)], rep)
			}
		}
	}
	return r.runs, nil
}

type suite struct {
	e      *Env
	opt    Options
	stored int64
	runs   []Run
}

func (r *suite) isCopyTarget(all []*backend, b *backend) bool {
	if !slices.Contains(r.opt.Ops, "copy") {
		return false
	}
	for i, a := range all {
		if slices.Contains(r.opt.Backends, a.name) && all[(i+1)%len(all)] == b {
			return true
		}
	}
	return false
}

func payloadSize(e *Env) int64 { n, _ := DirSize(e.Payload); return n }

func (r *suite) timeout() time.Duration {
	d, err := time.ParseDuration(r.e.Timeout)
	if err != nil {
		return time.Hour
	}
	return d + time.Minute
}

func (r *suite) measure(ctx context.Context, b *backend, op string, t tool, rep int, cmd string, env []string) Sample {
	s := Measure(ctx, cmd, r.e.Work, env, b.srv.PID(), r.timeout())
	r.runs = append(r.runs, Run{Backend: b.name, Op: op, Tool: t.name, Ours: t.ours, Rep: rep, Sample: s})
	status := fmt.Sprintf("%7.2fs  %6.0f MB/s  cpu %6.2fs  rss %4d MiB", s.Wall, float64(r.stored)/s.Wall/1e6, s.CPU, s.RSS>>20)
	if s.Err != "" {
		status = "FAILED " + s.Err
	}
	fmt.Fprintf(r.opt.Log, "rep %d  %-5s %-7s %-17s %s\n", rep+1, b.name, op, t.name, status)
	return s
}

// backend runs the selected operations of one backend for one repetition.
func (r *suite) backend(ctx context.Context, b, next *backend, rep int) {
	tools := rotate(b.tools, rep)
	ops := r.opt.Ops
	if slices.Contains(ops, "push") {
		for _, t := range tools {
			r.reset(b)
			name := fmt.Sprintf("%s-push%d", slug(t.name), rep)
			r.measure(ctx, b, "push", t, rep, t.push(r.e.Payload, name), b.env())
			b.destroy(name)
		}
	}
	if !slices.ContainsFunc(ops, func(op string) bool { return op != "push" }) {
		return
	}
	r.reset(b)
	ok := map[string]bool{}
	for _, t := range tools {
		b.destroy(slug(t.name) + "-src") // a copy into an existing directory nests
		s := Measure(ctx, t.push(r.e.Payload, slug(t.name)+"-src"), r.e.Work, b.env(), 0, r.timeout())
		ok[t.name] = s.Err == ""
		if !ok[t.name] {
			fmt.Fprintf(r.opt.Log, "rep %d  %-5s seed    %-17s FAILED %s\n", rep+1, b.name, t.name, s.Err)
		}
	}
	for _, t := range tools {
		if ok[t.name] && slices.Contains(ops, "pull") {
			r.pull(ctx, b, t, rep, slug(t.name)+"-src")
		}
	}
	for _, t := range tools {
		if ok[t.name] && slices.Contains(ops, "repush") {
			r.measure(ctx, b, "repush", t, rep, t.repushCmd(r.e, slug(t.name)+"-src"), b.env())
		}
	}
	if slices.Contains(ops, "copy") && ok[b.tools[0].name] && (len(b.tools) == 1 || ok[b.tools[1].name]) {
		r.copy(ctx, b, next, rep)
	}
	// Free the disk for the next backend: a 10 GiB image is stored once
	// per tool.
	for _, t := range tools {
		b.destroy(slug(t.name) + "-src")
	}
	r.reset(b)
}

func (r *suite) reset(b *backend) {
	if b.srv == nil {
		return
	}
	if err := b.srv.Reset(); err != nil {
		fmt.Fprintf(r.opt.Log, "%s: %v\n", b.name, err)
	}
}

// pull fetches a seeded image into a new directory; a peer's result must
// hold at least the stored bytes (ours verifies every blob itself).
func (r *suite) pull(ctx context.Context, b *backend, t tool, rep int, src string) {
	out := filepath.Join(r.e.Work, "pulled", fmt.Sprintf("%s-%s-%d", b.name, slug(t.name), rep))
	os.RemoveAll(out)
	os.MkdirAll(filepath.Dir(out), 0o755)
	s := r.measure(ctx, b, "pull", t, rep, t.pull(src, out), b.env())
	if n, _ := DirSize(out); s.Err == "" && !t.ours && (n < r.stored || !t.layout && n != r.stored) {
		r.runs[len(r.runs)-1].Err = fmt.Sprintf("pulled %d bytes, the image has %d", n, r.stored)
		fmt.Fprintf(r.opt.Log, "        %s\n", r.runs[len(r.runs)-1].Err)
	}
	os.RemoveAll(out)
}

// copy moves b's seeded image into next: ours in one command, the peers
// as their pull into a directory followed by the next backend's push.
func (r *suite) copy(ctx context.Context, b, next *backend, rep int) {
	env := append(append([]string{}, b.env()...), next.env()...)
	for _, t := range rotate(b.tools[:min(2, len(b.tools))], rep) {
		dst := fmt.Sprintf("copy-%s-%s-%d", b.name, slug(t.name), rep)
		var cmd string
		if t.ours {
			cmd = r.e.pf("copy " + q(b.ref(slug(t.name)+"-src")) + " " + q(next.ref(dst)))
		} else if len(next.tools) > 1 {
			tmp := filepath.Join(r.e.Work, "pulled", dst)
			os.RemoveAll(tmp)
			cmd = t.pull(slug(t.name)+"-src", tmp) + " && " + next.tools[1].push(tmp, dst) + " && rm -rf " + q(tmp)
			t.name += " → " + next.tools[1].name
		} else {
			continue
		}
		r.measure(ctx, b, "copy", t, rep, cmd, env)
		next.destroy(dst)
	}
}

func rotate(ts []tool, n int) []tool {
	n %= len(ts)
	return append(append([]tool{}, ts[n:]...), ts[:n]...)
}

func slug(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}
