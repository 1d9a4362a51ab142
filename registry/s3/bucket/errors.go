package bucket

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"

	"pf-registry/internal/fault"
	"pf-registry/internal/httpguard"
	"pf-registry/internal/termtext"
)

// classify turns a client or server failure into a one-line error naming
// what failed and what to do. Server messages are not echoed: only the S3
// error code, which never carries a secret.
func (c *Client) classify(key string, err error) error {
	if err == nil {
		return nil
	}
	// Errors that already carry a class (integrity failures of a
	// verifying body, cancellations) pass through unchanged.
	for _, class := range []error{fault.ErrIntegrity, fault.ErrNotFound, fault.ErrAuth, fault.ErrUsage} {
		if errors.Is(err, class) {
			return err
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	where := c.URL(key)
	var netErr *httpguard.Error
	if errors.As(err, &netErr) { // a stall or a broken connection
		return fault.Transient(fault.WithHint(fmt.Errorf("%s: %w", where, netErr), netErr.Hint()), 0)
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.NoSuchBucket:
		return fault.WithHint(fault.NotFoundf("%s: bucket %q does not exist at %s", where, c.bucket, c.Endpoint()),
			"check the bucket name and AWS_ENDPOINT_URL, or create the bucket (aws s3 mb s3://"+c.bucket+")")
	case minio.NoSuchKey, "NotFound":
		return fault.NotFoundf("%s: no such object", where)
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
		"InvalidSecurity", "AuthorizationHeaderMalformed", "MissingSecurityHeader",
		"XAdminUserNotFound", "InvalidClientTokenId":
		return fault.WithHint(fault.Classed(fault.ErrAuth,
			fmt.Errorf("%s: credentials refused by %s (%s)", where, c.Endpoint(), resp.Code)),
			"check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the AWS_PROFILE credentials) and AWS_REGION")
	case minio.AccessDenied:
		return fault.WithHint(fault.Classed(fault.ErrAuth,
			fmt.Errorf("%s: access denied by %s (wrong credentials or no permission)", where, c.Endpoint())),
			"check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the AWS_PROFILE credentials) and that they may use this bucket")
	case "InvalidBucketName":
		return fault.WithHint(fault.Classed(fault.ErrBadRef,
			fmt.Errorf("%s: invalid bucket name %q", where, c.bucket)),
			"S3 bucket names have 3-63 lowercase letters, digits, dots or hyphens")
	case "InvalidRegion", "AuthorizationQueryParametersError", "PermanentRedirect":
		return fault.WithHint(fmt.Errorf("%s: wrong region %q for this bucket (%s)", where, c.cfg.Region, resp.Code),
			"set AWS_REGION to the bucket's region")
	}
	if resp.StatusCode != 0 {
		code := resp.Code
		if code == "" {
			code = fmt.Sprintf("HTTP %d", resp.StatusCode)
		}
		err := fmt.Errorf("%s: S3 request failed at %s: %s", where, c.Endpoint(), termtext.OneLine(code, maxErrorText))
		if httpguard.TransientStatus(resp.StatusCode) || resp.Code == "SlowDown" {
			return fault.Transient(fault.WithHint(err, "retry later, or check the server's health"), 0)
		}
		return err
	}
	var ue *url.Error
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &ue) || errors.As(err, &ne) || errors.As(err, &oe) {
		return fault.WithHint(fmt.Errorf("%s: cannot reach S3 endpoint %s: %s", where, c.Endpoint(), netReason(err)),
			"check AWS_ENDPOINT_URL and that the server is running and reachable")
	}
	// minio-go's own argument errors (e.g. an invalid bucket name found
	// before any request) have codes handled above; anything else is
	// reported as is, on one line.
	return fmt.Errorf("%s: %s", where, termtext.OneLine(err.Error(), maxErrorText))
}

// netReason shortens a transport error to its cause ("connection
// refused", "no such host", "i/o timeout"), dropping URLs that could carry
// query strings.
func netReason(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		msg := oe.Err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return termtext.OneLine(msg, maxErrorText)
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return "no such host"
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return termtext.OneLine(ue.Err.Error(), maxErrorText)
	}
	return termtext.OneLine(err.Error(), maxErrorText)
}

// maxErrorText bounds the server's text quoted in an error, in runes.
const maxErrorText = 200
