package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"pf-registry/internal/fault"
	"pf-registry/internal/termtext"
	"pf-registry/signing"
	"pf-registry/ui"
)

// EnvPassword is cosign's passphrase variable; an empty value is a valid
// (empty) passphrase, as in cosign.
const EnvPassword = "COSIGN_PASSWORD"

// configDir is where the config file and the key store live: --config's
// directory, else $XDG_CONFIG_HOME/pf-registry.
func (e *env) configDir() string { return filepath.Dir(e.configPath()) }

func (e *env) configPath() string {
	if e.g.config != "" {
		return e.g.config
	}
	return ui.DefaultConfigPath()
}

func (e *env) keyStore() *signing.Store { return signing.NewStore(e.configDir()) }

// passphrase reads COSIGN_PASSWORD, else asks on the terminal without echo
// (twice for a new key); without either it refuses with the way out.
func (e *env) passphrase(what string) signing.Passphrase {
	return func(confirm bool) ([]byte, error) {
		if p, ok := os.LookupEnv(EnvPassword); ok {
			return []byte(p), nil
		}
		in := os.Stdin
		if !isTerminal(in) {
			return nil, fault.Classed(fault.ErrUsage, fault.WithHint(
				fmt.Errorf("the passphrase of %s is needed and there is no terminal to ask it on", what),
				"set "+EnvPassword+" (an empty value is an empty passphrase)"))
		}
		fmt.Fprintf(e.stderr, "Passphrase for %s: ", what)
		p, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil || !confirm {
			return p, err
		}
		fmt.Fprintf(e.stderr, "Passphrase again: ")
		again, err := term.ReadPassword(int(in.Fd()))
		fmt.Fprintln(e.stderr)
		if err == nil && string(again) != string(p) {
			err = fault.Classed(fault.ErrUsage, errors.New("the passphrases differ"))
		}
		return p, err
	}
}

// signingKeys loads the private keys named by --sign-key / --key.
func (e *env) signingKeys(names []string) ([]*signing.PrivateKey, error) {
	out := make([]*signing.PrivateKey, 0, len(names))
	for _, n := range names {
		k, err := e.keyStore().Private(n, e.passphrase("key "+n))
		if err != nil {
			return nil, keyErr(err)
		}
		out = append(out, k)
	}
	return out, nil
}

// keyErr classes key store errors: a name or file the user gave that does
// not fit is a usage error, with the way out in the message.
func keyErr(err error) error {
	for _, c := range []error{signing.ErrUnknownKey, signing.ErrDuplicateKey, signing.ErrBadKeyFile, signing.ErrUnsupportedKey} {
		if errors.Is(err, c) {
			return fault.Classed(fault.ErrUsage, err)
		}
	}
	return err
}

// keysOpts are the options of `keys` and its subcommands.
type keysOpts struct {
	*env
	algorithm string
	name      string
	asJSON    bool
}

func (e *env) keysCmd() *cobra.Command {
	o := &keysOpts{env: e}
	c := &cobra.Command{
		Use:   "keys",
		Short: "Manage signing keys and the keys you trust (cosign formats)",
		Long: `Manage the key store under the config directory ($XDG_CONFIG_HOME/pf-registry,
or the directory of --config): your own signing keys (keys/NAME.key, cosign's
encrypted PEM, 0600, and keys/NAME.pub), public keys of others, and the keys
you trust (trusted/NAME.pub). An image signed by a trusted key is "trusted";
by a known key you do not trust, "untrusted-key". Passphrases come from
COSIGN_PASSWORD or a prompt; a private key is never printed.`,
		Example: `  pf-registry keys generate release
  pf-registry keys import cosign.key
  pf-registry keys trust colleague.pub --name colleague
  pf-registry keys list`,
		Args: cobra.NoArgs,
	}
	gen := &cobra.Command{
		Use:   "generate NAME",
		Short: "Make a new key pair (ECDSA P-256 by default, as cosign generate-key-pair)",
		Example: `  pf-registry keys generate release
  COSIGN_PASSWORD=… pf-registry keys generate ci --algorithm ed25519`,
		Args: cobra.ExactArgs(1),
		RunE: o.runGenerate,
	}
	gen.Flags().StringVar(&o.algorithm, "algorithm", string(signing.DefaultKeyAlgorithm), "ecdsa-p256 or ed25519")
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a cosign.key (kept encrypted) or a public key (known, not trusted)",
		Example: `  pf-registry keys import cosign.key --name release
  pf-registry keys import colleague.pub`,
		Args: cobra.ExactArgs(1),
		RunE: o.runImport,
	}
	imp.Flags().StringVar(&o.name, "name", "", "name in the store (default: the file name without extension)")
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the keys: name, algorithm, fingerprint, trusted",
		Example: "  pf-registry keys list --json",
		Args:    cobra.NoArgs,
		RunE:    o.runList,
	}
	list.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON document")
	trust := &cobra.Command{
		Use:   "trust FILE.pub",
		Short: "Trust a public key: images it signs verify as trusted",
		Example: `  pf-registry keys trust colleague.pub --name colleague
  pf-registry keys trust "$XDG_CONFIG_HOME/pf-registry/keys/release.pub"`,
		Args: cobra.ExactArgs(1),
		RunE: o.runTrust,
	}
	trust.Flags().StringVar(&o.name, "name", "", "name in the store (default: the name the store knows it by, else the file name)")
	untrust := &cobra.Command{
		Use:     "untrust NAME",
		Short:   "Stop trusting a key (the key itself stays known)",
		Example: "  pf-registry keys untrust colleague",
		Args:    cobra.ExactArgs(1),
		RunE:    o.runUntrust,
	}
	c.AddCommand(gen, imp, list, trust, untrust)
	return c
}

func (o *keysOpts) runGenerate(_ *cobra.Command, args []string) error {
	alg, err := signing.ParseKeyAlgorithm(o.algorithm)
	if err != nil {
		return fault.Classed(fault.ErrUsage, err)
	}
	st := o.keyStore()
	en, err := st.Generate(args[0], alg, o.passphrase("the new key "+args[0]))
	if err != nil {
		return keyErr(err)
	}
	fmt.Fprintf(o.stdout, "✓ generated %s key %s (%s)\n", en.Algorithm, en.Name, en.Fingerprint)
	fmt.Fprintf(o.stderr, "public key: %s — give it to whoever verifies your images; trust it yourself with `pf-registry keys trust` on that file\n",
		filepath.Join(o.configDir(), "keys", en.Name+".pub"))
	return nil
}

func (o *keysOpts) runImport(_ *cobra.Command, args []string) error {
	en, err := o.keyStore().ImportFile(args[0], o.name, o.passphrase(args[0]))
	if err != nil {
		return keyErr(err)
	}
	what := "public key"
	if en.Private {
		what = "signing key"
	}
	fmt.Fprintf(o.stdout, "✓ imported %s %s (%s %s), trusted: %v\n", what, en.Name, en.Algorithm, en.Fingerprint, en.Trusted)
	return nil
}

func (o *keysOpts) runList(*cobra.Command, []string) error {
	entries, err := o.keyStore().List()
	if err != nil {
		return err
	}
	if o.asJSON {
		if entries == nil {
			entries = []signing.Entry{}
		}
		return o.printJSON(entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(o.stderr, "no keys in %s: make one with `pf-registry keys generate NAME`\n", o.configDir())
		return nil
	}
	tw := o.table()
	fmt.Fprintln(tw, "NAME\tALGORITHM\tFINGERPRINT\tTRUSTED\tPRIVATE\tPROBLEM")
	for _, en := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", en.Name, orDash(string(en.Algorithm)), orDash(en.Fingerprint),
			yesNo(en.Trusted), yesNo(en.Private), termtext.Line(orDash(en.Problem)))
	}
	return tw.Flush()
}

func (o *keysOpts) runTrust(_ *cobra.Command, args []string) error {
	en, err := o.keyStore().TrustFile(args[0], o.name)
	if err != nil {
		return keyErr(err)
	}
	fmt.Fprintf(o.stdout, "✓ trusted %s (%s %s)\n", en.Name, en.Algorithm, en.Fingerprint)
	return nil
}

func (o *keysOpts) runUntrust(_ *cobra.Command, args []string) error {
	if err := o.keyStore().Untrust(args[0]); err != nil {
		return keyErr(err)
	}
	fmt.Fprintf(o.stdout, "✓ no longer trusted: %s\n", args[0])
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
