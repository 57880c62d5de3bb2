package config

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The start-up log shows where the database is, never its password, whatever form
// DATABASE_URL takes; and never the secrets.
func TestLoggedConfigurationHidesSecrets(t *testing.T) {
	t.Parallel()
	for _, url := range []string{
		"postgres://sm:s3cret-pw@db:5432/sm",
		"postgres://sm@db/sm?password=s3cret-pw",
		"host=db user=sm password=s3cret-pw dbname=sm",
	} {
		cfg, err := Load(func(k string) string {
			return map[string]string{"DATABASE_URL": url, "JWT_SECRET": "s3cret-jwt", "TELEGRAM_TOKEN": "s3cret-bot"}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		slog.New(slog.NewTextHandler(&out, nil)).Info("starting", "config", cfg)
		if strings.Contains(out.String(), "s3cret") || !strings.Contains(out.String(), "sm@db:5432/sm") {
			t.Errorf("%s is logged as %s", url, out.String())
		}
	}
}

func TestTelegramAuthMaxAge(t *testing.T) {
	t.Parallel()
	load := func(v string) (Config, error) {
		return Load(func(k string) string { return map[string]string{"TELEGRAM_AUTH_MAX_AGE": v}[k] })
	}
	if c, err := load(""); err != nil || c.TelegramAuthMaxAge.String() != "1h0m0s" {
		t.Errorf("default: %v %v", c.TelegramAuthMaxAge, err)
	}
	if c, err := load("90m"); err != nil || c.TelegramAuthMaxAge.String() != "1h30m0s" {
		t.Errorf("90m: %v %v", c.TelegramAuthMaxAge, err)
	}
	for _, bad := range []string{"25h", "-1h", "soon"} {
		if _, err := load(bad); err == nil {
			t.Errorf("TELEGRAM_AUTH_MAX_AGE=%s accepted", bad)
		}
	}
}

// The development secret is made once per checkout: every start, even racing ones,
// reads the same, and only its owner can read it.
func TestDevelopmentSecretIsKeptPerCheckout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, ".data", "jwt-secret")
	secrets := make([]string, 24)
	var wg sync.WaitGroup
	for i := range secrets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := DevelopmentSecret(path)
			if err != nil {
				t.Error(err)
			}
			secrets[i] = s
		}()
	}
	wg.Wait()
	for _, s := range secrets {
		if len(s) < 32 || s != secrets[0] {
			t.Fatalf("secrets %q", secrets)
		}
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", info, err)
	}
	if other, err := DevelopmentSecret(filepath.Join(t.TempDir(), "jwt-secret")); err != nil || other == secrets[0] {
		t.Fatalf("another checkout's secret %q %v", other, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
}
