package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"tenken/auth"
	"tenken/handlers"
)

// authConfig is the access-token and login configuration of `serve`.
type authConfig struct {
	issuer         string
	audience       string
	keyDir         string // "" means <data>/keys
	accessTTL      time.Duration
	refreshTTL     time.Duration
	trustedProxies string
}

// bind registers the auth flags on fs, with environment defaults.
func (a *authConfig) bind(fs *flag.FlagSet, e env) {
	fs.StringVar(&a.issuer, "jwt-issuer", envOr(e, "TENKEN_JWT_ISSUER", auth.DefaultIssuer), "iss of access tokens (env TENKEN_JWT_ISSUER)")
	fs.StringVar(&a.audience, "jwt-audience", envOr(e, "TENKEN_JWT_AUDIENCE", auth.DefaultAudience), "aud of access tokens (env TENKEN_JWT_AUDIENCE)")
	bindKeyDir(fs, e, &a.keyDir)
	fs.DurationVar(&a.accessTTL, "access-ttl", auth.DefaultAccessTTL, "access token lifetime (env TENKEN_ACCESS_TTL)")
	fs.DurationVar(&a.refreshTTL, "refresh-ttl", auth.DefaultRefreshTTL, "refresh token lifetime (env TENKEN_REFRESH_TTL)")
	fs.StringVar(&a.trustedProxies, "trusted-proxies", envOr(e, "TENKEN_TRUSTED_PROXIES", ""), "comma-separated proxy IPs/CIDRs whose X-Forwarded-For names the client (env TENKEN_TRUSTED_PROXIES)")
}

func bindKeyDir(fs *flag.FlagSet, e env, dir *string) {
	fs.StringVar(dir, "jwt-keys", envOr(e, "TENKEN_JWT_KEYS", ""), "folder of Ed25519 PEM keys for access tokens; default <data>/keys (env TENKEN_JWT_KEYS)")
}

// envDurations applies the TTL environment variables to the flags not set
// on the command line: flag.Duration cannot take an environment default
// that might not parse.
func (a *authConfig) envDurations(fs *flag.FlagSet, e env) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, d := range []struct {
		flag, env string
		v         *time.Duration
	}{{"access-ttl", "TENKEN_ACCESS_TTL", &a.accessTTL}, {"refresh-ttl", "TENKEN_REFRESH_TTL", &a.refreshTTL}} {
		s := envOr(e, d.env, "")
		if s == "" || set[d.flag] {
			continue
		}
		v, err := time.ParseDuration(s)
		if err != nil || v <= 0 {
			return fmt.Errorf("%s=%q: want a positive duration such as 10m", d.env, s)
		}
		*d.v = v
	}
	return nil
}

// handlersConfig loads (or on first run creates) the keys and returns
// the handlers' configuration.
func (a *authConfig) handlersConfig(dataDir string, log *slog.Logger) (handlers.Config, error) {
	keys, err := loadKeys(keyDir(a.keyDir, dataDir), log)
	if err != nil {
		return handlers.Config{}, err
	}
	var proxies []string
	for _, p := range strings.Split(a.trustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			proxies = append(proxies, p)
		}
	}
	return handlers.Config{
		Logger:         log,
		Issuer:         a.issuer,
		Audience:       a.audience,
		Keys:           keys,
		AccessTTL:      a.accessTTL,
		RefreshTTL:     a.refreshTTL,
		TrustedProxies: proxies,
	}, nil
}

func keyDir(dir, dataDir string) string {
	if dir != "" {
		return dir
	}
	return filepath.Join(dataDir, "keys")
}

// loadKeys reads every *.pem in dir, in file-name order: every key
// verifies, the last private key signs. Generated key files are named by
// their creation time, so the newest signs. An empty or missing folder
// gets a first key. Several instances must share the folder's keys.
func loadKeys(dir string, log *slog.Logger) (*auth.KeySet, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.pem"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		name, err := newKeyFile(dir, time.Now())
		if err != nil {
			return nil, err
		}
		log.Info("generated an access-token signing key", slog.String("file", name))
		names = []string{name}
	}
	sort.Strings(names)
	var keys []auth.SigningKey
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("signing key: %w", err)
		}
		k, err := auth.ParseKeyPEM(data)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", name, err)
		}
		if k.Private != nil {
			if fi, err := os.Stat(name); err == nil && fi.Mode().Perm()&0o077 != 0 {
				log.Warn("a private signing key is readable by others; chmod 600 it", slog.String("file", name))
			}
		}
		keys = append(keys, k)
	}
	ks, err := auth.NewKeySet(keys...)
	if err != nil {
		return nil, fmt.Errorf("signing keys in %s: %w", dir, err)
	}
	return ks, nil
}

// newKeyFile writes a new private key into dir (created 0700) as a file
// only its owner can read, named by the UTC time so that it sorts last.
func newKeyFile(dir string, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("key folder: %w", err)
	}
	k, err := auth.GenerateSigningKey()
	if err != nil {
		return "", err
	}
	data, err := k.PrivatePEM()
	if err != nil {
		return "", err
	}
	name := filepath.Join(dir, "ed25519-"+now.UTC().Format("20060102T150405.000000000Z")+".pem")
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("key file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", fmt.Errorf("key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("key file: %w", err)
	}
	return name, f.Close()
}

// runKeys is `tenken keys rotate`: a new signing key that takes over at the
// next start, while the old keys keep verifying.
func runKeys(ctx context.Context, e env, args []string) error {
	const keysUsage = "usage: tenken keys rotate [--data DIR] [--jwt-keys DIR]"
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprintln(e.stdout, keysUsage)
		return nil
	}
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New(keysUsage)
	}
	fs := newFlagSet("keys rotate", e)
	var db dbConfig
	db.bind(fs, e)
	var dir string
	bindKeyDir(fs, e, &dir)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	dir = keyDir(dir, db.dataDir)
	name, err := newKeyFile(dir, time.Now())
	if err != nil {
		return err
	}
	k, err := readKeyID(name)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "new signing key %s in %s\n", k, name)
	fmt.Fprintln(e.stdout, "Restart every instance to sign with it. Tokens signed by older keys verify while their")
	fmt.Fprintln(e.stdout, "files stay; delete an old key file once its tokens have expired (the access-token lifetime).")
	return nil
}

func readKeyID(name string) (string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return "", err
	}
	k, err := auth.ParseKeyPEM(data)
	if err != nil {
		return "", err
	}
	return k.ID, nil
}
