// Package config reads the engine's configuration from the environment, once, at start.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Environments the engine knows.
const (
	Development = "development"
	Production  = "production"
)

// Config is every setting of the engine; Load validates it.
type Config struct {
	DatabaseURL string
	Port        int
	// Host is the address the API and the metrics listen on: 127.0.0.1 in development
	// unless HOST says otherwise, every interface ("") in production.
	Host string
	// MetricsPort serves /metrics, apart from the public Port.
	MetricsPort int
	AppEnv      string
	JWTSecret   string
	// JWTSecretPrevious is the secret JWT_SECRET replaced: tokens it signed stay good
	// until they expire, so a rotation logs nobody out.
	JWTSecretPrevious string
	JWTTTL            time.Duration
	TelegramToken     string
	BotUsername       string
	TelegramAPIURL    string
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
}

// Load reads the configuration through getenv (os.Getenv in production, a map in tests).
func Load(getenv func(string) string) (Config, error) {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		DatabaseURL:       get("DATABASE_URL", ""),
		AppEnv:            get("APP_ENV", Development),
		JWTSecret:         get("JWT_SECRET", ""),
		JWTSecretPrevious: get("JWT_SECRET_PREVIOUS", ""),
		TelegramToken:     get("TELEGRAM_TOKEN", ""),
		BotUsername:       get("BOT_USERNAME", ""),
		TelegramAPIURL:    get("TELEGRAM_API_URL", "https://api.telegram.org"),
		FrontendURL:       get("FRONTEND_URL", "http://localhost:5173"),
		BackendURL:        get("BACKEND_URL", ""),
	}
	var errs []error
	number := func(key, def string, min int) int {
		n, err := strconv.Atoi(get(key, def))
		if err != nil || n < min {
			errs = append(errs, fmt.Errorf("%s must be a whole number ≥ %d, got %q", key, min, getenv(key)))
		}
		return n
	}
	c.Port = number("PORT", "3001", 1)
	if c.Port > 65535 {
		errs = append(errs, fmt.Errorf("PORT must be at most 65535, got %d", c.Port))
	}
	c.MetricsPort = number("METRICS_PORT", "9464", 1)
	if c.MetricsPort > 65535 || c.MetricsPort == c.Port {
		errs = append(errs, fmt.Errorf("METRICS_PORT must be a port up to 65535 other than PORT, got %d", c.MetricsPort))
	}
	c.Host = get("HOST", "127.0.0.1")
	if c.AppEnv == Production {
		c.Host = get("HOST", "")
	}
	c.RateLimitWindow = time.Duration(number("RATE_LIMIT_WINDOW_MS", "900000", 1)) * time.Millisecond
	c.RateLimitMax = number("RATE_LIMIT_MAX_REQUESTS", "100", 1)
	c.RateLimitQueryMax = number("RATE_LIMIT_QUERY_MAX_REQUESTS", "1000", 1)

	var err error
	if c.JWTTTL, err = duration(get("JWT_TTL", "168h")); err != nil {
		errs = append(errs, fmt.Errorf("JWT_TTL: %w", err))
	}
	if c.InterviewDuration, err = duration(get("INTERVIEW_DURATION", "60m")); err != nil {
		errs = append(errs, fmt.Errorf("INTERVIEW_DURATION: %w", err))
	} else if c.InterviewDuration < 15*time.Minute || c.InterviewDuration > 4*time.Hour {
		errs = append(errs, fmt.Errorf("INTERVIEW_DURATION must be between 15m and 4h, got %s", c.InterviewDuration))
	}
	if c.TelegramAuthMaxAge, err = duration(get("TELEGRAM_AUTH_MAX_AGE", "1h")); err != nil {
		errs = append(errs, fmt.Errorf("TELEGRAM_AUTH_MAX_AGE: %w", err))
	} else if c.TelegramAuthMaxAge > 24*time.Hour {
		errs = append(errs, fmt.Errorf("TELEGRAM_AUTH_MAX_AGE must be at most 24h, got %s", c.TelegramAuthMaxAge))
	}
	for _, field := range strings.FieldsFunc(getenv("ADMIN_TELEGRAM_IDS"), func(r rune) bool { return r == ',' || r == ' ' }) {
		id, err := strconv.ParseInt(field, 10, 64)
		if err != nil || id <= 0 {
			errs = append(errs, fmt.Errorf("ADMIN_TELEGRAM_IDS: %q is not a Telegram id", field))
			continue
		}
		c.AdminTelegramIDs = append(c.AdminTelegramIDs, id)
	}
	for _, field := range strings.FieldsFunc(getenv("TRUSTED_PROXIES"), func(r rune) bool { return r == ',' || r == ' ' }) {
		if _, _, err := net.ParseCIDR(field); err != nil && net.ParseIP(field) == nil {
			errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %q is neither an IP nor a CIDR range", field))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, field)
	}
	urls := map[string][]string{"TELEGRAM_API_URL": {c.TelegramAPIURL}, "FRONTEND_URL": c.FrontendURLs(), "BACKEND_URL": {c.BackendURL}}
	for key, raws := range urls {
		for _, raw := range raws {
			if u, err := url.Parse(raw); raw != "" && (err != nil || u.Scheme == "" || u.Host == "") {
				errs = append(errs, fmt.Errorf("%s must be an absolute URL, got %q", key, raw))
			}
		}
	}

	if c.JWTSecretPrevious != "" && len(c.JWTSecretPrevious) < 32 {
		errs = append(errs, errors.New("JWT_SECRET_PREVIOUS, when set, must be at least 32 bytes"))
	}
	switch c.AppEnv {
	case Production:
		if len(c.JWTSecret) < 32 {
			errs = append(errs, errors.New("JWT_SECRET of at least 32 bytes is required in production"))
		}
	case Development:
		// Without JWT_SECRET, serve keeps one per checkout: DevelopmentSecret.
	default:
		errs = append(errs, fmt.Errorf("APP_ENV must be %s or %s, got %q", Development, Production, c.AppEnv))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
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

// IsProduction reports whether the engine runs in production.
func (c Config) IsProduction() bool { return c.AppEnv == Production }

// LogValue shows the configuration with its secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("database", describeDatabase(c.DatabaseURL)),
		slog.Int("port", c.Port),
		slog.String("host", c.Host),
		slog.Int("metrics_port", c.MetricsPort),
		slog.String("app_env", c.AppEnv),
		slog.String("jwt_secret", mask(c.JWTSecret)),
		slog.String("jwt_secret_previous", mask(c.JWTSecretPrevious)),
		slog.Duration("jwt_ttl", c.JWTTTL),
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
	)
}

// duration accepts a Go duration ("90m") or a whole number of minutes ("90").
func duration(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 {
			return 0, fmt.Errorf("%q is not a positive duration", s)
		}
		return time.Duration(n) * time.Minute, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", s)
	}
	return d, nil
}

func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return "****"
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
