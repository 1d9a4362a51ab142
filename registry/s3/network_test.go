package s3_test

import (
	"testing"

	"pf-registry/registry"
	"pf-registry/registry/registrytest"
	"pf-registry/registry/s3"
)

// The harness reaches versitygw through a fault proxy too (registrytest's
// bad-network checks).

func (h *harness) Upstream() string { return srv.Endpoint }

func (h *harness) OpenVia(t testing.TB, base string, cfg registry.Config) registry.Registry {
	b, err := s3.New(cfg, srv.Getenv(map[string]string{"AWS_ENDPOINT_URL": base}))
	if err != nil {
		t.Fatal(err)
	}
	return registry.New(b, cfg)
}

func (h *harness) Traffic() registrytest.Traffic { return registrytest.HTTPTraffic("/blobs/") }
