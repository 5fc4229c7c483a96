package appimage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/duckbench/duckbench/internal/lines"
)

// EnginesEnv names the other swarm nodes' Docker engines for Distribute:
// comma-separated NAME=DOCKER_HOST pairs (unix://…, tcp://…, ssh://…).
const EnginesEnv = "DUCKBENCH_SWARM_ENGINES"

// Engine is one node's Docker engine.
type Engine struct {
	// Name is the node's name (its host name in the swarm).
	Name string
	// Host is the DOCKER_HOST value that reaches it.
	Host string
}

// ParseEngines reads NAME=DOCKER_HOST pairs separated by commas.
func ParseEngines(s string) ([]Engine, error) {
	var es []Engine
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, host, ok := strings.Cut(f, "=")
		if !ok || name == "" || host == "" {
			return nil, fmt.Errorf("%s: %q: want NAME=DOCKER_HOST (e.g. node2=ssh://node2)", EnginesEnv, f)
		}
		es = append(es, Engine{Name: name, Host: host})
	}
	return es, nil
}

// Copy is what Distribute did with one image for one engine.
type Copy struct {
	Image, Engine string
	// Copied is true when the image was streamed; false when the engine
	// had the same image (same ID) already.
	Copied bool
	// Bytes is the size of the stream (0 when not copied).
	Bytes int64
	// Took is how long the copy took.
	Took time.Duration
	// Err is why the copy failed.
	Err error
}

// CopiesText is one line per copy, for the user.
func CopiesText(cs []Copy) string {
	var b strings.Builder
	for _, c := range cs {
		switch {
		case c.Err != nil:
			fmt.Fprintf(&b, "image %s → %s: FAILED: %v\n", c.Image, c.Engine, c.Err)
		case c.Copied:
			fmt.Fprintf(&b, "image %s → %s: copied %.1f MB in %.1fs\n", c.Image, c.Engine, float64(c.Bytes)/1e6, c.Took.Seconds())
		default:
			fmt.Fprintf(&b, "image %s → %s: already there\n", c.Image, c.Engine)
		}
	}
	return b.String()
}

// imageID is the image's ID on the engine host ("" : the CLI's default),
// "" when the engine lacks it.
func imageID(ctx context.Context, host, image string) string {
	cmd := exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", image)
	cmd.Env = engineEnv(host)
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func engineEnv(host string) []string {
	env := os.Environ()
	if host != "" {
		env = append(env, "DOCKER_HOST="+host)
	}
	return env
}

// Distribute copies every image of the local engine (the docker CLI's
// default) to each engine that lacks it or holds another image under the
// same name: `docker save` streamed into the engine's `docker load`, over
// the Docker API, no registry. It returns one Copy per image and engine;
// the error joins every failed copy's.
func Distribute(ctx context.Context, images []string, engines []Engine, log io.Writer) ([]Copy, error) {
	var out []Copy
	var errs []error
	for _, img := range images {
		id := imageID(ctx, "", img)
		if id == "" {
			return out, fmt.Errorf("distribute image %s: not on the local engine", img)
		}
		for _, e := range engines {
			c := Copy{Image: img, Engine: e.Name}
			if imageID(ctx, e.Host, img) != id {
				start := time.Now()
				c.Copied = true
				c.Bytes, c.Err = stream(ctx, img, e.Host)
				c.Took = time.Since(start)
				if c.Err == nil && imageID(ctx, e.Host, img) != id {
					c.Err = errors.New("loaded, but the engine reports another image ID")
				}
				if c.Err != nil {
					errs = append(errs, fmt.Errorf("copy image %s to %s: %w", img, e.Name, c.Err))
				}
			}
			if log != nil && c.Copied {
				fmt.Fprint(log, CopiesText([]Copy{c}))
			}
			out = append(out, c)
		}
	}
	return out, errors.Join(errs...)
}

// stream pipes `docker save image` into `docker load` on host.
func stream(ctx context.Context, image, host string) (int64, error) {
	save := exec.CommandContext(ctx, "docker", "save", image)
	load := exec.CommandContext(ctx, "docker", "load", "-q")
	load.Env = engineEnv(host)
	pr, pw := io.Pipe()
	cw := &countWriter{w: pw}
	var saveErr, loadErr strings.Builder
	save.Stdout, save.Stderr = cw, &saveErr
	load.Stdin, load.Stderr, load.Stdout = pr, &loadErr, io.Discard
	if err := load.Start(); err != nil {
		return 0, fmt.Errorf("docker load: %w", err)
	}
	serr := save.Run()
	pw.CloseWithError(serr)
	lerr := load.Wait()
	switch {
	case serr != nil:
		return cw.n, fmt.Errorf("docker save: %w: %s", serr, lines.Tail(saveErr.String(), 3))
	case lerr != nil:
		return cw.n, fmt.Errorf("docker load: %w: %s", lerr, lines.Tail(loadErr.String(), 3))
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
