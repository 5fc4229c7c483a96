//go:build integration

package hacfg

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duckbench/duckbench/internal/testenv"
)

// TestSplitAgreesWithHAProxy: the real HAProxy serves each raw argument
// back as a response body (http-request return … string <raw>); the body
// must equal the word Split reads from the same text, and a word written
// by Quote must come back unchanged. The expected values are HAProxy's own.
func TestSplitAgreesWithHAProxy(t *testing.T) {
	bin := testenv.RequireBinary(t, "haproxy", "")
	raws := []string{
		`plain`, `"dq with spaces"`, `'sq with spaces'`, `a\ b\ c`, `"glued"'quotes'\ here`,
		`"tab\there"`, `"nl\nx"`, `"\x41\x42"`, `'no \n escapes'`, `"\$HOME"`, `\$HOME`,
		`"${DB_X}"`, `"${DB_UNSET-fallback value}"`, `"pre${DB_X}post"`, `a\#b`, `"a#b"`, `'#'`,
		`\1`, `"\d"`, `"it's"`, `'say "hi"'`, `\"x\'`,
	}
	words := []string{"a b", "it's \"both\"", "back\\slash", "$DB_X", "${DB_X}", "#hash", "tab\tin", "ü ünïcode"}
	env := map[string]string{"DB_X": "ex value"}
	var cfg strings.Builder
	port := freePort(t)
	fmt.Fprintf(&cfg, "global\n  maxconn 100\ndefaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 1s\nfrontend f\n  bind 127.0.0.1:%d\n", port)
	var want []string
	for i, r := range raws {
		got, err := Split("x "+r, env2(env))
		if err != nil || len(got) != 2 {
			t.Fatalf("Split(%q) = %q, %v", r, got, err)
		}
		want = append(want, got[1])
		fmt.Fprintf(&cfg, "  http-request return status 200 content-type text/plain string %s if { path /r%d }\n", r, i)
	}
	for i, w := range words {
		want = append(want, w)
		fmt.Fprintf(&cfg, "  http-request return status 200 content-type text/plain string %s if { path /r%d }\n", Quote(w), len(raws)+i)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "h.cfg")
	os.WriteFile(path, []byte(cfg.String()), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-db", "-f", path)
	cmd.Env = append(os.Environ(), "DB_X="+env["DB_X"])
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	for i, w := range want {
		body := fetch(t, ctx, port, i, &out)
		if body != w {
			src := ""
			if i < len(raws) {
				src = raws[i]
			} else {
				src = Quote(w)
			}
			t.Errorf("%s: HAProxy read %q, we read %q", src, body, w)
		}
	}
}

func env2(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// fetch GETs /r<i>, retrying while HAProxy starts.
func fetch(t *testing.T, ctx context.Context, port, i int, log *strings.Builder) string {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/r%d", port, i)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("haproxy did not answer: %v\n%s", err, log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
