package s3_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"pf-registry/cli"
	"pf-registry/registry/registrytest"
)

// The command line maps S3 failures to exit codes: 1 for wrong
// credentials, a missing bucket or an unreachable endpoint, 4 for a
// tampered image, always with one line on stderr and the store untouched.
func TestCommandLineExitCodes(t *testing.T) {
	bkt := newBucket(t)
	for k, v := range srv.Env() {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN", "AWS_PROFILE", "PF_S3_VIRTUAL_HOST", "PF_S3_REG_SIGN_KEY"} {
		t.Setenv(k, "")
	}
	st := registrytest.NewStore(t)
	id := registrytest.AddSmallImage(t, st, 7)
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := cli.Run(context.Background(), append([]string{"--store", st.Root(), "--progress", "none"}, args...), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, stderr := run("push", string(id), "s3://"+bkt+"/img"); code != 0 {
		t.Fatalf("push: exit %d: %s", code, stderr)
	}
	if code, stdout, stderr := run("ls", "s3://"+bkt); code != 0 || !strings.Contains(stdout, "img") {
		t.Fatalf("ls: exit %d: %s %s", code, stdout, stderr)
	}
	pullStore := registrytest.NewStore(t)
	if code, _, stderr := run("--store", pullStore.Root(), "pull", "s3://"+bkt+"/img"); code != 0 || !pullStore.HasImage(id) {
		t.Fatalf("pull: exit %d: %s", code, stderr)
	}

	raw, _ := st.Manifest(id)
	tests := []struct {
		name string
		env  map[string]string
		ref  string
		prep func()
		code int
		want string
	}{
		{name: "wrong credentials", env: map[string]string{"AWS_SECRET_ACCESS_KEY": "wrong-secret-value"}, ref: "s3://" + bkt + "/img", code: 1, want: "credentials"},
		{name: "missing bucket", ref: "s3://no-such-bucket/img", code: 1, want: "does not exist"},
		{name: "unreachable endpoint", env: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, ref: "s3://" + bkt + "/img", code: 1, want: "cannot reach"},
		{name: "tampered manifest", ref: "s3://" + bkt + "/img", code: 4, want: "signature",
			prep: func() {
				dir := t.TempDir() + "/m"
				writeFile(t, dir, bytes.Replace(raw, []byte("claude-code"), []byte("claude-kode"), 1))
				awsCLI(t, "s3", "cp", "--only-show-errors", dir, "s3://"+bkt+"/img/manifest.json")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if tc.prep != nil {
				tc.prep()
			}
			fresh := registrytest.NewStore(t)
			before := snapshot(t, fresh.Root())
			code, _, stderr := run("--store", fresh.Root(), "pull", tc.ref)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != tc.code || len(lines) != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("pull: exit %d (want %d), stderr %q (want one line with %q)", code, tc.code, stderr, tc.want)
			}
			t.Logf("exit %d: %s", code, strings.TrimSpace(stderr))
			if strings.Contains(stderr, "wrong-secret-value") {
				t.Error("stderr shows a secret")
			}
			if snapshot(t, fresh.Root()) != before {
				t.Error("the local store changed")
			}
		})
	}
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
