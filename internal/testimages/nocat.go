package testimages

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// NoCatRedisImage is a Redis image without coreutils: redis-server,
// redis-cli and a plain dash as /bin/sh, nothing else (no cat, no
// busybox). It tests that the stacks read secrets with the shell alone.
const NoCatRedisImage = "duckbench-test/redis-nocat:7.0"

// BuildNoCat builds (or reuses) NoCatRedisImage and returns its tag.
func BuildNoCat(ctx context.Context) (string, error) {
	var bins []hostBinary
	for _, b := range []struct {
		names []string
		dst   string
	}{
		{[]string{"/usr/bin/redis-server", "/usr/local/bin/redis-server"}, "/usr/local/bin/redis-server"},
		{[]string{"/usr/bin/redis-cli", "/usr/local/bin/redis-cli"}, "/usr/local/bin/redis-cli"},
		{[]string{"/bin/dash", "/usr/bin/dash"}, "/bin/sh"},
	} {
		src := ""
		for _, n := range b.names {
			if _, err := os.Stat(n); err == nil {
				src = n
				break
			}
		}
		if src == "" {
			return "", fmt.Errorf("build %s: none of %v found (apt-get install redis-server dash)", NoCatRedisImage, b.names)
		}
		bins = append(bins, hostBinary{src, b.dst})
	}
	files, err := rootfsFiles(ctx, bins)
	if err != nil {
		return "", err
	}
	tarball, sum, err := buildTar(files)
	if err != nil {
		return "", err
	}
	if label(ctx, NoCatRedisImage) == sum {
		return NoCatRedisImage, nil
	}
	cmd := exec.CommandContext(ctx, "docker", "import",
		"--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"--change", "WORKDIR /data",
		"--change", "LABEL "+contentLabel+"="+sum,
		"-", NoCatRedisImage)
	cmd.Stdin = bytes.NewReader(tarball)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("docker import %s: %w: %s", NoCatRedisImage, err, strings.TrimSpace(string(out)))
	}
	return NoCatRedisImage, nil
}
