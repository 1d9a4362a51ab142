// Package ocitest runs the OCI registries the tests push to, on 127.0.0.1:
// distribution v3 in-process (in-memory storage) and the Debian
// docker-registry (distribution 2.8) as a process with its storage in a
// temporary directory.
package ocitest

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/sirupsen/logrus"

	"pf-registry/internal/testenv"
)

// Server is a running registry.
type Server struct {
	Host string // host:port
	// Data is the storage directory of a docker-registry ("" in memory).
	Data string
	stop func()
}

// Stop ends the server and removes its storage.
func (s *Server) Stop() { s.stop() }

// StartDistribution runs distribution v3 in this process, deletes enabled.
// catalogMax is the most repositories one _catalog page holds (0: 1000, the
// file configuration's default; the zero value of the struct refuses every
// n).
func StartDistribution(catalogMax int) *Server { return StartDistributionWith(catalogMax, true) }

// StartDistributionWith is StartDistribution with deletes enabled or not
// (distribution's own default: refused, 405 UNSUPPORTED).
func StartDistributionWith(catalogMax int, deletes bool) *Server {
	logrus.SetOutput(io.Discard) // it logs every 404 HEAD at error level
	if catalogMax <= 0 {
		catalogMax = 1000
	}
	ctx, cancel := context.WithCancel(context.Background())
	cfg := &configuration.Configuration{Storage: configuration.Storage{
		"inmemory":    configuration.Parameters{},
		"maintenance": configuration.Parameters{"uploadpurging": map[any]any{"enabled": false}},
		"delete":      configuration.Parameters{"enabled": deletes},
	}}
	cfg.HTTP.Secret = "test-secret"
	cfg.Catalog.MaxEntries = catalogMax
	cfg.Log.AccessLog.Disabled = true
	cfg.Log.Level = "error"
	srv := httptest.NewServer(handlers.NewApp(ctx, cfg))
	return &Server{Host: strings.TrimPrefix(srv.URL, "http://"), stop: func() { srv.Close(); cancel() }}
}

// Distribution is StartDistribution for one test.
func Distribution(t testing.TB) string {
	s := StartDistribution(0)
	t.Cleanup(s.Stop)
	return s.Host
}

// StartDebian starts the Debian docker-registry on a free port, deletes
// enabled. httpExtra adds settings to the http section of its
// configuration (e.g. ", relativeurls: true").
func StartDebian(httpExtra string) (*Server, error) { return StartDebianWith(httpExtra, true) }

// StartDebianWith is StartDebian with deletes enabled or not.
func StartDebianWith(httpExtra string, deletes bool) (*Server, error) {
	var data string
	p, err := testenv.StartProc("docker-registry", "/v2/", nil, func(dir string, port int) ([]string, error) {
		data = filepath.Join(dir, "data")
		conf := fmt.Sprintf(`version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: %s}, delete: {enabled: %t}}
http: {addr: 127.0.0.1:%d, secret: test-secret%s}
`, data, deletes, port, httpExtra)
		cf := filepath.Join(dir, "config.yml")
		return []string{"serve", cf}, os.WriteFile(cf, []byte(conf), 0o600)
	})
	if err != nil {
		return nil, err
	}
	return &Server{Host: p.Addr(), Data: data, stop: p.Stop}, nil
}

// Debian is StartDebian for one test.
func Debian(t testing.TB, httpExtra string) *Server {
	t.Helper()
	s, err := StartDebian(httpExtra)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}
