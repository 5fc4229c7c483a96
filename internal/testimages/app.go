package testimages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/duckbench/duckbench/appimage"
)

// AppRepository is the repository of the test app images; the tag is the
// binary's content hash, so that concurrent test runs of different builds
// never replace each other's image.
const AppRepository = "duckbench-test/duckbench"

// StaticBinary builds duckbench with CGO_ENABLED=0 into dir and returns its
// path: the binary the app image holds.
func StaticBinary(ctx context.Context, dir string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	out := filepath.Join(dir, "duckbench")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/duckbench")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/duckbench (static): %w: %s", err, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// App builds (or reuses) the app image from a static binary with the
// repository Dockerfile's final stage and returns its tag.
func App(ctx context.Context, binary string) (string, error) {
	b, err := os.ReadFile(binary)
	if err != nil {
		return "", fmt.Errorf("build app test image: %w", err)
	}
	sum := sha256.Sum256(b)
	tag := AppRepository + ":" + hex.EncodeToString(sum[:6])
	if _, err := appimage.Build(ctx, appimage.Options{Binary: binary, Tag: tag}); err != nil {
		return "", fmt.Errorf("build app test image: %w", err)
	}
	return tag, nil
}
