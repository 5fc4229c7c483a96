package appimage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duckbench/duckbench"
)

func TestFinalStage(t *testing.T) {
	got, err := FinalStage(duckbench.Dockerfile)
	if err != nil {
		t.Fatalf("FinalStage(Dockerfile) = %v", err)
	}
	for _, want := range []string{"FROM scratch\n", "\nCOPY duckbench /duckbench\n", "\nUSER 65532:65532\n", "\nHEALTHCHECK ", `ENTRYPOINT ["/duckbench"]`} {
		if !strings.Contains(got, want) {
			t.Errorf("FinalStage(Dockerfile) lacks %q:\n%s", want, got)
		}
	}
	for _, bad := range []string{"--from=", "golang", "RUN "} {
		if strings.Contains(got, bad) {
			t.Errorf("FinalStage(Dockerfile) holds %q, which needs the build stage:\n%s", bad, got)
		}
	}
}

func TestFinalStageErrors(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"no from", "RUN true\n", "no FROM line"},
		{"no copy", "FROM golang AS build\nRUN go build\nFROM scratch\nCOPY duckbench /x\n", "no COPY --from"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := FinalStage(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("FinalStage(%q) = %v; want %q", c.in, err, c.want)
			}
		})
	}
}

func TestCheckStatic(t *testing.T) {
	script := filepath.Join(t.TempDir(), "duckbench")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckStatic(script); !errors.Is(err, ErrNotStatic) || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("CheckStatic(script) = %v; want ErrNotStatic with a build hint", err)
	}
	// The test binary itself: static or not depending on how it was built,
	// but CheckStatic must agree with the ELF interpreter.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(exe)
	dynamic := strings.Contains(string(b[:min(len(b), 4096)]), "ld-linux")
	if err := CheckStatic(exe); (err == nil) == dynamic {
		t.Errorf("CheckStatic(test binary) = %v; dynamic = %v", err, dynamic)
	}
}

func TestTag(t *testing.T) {
	if got, want := Tag("1.2.0"), "duckbench:1.2.0"; got != want {
		t.Errorf("Tag(1.2.0) = %q; want %q", got, want)
	}
	if got, want := Tag(""), "duckbench:dev"; got != want {
		t.Errorf("Tag(\"\") = %q; want %q", got, want)
	}
}
