//go:build integration

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tlsSpec runs examples/byo/tls.cfg (a TLS frontend whose plain bind
// redirects to https) with a Redis master of the lab's own.
const tlsSpec = `name: byo-tls
haproxy:
  config_file: %s
  port: auto
  prometheus: {port: auto}
redis:
  master: {port: auto}
load:
  duration: 3s
  rate: 100
  targets:
    - {path: "/kv/{key}"}
`

// TestBYOTLS: duckbench run on a config with a TLS frontend (bind :443 ssl
// crt /etc/ssl/private/site.pem alpn h2,http/1.1, and redirect scheme https
// on the plain bind) serves its load over TLS through HAProxy. Expected
// values from outside duckbench: the schedule (100 req/s × 3 s), the
// file's weights (3:1 under roundrobin), and HAProxy's own request log
// (ssl_fc, the TLS version and the server of every request). The run dir
// holds the lab certificate only: no file equal to, and no certificate
// from, /etc/ssl/certs (the private keys under /etc/ssl/private are not
// read by this test either), and site.pem need not exist.
func TestBYOTLS(t *testing.T) {
	bin := itBinary(t)
	dir := itDir(t)
	cfg, err := filepath.Abs("../../examples/byo/tls.cfg")
	if err != nil {
		t.Fatal(err)
	}
	sp := writeSpec(t, dir, "tls.yaml", fmt.Sprintf(tlsSpec, cfg))

	code, stdout, stderr := itRun(t, bin, "render", sp, "-o", filepath.Join(dir, "render"), "--explain")
	if code != 0 {
		t.Fatalf("render --explain: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{
		cfg + ":21 → haproxy.cfg: replaced `crt /etc/ssl/private/site.pem` with the lab certificate",
		filepath.Join(dir, "render", "tls", "lab.pem") + "\n", // render lists the lab files it wrote
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("render --explain lacks %q\n%s", want, stdout)
		}
	}

	res, run := filepath.Join(dir, "results"), filepath.Join(dir, "run")
	code, stdout, stderr = itRun(t, bin, "run", sp, "-q", "--results", res, "--run-dir", run, "--exporter-listen", "127.0.0.1:0")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, tail(stderr, 20))
	}
	r, _ := onlyResult(t, res)
	if r.Summary.Requests != 300 || r.Summary.Success != 300 {
		t.Errorf("requests %d, successes %d; want 300 and 300 (100/s for 3 s, every one served)", r.Summary.Requests, r.Summary.Success)
	}
	got := map[string]uint64{}
	for _, s := range r.Servers {
		got[s.Server] = s.Summary.Requests
	}
	// roundrobin with weights 3 and 1 in tls.cfg: exactly 3 in 4 but for
	// the cycle's phase at the end (±2 requests).
	if share := float64(got["web1"]) / float64(got["web1"]+got["web2"]); math.Abs(share-0.75) > 0.01 {
		t.Errorf("web1's share = %.3f of %v; want 0.75 (weights 3:1 in tls.cfg)", share, got)
	}

	// HAProxy's own log: every request over TLS, and per server the
	// counts duckbench attributed.
	logged := map[string]uint64{}
	line := regexp.MustCompile(`tlslog srv=(\S+) status=(\d+) ssl=(\d) ver=(\S+) alpn=(\S*)`)
	lf, err := os.Open(filepath.Join(run, "logs", "haproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	var n int
	seen := map[string]int{}
	for sc := bufio.NewScanner(lf); sc.Scan(); {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil || m[1] == "<NOSRV>" {
			continue
		}
		n++
		if m[3] != "1" || !strings.HasPrefix(m[4], "TLSv1.") || m[2] != "200" {
			t.Errorf("HAProxy logged %q; want status 200 over TLS", sc.Text())
		}
		logged[m[1]]++
		seen[m[4]+" alpn="+m[5]]++
	}
	if n != 300 || logged["web1"] != got["web1"] || logged["web2"] != got["web2"] {
		t.Errorf("HAProxy logged %d requests %v; duckbench attributed %v; want 300 and equal", n, logged, got)
	}
	t.Logf("HAProxy logged %v (TLS %v); duckbench attributed %v", logged, seen, got)
	noCopyOfEtcSSL(t, run)
}

// noCopyOfEtcSSL fails when a file under dir equals a file of
// /etc/ssl/certs or holds a certificate found there, or when a certificate
// under dir is not the lab's.
func noCopyOfEtcSSL(t *testing.T, dir string) {
	t.Helper()
	sums, certs := map[[32]byte]string{}, map[[32]byte]string{}
	_ = filepath.WalkDir("/etc/ssl/certs", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		sums[sha256.Sum256(b)] = p
		for _, der := range pemCerts(b) {
			certs[sha256.Sum256(der)] = p
		}
		return nil
	})
	if len(certs) == 0 {
		t.Fatal("no certificate read from /etc/ssl/certs: the comparison would see nothing (apt-get install ca-certificates)")
	}
	var labCerts int
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSocket != 0 {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if to, _ := os.Readlink(p); strings.Contains(to, "/etc/ssl") {
				t.Errorf("%s links to %s", p, to)
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if from, ok := sums[sha256.Sum256(b)]; ok {
			t.Errorf("%s is a copy of %s", p, from)
		}
		for _, der := range pemCerts(b) {
			if from, ok := certs[sha256.Sum256(der)]; ok {
				t.Errorf("%s holds a certificate of %s", p, from)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil || c.Issuer.CommonName != "duckbench lab CA" {
				t.Errorf("%s holds a certificate not issued by the lab CA (%v)", p, err)
			}
			labCerts++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if labCerts == 0 {
		t.Error("no lab certificate in the run dir")
	}
	for _, f := range []string{"tls/lab.pem", "tls/lab-ca.pem"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", f, fi, err)
		}
	}
}

// pemCerts are the DER bytes of every CERTIFICATE block of b.
func pemCerts(b []byte) [][]byte {
	var out [][]byte
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out
		}
		if blk.Type == "CERTIFICATE" {
			out = append(out, bytes.Clone(blk.Bytes))
		}
	}
}
