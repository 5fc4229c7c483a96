package appimage

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/duckbench/duckbench/internal/lines"
)

// RegistryEnv names a registry (HOST:PORT) through which the swarm's nodes
// get the stack's images instead of Distribute's copies.
const RegistryEnv = "DUCKBENCH_SWARM_REGISTRY"

// Push tags image of the local engine as registry/image, pushes it and
// returns the reference pinned to its digest (registry/repo@sha256:…),
// which every node pulls the same content by.
func Push(ctx context.Context, registry, image string, log io.Writer) (string, error) {
	if strings.ContainsAny(registry, "/ ") || !strings.Contains(registry, ":") {
		return "", fmt.Errorf("registry %q: want HOST:PORT", registry)
	}
	ref := registry + "/" + image
	run := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, lines.Tail(string(out), 3))
		}
		return string(out), nil
	}
	start := time.Now()
	if _, err := run("tag", image, ref); err != nil {
		return "", err
	}
	if _, err := run("push", "-q", ref); err != nil {
		return "", err
	}
	out, err := run("image", "inspect", "--format", "{{range .RepoDigests}}{{.}} {{end}}", ref)
	if err != nil {
		return "", err
	}
	repo := ref
	if i := strings.LastIndexByte(ref, ':'); i > len(registry) {
		repo = ref[:i]
	}
	for _, d := range strings.Fields(out) {
		if strings.HasPrefix(d, repo+"@") {
			if log != nil {
				fmt.Fprintf(log, "image %s → registry %s: pushed as %s in %.1fs\n", image, registry, d, time.Since(start).Seconds())
			}
			return d, nil
		}
	}
	return "", fmt.Errorf("push %s: no digest of %s after the push (%q)", image, repo, strings.TrimSpace(out))
}
