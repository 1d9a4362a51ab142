// Package benchsuite runs pf-registry beside the best peer tool of every
// backend on real servers on 127.0.0.1, and writes the results.
//
// Each figure is one whole process, as a user runs it: wall time from a
// monotonic clock, CPU seconds and peak RSS of the process tree from the
// kernel's accounting of the finished child (GNU time), and the server's
// CPU seconds and peak RSS from /proc. Tools take turns (the order rotates
// every repetition), every push goes to a server restarted on an empty data
// directory, and the summary keeps the median of the repetitions.
package benchsuite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pf-registry/internal/memwatch"
)

// Sample is one timed run.
type Sample struct {
	Wall   float64 `json:"wall_s"`
	CPU    float64 `json:"cpu_s"`     // user+sys of the client process tree
	RSS    int64   `json:"rss_bytes"` // largest process of the client tree
	SrvCPU float64 `json:"srv_cpu_s"` // user+sys of the server during the run
	SrvRSS int64   `json:"srv_rss"`   // server peak RSS during the run
	Err    string  `json:"err,omitempty"`
}

// timeBin is GNU time; its -f/-o report what wait4 returned for the
// command. A Go parent cannot read that itself: its children are cloned
// with the parent's address space until exec, and the kernel carries that
// size into the child's peak RSS.
const timeBin = "/usr/bin/time"

// Measure runs a bash command line in dir with env added, and its server
// (pid > 0) observed. A failing command yields a Sample with Err set.
func Measure(ctx context.Context, command, dir string, env []string, server int, timeout time.Duration) Sample {
	out, err := os.CreateTemp("", "pfbench-time-")
	if err != nil {
		return Sample{Err: err.Error()}
	}
	out.Close()
	defer os.Remove(out.Name())
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, timeBin, "-f", "%U %S %M", "-o", out.Name(), "bash", "-c", command)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	// On timeout stop the whole process group: killing GNU time alone would
	// leave the command running, holding the output pipe open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = nil, &stderr
	syscall.Sync() // start with no dirty pages of the previous run
	if server > 0 {
		_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", server), []byte("5"), 0)
	}
	cpu0 := procCPU(server)
	t0 := time.Now()
	runErr := cmd.Run()
	s := Sample{Wall: time.Since(t0).Seconds()}
	if server > 0 {
		s.SrvCPU = procCPU(server) - cpu0
		s.SrvRSS = memwatch.PeakRSS(server)
	}
	if b, err := os.ReadFile(out.Name()); err == nil {
		var user, sys float64
		var kb int64
		if _, err := fmt.Sscanf(lastLine(string(b)), "%g %g %d", &user, &sys, &kb); err == nil {
			s.CPU, s.RSS = user+sys, kb<<10
		}
	}
	switch {
	case ctx.Err() != nil:
		s.Err = fmt.Sprintf("did not finish within %v (stopped)", timeout)
	case runErr != nil:
		s.Err = fmt.Sprintf("%v: %s", runErr, errorLine(stderr.String()))
	}
	return s
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// errorLine picks the line of a tool's stderr that says what failed.
func errorLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if low := strings.ToLower(l); strings.Contains(low, "error") || strings.Contains(low, "fail") {
			return firstLine(l)
		}
	}
	return firstLine(s)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

var clockTick = 100.0 // USER_HZ on Linux

// procCPU is utime+stime of a process (all threads) in seconds.
func procCPU(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which may contain spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / clockTick
}

// q quotes a word for bash.
func q(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// DirSize is the total size of the regular files under dir, leaving out
// dot files (a Hub repository's .gitattributes is not part of the image).
func DirSize(dir string) (n int64, files int) {
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
				files++
			}
		}
		return nil
	})
	return n, files
}
