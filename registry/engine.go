package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"pf-registry/blob"
	"pf-registry/internal/fault"
	"pf-registry/model"
	"pf-registry/signing"
	"pf-registry/store"
)

// DefaultConcurrency bounds parallel blob transfers.
const DefaultConcurrency = 4

// engine is what New wraps around a Backend: the operations every registry
// shares (inspect, verify, pull, push) and the policy they obey.
type engine struct {
	Backend
	cfg Config
}

// New wraps a backend into a full Registry that applies cfg's policy.
func New(b Backend, cfg Config) Registry {
	if e, ok := b.(*engine); ok {
		b = e.Backend // re-wrapped under the new configuration
	}
	return &engine{Backend: b, cfg: cfg}
}

// ResultReffer is an optional Sink capability: a sink whose final address is
// only known after Commit (IPFS: the directory CID) reports it here.
type ResultReffer interface {
	ResultRef() string
}

// verifier judges this registry's images with its key and keyring.
func (e *engine) verifier() *Verifier {
	return &Verifier{Key: e.SignKey(), Keys: e.cfg.Keys}
}

func (e *engine) Inspect(ctx context.Context, ref Ref) (*Inspection, error) {
	src, err := e.Source(ctx, ref)
	if err != nil {
		return nil, err
	}
	return inspectSource(ctx, src, *e.verifier(), e.cfg.Retry)
}

func (e *engine) Verify(ctx context.Context, ref Ref, opt VerifyOptions) (*Report, error) {
	src, err := e.Source(ctx, ref)
	if err != nil {
		return nil, err
	}
	if opt.MaxBlobSize <= 0 {
		opt.MaxBlobSize = e.cfg.MaxBlobSize
	}
	if opt.Retry == (RetryPolicy{}) {
		opt.Retry = e.cfg.Retry
	}
	return VerifySource(ctx, src, *e.verifier(), opt)
}

// Pull is a write (into the store): refused in read-only mode.
func (e *engine) Pull(ctx context.Context, ref Ref, st *store.Store, opt TransferOptions) (*Report, error) {
	if err := e.cfg.CheckWrite("the local store"); err != nil {
		return nil, err
	}
	src, err := e.Source(ctx, ref)
	if err != nil {
		return nil, err
	}
	if len(opt.SignWith) > 0 {
		return nil, fault.Classed(fault.ErrUsage, errors.New("the local store keeps no signatures: sign when pushing"))
	}
	return Transfer(ctx, OpPull, src, e.verifier(), StoreSink(st), nil, e.cfg.forSource(ref, opt))
}

func (e *engine) Push(ctx context.Context, st *store.Store, id model.Digest, ref Ref, opt TransferOptions) (*Report, error) {
	src, err := StoreSource(st, id)
	if err != nil {
		return nil, err
	}
	dst, err := e.Sink(ctx, ref)
	if err != nil {
		return nil, err
	}
	opt = e.cfg.withLimits(opt)
	return Transfer(ctx, OpPush, src, nil, dst, &Signer{Key: e.SignKey(), With: opt.SignWith}, opt)
}

// Sink is where every write to a backend starts (push, copy, sign):
// refused in read-only mode before the backend is asked.
func (e *engine) Sink(ctx context.Context, ref Ref) (Sink, error) {
	if err := e.cfg.CheckWrite(ref.Raw); err != nil {
		return nil, err
	}
	return retried(ctx, e.cfg.Retry, func(ctx context.Context) (Sink, error) { return e.Backend.Sink(ctx, ref) })
}

// Source, List, Tags and Exists ask the backend again after a passing
// failure, like every step of a transfer.
func (e *engine) Source(ctx context.Context, ref Ref) (Source, error) {
	return retried(ctx, e.cfg.Retry, func(ctx context.Context) (Source, error) { return e.Backend.Source(ctx, ref) })
}

func (e *engine) List(ctx context.Context, root Ref, opt ListOptions) (*Listing, error) {
	return retried(ctx, e.cfg.Retry, func(ctx context.Context) (*Listing, error) { return e.Backend.List(ctx, root, opt) })
}

func (e *engine) Tags(ctx context.Context, repo Ref, opt ListOptions) (*TagList, error) {
	return retried(ctx, e.cfg.Retry, func(ctx context.Context) (*TagList, error) { return e.Backend.Tags(ctx, repo, opt) })
}

func (e *engine) Exists(ctx context.Context, ref Ref) (bool, error) {
	return retried(ctx, e.cfg.Retry, func(ctx context.Context) (bool, error) { return e.Backend.Exists(ctx, ref) })
}

// Sign refuses an image whose signatures fail or whose manifest is
// malformed: a new signature would vouch for bytes nobody signed.
func (e *engine) Sign(ctx context.Context, ref Ref, keys []*signing.PrivateKey) (*Inspection, error) {
	if err := e.cfg.CheckWrite(ref.Raw); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fault.Classed(fault.ErrUsage, errors.New("no signing key given"))
	}
	in, err := e.Inspect(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := in.Problem(signing.RequireAny); err != nil {
		return nil, fault.WithHint(fmt.Errorf("refusing to sign: %w", err), fault.Hint(err))
	}
	dst, err := e.Sink(ctx, ref)
	if err != nil {
		return nil, err
	}
	ss, ok := dst.(SignedSink)
	if !ok {
		return nil, errNoSignatures(dst)
	}
	if _, err := ss.AddSignatures(ctx, in.Raw, Bundles{Keys: keys, Ring: e.cfg.Keys}); err != nil {
		return nil, err
	}
	if rr, ok := dst.(ResultReffer); ok && rr.ResultRef() != "" {
		if ref, err = ParseRef(rr.ResultRef()); err != nil {
			return nil, err
		}
	}
	return e.Inspect(ctx, ref)
}

// Copy moves an image between two registries without going through the
// local store: the source's signatures are verified with the source's key
// and keyring and its policy; the destination gets a fresh HMAC signature
// under its own key, a bundle by each opt.SignWith key, and the source's
// bundles that still verify over what it stores.
func Copy(ctx context.Context, srcReg Registry, srcRef Ref, dstReg Registry, dstRef Ref, opt TransferOptions) (*Report, error) {
	// Refuse a read-only copy before reading anything; dstReg.Sink would.
	if err := configOf(dstReg).CheckWrite(dstRef.Raw); err != nil {
		return nil, err
	}
	src, err := srcReg.Source(ctx, srcRef)
	if err != nil {
		return nil, err
	}
	dst, err := dstReg.Sink(ctx, dstRef)
	if err != nil {
		return nil, err
	}
	scfg := configOf(srcReg)
	v := &Verifier{Key: srcReg.SignKey(), Keys: scfg.Keys}
	return Transfer(ctx, OpCopy, src, v, dst, &Signer{Key: dstReg.SignKey(), With: opt.SignWith}, scfg.forSource(srcRef, opt))
}

// InspectSource reads manifest and signatures and judges them.
func InspectSource(ctx context.Context, src Source, v Verifier) (*Inspection, error) {
	return inspectSource(ctx, src, v, RetryPolicy{})
}

func inspectSource(ctx context.Context, src Source, v Verifier, pol RetryPolicy) (*Inspection, error) {
	raw, sig, err := fetchManifest(ctx, src, pol)
	if err != nil {
		return nil, err
	}
	in := inspectBytes(src.Describe(), raw)
	if in.Signature, _, err = v.judge(ctx, src, raw, sig); err != nil {
		return nil, err
	}
	return in, nil
}

// fetchManifest is FetchManifest, tried again after a passing failure.
func fetchManifest(ctx context.Context, src Source, pol RetryPolicy) (raw, sig []byte, err error) {
	err = pol.do(ctx, func(ctx context.Context) (err error) {
		raw, sig, err = src.FetchManifest(ctx)
		return err
	}, nil)
	return raw, sig, err
}

func inspectBytes(where string, raw []byte) *Inspection {
	in := &Inspection{Ref: where, ImageID: model.FromBytes(raw), Raw: raw}
	m, err := model.ParseManifest(raw)
	if err != nil {
		in.ManifestError = err.Error()
		return in
	}
	in.Manifest = m
	in.Canonical = model.IsCanonical(raw)
	in.Warnings = m.Warnings()
	if !in.Canonical {
		in.Warnings = append(in.Warnings, "manifest bytes are not canonical: the Rust CLI will record a different image ID after pulling")
	}
	if err := m.Validate(); err != nil {
		in.ManifestError = err.Error()
	}
	for _, r := range m.TopLevel() {
		in.Blobs = append(in.Blobs, BlobStatus{Digest: r.Digest, Role: r.Role, Status: BlobUnchecked})
	}
	return in
}

// metaBlob is a small blob (fs tree, page manifest) held for the walk.
type metaBlob struct {
	stored  []byte
	logical []byte
	limit   blob.Limit // what it was read under
}

// loadMetadata fetches and verifies the fs tree and the page manifest, the
// only blobs the walk reads, each under metaLimit.
func loadMetadata(ctx context.Context, src Source, m *model.Manifest, opt TransferOptions) (map[model.Digest]metaBlob, error) {
	out := map[model.Digest]metaBlob{}
	for i, d := range m.MetadataBlobs() {
		if _, ok := out[d]; ok {
			continue
		}
		lim := metaLimit(opt.MaxBlobSize, [...]string{"world.fs", "cache.manifest"}[i])
		var mb metaBlob
		err := opt.Retry.do(ctx, func(ctx context.Context) (err error) {
			mb, err = loadMetaBlob(ctx, src, d, lim, opt.Retry)
			return err
		}, nil)
		switch {
		case errors.Is(err, fault.ErrNotFound):
			continue // reported as missing by the completeness check
		case err != nil:
			return nil, err
		}
		out[d] = mb
	}
	return out, nil
}

// metaLimit caps a metadata blob, which is held in memory: at most
// model.MaxMetadataSize, lower with --max-blob-size, and the ratio rule
// unless that flag is set.
func metaLimit(maxBlob int64, role string) blob.Limit {
	if maxBlob > 0 && maxBlob < model.MaxMetadataSize {
		return blob.Limit{Max: maxBlob, Why: "--max-blob-size", Name: role}
	}
	return blob.Limit{Max: model.MaxMetadataSize, Why: "the limit on metadata held in memory", Ratio: maxBlob <= 0, Name: role}
}

func loadMetaBlob(ctx context.Context, src Source, d model.Digest, lim blob.Limit, pol RetryPolicy) (metaBlob, error) {
	rc, size, err := src.OpenBlob(ctx, d)
	if err != nil {
		return metaBlob{}, err
	}
	rc = newResuming(ctx, src, d, rc, size, pol)
	stored, err := io.ReadAll(io.LimitReader(rc, blob.StoredBound(lim.Max)+1))
	rc.Close()
	if err != nil {
		return metaBlob{}, err
	}
	logical, err := blob.Decode(stored, d, lim)
	if err != nil {
		return metaBlob{}, err
	}
	return metaBlob{stored: stored, logical: logical, limit: lim}, nil
}

// reach loads the metadata blobs and lists every blob the image reaches.
func reach(ctx context.Context, src Source, m *model.Manifest, opt TransferOptions) (map[model.Digest]metaBlob, []model.BlobRef, error) {
	meta, err := loadMetadata(ctx, src, m, opt)
	if err != nil {
		return nil, nil, err
	}
	refs, err := walk(src.Describe(), m, meta)
	return meta, refs, err
}

// walk lists the blobs of the image. A nested digest with uppercase hex is
// in Rust's walk but can never verify: every operation, quick verify
// included, reports the same integrity failure for it.
func walk(where string, m *model.Manifest, meta map[model.Digest]metaBlob) ([]model.BlobRef, error) {
	refs := model.Walk(m, func(d model.Digest) ([]byte, error) {
		if b, ok := meta[d]; ok {
			return b.logical, nil
		}
		return nil, fault.ErrNotFound
	})
	for _, r := range refs {
		if !r.Digest.IsLower() {
			return nil, fault.WithHint(fault.Integrityf("%s: %s digest %s has uppercase hex and can never verify", where, r.Role, r.Digest),
				"the image is malformed; re-create it (producers write lowercase digests)")
		}
	}
	return refs, nil
}

// VerifySource checks signature and manifest, then the presence (or, with
// Deep, the content) of every reachable blob.
func VerifySource(ctx context.Context, src Source, v Verifier, opt VerifyOptions) (*Report, error) {
	if opt.Deep {
		return Transfer(ctx, OpVerify, src, &v, discardSink{}, nil,
			TransferOptions{Concurrency: opt.Concurrency, Progress: opt.Progress, MaxBlobSize: opt.MaxBlobSize, Retry: opt.Retry})
	}
	start := time.Now()
	in, err := inspectSource(ctx, src, v, opt.Retry)
	if err != nil {
		return nil, err
	}
	rep := &Report{Op: OpVerify, Source: src.Describe(), Inspection: in}
	if err := in.Problem(signing.RequireAny); err != nil {
		return rep, err
	}
	_, refs, err := reach(ctx, src, in.Manifest, TransferOptions{Retry: opt.Retry, MaxBlobSize: opt.MaxBlobSize})
	if err != nil {
		return rep, err
	}
	var missing []string
	for _, r := range refs {
		bs := BlobStatus{Digest: r.Digest, Role: r.Role, Status: BlobPresent}
		var size int64
		err := opt.Retry.do(ctx, func(ctx context.Context) (err error) {
			size, err = statBlob(ctx, src, r.Digest)
			return err
		}, nil)
		switch {
		case errors.Is(err, fault.ErrNotFound):
			bs.Status = BlobMissing
			missing = append(missing, r.Role)
		case err != nil:
			return rep, err
		default:
			bs.StoredSize = size
		}
		rep.Blobs = append(rep.Blobs, bs)
	}
	rep.Elapsed = time.Since(start)
	if len(missing) > 0 {
		return rep, incompleteErr(src.Describe(), missing)
	}
	rep.Complete = true
	return rep, nil
}

func statBlob(ctx context.Context, src Source, d model.Digest) (int64, error) {
	if s, ok := src.(BlobStater); ok {
		return s.StatBlob(ctx, d)
	}
	rc, size, err := src.OpenBlob(ctx, d)
	if err != nil {
		return 0, err
	}
	rc.Close()
	return size, nil
}

func incompleteErr(where string, roles []string) error {
	list := roles
	if len(list) > 3 {
		list = append(append([]string{}, list[:3]...), fmt.Sprintf("and %d more", len(roles)-3))
	}
	return fault.WithHint(fault.Integrityf("image at %s is incomplete: %d blob(s) missing (%v)", where, len(roles), list),
		"push the image again from a complete copy")
}
