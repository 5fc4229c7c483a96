// Package appimage builds the container image of duckbench's built-in app:
// the final stage of the repository's Dockerfile, fed a static duckbench
// binary built on the host. That needs no image registry (the final stage
// is FROM scratch), which is how tests and registry-less hosts build it;
// with a registry, BuildSource runs the whole multi-stage Dockerfile.
package appimage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/duckbench/duckbench/internal/lines"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/duckbench/duckbench"
)

// Repository is the app image's repository; its tag is duckbench's version.
const Repository = "duckbench"

// BinaryLabel is the image label holding the SHA-256 (first 12 bytes, hex)
// of the binary an image was built from, so that a rebuild from the same
// binary is skipped.
const BinaryLabel = "io.duckbench.binary"

// binaryName is the binary's file name in the build context and the image.
const binaryName = "duckbench"

// Tag is the default image of a duckbench version: duckbench:<version>.
func Tag(version string) string {
	if version == "" {
		version = "dev"
	}
	return Repository + ":" + version
}

// ErrNotStatic means a binary cannot run in the FROM scratch image.
var ErrNotStatic = errors.New("not a static Linux binary")

// CheckStatic returns nil when path is a statically linked Linux ELF
// executable (no program interpreter), the only kind that runs FROM scratch.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w (build one with: GOOS=linux CGO_ENABLED=0 go build -o duckbench-linux ./cmd/duckbench)", path, ErrNotStatic)
	}
	defer f.Close()
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return fmt.Errorf("%s: %w (OS ABI %v)", path, ErrNotStatic, f.OSABI)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s: %w: it is dynamically linked (build it with CGO_ENABLED=0 go build -o duckbench ./cmd/duckbench)", path, ErrNotStatic)
		}
	}
	return nil
}

// FinalStage returns the last stage of dockerfile with its COPY of the
// binary from the build stage turned into a COPY from the build context:
// the Dockerfile of an image built from a prebuilt binary.
func FinalStage(dockerfile string) (string, error) {
	lines := strings.Split(dockerfile, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(l)), "FROM ") {
			start = i
		}
	}
	if start < 0 {
		return "", errors.New("dockerfile: no FROM line")
	}
	var out []string
	copied := false
	for _, l := range lines[start:] {
		f := strings.Fields(l)
		if len(f) == 4 && strings.EqualFold(f[0], "COPY") && strings.HasPrefix(f[1], "--from=") && f[3] == "/"+binaryName {
			l = "COPY " + binaryName + " /" + binaryName
			copied = true
		}
		out = append(out, l)
	}
	if !copied {
		return "", fmt.Errorf("dockerfile: the final stage has no COPY --from=… /%s line", binaryName)
	}
	return strings.Join(out, "\n"), nil
}

// Options configure Build.
type Options struct {
	// Binary is the static duckbench binary to put in the image.
	Binary string
	// Tag names the image (default Tag("dev")).
	Tag string
	// Log receives docker build's output (nil: kept for errors only).
	Log io.Writer
}

// Build builds the app image from a prebuilt static binary with the
// Dockerfile's final stage. An image of that tag already built from the
// same binary is kept as it is; built reports whether a build ran.
func Build(ctx context.Context, o Options) (built bool, err error) {
	if o.Tag == "" {
		o.Tag = Tag("")
	}
	if err := CheckStatic(o.Binary); err != nil {
		return false, fmt.Errorf("build image %s: %w", o.Tag, err)
	}
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return false, fmt.Errorf("build image %s: %w", o.Tag, err)
	}
	id := contentID(bin)
	if label(ctx, o.Tag, BinaryLabel) == id {
		return false, nil
	}
	df, err := FinalStage(duckbench.Dockerfile)
	if err != nil {
		return false, fmt.Errorf("build image %s: %w", o.Tag, err)
	}
	dir, err := os.MkdirTemp("", "duckbench-image-")
	if err != nil {
		return false, fmt.Errorf("build image %s: %w", o.Tag, err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		return false, fmt.Errorf("build image %s: %w", o.Tag, err)
	}
	if err := os.WriteFile(filepath.Join(dir, binaryName), bin, 0o755); err != nil {
		return false, fmt.Errorf("build image %s: %w", o.Tag, err)
	}
	return true, dockerBuild(ctx, o.Log, "build", "--label", BinaryLabel+"="+id, "-t", o.Tag, dir)
}

// BuildSource runs the repository's whole multi-stage Dockerfile in dir
// (a checkout): the Go build stage needs the golang image, so a registry.
func BuildSource(ctx context.Context, dir, tag, version string, log io.Writer) error {
	if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err != nil {
		return fmt.Errorf("build image %s from source: %w (want a duckbench checkout)", tag, err)
	}
	if err := dockerBuild(ctx, log, "build", "--build-arg", "VERSION="+version, "-t", tag, dir); err != nil {
		return fmt.Errorf("%w\n(the Go build stage pulls the golang image; without a registry build from a static binary: duckbench image build --binary FILE)", err)
	}
	return nil
}

func dockerBuild(ctx context.Context, log io.Writer, args ...string) error {
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	if log != nil {
		cmd.Stdout, cmd.Stderr = io.MultiWriter(&buf, log), io.MultiWriter(&buf, log)
	} else {
		cmd.Stdout, cmd.Stderr = &buf, &buf
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, lines.Tail(buf.String(), 5))
	}
	return nil
}

// Exists reports whether the local Docker engine has image tag.
func Exists(ctx context.Context, tag string) bool {
	return exec.CommandContext(ctx, "docker", "image", "inspect", tag).Run() == nil
}

func label(ctx context.Context, tag, key string) string {
	out, err := exec.CommandContext(ctx, "docker", "image", "inspect", "--format",
		"{{index .Config.Labels \""+key+"\"}}", tag).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// Ensure makes sure the app image tag exists before a stack uses it. An
// image of the local duckbench repository (duckbench:<tag>) that is missing
// is built from binary ("": the running executable) when that is a static
// Linux binary; any other image
// is left to the compose tool to pull. A development build's image
// (duckbench:dev, or any tag starting dev) is rebuilt when it was built from
// another binary: its tag names no version, and a stale one lacks what this
// binary's stack asks of it (a load agent of an older build exits with
// "unknown command").
func Ensure(ctx context.Context, tag, binary string, log io.Writer) error {
	if !strings.HasPrefix(tag, Repository+":") {
		return nil
	}
	if binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("app image %s: find the duckbench binary: %w", tag, err)
		}
		binary = exe
	}
	if Exists(ctx, tag) {
		if !strings.HasPrefix(tag, Repository+":dev") {
			return nil
		}
		if err := CheckStatic(binary); err != nil {
			if id, _ := binaryID(binary); log != nil && id != label(ctx, tag, BinaryLabel) && firstWarning(tag) {
				fmt.Fprintf(log, "warning: app image %s was built from another duckbench binary, and this one cannot replace it (%v): it may lack what this build needs; rebuild it with duckbench image build --binary <static build>\n", tag, err)
			}
			return nil
		}
		built, err := Build(ctx, Options{Binary: binary, Tag: tag})
		if built && log != nil {
			fmt.Fprintf(log, "app image %s was built from another duckbench binary: rebuilt it from %s\n", tag, binary)
		}
		return err
	}
	if err := CheckStatic(binary); err != nil {
		return fmt.Errorf("app image %s is not on this Docker engine, and it cannot be built from the running binary: %w; or build the image from source with: docker build -t %s . (in a duckbench checkout)", tag, err, tag)
	}
	if log != nil {
		fmt.Fprintf(log, "app image %s not found: building it from %s (duckbench image build)\n", tag, binary)
	}
	_, err := Build(ctx, Options{Binary: binary, Tag: tag})
	return err
}

// contentID is a binary's BinaryLabel value.
func contentID(bin []byte) string {
	sum := sha256.Sum256(bin)
	return hex.EncodeToString(sum[:12])
}

// binaryID is the BinaryLabel value of the binary at path.
func binaryID(path string) (string, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return contentID(bin), nil
}

var warned sync.Map // tags warned about as stale

// firstWarning reports whether tag was not warned about yet in this process.
func firstWarning(tag string) bool {
	_, seen := warned.LoadOrStore(tag, true)
	return !seen
}
