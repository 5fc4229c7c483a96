package labtls

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerate: both files mode 0600 in a 0700 dir; the server certificate
// verifies against the lab CA for every lab host and for no other name; the
// CA is a CA, the leaf is not; ECDSA keys.
func TestGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	for _, f := range []string{CertFile, CAFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, %v; want 0600", f, fi.Mode().Perm(), err)
		}
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, CertFile))
	if err != nil {
		t.Fatalf("LoadX509KeyPair(lab.pem) = %v", err)
	}
	if _, ok := pair.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("key is %T; want ECDSA", pair.PrivateKey)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if leaf.IsCA || len(pair.Certificate) != 2 {
		t.Errorf("leaf IsCA=%v, chain of %d; want a non-CA leaf and the CA after it", leaf.IsCA, len(pair.Certificate))
	}
	pool, err := Pool(filepath.Join(dir, CAFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"127.0.0.1", "localhost", "::1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: h}); err != nil {
			t.Errorf("Verify(%s) = %v; want valid", h, err)
		}
	}
	for _, h := range []string{"example.com", "10.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: h}); err == nil {
			t.Errorf("Verify(%s) = nil; want the lab certificate invalid for it", h)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "localhost"}); err == nil {
		t.Error("the lab certificate verifies against the system roots; want it trusted only through the lab CA")
	}
}

// TestGenerateEachRunItsOwn: a second run's CA does not trust the first
// run's certificate (a fresh CA per run, its key not kept).
func TestGenerateEachRunItsOwn(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := Generate(a); err != nil {
		t.Fatal(err)
	}
	if err := Generate(b); err != nil {
		t.Fatal(err)
	}
	pair, _ := tls.LoadX509KeyPair(filepath.Join(a, CertFile), filepath.Join(a, CertFile))
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	pool, _ := Pool(filepath.Join(b, CAFile))
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"}); err == nil {
		t.Error("run b's CA trusts run a's certificate; want a CA per run")
	}
}

// TestHandshake: a TLS server with lab.pem answers a client that trusts the
// lab CA only, and a client with the system roots refuses it.
func TestHandshake(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	pair, _ := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, CertFile))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()
	pool, _ := Pool(filepath.Join(dir, CAFile))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET with the lab CA = %v", err)
	}
	resp.Body.Close()
	if _, err := (&http.Client{Transport: &http.Transport{}}).Get(srv.URL); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("GET with the system roots = %v; want a certificate error", err)
	}
}

// TestPoolErrors: a missing file and a file with no certificate are errors.
func TestPoolErrors(t *testing.T) {
	if _, err := Pool(filepath.Join(t.TempDir(), "none.pem")); err == nil {
		t.Error("Pool(missing) = nil error")
	}
	p := filepath.Join(t.TempDir(), "x.pem")
	os.WriteFile(p, []byte("not pem"), 0o600)
	if _, err := Pool(p); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("Pool(not pem) = %v; want no PEM certificate", err)
	}
}
