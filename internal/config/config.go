// Package config reads the engine's configuration from the environment, once, at start.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/supermock/engine/domain"
	"github.com/supermock/engine/eventstore"
)

// Environments the engine knows.
const (
	Development = "development"
	Production  = "production"
)

const (
	// DefaultPort is the API's port when PORT is unset; the health check asks it too.
	DefaultPort = 3001
	// MinSecretLength is what production requires of JWT_SECRET (and JWT_SECRET_PREVIOUS),
	// and the length of the random key a development checkout makes for itself.
	MinSecretLength = 32
)

// Config is every setting of the engine. Load reads it from the environment; a Config
// built in code (tests, tools) gets the same defaults and rules through SetDefaults and
// Validate, which the API's constructor calls.
type Config struct {
	DatabaseURL string
	Port        int
	// Host is the address the API and the metrics listen on: 127.0.0.1 in development
	// unless HOST says otherwise, every interface ("") in production.
	Host string
	// MetricsPort serves /metrics, apart from the public Port.
	MetricsPort int
	// Pprof also serves Go's profiles under /debug/pprof/ on MetricsPort.
	Pprof     bool
	AppEnv    string
	JWTSecret string
	// JWTSecretPrevious is the secret JWT_SECRET replaced: tokens it signed stay good
	// until they expire, so a rotation logs nobody out.
	JWTSecretPrevious string
	JWTTTL            time.Duration
	// DataKey is the master key that wraps every user's data key (DataKeys decodes it);
	// DataKeyPrevious is the one it replaced, still read until rotate-data-key re-wraps.
	DataKey         string
	DataKeyPrevious string
	TelegramToken   string
	BotUsername     string
	TelegramAPIURL  string
	// FrontendURL is FRONTEND_URL as configured: read it through FrontendURLs.
	FrontendURL     string
	BackendURL      string
	RateLimitWindow time.Duration
	RateLimitMax    int
	// RateLimitQueryMax is the query routes' budget per window, apart from commands'.
	RateLimitQueryMax int
	AdminTelegramIDs  []int64
	InterviewDuration time.Duration
	// TelegramAuthMaxAge bounds the age of a Login Widget payload (auth_date).
	TelegramAuthMaxAge time.Duration
	// TrustedProxies are the addresses (IPs or CIDR ranges) whose X-Forwarded-For is
	// believed: behind them the client's address is taken from that header.
	TrustedProxies []string
	// LogLevel is the least level logged: debug shows health checks and scrapes too.
	LogLevel slog.Level
	// NATSURL is the NATS server (or comma-separated servers) the log is forwarded to,
	// into JetStream; empty forwards nothing.
	NATSURL string
}

// Load reads the configuration through getenv (os.Getenv in production, a map in
// tests): every variable that is set is parsed into its field, then the defaults fill
// the rest and Validate checks the whole.
func Load(getenv func(string) string) (Config, error) {
	var c Config
	errs := c.parse(getenv)
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// SetDefaults fills every setting left at its zero value. It is the one home of the
// defaults; the README's configuration table names the same.
func (c *Config) SetDefaults() {
	setDefault(&c.Port, DefaultPort)
	setDefault(&c.MetricsPort, 9464)
	setDefault(&c.AppEnv, Development)
	if c.AppEnv == Development {
		// Production listens on every interface (""): its container needs that.
		setDefault(&c.Host, "127.0.0.1")
	}
	setDefault(&c.JWTTTL, 7*24*time.Hour)
	setDefault(&c.TelegramAPIURL, "https://api.telegram.org")
	setDefault(&c.FrontendURL, "http://localhost:5173")
	setDefault(&c.RateLimitWindow, 15*time.Minute)
	setDefault(&c.RateLimitMax, 100)
	setDefault(&c.RateLimitQueryMax, 1000)
	setDefault(&c.InterviewDuration, domain.DefaultInterviewDuration)
	// A Login Widget payload that leaks (a log, a proxy) is replayable only this long.
	setDefault(&c.TelegramAuthMaxAge, time.Hour)
}

// Validate checks the rules every setting must meet, all at once, so one start names
// every mistake.
func (c Config) Validate() error {
	var errs []error
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("PORT must be a port number (1–65535), got %d", c.Port))
	}
	if c.MetricsPort < 1 || c.MetricsPort > 65535 || c.MetricsPort == c.Port {
		errs = append(errs, fmt.Errorf("METRICS_PORT must be a port up to 65535 other than PORT, got %d", c.MetricsPort))
	}
	switch c.AppEnv {
	case Production:
		if len(c.JWTSecret) < MinSecretLength {
			errs = append(errs, fmt.Errorf("JWT_SECRET of at least %d bytes is required in production", MinSecretLength))
		}
		if c.DataKey == "" {
			errs = append(errs, errors.New("DATA_KEY is required in production"))
		}
	case Development:
		// Without JWT_SECRET or DATA_KEY, the binary keeps one per checkout: DevelopmentSecret.
	default:
		errs = append(errs, fmt.Errorf("APP_ENV must be %s or %s, got %q", Development, Production, c.AppEnv))
	}
	for key, d := range map[string]time.Duration{"JWT_TTL": c.JWTTTL, "RATE_LIMIT_WINDOW_MS": c.RateLimitWindow} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", key, d))
		}
	}
	for key, n := range map[string]int{"RATE_LIMIT_MAX_REQUESTS": c.RateLimitMax, "RATE_LIMIT_QUERY_MAX_REQUESTS": c.RateLimitQueryMax} {
		if n < 1 {
			errs = append(errs, fmt.Errorf("%s must be at least 1, got %d", key, n))
		}
	}
	if err := domain.ValidateInterviewDuration(c.InterviewDuration); err != nil {
		errs = append(errs, fmt.Errorf("INTERVIEW_DURATION: %w", err))
	}
	if c.JWTSecretPrevious != "" && len(c.JWTSecretPrevious) < MinSecretLength {
		errs = append(errs, fmt.Errorf("JWT_SECRET_PREVIOUS, when set, must be at least %d bytes", MinSecretLength))
	}
	for key, raw := range map[string]string{"DATA_KEY": c.DataKey, "DATA_KEY_PREVIOUS": c.DataKeyPrevious} {
		if _, err := decodeDataKey(raw); raw != "" && err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	if c.TelegramAuthMaxAge <= 0 || c.TelegramAuthMaxAge > 24*time.Hour {
		errs = append(errs, fmt.Errorf("TELEGRAM_AUTH_MAX_AGE must be positive and at most 24h, got %s", c.TelegramAuthMaxAge))
	}
	for _, id := range c.AdminTelegramIDs {
		if id <= 0 {
			errs = append(errs, fmt.Errorf("ADMIN_TELEGRAM_IDS: %d is not a Telegram id", id))
		}
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %q is neither an IP nor a CIDR range", p))
		}
	}
	urls := map[string][]string{"TELEGRAM_API_URL": {c.TelegramAPIURL}, "FRONTEND_URL": c.FrontendURLs(), "BACKEND_URL": {c.BackendURL},
		"NATS_URL": strings.Split(c.NATSURL, ",")}
	for key, raws := range urls {
		for _, raw := range raws {
			if u, err := url.Parse(raw); raw != "" && (err != nil || u.Scheme == "" || u.Host == "") {
				errs = append(errs, fmt.Errorf("%s must be an absolute URL, got %q", key, raw))
			}
		}
	}
	return errors.Join(errs...)
}

// FrontendURLs are FRONTEND_URL's comma-separated entries: the web app's URLs, each of
// whose origins may call the API from a browser; the first is the one messages link to.
func (c Config) FrontendURLs() []string {
	var out []string
	for _, field := range strings.FieldsFunc(c.FrontendURL, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, strings.TrimSuffix(field, "/"))
	}
	return out
}

// DataKeys decodes DATA_KEY and DATA_KEY_PREVIOUS (when set): the current master key
// first.
func (c Config) DataKeys() ([][]byte, error) {
	var keys [][]byte
	for _, raw := range []string{c.DataKey, c.DataKeyPrevious} {
		if raw == "" {
			continue
		}
		key, err := decodeDataKey(raw)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 || c.DataKey == "" {
		return nil, errors.New("DATA_KEY is not set")
	}
	return keys, nil
}

// decodeDataKey reads a master key of 32 bytes written as 64 hex digits or in base64.
func decodeDataKey(raw string) ([]byte, error) {
	key, err := hex.DecodeString(raw)
	if err != nil || len(key) != eventstore.MasterKeySize {
		key, err = base64.StdEncoding.DecodeString(raw)
	}
	if err != nil || len(key) != eventstore.MasterKeySize {
		return nil, fmt.Errorf("must be %d bytes as %d hex digits or in base64", eventstore.MasterKeySize, 2*eventstore.MasterKeySize)
	}
	return key, nil
}

// IsProduction reports whether the engine runs in production.
func (c Config) IsProduction() bool { return c.AppEnv == Production }

// LogValue shows the configuration with its secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database", describeDatabase(c.DatabaseURL)),
		slog.Int("port", c.Port),
		slog.String("host", c.Host),
		slog.Int("metrics_port", c.MetricsPort),
		slog.Bool("pprof", c.Pprof),
		slog.String("app_env", c.AppEnv),
		slog.String("jwt_secret", mask(c.JWTSecret)),
		slog.String("jwt_secret_previous", mask(c.JWTSecretPrevious)),
		slog.Duration("jwt_ttl", c.JWTTTL),
		slog.String("data_key", mask(c.DataKey)),
		slog.String("data_key_previous", mask(c.DataKeyPrevious)),
		slog.String("telegram_token", mask(c.TelegramToken)),
		slog.String("bot_username", c.BotUsername),
		slog.String("telegram_api_url", c.TelegramAPIURL),
		slog.String("frontend_url", c.FrontendURL),
		slog.String("backend_url", c.BackendURL),
		slog.Duration("rate_limit_window", c.RateLimitWindow),
		slog.Int("rate_limit_max_requests", c.RateLimitMax),
		slog.Int("rate_limit_query_max_requests", c.RateLimitQueryMax),
		slog.Any("admin_telegram_ids", c.AdminTelegramIDs),
		slog.Duration("interview_duration", c.InterviewDuration),
		slog.Duration("telegram_auth_max_age", c.TelegramAuthMaxAge),
		slog.Any("trusted_proxies", c.TrustedProxies),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("nats_url", redactURLs(c.NATSURL)),
	)
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return "****"
}

// redactURLs shows comma-separated URLs with their passwords masked.
func redactURLs(raw string) string {
	parts := strings.Split(raw, ",")
	for i, p := range parts {
		if u, err := url.Parse(p); err == nil && u.User != nil {
			u.User = url.User(u.User.Username())
			parts[i] = u.String()
		} else if err != nil {
			parts[i] = "(unparsable)"
		}
	}
	return strings.Join(parts, ",")
}

// describeDatabase names the database without a password, in whatever form the URL or
// DSN carries one (user:password@, ?password=, password=…).
func describeDatabase(raw string) string {
	if raw == "" {
		return ""
	}
	cfg, err := pgconn.ParseConfig(raw)
	if err != nil {
		return "(unparsable)"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
