package configgen

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/duckbench/duckbench/hacfg"
	"github.com/duckbench/duckbench/labtls"
	"github.com/duckbench/duckbench/spec"
)

// LabTLSDir is the lab certificate's directory inside a run dir (mode 0700,
// its files 0600): labtls.CertFile for HAProxy, labtls.CAFile for the load.
const LabTLSDir = "tls"

// LabCertPath is the lab certificate HAProxy's TLS binds serve (local):
// <RunDir>/tls/lab.pem.
func (t Target) LabCertPath() string { return filepath.Join(t.RunDir, LabTLSDir, labtls.CertFile) }

// LabCAPath is the lab CA the load generator trusts (local):
// <RunDir>/tls/lab-ca.pem.
func (t Target) LabCAPath() string { return filepath.Join(t.RunDir, LabTLSDir, labtls.CAFile) }

// WriteLabTLS writes a fresh lab CA and server certificate into
// <dir>/tls when the render serves one (LabTLS), else does nothing. dir is
// the run dir the render's Target named: the rendered haproxy.cfg reads the
// certificate there.
func (f *Files) WriteLabTLS(dir string) error {
	if !f.LabTLS {
		return nil
	}
	return labtls.Generate(filepath.Join(dir, LabTLSDir))
}

// tlsBind rewrites the TLS options of bind line l (opts: the words after
// the address) and reports each change. On a bind with ssl, the user's crt
// and crt-list give way to the lab certificate, the options that point at
// the user's TLS files (ca-file, crl-file, …, and verify, which needs
// ca-file) are dropped, and every other TLS option (alpn, ciphers,
// ssl-min-ver, …) is kept in place. A bind without ssl loses them all.
func (f *haFile) tlsBind(l *hacfg.Line, opts []string) []string {
	kept, certs := strip(opts, certBindOpts)
	kept, files := strip(kept, tlsFileBindOpts)
	ssl := spec.BindSSL(kept)
	if ssl < 0 {
		if dropped := append(certs, files...); len(dropped) > 0 {
			f.note(l, "dropped "+strings.Join(dropped, ", "), "TLS options of a bind without ssl")
		}
		return kept
	}
	f.labTLS = true
	for _, c := range certs {
		f.note(l, "replaced `"+c+"` with the lab certificate", "the lab serves TLS with a certificate it makes per run; your key is never read")
	}
	if len(certs) == 0 {
		f.note(l, "added the lab certificate", "the lab serves TLS with a certificate it makes per run")
	}
	if len(files) > 0 {
		f.note(l, "dropped "+strings.Join(files, ", "), "points at your TLS files: the lab reads none of them, and its load sends no client certificate")
	}
	return slices.Insert(kept, ssl+1, "crt", f.t.LabCertPath())
}
