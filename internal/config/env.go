package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// variable is one environment variable and how its text becomes a field of Config.
type variable struct {
	name  string
	parse func(raw string) error
}

// variables are the environment variables the engine reads, each bound to its field of
// c. A new setting is a field, a line here, its default in SetDefaults, its rule in
// Validate, a row in the README's configuration table (a test holds the table to this
// list) and a line in docker/env.example.
func (c *Config) variables() []variable {
	return []variable{
		{"DATABASE_URL", text(&c.DatabaseURL)},
		{"PORT", port(&c.Port)},
		{"HOST", text(&c.Host)},
		{"METRICS_PORT", port(&c.MetricsPort)},
		{"PPROF", boolean(&c.Pprof)},
		{"APP_ENV", text(&c.AppEnv)},
		{"JWT_SECRET", text(&c.JWTSecret)},
		{"JWT_SECRET_PREVIOUS", text(&c.JWTSecretPrevious)},
		{"JWT_TTL", minutesOrDuration(&c.JWTTTL)},
		{"DATA_KEY", text(&c.DataKey)},
		{"DATA_KEY_PREVIOUS", text(&c.DataKeyPrevious)},
		{"TELEGRAM_TOKEN", text(&c.TelegramToken)},
		{"BOT_USERNAME", text(&c.BotUsername)},
		{"TELEGRAM_API_URL", text(&c.TelegramAPIURL)},
		{"FRONTEND_URL", text(&c.FrontendURL)},
		{"BACKEND_URL", text(&c.BackendURL)},
		{"RATE_LIMIT_WINDOW_MS", milliseconds(&c.RateLimitWindow)},
		{"RATE_LIMIT_MAX_REQUESTS", positive(&c.RateLimitMax)},
		{"RATE_LIMIT_QUERY_MAX_REQUESTS", positive(&c.RateLimitQueryMax)},
		{"ADMIN_TELEGRAM_IDS", telegramIDs(&c.AdminTelegramIDs)},
		{"INTERVIEW_DURATION", minutesOrDuration(&c.InterviewDuration)},
		{"TELEGRAM_AUTH_MAX_AGE", minutesOrDuration(&c.TelegramAuthMaxAge)},
		{"TRUSTED_PROXIES", list(&c.TrustedProxies)},
		{"LOG_LEVEL", logLevel(&c.LogLevel)},
		{"NATS_URL", text(&c.NATSURL)},
	}
}

// parse reads every variable that is set (blank counts as unset) into c.
func (c *Config) parse(getenv func(string) string) []error {
	var errs []error
	for _, v := range c.variables() {
		raw := strings.TrimSpace(getenv(v.name))
		if raw == "" {
			continue
		}
		if err := v.parse(raw); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", v.name, err))
		}
	}
	return errs
}

// ParsePort reads a TCP port number; the health check reads PORT with it too.
func ParsePort(raw string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("must be a port number (1–65535), got %q", raw)
	}
	return n, nil
}

func text(field *string) func(string) error {
	return func(raw string) error { *field = raw; return nil }
}

func port(field *int) func(string) error {
	return func(raw string) (err error) { *field, err = ParsePort(raw); return err }
}

// positive refuses zero rather than let the default stand in for it silently.
func positive(field *int) func(string) error {
	return func(raw string) error {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			return fmt.Errorf("must be a whole number ≥ 1, got %q", raw)
		}
		*field = n
		return nil
	}
}

func boolean(field *bool) func(string) error {
	return func(raw string) (err error) {
		if *field, err = strconv.ParseBool(raw); err != nil {
			return fmt.Errorf("must be true or false, got %q", raw)
		}
		return nil
	}
}

func milliseconds(field *time.Duration) func(string) error {
	return func(raw string) error {
		var n int
		if err := positive(&n)(raw); err != nil {
			return err
		}
		*field = time.Duration(n) * time.Millisecond
		return nil
	}
}

// minutesOrDuration accepts a Go duration ("90m") or a whole number of minutes ("90").
func minutesOrDuration(field *time.Duration) func(string) error {
	return func(raw string) error {
		d, err := time.ParseDuration(raw)
		if n, nerr := strconv.Atoi(raw); nerr == nil {
			d, err = time.Duration(n)*time.Minute, nil
		}
		if err != nil || d <= 0 {
			return fmt.Errorf("must be a positive duration (90m, or 90 for minutes), got %q", raw)
		}
		*field = d
		return nil
	}
}

// logLevel takes the four names only, in any case: slog's "info+2" and the like are
// not settings anyone should need.
func logLevel(field *slog.Level) func(string) error {
	return func(raw string) error {
		for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
			if strings.EqualFold(raw, l.String()) {
				*field = l
				return nil
			}
		}
		return fmt.Errorf("must be debug, info, warn or error, got %q", raw)
	}
}

// fields splits a list on commas and spaces.
func fields(raw string) []string {
	return strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' })
}

func list(field *[]string) func(string) error {
	return func(raw string) error { *field = fields(raw); return nil }
}

func telegramIDs(field *[]int64) func(string) error {
	return func(raw string) error {
		*field = nil
		for _, f := range fields(raw) {
			id, err := strconv.ParseInt(f, 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("%q is not a Telegram id", f)
			}
			*field = append(*field, id)
		}
		return nil
	}
}
