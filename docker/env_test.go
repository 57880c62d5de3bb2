package docker

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestEnvExampleNamesEveryVariableAndNoSecret(t *testing.T) {
	t.Parallel()
	raw := read(t, "env.example")
	vars := exampleEnv(t)

	// Every setting the engine reads, the README's configuration table and whatever the compose file reads.
	want := []string{"DATABASE_URL", "PORT", "APP_ENV", "JWT_SECRET", "TELEGRAM_TOKEN", "BOT_USERNAME",
		"TELEGRAM_API_URL", "FRONTEND_URL", "BACKEND_URL", "RATE_LIMIT_WINDOW_MS",
		"RATE_LIMIT_MAX_REQUESTS", "ADMIN_TELEGRAM_IDS", "INTERVIEW_DURATION"}
	readmeVars := regexp.MustCompile("(?m)^\\| `([A-Z][A-Z0-9_]*)` \\|").FindAllStringSubmatch(section(t, read(t, "../README.md"), "## Configuration"), -1)
	if len(readmeVars) == 0 {
		t.Fatal("the README's Configuration section lists no variable")
	}
	for _, m := range readmeVars {
		want = append(want, m[1])
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]*)`).FindAllStringSubmatch(read(t, "docker-compose.yml"), -1) {
		want = append(want, m[1])
	}
	lines := strings.Split(raw, "\n")
	for _, name := range want {
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, name+"=") })
		if i < 0 {
			t.Errorf("env.example does not set %s", name)
		} else if i == 0 || !strings.HasPrefix(lines[i-1], "# ") {
			t.Errorf("env.example: %s has no line saying what it does", name)
		}
	}
	for _, name := range []string{"JWT_SECRET", "DATA_KEY", "TELEGRAM_TOKEN", "POSTGRES_PASSWORD", "DATABASE_URL"} {
		if vars[name] != "" {
			t.Errorf("env.example fills %s: secrets are the operator's", name)
		}
	}

	// No secret in any deployment file: no Telegram bot token, no long key.
	secretLike := regexp.MustCompile(`\b\d{6,12}:[A-Za-z0-9_-]{30,}\b|\b[0-9a-fA-F]{32,}\b`)
	for _, file := range []string{"env.example", "Dockerfile", "docker-compose.yml", "docker-compose.local.yml", "../.github/workflows/ci.yml"} {
		if s := secretLike.FindString(read(t, file)); s != "" {
			t.Errorf("%s holds something like a secret: %q", file, s)
		}
	}
}
