package docker

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestWorkflowTestsAgainstPostgresThenDeploysMain(t *testing.T) {
	t.Parallel()
	type step struct {
		Uses string            `yaml:"uses"`
		Run  string            `yaml:"run"`
		With map[string]string `yaml:"with"`
		Env  map[string]string `yaml:"env"`
	}
	type job struct {
		Needs    string `yaml:"needs"`
		If       string `yaml:"if"`
		Services map[string]struct {
			Image   string `yaml:"image"`
			Options string `yaml:"options"`
		} `yaml:"services"`
		Env   map[string]string `yaml:"env"`
		Steps []step            `yaml:"steps"`
	}
	var wf struct {
		On   map[string]any `yaml:"on"`
		Jobs map[string]job `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(read(t, "../.github/workflows/ci.yml")), &wf); err != nil {
		t.Fatalf("ci.yml: %v", err)
	}
	if _, ok := wf.On["push"]; !ok {
		t.Errorf("the workflow does not run on push: %v", wf.On)
	}
	runs := func(j job) string {
		var b strings.Builder
		for _, s := range j.Steps {
			b.WriteString(s.Run + "\n")
		}
		return b.String()
	}

	test, ok := wf.Jobs["test"]
	if !ok {
		t.Fatal("no test job")
	}
	pg := test.Services["postgres"]
	if !strings.HasPrefix(pg.Image, "postgres:16") || !strings.Contains(pg.Options, "--health-cmd") {
		t.Errorf("test job's postgres service %+v, want postgres:16 with a health check", pg)
	}
	if u, err := url.Parse(test.Env["TEST_DATABASE_URL"]); err != nil || u.Scheme != "postgres" || u.Hostname() != "localhost" {
		t.Errorf("TEST_DATABASE_URL %q, want the service container on localhost", test.Env["TEST_DATABASE_URL"])
	}
	if !slices.ContainsFunc(test.Steps, func(s step) bool {
		return strings.HasPrefix(s.Uses, "actions/setup-go@") && s.With["go-version-file"] == "go.mod"
	}) {
		t.Error("the test job does not take Go's version from go.mod")
	}
	for _, want := range []string{"go vet ./...", "go test -race -count=1 ./..."} {
		if !strings.Contains(runs(test), want) {
			t.Errorf("the test job does not run %q", want)
		}
	}

	deploy, ok := wf.Jobs["deploy"]
	if !ok {
		t.Fatal("no deploy job")
	}
	if deploy.Needs != "test" || !strings.Contains(deploy.If, "github.ref == 'refs/heads/main'") || !strings.Contains(deploy.If, "github.event_name == 'push'") {
		t.Errorf("deploy needs %q if %q: want after test, on pushes to main only", deploy.Needs, deploy.If)
	}
	if !slices.ContainsFunc(deploy.Steps, func(s step) bool {
		return s.Env["DOKPLOY_WEBHOOK_URL"] == "${{ secrets.DOKPLOY_WEBHOOK_URL }}" && strings.Contains(s.Run, `curl -fsS -X POST "$DOKPLOY_WEBHOOK_URL"`)
	}) {
		t.Error("deploy does not POST to the webhook from secrets.DOKPLOY_WEBHOOK_URL")
	}
	for _, want := range []string{"X-GitHub-Event: push", "$GITHUB_REF", `test "$status" = 200`} {
		if !strings.Contains(runs(deploy), want) {
			t.Errorf("deploy does not send %q: Dokploy answers 301 and deploys nothing without it", want)
		}
	}
}
