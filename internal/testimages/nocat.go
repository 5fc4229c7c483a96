package testimages

import (
	"context"
)

// NoCatRedisImage is a Redis image without coreutils: redis-server,
// redis-cli and a plain dash as /bin/sh, nothing else (no cat, no
// busybox). It tests that the stacks read secrets with the shell alone.
const NoCatRedisImage = "duckbench-test/redis-nocat:7.0"

// BuildNoCat builds (or reuses) NoCatRedisImage and returns its tag.
func BuildNoCat(ctx context.Context) (string, error) {
	bins, err := findBinaries([]wantBinary{
		{[]string{"/usr/bin/redis-server", "/usr/local/bin/redis-server"}, "/usr/local/bin/redis-server"},
		{[]string{"/usr/bin/redis-cli", "/usr/local/bin/redis-cli"}, "/usr/local/bin/redis-cli"},
		{[]string{"/bin/dash", "/usr/bin/dash"}, "/bin/sh"},
	}, NoCatRedisImage)
	if err != nil {
		return "", err
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
	if err := importRootfs(ctx, NoCatRedisImage, tarball, sum); err != nil {
		return "", err
	}
	return NoCatRedisImage, nil
}
