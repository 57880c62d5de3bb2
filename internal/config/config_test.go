package config

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supermock/engine/domain"
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
	read := func(v string) (Config, error) { return load(t, map[string]string{"TELEGRAM_AUTH_MAX_AGE": v}) }
	if c, err := read(""); err != nil || c.TelegramAuthMaxAge.String() != "1h0m0s" {
		t.Errorf("default: %v %v", c.TelegramAuthMaxAge, err)
	}
	if c, err := read("90m"); err != nil || c.TelegramAuthMaxAge.String() != "1h30m0s" {
		t.Errorf("90m: %v %v", c.TelegramAuthMaxAge, err)
	}
	for _, bad := range []string{"25h", "-1h", "soon"} {
		if _, err := read(bad); err == nil {
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

func load(t *testing.T, vars map[string]string) (Config, error) {
	t.Helper()
	return Load(func(k string) string { return vars[k] })
}

// A Config built in code (the API's tests, the tools) ends up with the same settings
// as one read from an empty environment.
func TestDefaultsAreTheSameWhereverAConfigComesFrom(t *testing.T) {
	t.Parallel()
	loaded, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	var built Config
	built.SetDefaults()
	if err := built.Validate(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(loaded) != fmt.Sprint(built) {
		t.Errorf("loaded %+v\nbuilt  %+v", loaded, built)
	}
	var prod Config
	prod.AppEnv = Production
	prod.SetDefaults()
	if prod.JWTSecret != "" || prod.Validate() == nil {
		t.Errorf("production got a secret it was not given (%q) or started without one", prod.JWTSecret)
	}
}

// DATA_KEY is required in production and, when set, must be 32 bytes in hex or base64;
// DataKeys hands the current master key first.
func TestDataKeys(t *testing.T) {
	t.Parallel()
	const hexKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	b64Key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	if _, err := load(t, map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("s", 32)}); err == nil ||
		!strings.Contains(err.Error(), "DATA_KEY") {
		t.Errorf("production without DATA_KEY: %v", err)
	}
	for _, bad := range []string{"short", hexKey[:62], base64.StdEncoding.EncodeToString(make([]byte, 31))} {
		if _, err := load(t, map[string]string{"DATA_KEY": bad}); err == nil {
			t.Errorf("DATA_KEY %q accepted", bad)
		}
		if _, err := load(t, map[string]string{"DATA_KEY": hexKey, "DATA_KEY_PREVIOUS": bad}); err == nil {
			t.Errorf("DATA_KEY_PREVIOUS %q accepted", bad)
		}
	}
	cfg, err := load(t, map[string]string{"DATA_KEY": b64Key, "DATA_KEY_PREVIOUS": hexKey})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := cfg.DataKeys()
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], bytes.Repeat([]byte{7}, 32)) || keys[1][1] != 0x11 {
		t.Fatalf("keys %x, %v", keys, err)
	}
	if strings.Contains(fmt.Sprint(cfg.LogValue()), hexKey) {
		t.Error("the log shows DATA_KEY_PREVIOUS")
	}
}

// Every interview length the configuration accepts is one the domain service runs
// with, and the other way round: the bounds have one home.
func TestInterviewDurationsTheConfigurationAcceptsTheServiceRunsWith(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"14m", "15", "15m", "90m30s", "1h30m", "240", "4h", "4h1m", "241", "24h"} {
		cfg, loadErr := load(t, map[string]string{"INTERVIEW_DURATION": raw})
		d, _ := time.ParseDuration(raw)
		if n, err := strconv.Atoi(raw); err == nil {
			d = time.Duration(n) * time.Minute
		}
		_, serviceErr := domain.NewService(noStore{}, domain.Config{Clock: domain.ClockFunc(time.Now), InterviewDuration: d})
		if (loadErr == nil) != (serviceErr == nil) {
			t.Errorf("INTERVIEW_DURATION=%s: configuration says %v, service says %v", raw, loadErr, serviceErr)
		}
		if loadErr == nil && cfg.InterviewDuration != d {
			t.Errorf("INTERVIEW_DURATION=%s read as %s", raw, cfg.InterviewDuration)
		}
	}
}

type noStore struct{ domain.Store }

// Each mistake is named by its variable, all of them at once.
func TestEveryMistakeIsNamedByItsVariable(t *testing.T) {
	t.Parallel()
	bad := map[string]string{
		"PORT": "70000", "APP_ENV": "staging", "JWT_TTL": "0", "TELEGRAM_API_URL": "api.telegram.org",
		"FRONTEND_URL": "/app", "BACKEND_URL": "localhost", "RATE_LIMIT_WINDOW_MS": "-5",
		"RATE_LIMIT_MAX_REQUESTS": "0", "ADMIN_TELEGRAM_IDS": "12,abc", "INTERVIEW_DURATION": "5m",
		"TRUSTED_PROXIES": "10.0.0.0/33", "LOG_LEVEL": "verbose",
	}
	_, err := load(t, bad)
	if err == nil {
		t.Fatal("a configuration with a mistake in every variable was accepted")
	}
	for name := range bad {
		if !strings.Contains(err.Error(), name+":") && !strings.Contains(err.Error(), name+" must") {
			t.Errorf("the error does not name %s:\n%v", name, err)
		}
	}
	if _, err := load(t, map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("k", MinSecretLength-1)}); err == nil {
		t.Errorf("production accepted a JWT_SECRET of %d bytes", MinSecretLength-1)
	}
}

func TestLogLevelTakesTheFourNames(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]slog.Level{"": slog.LevelInfo, "debug": slog.LevelDebug, "INFO": slog.LevelInfo, "Warn": slog.LevelWarn, "error": slog.LevelError} {
		if c, err := load(t, map[string]string{"LOG_LEVEL": raw}); err != nil || c.LogLevel != want {
			t.Errorf("LOG_LEVEL=%q: %v %v, want %v", raw, c.LogLevel, err, want)
		}
	}
	for _, raw := range []string{"trace", "info+2", "-4"} {
		if _, err := load(t, map[string]string{"LOG_LEVEL": raw}); err == nil {
			t.Errorf("LOG_LEVEL=%q accepted", raw)
		}
	}
}

// The README's configuration table names every variable the engine reads, and only
// those: a variable added in code and not documented fails here.
func TestTheReadmeTableNamesEveryVariable(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	start := strings.Index(readme, "\n## Configuration")
	if start < 0 {
		t.Fatal("the README has no Configuration section")
	}
	section := readme[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z][A-Z0-9_]*)` \\|").FindAllStringSubmatch(section, -1) {
		documented = append(documented, m[1])
	}
	var read []string
	for _, v := range new(Config).variables() {
		read = append(read, v.name)
	}
	slices.Sort(documented)
	slices.Sort(read)
	if !slices.Equal(documented, read) {
		t.Errorf("the README documents %v\nthe engine reads      %v", documented, read)
	}
}
