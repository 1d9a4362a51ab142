// Package crashpoint names the steps of a write at which a crash test may
// kill the process ("s3.manifest", "ipfs.unlinked"), so that the tests
// reach every state a killed push can leave. Outside tests a step costs
// one atomic load.
package crashpoint

import "sync/atomic"

var hook atomic.Pointer[func(step string)]

// Step marks that a write reached step.
func Step(name string) {
	if h := hook.Load(); h != nil {
		(*h)(name)
	}
}

// Set runs fn at every step from now on (nil: none). Tests only.
func Set(fn func(step string)) {
	if fn == nil {
		hook.Store(nil)
		return
	}
	hook.Store(&fn)
}
