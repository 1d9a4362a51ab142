package httpguard

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall"

	"pf-registry/internal/fault"
)

// TransientStatus reports the answers worth asking again: 408, 429, 500,
// 502, 503 and 504.
func TransientStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// brokenConnection reports a connection that broke under a request: cut
// mid-answer, reset, or closed before the answer. A refused connection is
// not one (the server is not there: no retry helps soon).
func brokenConnection(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

// broken marks a broken connection transient, naming the host.
func broken(host string, err error) error {
	if errors.Is(err, fault.ErrTransient) || !brokenConnection(err) {
		return err
	}
	e := &Error{msg: fmt.Sprintf("the connection to %s broke: %v", host, err), cause: err, hint: "check the server and the network"}
	return fault.Transient(fault.WithHint(e, e.hint), 0)
}
