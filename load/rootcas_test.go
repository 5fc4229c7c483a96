package load

import (
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duckbench/duckbench/spec"
)

// TestWithRootCAs: an https target is served when the attack trusts the
// server's CA (WithRootCAs), and refused without it (the system roots do
// not know a test CA): the client verifies, it does not skip verification.
// The server counts what it answered: the expected figure is its own.
func TestWithRootCAs(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	w := spec.Workload{Rate: 50, Duration: spec.Duration(400 * time.Millisecond), Targets: []spec.Target{{Path: "/kv/{key}"}}}

	rep := run(t, w, srv.URL, WithRootCAs(pool))
	if got := served.Load(); rep.Summary.Success != uint64(got) || got == 0 || rep.Summary.Errors != 0 {
		t.Errorf("with the CA: %d successes, %d errors; the server answered %d", rep.Summary.Success, rep.Summary.Errors, got)
	}
	before := served.Load()
	rep = run(t, w, srv.URL)
	if rep.Summary.Success != 0 || rep.Summary.Errors == 0 || served.Load() != before {
		t.Errorf("without the CA: %d successes, %d errors, %d served; want every request refused by the client", rep.Summary.Success, rep.Summary.Errors, served.Load()-before)
	}
}
