package benchsuite

import (
	"fmt"
	"os"
	"path/filepath"
)

// Env is what the commands of a run need.
type Env struct {
	Work      string // scratch directory of the run
	PF        string // pf-registry binary
	Store     string // local store holding the image
	ImageID   string
	Payload   string // the image in the file layout: the stored bytes every tool moves
	Layout    string // the same stored blobs as an OCI image layout (tag v1)
	HFPeer    string // node script driving @huggingface/hub
	Testhub   string // test hub binary
	Timeout   string
	WithPeers bool
}

// tool is one way of moving the image to and from a backend. push sends
// the image found in the directory from (ours: the store) to destination
// name; pull fetches name into the directory out; repush pushes name again
// unchanged (nil: push again).
type tool struct {
	name   string
	ours   bool
	layout bool // pulls an OCI layout rather than the file layout
	push   func(from, name string) string
	pull   func(name, out string) string
	repush func(name string) string
}

// backend groups the tools of one scheme. tools[0] is pf-registry and
// tools[1] the peer whose pull and push make the peer side of a
// cross-backend copy. ref names an image of ours; destroy removes a
// destination after a run when the server is not restarted anyway.
type backend struct {
	name    string
	srv     *server
	tools   []tool
	ref     func(name string) string
	destroy func(name string)
}

func (e *Env) pf(args string) string {
	return q(e.PF) + " --progress none --timeout " + e.Timeout + " " + args
}

// oursTool pushes from the store, pulls into a fresh store.
func (e *Env) oursTool(ref func(string) string) tool {
	return tool{name: "pf-registry", ours: true,
		push: func(_, name string) string {
			return e.pf("--store " + q(e.Store) + " push " + e.ImageID + " " + q(ref(name)))
		},
		pull: func(name, out string) string { return e.pf("--store " + q(out) + " pull " + q(ref(name))) },
	}
}

func (e *Env) fileBackend() *backend {
	root := filepath.Join(e.Work, "file")
	dir := func(name string) string { return filepath.Join(root, name) }
	b := &backend{name: "file", ref: func(n string) string { return "file://" + dir(n) },
		destroy: func(n string) { os.RemoveAll(dir(n)) }}
	b.tools = []tool{e.oursTool(b.ref),
		{name: "cp -r",
			push:   func(from, n string) string { return "mkdir -p " + q(root) + " && cp -r " + q(from) + " " + q(dir(n)) },
			pull:   func(n, out string) string { return "cp -r " + q(dir(n)) + " " + q(out) },
			repush: func(n string) string { return "cp -r " + q(e.Payload) + "/. " + q(dir(n)) },
		},
		{name: "rsync -a",
			push: func(from, n string) string {
				return "mkdir -p " + q(root) + " && rsync -a " + q(from+"/") + " " + q(dir(n)+"/")
			},
			pull: func(n, out string) string { return "rsync -a " + q(dir(n)+"/") + " " + q(out+"/") },
		},
	}
	return b
}

const artifactType = "application/vnd.processfork.image.v1"

func (e *Env) ociBackend() *backend {
	srv := newOCI(e.Work)
	repo := func(n string) string { return srv.addr + "/bench/" + n + ":v1" }
	b := &backend{name: "oci", srv: srv, ref: func(n string) string { return "oci://" + repo(n) }, destroy: func(string) {}}
	regctl := func(args string) string {
		return "regctl --host " + q("reg="+srv.addr+",tls=disabled") + " " + args
	}
	b.tools = []tool{e.oursTool(b.ref),
		{name: "oras",
			push: func(from, n string) string {
				return "cd " + q(from) + " && oras push --plain-http --no-tty --artifact-type " + artifactType + " " + q(repo(n)) +
					` $(find . -type f | sed 's|^\./||' | sort) >/dev/null`
			},
			pull: func(n, out string) string {
				return "mkdir -p " + q(out) + " && cd " + q(out) + " && oras pull --plain-http --no-tty " + q(repo(n)) + " >/dev/null"
			},
		},
		{name: "regctl", layout: true,
			push: func(_, n string) string {
				return regctl("image copy " + q("ocidir://"+e.Layout+":v1") + " " + q(repo(n)))
			},
			pull: func(n, out string) string { return regctl("image copy " + q(repo(n)) + " " + q("ocidir://"+out+":v1")) },
		},
		{name: "crane", layout: true,
			push: func(_, n string) string { return "crane push " + q(e.Layout) + " " + q(repo(n)) + " >/dev/null" },
			pull: func(n, out string) string { return "crane pull --format oci " + q(repo(n)) + " " + q(out) },
		},
	}
	return b
}

func (e *Env) s3Backend() *backend {
	srv := newS3(e.Work)
	b := &backend{name: "s3", srv: srv, ref: func(n string) string { return "s3://" + s3Bucket + "/" + n },
		destroy: func(n string) { os.RemoveAll(filepath.Join(srv.dir, "data", s3Bucket, n)) }}
	aws := func(args string) string {
		return "/usr/bin/aws --endpoint-url http://" + srv.addr + " s3 " + args + " --only-show-errors"
	}
	// rclone's S3 client refuses a custom CA bundle with its own transport;
	// the server is plain HTTP on loopback, so none is needed.
	const rclone = "env -u AWS_CA_BUNDLE rclone -q "
	url := func(n string) string { return q("s3://" + s3Bucket + "/" + n + "/") }
	b.tools = []tool{e.oursTool(b.ref),
		{name: "aws s3 cp",
			push:   func(from, n string) string { return aws("cp --recursive " + q(from) + " " + url(n)) },
			pull:   func(n, out string) string { return aws("cp --recursive " + url(n) + " " + q(out)) },
			repush: func(n string) string { return aws("sync " + q(e.Payload) + " " + url(n)) },
		},
		{name: "rclone",
			push: func(from, n string) string { return rclone + "copy " + q(from) + " " + q("bs3:"+s3Bucket+"/"+n) },
			pull: func(n, out string) string { return rclone + "copy " + q("bs3:"+s3Bucket+"/"+n) + " " + q(out) },
		},
	}
	return b
}

func (e *Env) ipfsBackend() *backend {
	srv := newIPFS(e.Work)
	cid := func(n string) string { return filepath.Join(e.Work, "ipfs-"+n+".cid") }
	b := &backend{name: "ipfs", srv: srv, ref: func(n string) string { return "ipfs://" + n + ":v1" }, destroy: func(string) {}}
	b.tools = []tool{e.oursTool(b.ref),
		{name: "ipfs add/get",
			push: func(from, n string) string { return "ipfs add -r -Q " + q(from) + " > " + q(cid(n)) },
			pull: func(n, out string) string {
				return "ipfs get \"$(cat " + q(cid(n)) + ")\" -o " + q(out) + " >/dev/null 2>&1"
			},
		},
	}
	return b
}

func (e *Env) hfBackend() *backend {
	srv := newHub(e.Work, e.Testhub)
	b := &backend{name: "hf", srv: srv, ref: func(n string) string { return "hf://bench/" + n }, destroy: func(string) {}}
	node := func(args string) string { return "node " + q(e.HFPeer) + " " + args }
	b.tools = []tool{e.oursTool(b.ref),
		{name: "@huggingface/hub",
			push: func(from, n string) string {
				return node("upload " + q(srv.addr) + " " + hubToken + " bench/" + n + " " + q(from))
			},
			pull: func(n, out string) string {
				return node("download " + q(srv.addr) + " " + hubToken + " bench/" + n + " " + q(out))
			},
		},
	}
	return b
}

// backends returns the backends in copy order: each copies into the next.
func (e *Env) backends() []*backend {
	bs := []*backend{e.fileBackend(), e.ociBackend(), e.s3Backend(), e.ipfsBackend(), e.hfBackend()}
	if !e.WithPeers {
		for _, b := range bs {
			b.tools = b.tools[:1]
		}
	}
	return bs
}

func (t tool) repushCmd(e *Env, name string) string {
	if t.repush != nil {
		return t.repush(name)
	}
	return t.push(e.Payload, name)
}

func (b *backend) env() []string {
	if b.srv == nil {
		return nil
	}
	return b.srv.env
}

func (b *backend) String() string { return fmt.Sprintf("%s (%d tools)", b.name, len(b.tools)) }
