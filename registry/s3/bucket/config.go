package bucket

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/minio/minio-go/v7/pkg/credentials"
	"gopkg.in/ini.v1"

	"pf-registry/internal/fault"
)

// DefaultRegion is used when nothing names a region (as the Rust tool does).
const DefaultRegion = "us-east-1"

// DefaultEndpoint is AWS S3 itself.
const DefaultEndpoint = "https://s3.amazonaws.com"

// Config says where and as whom to talk S3.
type Config struct {
	// Endpoint is a URL: http:// only when it says so, https:// otherwise.
	Endpoint *url.URL
	Region   string
	// VirtualHost selects bucket.host addressing instead of host/bucket.
	VirtualHost bool
	// Creds resolves the access key pair lazily (environment, then the
	// shared credentials/config files); anonymous when none is found.
	Creds *credentials.Credentials
	// Profile is the shared-config profile consulted ("default" if unset).
	Profile string
	// CredSource says where Creds come from ("access keys" or "profile
	// NAME"), for display; never a secret.
	CredSource string
}

// Getenv reads one environment variable; tests pass their own.
type Getenv func(string) string

// ConfigFromEnv resolves the configuration:
//
//   - endpoint: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's
//     endpoint_url, else AWS S3;
//   - region: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else
//     us-east-1;
//   - credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+
//     AWS_SESSION_TOKEN), else the shared credentials and config files
//     (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, profile AWS_PROFILE);
//   - addressing: path style unless PF_S3_VIRTUAL_HOST is 1/true/yes.
func ConfigFromEnv(getenv Getenv) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	profile := getenv("AWS_PROFILE")
	if profile == "" {
		profile = "default"
	}
	prof := loadProfile(getenv, profile)

	cfg := Config{Profile: profile}
	cfg.Region = firstNonEmpty(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"), prof["region"], DefaultRegion)

	raw := firstNonEmpty(getenv("AWS_ENDPOINT_URL_S3"), getenv("AWS_ENDPOINT_URL"), prof["endpoint_url"])
	if raw == "" {
		raw = DefaultEndpoint
	}
	u, err := ParseEndpoint(raw)
	if err != nil {
		return cfg, err
	}
	cfg.Endpoint = u

	switch strings.ToLower(getenv("PF_S3_VIRTUAL_HOST")) {
	case "1", "true", "yes", "on":
		cfg.VirtualHost = true
	}

	env := credentials.Value{
		AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
		SignerType:      credentials.SignatureV4,
	}
	switch {
	case env.AccessKeyID != "" && env.SecretAccessKey != "":
		cfg.Creds = credentials.NewStatic(env.AccessKeyID, env.SecretAccessKey, env.SessionToken, credentials.SignatureV4)
		cfg.CredSource = "access keys"
	case env.AccessKeyID != "" || env.SecretAccessKey != "":
		return cfg, fault.WithHint(fault.Classed(fault.ErrAuth,
			fmt.Errorf("s3: only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set")),
			"set both variables, or neither to use the shared credentials file")
	default:
		// The files are read on first use; no files and no keys means
		// anonymous requests (public buckets).
		cfg.CredSource = "profile " + profile
		cfg.Creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.FileAWSCredentials{
				Filename: getenv("AWS_SHARED_CREDENTIALS_FILE"),
				Profile:  profile,
			},
		})
	}
	return cfg, nil
}

// ParseEndpoint accepts http://host[:port] or https://host[:port]; a bare
// host[:port] means https. A path is refused: S3 endpoints have none.
func ParseEndpoint(raw string) (*url.URL, error) {
	bad := func(why string) error {
		return fault.WithHint(fault.Classed(fault.ErrUsage,
			fmt.Errorf("s3: bad endpoint URL %q: %s", redactURL(raw), why)),
			"set AWS_ENDPOINT_URL to http(s)://host[:port]")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, bad("does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, bad("scheme must be http or https")
	}
	if u.Host == "" {
		return nil, bad("no host")
	}
	if u.User != nil {
		return nil, bad("credentials in the URL are not supported")
	}
	if p := strings.Trim(u.Path, "/"); p != "" || u.RawQuery != "" {
		return nil, bad("an endpoint has no path or query")
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// redactURL drops any user info before a URL is shown.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		u.User = nil
		return u.String()
	}
	if i := strings.Index(raw, "@"); i >= 0 {
		return "…" + raw[i:]
	}
	return raw
}

// loadProfile reads region and endpoint_url of a profile from the shared
// config file (section "profile NAME", or "default"), then the credentials
// file (section "NAME"). Missing or unreadable files give an empty map:
// they are optional.
func loadProfile(getenv Getenv, profile string) map[string]string {
	out := map[string]string{}
	home, _ := os.UserHomeDir()
	path := func(env, leaf string) string {
		if p := getenv(env); p != "" {
			return p
		}
		if home == "" {
			return ""
		}
		return filepath.Join(home, ".aws", leaf)
	}
	read := func(file, section string) {
		if file == "" {
			return
		}
		f, err := ini.Load(file)
		if err != nil {
			return
		}
		s, err := f.GetSection(section)
		if err != nil {
			return
		}
		for _, k := range []string{"region", "endpoint_url"} {
			if v := strings.TrimSpace(s.Key(k).String()); v != "" && out[k] == "" {
				out[k] = v
			}
		}
	}
	section := "profile " + profile
	if profile == "default" {
		section = "default"
	}
	read(path("AWS_CONFIG_FILE", "config"), section)
	read(path("AWS_SHARED_CREDENTIALS_FILE", "credentials"), profile)
	return out
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
