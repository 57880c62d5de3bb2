package domain_test

import (
	"archive/zip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supermock/engine/domain"
)

// The list of zones is the one time/tzdata embeds in the binary: the toolchain's
// zoneinfo.zip. After a Go upgrade that changes it, `go generate ./domain` rewrites it.
func TestTimezonesAreTheEmbeddedDatabase(t *testing.T) {
	t.Parallel()
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	z, err := zip.OpenReader(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "time", "zoneinfo.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	zones := 0
	for _, f := range z.File {
		if f.FileInfo().IsDir() || f.Name == "Factory" {
			continue
		}
		zones++
		if _, err := domain.ParseTimezone(f.Name); err != nil {
			t.Errorf("%s of the embedded database is refused (run go generate ./domain): %v", f.Name, err)
		}
	}
	if zones < 500 {
		t.Fatalf("only %d zones in the toolchain's database", zones)
	}
	if got := domain.Timezone("localtime").Location().String(); got != "UTC" {
		t.Errorf("a host-only zone from old events shows times in %s, want UTC", got)
	}
}
