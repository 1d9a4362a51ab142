package stale

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// deadPID is the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestNameParse(t *testing.T) {
	n := Name("tmp") + ".suffix"
	o, ok := Parse(n)
	if !ok || o != Self() {
		t.Fatalf("Parse(%q) = %+v %v, want %+v", n, o, ok, Self())
	}
	if a, b := Name("tmp"), Name("tmp"); a == b {
		t.Fatal("two names alike")
	}
	for _, bad := range []string{"commit", "tmp", "tmp.x.1", "tmp.-3.1", ".pf"} {
		if _, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestAbandoned(t *testing.T) {
	now := time.Now()
	dead := strconv.Itoa(deadPID(t))
	cases := []struct {
		name string
		mod  time.Time
		want bool
	}{
		{Name("tmp"), now, false},                                        // this process
		{"tmp." + dead + ".1." + hostTag(), now, true},                   // ended here
		{"tmp." + dead + ".1.123456", now, true},                         // older form, this host
		{"tmp." + dead + ".1.h00000000", now, false},                     // another host, recent
		{"tmp." + dead + ".1.h00000000", now.Add(-25 * time.Hour), true}, // another host, old
		{"commit", now.Add(-1000 * time.Hour), false},                    // not a staging name
		{"tmp.1.1." + hostTag(), now, false},                             // init runs
	}
	for _, c := range cases {
		if got := Abandoned(c.name, c.mod); got != c.want {
			t.Errorf("Abandoned(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}
