package appimage

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/duckbench/duckbench/internal/lines"
)

// RegistryEnv names a registry (HOST:PORT) through which the swarm's nodes
// get the stack's images instead of Distribute's copies.
const RegistryEnv = "DUCKBENCH_SWARM_REGISTRY"

// CheckRegistry says whether reg is a registry address duckbench can push
// to: HOST:PORT, nothing else (no scheme, no path).
func CheckRegistry(reg string) error {
	host, port, err := net.SplitHostPort(reg)
	if err == nil && (host == "" || strings.ContainsAny(host, "/ ")) {
		err = fmt.Errorf("no host")
	}
	if n, perr := strconv.Atoi(port); err == nil && (perr != nil || n < 1 || n > 65535) {
		err = fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	if err != nil {
		return fmt.Errorf("registry %q: want HOST:PORT (e.g. 10.0.0.1:5000): %w", reg, err)
	}
	return nil
}

// Push tags image of the local engine as registry/image, pushes it and
// returns the reference pinned to its digest (registry/repo@sha256:…),
// which every node pulls the same content by.
func Push(ctx context.Context, registry, image string, log io.Writer) (string, error) {
	if err := CheckRegistry(registry); err != nil {
		return "", err
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
