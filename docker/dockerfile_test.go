package docker

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestDockerfileBuildsAStaticNonRootImage(t *testing.T) {
	t.Parallel()
	instructions := dockerfile(t, read(t, "Dockerfile"))
	var froms, healthchecks, entrypoints, cmds, users, builds []string
	for _, in := range instructions {
		switch in.cmd {
		case "FROM":
			froms = append(froms, in.args)
		case "HEALTHCHECK":
			healthchecks = append(healthchecks, in.args)
		case "ENTRYPOINT":
			entrypoints = append(entrypoints, in.args)
		case "CMD":
			cmds = append(cmds, in.args)
		case "USER":
			users = append(users, in.args)
		case "RUN", "ENV":
			builds = append(builds, in.args)
		}
	}
	if len(froms) != 2 {
		t.Fatalf("FROM %q: want a build stage and a runtime stage", froms)
	}

	// The builder's Go is go.mod's.
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(read(t, "../go.mod"))
	if goLine == nil {
		t.Fatal("go.mod has no go line")
	}
	if !strings.HasPrefix(froms[0], "golang:"+goLine[1]+"-") && !strings.HasPrefix(froms[0], "golang:"+goLine[1]+" ") {
		t.Errorf("builder %q, want golang:%s like go.mod", froms[0], goLine[1])
	}
	all := strings.Join(builds, "\n")
	for _, want := range []string{"CGO_ENABLED=0", "go build", "-trimpath", `-ldflags="-s -w"`, "GOTOOLCHAIN=local"} {
		if !strings.Contains(all, want) {
			t.Errorf("the build stage does not say %s", want)
		}
	}

	// A small runtime image whose last user is not root.
	if !strings.HasPrefix(froms[1], "gcr.io/distroless/static") || !strings.HasSuffix(froms[1], ":nonroot") {
		t.Errorf("runtime image %q, want distroless/static:nonroot", froms[1])
	}
	if len(users) == 0 || slices.Contains([]string{"root", "0", "root:root", "0:0"}, users[len(users)-1]) {
		t.Errorf("the image runs as %q", users)
	}

	// The binary serves by default and answers its own health check, timed as in compose.
	if len(entrypoints) != 1 || entrypoints[0] != `["`+binary+`"]` || len(cmds) != 1 || cmds[0] != `["serve"]` {
		t.Errorf("ENTRYPOINT %q CMD %q, want [%q] [serve]", entrypoints, cmds, binary)
	}
	want := `--interval=30s --timeout=10s --start-period=40s --retries=3 CMD ["` + binary + `", "healthcheck"]`
	if len(healthchecks) != 1 || strings.Join(strings.Fields(healthchecks[0]), " ") != want {
		t.Errorf("HEALTHCHECK %q, want %q", healthchecks, want)
	}
	if !slices.ContainsFunc(instructions, func(in instruction) bool { return in.cmd == "EXPOSE" && in.args == "3001" }) {
		t.Error("the image does not EXPOSE 3001")
	}
	ignore := read(t, "Dockerfile.dockerignore")
	for _, want := range []string{".git", ".data", "**/.env"} {
		if !slices.Contains(strings.Split(ignore, "\n"), want) {
			t.Errorf("Dockerfile.dockerignore does not keep %s out of the build context", want)
		}
	}
}

type instruction struct{ cmd, args string }

// dockerfile splits a Dockerfile into instructions, joining continued lines.
func dockerfile(t *testing.T, src string) []instruction {
	t.Helper()
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}
