package httpguard

import (
	"context"
	"fmt"
	"sync"
	"time"

	"pf-registry/internal/fault"
)

// watch is the stall detector of one request. A budget of one window
// runs down while the request waits on the network and is refilled each
// time MinProgress bytes move (or the answer's headers arrive). When it
// runs out the request's context is cancelled and every read reports
// the stall.
type watch struct {
	mu      sync.Mutex
	window  time.Duration
	host    string
	cancel  context.CancelFunc
	timer   *time.Timer
	left    time.Duration // budget while not running
	since   time.Time     // when the timer started, while running
	running bool
	moved   int64 // bytes since the budget was last refilled
	stopped bool
	stall   string // what was being waited for when the budget ran out

	bodyDone  bool // the request body was read to its end (or there is none)
	headers   bool // the answer's headers arrived
	producing int  // reads of the request body in progress
	reading   int  // reads of the response body in progress
}

func newWatch(window time.Duration, host string, cancel context.CancelFunc) *watch {
	return &watch{window: window, left: window, host: host, cancel: cancel}
}

// waiting reports whether the request waits on the network now. While
// the request body is not all sent only sending counts (a response read
// meanwhile waits for the upload); afterwards the wait for the answer,
// then reads of the response body.
func (w *watch) waiting() (bool, string) {
	switch {
	case !w.bodyDone:
		return w.producing == 0, "sending the request"
	case !w.headers:
		return true, "waiting for an answer"
	}
	return w.reading > 0, "receiving the answer"
}

// update starts or stops the budget's clock; call with w.mu held or
// before the watch is shared.
func (w *watch) update() {
	if w.stopped {
		return
	}
	want, _ := w.waiting()
	switch {
	case want && !w.running:
		w.running, w.since = true, time.Now()
		if w.timer == nil {
			w.timer = time.AfterFunc(w.left, w.expire)
		} else {
			w.timer.Reset(w.left)
		}
	case !want && w.running:
		w.running = false
		w.timer.Stop()
		w.left = max(w.left-time.Since(w.since), 0)
	}
}

// progress refills the budget once MinProgress bytes have moved.
func (w *watch) progress(n int) {
	w.moved += int64(n)
	if w.moved < MinProgress {
		return
	}
	w.moved = 0
	w.refill()
}

func (w *watch) refill() {
	w.left = w.window
	if w.running {
		w.since = time.Now()
		w.timer.Reset(w.window)
	}
}

func (w *watch) expire() {
	w.mu.Lock()
	if w.stopped || !w.running || time.Since(w.since) < w.left {
		// Refilled or paused just as the timer fired.
		if !w.stopped && w.running {
			w.timer.Reset(w.left - time.Since(w.since))
		}
		w.mu.Unlock()
		return
	}
	_, w.stall = w.waiting()
	w.stopped = true
	w.mu.Unlock()
	w.cancel()
}

func (w *watch) locked(f func()) {
	w.mu.Lock()
	f()
	w.update()
	w.mu.Unlock()
}

func (w *watch) enterProducer() { w.locked(func() { w.producing++ }) }

func (w *watch) leaveProducer(n int, end bool) {
	w.locked(func() {
		w.producing--
		w.progress(n)
		if end {
			w.bodyDone = true
		}
	})
}

func (w *watch) sent() { w.locked(func() { w.bodyDone = true }) }

func (w *watch) answered() {
	w.locked(func() {
		w.headers = true
		w.moved = 0
		w.refill()
	})
}

func (w *watch) enterReader() { w.locked(func() { w.reading++ }) }

func (w *watch) leaveReader(n int) {
	w.locked(func() {
		w.reading--
		w.progress(n)
	})
}

// stop ends the watch (the request is over).
func (w *watch) stop() {
	w.mu.Lock()
	if !w.stopped {
		w.stopped = true
		if w.timer != nil {
			w.timer.Stop()
		}
	}
	w.mu.Unlock()
}

func (w *watch) fired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stall != ""
}

// err is the stall error once the budget ran out, nil before.
func (w *watch) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stall == "" {
		return nil
	}
	var msg string
	if w.stall == "waiting for an answer" {
		msg = fmt.Sprintf("%s did not answer within %s", w.host, w.window)
	} else {
		msg = fmt.Sprintf("%s stalled while %s: less than 1 KiB moved in %s", w.host, w.stall, w.window)
	}
	e := &Error{msg: msg, hint: "check the server and the network; on a slow link raise --timeout", stall: true,
		unanswered: w.stall == "waiting for an answer"}
	return fault.Transient(fault.WithHint(e, e.hint), 0)
}

// Error is a request that failed on the network: it stalled, or its
// connection broke. Its message names the host and says what happened;
// find it with errors.As under the wrapping of client libraries.
type Error struct {
	msg, hint  string
	stall      bool
	unanswered bool
	cause      error
}

func (e *Error) Error() string { return e.msg }
func (e *Error) Unwrap() error { return e.cause }

// Hint is the "what to do" of the failure.
func (e *Error) Hint() string { return e.hint }

// Stalled tells a stall from a broken connection.
func (e *Error) Stalled() bool { return e.stall }

// Unanswered tells a request that got no answer within the window.
func (e *Error) Unanswered() bool { return e.unanswered }

// Timeout marks a stall as a timeout for code that asks net.Error.
func (e *Error) Timeout() bool { return e.stall }

// Temporary is part of net.Error.
func (e *Error) Temporary() bool { return true }
