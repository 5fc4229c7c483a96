// Package testimages builds small local container images for the compose
// integration tests on a host without an image registry: a root file system
// assembled from the host's Debian binaries (redis-server, redis-cli,
// haproxy, a shell, bash) and their shared libraries, loaded with `docker
// import`, standing in for the official redis and haproxy images; and the
// app image, built like `duckbench image build` does (the Dockerfile's final
// stage fed a static binary), since the Go build stage's image cannot be
// pulled here. Building is idempotent: an image whose content label matches
// is reused.
package testimages

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Image tags built by Build. Both are the same root file system; the two
// names keep the spec's redis and haproxy overrides apart.
const (
	RedisImage   = "duckbench-test/redis:7.0"
	HAProxyImage = "duckbench-test/haproxy:2.6"
	contentLabel = "io.duckbench.testimage.content"
)

// Images names the built images.
type Images struct {
	Redis   string
	HAProxy string
}

// hostBinary is a program copied into the image: host path, image path.
type hostBinary struct{ src, dst string }

// wantBinary is a program an image needs: candidates on the host, image path.
type wantBinary struct {
	names []string // candidates on the host
	dst   string
}

// findBinaries finds each wanted program on the host.
func findBinaries(want []wantBinary, image string) ([]hostBinary, error) {
	var bins []hostBinary
	for _, b := range want {
		src := ""
		for _, n := range b.names {
			if _, err := os.Stat(n); err == nil {
				src = n
				break
			}
		}
		if src == "" {
			return nil, fmt.Errorf("build %s: none of %v found (apt-get install redis-server haproxy dash)", image, b.names)
		}
		bins = append(bins, hostBinary{src, b.dst})
	}
	return bins, nil
}

// importRootfs imports the root file system tarball as tag, labelled with
// its content hash sum.
func importRootfs(ctx context.Context, tag string, tarball []byte, sum string) error {
	cmd := exec.CommandContext(ctx, "docker", "import",
		"--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"--change", "WORKDIR /data",
		"--change", "LABEL "+contentLabel+"="+sum,
		"-", tag)
	cmd.Stdin = bytes.NewReader(tarball)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("docker import %s: %w: %s", tag, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// binaries are looked up on the host. The image paths follow the official
// images (haproxy in /usr/local/sbin, redis in /usr/local/bin).
var binaries = []wantBinary{
	{[]string{"/usr/bin/redis-server", "/usr/local/bin/redis-server"}, "/usr/local/bin/redis-server"},
	{[]string{"/usr/bin/redis-cli", "/usr/local/bin/redis-cli"}, "/usr/local/bin/redis-cli"},
	{[]string{"/usr/sbin/haproxy", "/usr/local/sbin/haproxy"}, "/usr/local/sbin/haproxy"},
	// The official haproxy image is Debian-based: its health check may use
	// bash (/dev/tcp), so the stand-in has it too.
	{[]string{"/bin/bash", "/usr/bin/bash"}, "/bin/bash"},
	// A static busybox gives sh plus the usual tools; dash is the fallback.
	// It stays last: rootfsFiles links the tools when it is busybox.
	{[]string{"/bin/busybox", "/usr/bin/busybox", "/bin/dash", "/usr/bin/dash"}, "/bin/sh"},
}

// Build builds (or reuses) the test images and returns their tags.
func Build(ctx context.Context) (Images, error) {
	imgs := Images{Redis: RedisImage, HAProxy: HAProxyImage}
	bins, err := findBinaries(binaries, "test images")
	if err != nil {
		return imgs, err
	}
	files, err := rootfsFiles(ctx, bins)
	if err != nil {
		return imgs, err
	}
	tarball, sum, err := buildTar(files)
	if err != nil {
		return imgs, err
	}
	for _, tag := range []string{RedisImage, HAProxyImage} {
		if label(ctx, tag) == sum {
			continue
		}
		if err := importRootfs(ctx, tag, tarball, sum); err != nil {
			return imgs, err
		}
	}
	return imgs, nil
}

func label(ctx context.Context, tag string) string {
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format",
		"{{index .Config.Labels \""+contentLabel+"\"}}", tag).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// entry is one file of the root file system: a host file, or inline content.
type entry struct {
	dst     string
	src     string // host path (regular file, followed through symlinks)
	content []byte
	mode    int64
	dir     bool
	link    string // symlink target
}

func rootfsFiles(ctx context.Context, bins []hostBinary) ([]entry, error) {
	var es []entry
	libs := map[string]bool{}
	for _, b := range bins {
		es = append(es, entry{dst: b.dst, src: b.src, mode: 0o755})
		deps, err := sharedLibs(ctx, b.src)
		if err != nil {
			return nil, err
		}
		for _, d := range deps {
			libs[d] = true
		}
	}
	var names []string
	for l := range libs {
		names = append(names, l)
	}
	sort.Strings(names)
	for _, l := range names {
		es = append(es, entry{dst: l, src: l, mode: 0o755})
	}
	for _, d := range []string{"/bin", "/tmp", "/data", "/run", "/var/run", "/var/lib/haproxy", "/etc/haproxy",
		"/usr/local/etc/redis", "/usr/local/etc/haproxy", "/dev", "/proc", "/sys", "/etc"} {
		mode := int64(0o755)
		if d == "/tmp" {
			mode = 0o1777
		}
		es = append(es, entry{dst: d, dir: true, mode: mode})
	}
	es = append(es,
		entry{dst: "/etc/passwd", mode: 0o644, content: []byte("root:x:0:0:root:/root:/bin/sh\nredis:x:999:999::/data:/bin/sh\nhaproxy:x:99:99::/var/lib/haproxy:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/sh\n")},
		entry{dst: "/etc/group", mode: 0o644, content: []byte("root:x:0:\nredis:x:999:\nhaproxy:x:99:\nnogroup:x:65534:\n")},
		entry{dst: "/etc/nsswitch.conf", mode: 0o644, content: []byte("passwd: files\ngroup: files\nhosts: files dns\n")},
	)
	if strings.HasSuffix(bins[len(bins)-1].src, "busybox") {
		for _, tool := range []string{"grep", "cat", "ls", "ps", "wget", "nc", "printf", "sleep", "env"} {
			es = append(es, entry{dst: "/bin/" + tool, link: "/bin/sh"})
		}
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].dst < es[j].dst })
	return es, nil
}

// sharedLibs lists the absolute paths of the libraries ldd reports for bin,
// the loader included; a static binary has none.
func sharedLibs(ctx context.Context, bin string) ([]string, error) {
	out, err := exec.CommandContext(ctx, "ldd", bin).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "not a dynamic executable") || strings.Contains(string(out), "statically linked") {
			return nil, nil
		}
		return nil, fmt.Errorf("ldd %s: %w: %s", bin, err, strings.TrimSpace(string(out)))
	}
	var libs []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			libs = append(libs, f[2])
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			libs = append(libs, f[0])
		}
	}
	return libs, nil
}

// buildTar writes the root file system as a tar stream, with fixed
// timestamps and owners so that the same host gives the same content hash.
func buildTar(es []entry) ([]byte, string, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	seenDirs := map[string]bool{}
	var mkdirs func(string) error
	mkdirs = func(d string) error {
		if d == "/" || d == "." || seenDirs[d] {
			return nil
		}
		if err := mkdirs(filepath.Dir(d)); err != nil {
			return err
		}
		seenDirs[d] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755})
	}
	for _, e := range es {
		name := strings.TrimPrefix(e.dst, "/")
		if e.dir {
			if seenDirs[e.dst] {
				continue
			}
			if err := mkdirs(filepath.Dir(e.dst)); err != nil {
				return nil, "", err
			}
			seenDirs[e.dst] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: e.mode}); err != nil {
				return nil, "", err
			}
			continue
		}
		if err := mkdirs(filepath.Dir(e.dst)); err != nil {
			return nil, "", err
		}
		if e.link != "" {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: e.link, Mode: 0o777}); err != nil {
				return nil, "", err
			}
			continue
		}
		data := e.content
		if e.src != "" {
			b, err := os.ReadFile(e.src)
			if err != nil {
				return nil, "", fmt.Errorf("read %s: %w", e.src, err)
			}
			data = b
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: e.mode, Size: int64(len(data))}); err != nil {
			return nil, "", err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, "", err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), hex.EncodeToString(sum[:12]), nil
}

// Available reports whether a Docker engine answers.
func Available(ctx context.Context) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return errors.New("docker CLI not found (apt-get install docker.io)")
	}
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker engine unreachable: %s (is the Docker daemon running?)", strings.TrimSpace(string(out)))
	}
	return nil
}
