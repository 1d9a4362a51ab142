// Package fault holds the error classes every layer shares and the hint
// attached to an error (the "what to do" half of a one-line message). Test
// a class with errors.Is; the command line maps them to exit codes:
// ErrIntegrity → 4, ErrUsage and ErrUnsupportedScheme → 2, anything else → 1.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Error classes. Build errors of a class with Integrityf, NotFoundf or
// Classed; the class never shows in the message.
var (
	// ErrIntegrity: signature invalid or missing, blob bytes not matching
	// their digest, an image that is incomplete or malformed.
	ErrIntegrity = errors.New("integrity failure")
	// ErrNotFound: the image, blob, repository or bucket does not exist.
	ErrNotFound = errors.New("not found")
	// ErrBadRef: a reference that does not parse.
	ErrBadRef = errors.New("bad reference")
	// ErrUnsupportedScheme: a scheme no backend in this build serves.
	ErrUnsupportedScheme = errors.New("unsupported scheme")
	// ErrUsage: the command was called wrongly.
	ErrUsage = errors.New("usage")
	// ErrAuth: credentials missing or refused.
	ErrAuth = errors.New("authentication failed")
	// ErrReadOnly: a write was asked for in read-only mode.
	ErrReadOnly = errors.New("read-only")
	// ErrTransient: a failure that may pass if the request is made again
	// (a dropped connection, a stalled or truncated response, a 5xx or
	// 429 answer). The engine retries these; see Transient and RetryAfter.
	ErrTransient = errors.New("transient failure")
)

// Integrityf returns an ErrIntegrity error with a message.
func Integrityf(format string, a ...any) error {
	return &classErr{class: ErrIntegrity, msg: fmt.Sprintf(format, a...)}
}

// NotFoundf returns an ErrNotFound error with a message.
func NotFoundf(format string, a ...any) error {
	return &classErr{class: ErrNotFound, msg: fmt.Sprintf(format, a...)}
}

// Classed wraps err so that errors.Is(result, class) holds while the message
// stays err's own.
func Classed(class, err error) error {
	if err == nil {
		return nil
	}
	return &classErr{class: class, msg: err.Error(), cause: err}
}

type classErr struct {
	class error
	msg   string
	cause error
}

func (e *classErr) Error() string { return e.msg }
func (e *classErr) Unwrap() []error {
	if e.cause != nil {
		return []error{e.class, e.cause}
	}
	return []error{e.class}
}

// Transient marks err as ErrTransient; after > 0 is how long the server
// asked to wait before the next attempt (Retry-After).
func Transient(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &transientErr{err: err, after: after}
}

// RetryAfter is the wait a transient error asks for (0: none said).
func RetryAfter(err error) time.Duration {
	var t *transientErr
	if errors.As(err, &t) {
		return t.after
	}
	return 0
}

type transientErr struct {
	err   error
	after time.Duration
}

func (e *transientErr) Error() string   { return e.err.Error() }
func (e *transientErr) Unwrap() []error { return []error{ErrTransient, e.err} }

// WithHint attaches the "what to do" part of a one-line error.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hintErr{err: err, hint: hint}
}

// Hint returns the outermost hint attached to err, if any.
func Hint(err error) string {
	var h *hintErr
	if errors.As(err, &h) {
		return h.hint
	}
	return ""
}

type hintErr struct {
	err  error
	hint string
}

func (e *hintErr) Error() string { return e.err.Error() }
func (e *hintErr) Unwrap() error { return e.err }
