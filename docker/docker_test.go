// Package docker holds the deployment files: the image, the compose files for Dokploy
// and for a development machine, and the environment example. No Docker engine runs
// where these tests run, so they check what can be checked without one: the compose
// files as Docker Compose itself loads them (compose-go), the Dockerfile, the
// environment example and the CI workflow.
package docker

import (
	"context"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/supermock/engine/internal/config"
)

const (
	binary      = "/usr/local/bin/supermock"
	apiHost     = "api.supermock.ru"
	traefikNet  = "dokploy-network"
	pgDataMount = "/var/lib/postgresql/data"
)

// The health check timings of the current deployment, for every service.
var wantHealth = struct {
	interval, timeout, startPeriod time.Duration
	retries                        uint64
}{30 * time.Second, 10 * time.Second, 40 * time.Second, 3}

// secrets are what an operator fills into the example before the first deploy.
var secrets = map[string]string{
	"POSTGRES_PASSWORD": "0123456789abcdef0123456789abcdef",
	"JWT_SECRET":        strings.Repeat("s", 32),
	"DATA_KEY":          strings.Repeat("ab", 32),
	"TELEGRAM_TOKEN":    "test-token",
}

func TestDokployComposeServesTheAPIBehindTraefik(t *testing.T) {
	t.Parallel()
	vars := exampleEnv(t)
	maps.Copy(vars, secrets)
	vars["APP_ENV"] = "development" // the compose file must not let .env weaken production
	p := loadCompose(t, "docker-compose.yml", vars)

	if got := slices.Sorted(maps.Keys(p.Services)); !slices.Equal(got, []string{"backend", "postgres"}) {
		t.Fatalf("services %v, want backend and postgres", got)
	}
	backend, postgres := p.Services["backend"], p.Services["postgres"]

	checkBuild(t, p, backend)
	checkHealth(t, "backend", backend, []string{"CMD", binary, "healthcheck"})
	checkHealth(t, "postgres", postgres, nil)
	if d, ok := backend.DependsOn["postgres"]; !ok || d.Condition != types.ServiceConditionHealthy {
		t.Errorf("backend depends on postgres %+v, want condition service_healthy", backend.DependsOn)
	}
	for _, s := range []types.ServiceConfig{backend, postgres} {
		if len(s.Ports) > 0 {
			t.Errorf("%s publishes %v: on Dokploy only Traefik is reached from outside", s.Name, s.Ports)
		}
		if s.ContainerName != "" {
			t.Errorf("%s has container_name %q: it forbids replicas", s.Name, s.ContainerName)
		}
		if s.Restart != types.RestartPolicyUnlessStopped {
			t.Errorf("%s restart %q, want unless-stopped", s.Name, s.Restart)
		}
	}

	// The container's environment: .env through env_file, then the pinned values.
	if len(backend.EnvFiles) != 1 || backend.EnvFiles[0].Path != filepath.Join(p.WorkingDir, ".env") || !bool(backend.EnvFiles[0].Required) {
		t.Errorf("backend env_file %+v, want the required .env beside the compose file", backend.EnvFiles)
	}
	env := environment(backend)
	if env["TELEGRAM_TOKEN"] != secrets["TELEGRAM_TOKEN"] || env["ADMIN_TELEGRAM_IDS"] != vars["ADMIN_TELEGRAM_IDS"] {
		t.Errorf("backend does not get .env: TELEGRAM_TOKEN %q", env["TELEGRAM_TOKEN"])
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the engine refuses the container's environment: %v", err)
	}
	if !cfg.IsProduction() {
		t.Errorf("APP_ENV %q in the Dokploy container, want production", cfg.AppEnv)
	}
	checkDatabaseURL(t, cfg.DatabaseURL, postgres)

	// Traefik: https://api.supermock.ru to the API's port, over dokploy-network.
	labels := backend.Labels
	if labels["traefik.enable"] != "true" || labels["traefik.docker.network"] != traefikNet {
		t.Errorf("backend is not exposed to Traefik on %s: %v", traefikNet, labels)
	}
	// Only the API's paths, never /metrics or whatever else a path might reach.
	apiRule := "Host(`" + apiHost + "`) && (PathPrefix(`/api/`) || PathPrefix(`/legacy/api/`))"
	secure := routerOn(labels, "websecure")
	if secure == "" || labels["traefik.http.routers."+secure+".rule"] != apiRule ||
		labels["traefik.http.routers."+secure+".tls.certresolver"] != "letsencrypt" {
		t.Errorf("no HTTPS router for %s with a Let's Encrypt certificate: %v", apiHost, labels)
	}
	plain := routerOn(labels, "web")
	if plain == "" || labels["traefik.http.routers."+plain+".rule"] != apiRule ||
		labels["traefik.http.routers."+plain+".middlewares"] != "redirect-to-https@file" {
		t.Errorf("plain HTTP to %s is not redirected to HTTPS: %v", apiHost, labels)
	}
	if svc := labels["traefik.http.routers."+secure+".service"]; labels["traefik.http.services."+svc+".loadbalancer.server.port"] != "3001" || env["PORT"] != "3001" || cfg.Port != 3001 {
		t.Errorf("Traefik sends to port %q of service %q, the API listens on PORT %q",
			labels["traefik.http.services."+svc+".loadbalancer.server.port"], svc, env["PORT"])
	}
	for key, value := range labels {
		if strings.HasSuffix(key, ".loadbalancer.server.port") && value == strconv.Itoa(cfg.MetricsPort) {
			t.Errorf("Traefik reaches the metrics port: %s=%s", key, value)
		}
	}
	if cfg.Host != "" {
		t.Errorf("production listens on %q, want every interface", cfg.Host)
	}

	// Networks: the API on both, the database only on the project's own.
	if !slices.Equal(slices.Sorted(maps.Keys(backend.Networks)), []string{"default", traefikNet}) {
		t.Errorf("backend networks %v, want default and %s", slices.Collect(maps.Keys(backend.Networks)), traefikNet)
	}
	if _, on := postgres.Networks[traefikNet]; on || len(postgres.Networks) != 1 {
		t.Errorf("postgres networks %v, want only default", slices.Collect(maps.Keys(postgres.Networks)))
	}
	if n, ok := p.Networks[traefikNet]; !ok || !bool(n.External) || n.Name != traefikNet {
		t.Errorf("network %s must be external (Dokploy owns it): %+v", traefikNet, n)
	}

	// PostgreSQL 16 with its data on a named volume that outlives the containers.
	if postgres.Image != "postgres:16-alpine" {
		t.Errorf("postgres image %q, want postgres:16-alpine", postgres.Image)
	}
	checkDataVolume(t, p, postgres)
	if environment(postgres)["POSTGRES_PASSWORD"] != secrets["POSTGRES_PASSWORD"] {
		t.Errorf("postgres does not get POSTGRES_PASSWORD from .env")
	}
}

func TestDokployComposeFollowsItsEnvironment(t *testing.T) {
	t.Parallel()
	t.Run("no database password", func(t *testing.T) {
		t.Parallel()
		_, err := tryCompose(t, "docker-compose.yml", exampleEnv(t))
		if err == nil || !strings.Contains(err.Error(), "POSTGRES_PASSWORD") {
			t.Fatalf("loading without POSTGRES_PASSWORD: %v, want an error naming it", err)
		}
	})
	t.Run("replicas, port and another database", func(t *testing.T) {
		t.Parallel()
		vars := exampleEnv(t)
		maps.Copy(vars, secrets)
		vars["API_REPLICAS"] = "3"
		vars["PORT"] = "8080"
		vars["DATABASE_URL"] = "postgres://engine:pw@db.internal:5432/supermock"
		backend := loadCompose(t, "docker-compose.yml", vars).Services["backend"]
		if backend.Deploy == nil || backend.Deploy.Replicas == nil || *backend.Deploy.Replicas != 3 {
			t.Errorf("API_REPLICAS=3 gives deploy %+v", backend.Deploy)
		}
		env := environment(backend)
		if env["DATABASE_URL"] != vars["DATABASE_URL"] {
			t.Errorf("DATABASE_URL %q, want the one from .env", env["DATABASE_URL"])
		}
		svc := backend.Labels["traefik.http.routers."+routerOn(backend.Labels, "websecure")+".service"]
		if env["PORT"] != "8080" || backend.Labels["traefik.http.services."+svc+".loadbalancer.server.port"] != "8080" {
			t.Errorf("PORT=8080: the API gets %q, Traefik sends to %q", env["PORT"], backend.Labels["traefik.http.services."+svc+".loadbalancer.server.port"])
		}
	})
}

func TestLocalComposePublishesPortsWithoutTraefik(t *testing.T) {
	t.Parallel()
	p := loadCompose(t, "docker-compose.local.yml", nil) // no .env needed
	backend, postgres := p.Services["backend"], p.Services["postgres"]
	checkBuild(t, p, backend)
	checkHealth(t, "backend", backend, []string{"CMD", binary, "healthcheck"})
	checkHealth(t, "postgres", postgres, nil)
	checkDataVolume(t, p, postgres)
	if d := backend.DependsOn["postgres"]; d.Condition != types.ServiceConditionHealthy {
		t.Errorf("backend depends on postgres %+v, want condition service_healthy", backend.DependsOn)
	}
	for name, want := range map[string]uint32{"backend": 3001, "postgres": 5432} {
		ports := p.Services[name].Ports
		if len(ports) != 1 || ports[0].Target != want || ports[0].Published != strconv.Itoa(int(want)) || ports[0].HostIP != "127.0.0.1" {
			t.Errorf("%s publishes %+v, want 127.0.0.1:%d", name, ports, want)
		}
	}
	for _, s := range p.Services {
		if len(s.Labels) > 0 || s.Networks[traefikNet] != nil {
			t.Errorf("%s is wired to Traefik in the local file: %v", s.Name, s.Labels)
		}
	}
	for name, n := range p.Networks {
		if bool(n.External) {
			t.Errorf("the local file needs the external network %s", name)
		}
	}
	if postgres.Image != "postgres:16-alpine" {
		t.Errorf("local postgres image %q, want the production one", postgres.Image)
	}
	env := environment(backend)
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the engine refuses the local container's environment: %v", err)
	}
	if cfg.IsProduction() {
		t.Errorf("the local backend runs in production")
	}
	if cfg.Host != "0.0.0.0" {
		t.Errorf("the local backend listens on %q: its published port would reach nothing", cfg.Host)
	}
	checkDatabaseURL(t, cfg.DatabaseURL, postgres)
}

// --- helpers ---

// loadCompose loads a compose file the way Dokploy's `docker compose -f docker/<file>`
// does: from a copy of docker/ whose .env holds vars (none when vars is nil).
func loadCompose(t *testing.T, file string, vars map[string]string) *types.Project {
	t.Helper()
	p, err := tryCompose(t, file, vars)
	if err != nil {
		t.Fatalf("load %s: %v", file, err)
	}
	return p
}

func tryCompose(t *testing.T, file string, vars map[string]string) (*types.Project, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "docker")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(read(t, file)), 0o644); err != nil {
		t.Fatal(err)
	}
	var envFiles []string
	if vars != nil {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			b.WriteString(k + "=" + vars[k] + "\n")
		}
		envFile := filepath.Join(dir, ".env")
		if err := os.WriteFile(envFile, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		envFiles = append(envFiles, envFile)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, file)},
		cli.WithName("supermock"), cli.WithEnvFiles(envFiles...), cli.WithDotEnv)
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

// checkBuild: the image is built from the repository root with docker/Dockerfile.
func checkBuild(t *testing.T, p *types.Project, s types.ServiceConfig) {
	t.Helper()
	if s.Build == nil {
		t.Fatalf("%s is not built from the repository", s.Name)
	}
	if s.Build.Context != filepath.Dir(p.WorkingDir) {
		t.Errorf("%s build context %s, want the repository root (the parent of docker/)", s.Name, s.Build.Context)
	}
	if s.Build.Dockerfile != "docker/Dockerfile" {
		t.Errorf("%s dockerfile %q, want docker/Dockerfile", s.Name, s.Build.Dockerfile)
	}
	if _, err := os.Stat(filepath.Join("..", s.Build.Dockerfile)); err != nil {
		t.Errorf("%s: %v", s.Name, err)
	}
}

// checkHealth: the timings of the current deployment; the command when one is given.
func checkHealth(t *testing.T, name string, s types.ServiceConfig, test []string) {
	t.Helper()
	h := s.HealthCheck
	if h == nil || h.Disable || len(h.Test) == 0 {
		t.Errorf("%s has no health check", name)
		return
	}
	dur := func(d *types.Duration) time.Duration {
		if d == nil {
			return 0
		}
		return time.Duration(*d)
	}
	var retries uint64
	if h.Retries != nil {
		retries = *h.Retries
	}
	if dur(h.Interval) != wantHealth.interval || dur(h.Timeout) != wantHealth.timeout ||
		dur(h.StartPeriod) != wantHealth.startPeriod || retries != wantHealth.retries {
		t.Errorf("%s health check interval %v timeout %v start period %v retries %d, want 30s 10s 40s 3",
			name, dur(h.Interval), dur(h.Timeout), dur(h.StartPeriod), retries)
	}
	if test != nil && !slices.Equal([]string(h.Test), test) {
		t.Errorf("%s health check runs %q, want %q", name, h.Test, test)
	}
	if test == nil && !strings.Contains(strings.Join(h.Test, " "), "pg_isready") {
		t.Errorf("%s health check runs %q, want pg_isready", name, h.Test)
	}
}

// checkDatabaseURL: the engine reaches the postgres service with its credentials.
func checkDatabaseURL(t *testing.T, raw string, postgres types.ServiceConfig) {
	t.Helper()
	db, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("DATABASE_URL: %v", err)
	}
	pg := environment(postgres)
	pass, _ := db.User.Password()
	if db.User.Username() != pg["POSTGRES_USER"] || pass != pg["POSTGRES_PASSWORD"] || pass == "" ||
		db.Path != "/"+pg["POSTGRES_DB"] || db.Port() != "5432" {
		t.Errorf("DATABASE_URL %s does not match the postgres service (user %q, database %q)", db.Redacted(), pg["POSTGRES_USER"], pg["POSTGRES_DB"])
	}
	if n := postgres.Networks["default"]; n == nil || !slices.Contains(n.Aliases, db.Hostname()) {
		t.Errorf("DATABASE_URL host %q is not an alias of postgres on the project network", db.Hostname())
	}
}

func checkDataVolume(t *testing.T, p *types.Project, s types.ServiceConfig) {
	t.Helper()
	i := slices.IndexFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == pgDataMount })
	if i < 0 || s.Volumes[i].Type != types.VolumeTypeVolume {
		t.Errorf("%s keeps %s on no named volume: %+v", s.Name, pgDataMount, s.Volumes)
		return
	}
	if v, ok := p.Volumes[s.Volumes[i].Source]; !ok || bool(v.External) {
		t.Errorf("volume %q is not declared by the compose file", s.Volumes[i].Source)
	}
}

// routerOn names the Traefik router of the labels that listens on entrypoint.
func routerOn(labels types.Labels, entrypoint string) string {
	for k, v := range labels {
		if name, ok := strings.CutPrefix(k, "traefik.http.routers."); ok && v == entrypoint {
			if router, ok := strings.CutSuffix(name, ".entrypoints"); ok {
				return router
			}
		}
	}
	return ""
}

func environment(s types.ServiceConfig) map[string]string {
	env := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	return env
}

// exampleEnv is env.example as Compose parses it.
func exampleEnv(t *testing.T) map[string]string {
	t.Helper()
	vars, err := dotenv.Read("env.example")
	if err != nil {
		t.Fatalf("env.example: %v", err)
	}
	return vars
}

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section is the text under a markdown heading, up to the next heading of its level.
func section(t *testing.T, doc, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(doc, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("no %q heading", heading)
	}
	level := heading[:strings.IndexByte(heading, ' ')+1]
	if end := strings.Index(rest, "\n"+level); end >= 0 {
		rest = rest[:end]
	}
	return rest
}
