// Package stale names staging files after the process that writes them,
// so that what a killed process left behind can be told from what a live
// one is still writing, and removed.
package stale

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// OtherHostAge is how old a staging file written on another machine (a
// shared file system) must be before it counts as abandoned: its process
// cannot be checked from here.
const OtherHostAge = 24 * time.Hour

var counter atomic.Int64

// Owner identifies a writing process: its pid and a tag of its host name.
type Owner struct {
	PID  int
	Host string
}

// Self is the current process.
func Self() Owner { return Owner{PID: os.Getpid(), Host: hostTag()} }

var hostTag = sync.OnceValue(func() string {
	name, _ := os.Hostname()
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("h%08x", h.Sum32())
})

// Name returns a fresh staging name "<kind>.<pid>.<n>.<host tag>" for this
// process; callers may append a suffix after a dot.
func Name(kind string) string {
	return fmt.Sprintf("%s.%d.%d.%s", kind, os.Getpid(), counter.Add(1), hostTag())
}

// Parse reads the owner out of a name made by Name. Names of the older
// form "<kind>.<pid>.<n>.<random>" count as written on this host.
func Parse(name string) (Owner, bool) {
	f := strings.Split(name, ".")
	if len(f) < 3 {
		return Owner{}, false
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil || pid <= 0 {
		return Owner{}, false
	}
	o := Owner{PID: pid, Host: hostTag()}
	if len(f) >= 4 && len(f[3]) == 9 && f[3][0] == 'h' {
		o.Host = f[3]
	}
	return o, true
}

// Gone reports whether the owner can no longer be writing: on this host,
// its process has ended (and it is not this one); on another host, the
// file has not changed for OtherHostAge.
func (o Owner) Gone(modified time.Time) bool {
	if o.Host != hostTag() {
		return time.Since(modified) > OtherHostAge
	}
	return o.PID != os.Getpid() && !ProcessAlive(o.PID)
}

// Abandoned reports whether a staging entry named by Name was left by a
// process that is gone. Names it does not know are never abandoned.
func Abandoned(name string, modified time.Time) bool {
	o, ok := Parse(name)
	return ok && o.Gone(modified)
}

// ProcessAlive reports whether a process with this pid runs on this host.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
