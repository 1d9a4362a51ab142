package registry

import (
	"fmt"
	"path"
	"strings"

	"pf-registry/internal/fault"
)

// Where a mirror puts things: a repository listed under one root gets the
// same relative name under another, and an image the same tag. Flat name
// spaces (HF datasets, IPFS names) get '/' replaced by '-'.

// RelName is a listed repository's name relative to the root it was listed
// under ("" for the root itself).
func RelName(root Ref, e RepoEntry) string {
	name := strings.Trim(e.Name, "/")
	switch root.Scheme {
	case "hf":
		if root.Repo != "" {
			return ""
		}
		name = strings.TrimPrefix(name, root.User+"/")
	case "oci":
		if root.Repo != "" {
			if name == root.Repo {
				return ""
			}
			name = strings.TrimPrefix(name, root.Repo+"/")
		}
	case LayoutScheme:
		return ""
	case "ipfs":
		if root.CID != "" {
			return ""
		}
	}
	if name == "." {
		return ""
	}
	return name
}

// RepoUnder is the repository named rel (relative, '/'-separated) under a
// root.
func RepoUnder(root Ref, rel string) (Ref, error) {
	rel = strings.Trim(rel, "/")
	if rel == "" || rel == "." {
		return root, nil
	}
	var raw string
	switch root.Scheme {
	case "file", "s3":
		raw = pathBelow(root, rel)
	case "oci":
		raw = "oci://" + root.OCIHostPort() + "/" + joinPath(root.Repo, rel)
	case LayoutScheme:
		raw = LayoutScheme + ":" + joinPath(root.Path, rel)
	case "hf":
		if root.Repo != "" {
			return Ref{}, flatOnly(root, rel, "hf://"+root.User)
		}
		raw = "hf://" + root.User + "/" + flatten(rel)
	case "ipfs":
		if root.CID != "" {
			return Ref{}, flatOnly(root, rel, "ipfs://")
		}
		raw = "ipfs://" + flatten(rel)
	default:
		return Ref{}, fmt.Errorf("%s: no repositories below it", root.Raw)
	}
	return ParseRoot(raw)
}

// ImageIn is the reference of the image named tag in a repository.
func ImageIn(repo Ref, tag string) (Ref, error) {
	var raw string
	switch repo.Scheme {
	case "file", "s3":
		// A tag of a path-style registry is a directory like any other.
		raw = pathBelow(repo, tag)
	case "oci":
		raw = "oci://" + repo.OCIHostPort() + "/" + repo.Repo + ":" + tag
	case LayoutScheme:
		raw = LayoutScheme + ":" + repo.Path + "#" + tag
	case "hf":
		raw = "hf://" + repo.User + "/" + repo.Repo + ":" + tag
	case "ipfs":
		name, _, _ := strings.Cut(repo.CID, ":")
		raw = "ipfs://" + name + ":" + tag
	default:
		return Ref{}, fmt.Errorf("%s: not a repository", repo.Raw)
	}
	return ParseRef(raw)
}

// pathBelow is the reference text of rel below r on a path-style scheme
// (file, s3).
func pathBelow(r Ref, rel string) string {
	if r.Scheme == "s3" {
		return "s3://" + r.Bucket + "/" + joinPath(r.S3KeyPrefix(), rel)
	}
	return "file://" + joinPath(r.Path, rel)
}

func joinPath(base, rel string) string {
	if base == "" {
		return rel
	}
	return path.Join(base, rel)
}

func flatten(rel string) string { return strings.ReplaceAll(rel, "/", "-") }

func flatOnly(root Ref, rel, parent string) error {
	return fault.WithHint(fault.Classed(fault.ErrUsage,
		fmt.Errorf("%s is one repository; the source holds several (e.g. %q)", root.Raw, rel)),
		"give a root that holds repositories, e.g. "+parent)
}
