package s3_test

import (
	"testing"

	"pf-registry/internal/faultproxy"
	"pf-registry/registry"
	"pf-registry/registry/faulttest"
	"pf-registry/registry/s3"
)

// TestFaults runs the bad-network checks through a fault proxy in front
// of versitygw.
func TestFaults(t *testing.T) {
	bucket := newBucket(t)
	faulttest.Run(t, faulttest.Harness{
		Upstream: srv.Endpoint,
		Open: func(t testing.TB, base string, cfg registry.Config) registry.Registry {
			b, err := s3.New(cfg, env(map[string]string{"AWS_ENDPOINT_URL": base}))
			if err != nil {
				t.Fatal(err)
			}
			return registry.New(b, cfg)
		},
		Ref: func(t testing.TB, _, name string) registry.Ref {
			return ref(t, "s3://"+bucket+"/"+name)
		},
		Download: faultproxy.Rule{Method: "GET"},
		Upload:   faultproxy.Rule{Method: "PUT", Path: "/blobs/"},
		Resumed:  func(q faultproxy.Request) bool { return q.Range != "" },
	})
}
