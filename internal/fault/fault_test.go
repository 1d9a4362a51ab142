package fault_test

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"pf-registry/internal/fault"
)

func TestClassesAndHints(t *testing.T) {
	cause := fmt.Errorf("open x: %w", fs.ErrNotExist)
	err := fault.WithHint(fault.Classed(fault.ErrNotFound, cause), "create it first")
	if !errors.Is(err, fault.ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("class or cause lost: %v", err)
	}
	if errors.Is(err, fault.ErrIntegrity) {
		t.Fatal("a not-found error must not read as an integrity failure")
	}
	if err.Error() != "open x: file does not exist" {
		t.Fatalf("message changed by the class or hint: %q", err.Error())
	}
	if got := fault.Hint(fmt.Errorf("pull: %w", err)); got != "create it first" {
		t.Fatalf("hint through a wrap: %q", got)
	}
	if fault.Hint(cause) != "" || fault.Classed(fault.ErrUsage, nil) != nil || fault.WithHint(nil, "h") != nil {
		t.Fatal("nil and hint-less errors must stay so")
	}
	if e := fault.Integrityf("blob %s", "x"); !errors.Is(e, fault.ErrIntegrity) || e.Error() != "blob x" {
		t.Fatalf("Integrityf: %v", e)
	}
}

func TestTransient(t *testing.T) {
	cause := fault.WithHint(errors.New("127.0.0.1:9 stalled"), "raise --timeout")
	err := fmt.Errorf("pull: %w", fault.Transient(cause, 3e9))
	if !errors.Is(err, fault.ErrTransient) || fault.RetryAfter(err) != 3e9 {
		t.Fatalf("class or wait lost: %v %v", errors.Is(err, fault.ErrTransient), fault.RetryAfter(err))
	}
	if err.Error() != "pull: 127.0.0.1:9 stalled" || fault.Hint(err) != "raise --timeout" {
		t.Fatalf("message %q hint %q", err, fault.Hint(err))
	}
	if fault.Transient(nil, 1) != nil || fault.RetryAfter(cause) != 0 || errors.Is(cause, fault.ErrTransient) {
		t.Fatal("nil stays nil; an unmarked error is not transient")
	}
}
