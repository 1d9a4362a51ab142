package registry

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"pf-registry/internal/fault"
	"pf-registry/model"
)

// Ref is a parsed image reference (spec §8) or, from ParseRoot, a listing
// root. Which fields are set depends on Scheme.
type Ref struct {
	Scheme string `json:"scheme"`
	Raw    string `json:"raw"`

	Path string `json:"path,omitempty"` // file, oci-layout: directory (verbatim)

	User string `json:"user,omitempty"` // hf
	Repo string `json:"repo,omitempty"` // hf, oci, oci-layout (unused)

	Tag    string `json:"tag,omitempty"` // hf, oci, oci-layout
	HasTag bool   `json:"has_tag,omitempty"`

	Bucket string `json:"bucket,omitempty"` // s3
	Prefix string `json:"prefix,omitempty"` // s3, verbatim (trailing '/' kept)

	CID string `json:"cid,omitempty"` // ipfs

	Host    string       `json:"host,omitempty"` // oci
	Port    int          `json:"port,omitempty"`
	HasPort bool         `json:"has_port,omitempty"`
	Digest  model.Digest `json:"digest,omitempty"` // oci: @sha256:… reference
}

// Schemes in the order Rust tries them, then this tool's own.
var rustSchemes = []string{"file", "hf", "s3", "ipfs", "oci"}

// LayoutScheme is the on-disk OCI layout (spec §9.6): oci-layout:<path>[#<tag>].
const LayoutScheme = "oci-layout"

// ParseRef parses an image reference exactly as the Rust tool does, plus two
// extensions Rust rejects: oci://host/repo@sha256:<64 hex> digest references
// and oci-layout:<path>[#<tag>].
func ParseRef(s string) (Ref, error) {
	r := Ref{Raw: s}
	if rest, ok := strings.CutPrefix(s, LayoutScheme+":"); ok {
		r.Scheme = LayoutScheme
		r.Path = rest
		if i := strings.LastIndexByte(rest, '#'); i >= 0 {
			r.Path, r.Tag, r.HasTag = rest[:i], rest[i+1:], true
		}
		if r.Path == "" {
			return r, malformed(r.Scheme, s, "expected oci-layout:<path>[#<tag>]")
		}
		return r, nil
	}
	for _, sc := range rustSchemes {
		rest, ok := strings.CutPrefix(s, sc+"://")
		if !ok {
			continue
		}
		r.Scheme = sc
		switch sc {
		case "file":
			r.Path = rest
		case "hf":
			path, tag, has := splitTag(rest)
			r.Tag, r.HasTag = tag, has
			user, repo, ok := strings.Cut(path, "/")
			if !ok || user == "" || repo == "" {
				return r, malformed(sc, s, "expected hf://<user>/<repo>[:<tag>]")
			}
			r.User, r.Repo = user, repo
		case "s3":
			bucket, prefix, _ := strings.Cut(rest, "/")
			if bucket == "" {
				return r, malformed(sc, s, "expected s3://<bucket>/<prefix>")
			}
			r.Bucket, r.Prefix = bucket, prefix
		case "ipfs":
			if rest == "" {
				return r, malformed(sc, s, "expected ipfs://<CID>")
			}
			r.CID = rest
		case "oci":
			if err := parseOCI(&r, rest, false); err != nil {
				return r, err
			}
		}
		return r, nil
	}
	return r, fault.Classed(fault.ErrBadRef, fmt.Errorf("unrecognised URL scheme in %q (expected file/hf/s3/ipfs/oci:// or oci-layout:)", s))
}

// parseOCI fills host, port, repo, tag. With root set, a missing repository
// is allowed (a registry root for listing).
func parseOCI(r *Ref, rest string, root bool) error {
	// Digest reference first: repo@sha256:<64 hex> (Rust mis-parses it).
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		if d, err := model.ParseDigest(rest[i+1:]); err == nil && strings.Contains(rest[:i], "/") {
			r.Digest = d
			rest = rest[:i]
		}
	}
	path, tag, has := rest, "", false
	if r.Digest == "" {
		path, tag, has = splitTag(rest)
	}
	hostPort, repo, ok := strings.Cut(path, "/")
	if !ok && !root {
		return malformed("oci", r.Raw, "expected oci://<host>[:<port>]/<repo>[:<tag>]")
	}
	if !ok && root && has {
		// "oci://host:5000" as a root: the colon was a port, not a tag.
		hostPort, tag, has = rest, "", false
	}
	r.Tag, r.HasTag, r.Repo = tag, has, repo
	host, port, hasPort := strings.Cut(hostPort, ":")
	r.Host = host
	if hasPort {
		p, err := parseU16(port)
		if err != nil {
			return malformed("oci", r.Raw, "port is not a u16")
		}
		r.Port, r.HasPort = p, true
	}
	return nil
}

// parseU16 follows Rust's u16::from_str: optional single '+', ASCII digits.
func parseU16(s string) (int, error) {
	s = strings.TrimPrefix(s, "+")
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a digit")
		}
	}
	v, err := strconv.ParseUint(s, 10, 16)
	return int(v), err
}

// splitTag implements spec §8.1: the last ':' whose suffix has no '/'.
func splitTag(s string) (path, tag string, has bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.Contains(s[i+1:], "/") {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

func malformed(scheme, s, reason string) error {
	return fault.Classed(fault.ErrBadRef, fmt.Errorf("malformed %s URL: %q (%s)", scheme, s, reason))
}

// ParseRoot parses a listing root. It accepts everything ParseRef accepts
// plus roots that are not images: hf://<user>, oci://<host>[:<port>],
// ipfs:// (the daemon's pins), s3://<bucket>.
func ParseRoot(s string) (Ref, error) {
	r := Ref{Raw: s}
	switch {
	case strings.HasPrefix(s, "hf://") && !strings.Contains(strings.TrimPrefix(s, "hf://"), "/"):
		r.Scheme, r.User = "hf", strings.TrimPrefix(s, "hf://")
		if r.User == "" {
			return r, malformed("hf", s, "expected hf://<user>[/<repo>]")
		}
		return r, nil
	case s == "ipfs://":
		r.Scheme = "ipfs"
		return r, nil
	case strings.HasPrefix(s, "oci://"):
		r.Scheme = "oci"
		return r, parseOCI(&r, strings.TrimSuffix(strings.TrimPrefix(s, "oci://"), "/"), true)
	}
	return ParseRef(s)
}

// String is the reference as given.
func (r Ref) String() string { return r.Raw }

// HFRevision is the revision an hf ref names: the tag (even empty) or "main".
func (r Ref) HFRevision() string {
	if r.HasTag {
		return r.Tag
	}
	return "main"
}

// S3KeyPrefix is the prefix with every trailing '/' removed.
func (r Ref) S3KeyPrefix() string { return strings.TrimRight(r.Prefix, "/") }

// S3Key is the object key of a leaf under the prefix.
func (r Ref) S3Key(leaf string) string {
	if p := r.S3KeyPrefix(); p != "" {
		return p + "/" + leaf
	}
	return leaf
}

// OCIReference is the manifest reference: the digest, the tag, or "latest".
func (r Ref) OCIReference() string {
	switch {
	case r.Digest != "":
		return string(r.Digest)
	case r.HasTag:
		return r.Tag
	}
	return "latest"
}

// OCIHostPort is host[:port] as written.
func (r Ref) OCIHostPort() string {
	if r.HasPort {
		return r.Host + ":" + strconv.Itoa(r.Port)
	}
	return r.Host
}

// RustOCIBaseURL is the base URL the Rust tool derives (plain HTTP for
// localhost, 127.*, and any explicit port but 443). This tool does not use
// it to pick a scheme, because it would send credentials in clear; it is
// kept for the interop vectors and messages.
func (r Ref) RustOCIBaseURL() string {
	scheme := "https"
	if r.Host == "localhost" || strings.HasPrefix(r.Host, "127.") || (r.HasPort && r.Port != 443) {
		scheme = "http"
	}
	return scheme + "://" + r.OCIHostPort()
}

// IsLoopbackHost reports whether an OCI host is on this machine, the only
// case where plain HTTP is chosen without --insecure.
func (r Ref) IsLoopbackHost() bool { return IsLoopback(r.Host) }

// IsLoopback reports whether a host name is this machine: "localhost" or a
// loopback IP literal (brackets allowed). A name like 127.example.com is
// not, so it never gets plain HTTP with credentials.
func IsLoopback(host string) bool {
	h := strings.Trim(host, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
