//go:build integration

package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
	"github.com/duckbench/duckbench/results/resultstest"
)

// TestHTMLScreenshot opens the report in headless Chromium and saves a PNG
// next to the HTML in the artifact dir, for a person to look at.
func TestHTMLScreenshot(t *testing.T) {
	if testing.Short() {
		testenv.Unavailable(t, "screenshot: not in -short mode")
	}
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		testenv.Unavailable(t, "chromium not found (apt-get install chromium)")
	}
	r := resultstest.LoadFixture(t)
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	dir := artifactDir(t)
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	png := filepath.Join(dir, "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "--window-size=1280,3000", "--screenshot="+png, "file://"+page)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, out)
	}
	fi, err := os.Stat(png)
	if err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot %s missing or tiny (%v)", png, err)
	}
	t.Logf("screenshot: %s (%d bytes)", png, fi.Size())
}
