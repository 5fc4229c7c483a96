package export

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/duckbench/duckbench/results"
)

// deadURL is a loopback URL nothing listens on.
func deadURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

// TestExporterDestinationsDown: with both destinations down, a session's
// export logs what failed and was dropped, within bounded time, and never
// panics or blocks.
func TestExporterDestinationsDown(t *testing.T) {
	var log bytes.Buffer
	e := &Exporter{RemoteWrite: deadURL(t) + "/api/v1/write", Pushgateway: deadURL(t), Interval: 10 * time.Millisecond, Log: &log}
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "duckbench_x", Help: "x"})
	reg.MustRegister(g)
	start := time.Now()
	stop := e.Start(context.Background(), reg, map[string]string{"run": "r1"})
	time.Sleep(50 * time.Millisecond)
	e.Recorded(&results.Result{ID: "r1"}, map[string]string{"run": "r1"})
	stop()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("export with both destinations down took %v", d)
	}
	st := e.Stats()
	if len(st) != 1 || st[0].Sent != 0 || st[0].Dropped == 0 {
		t.Errorf("Stats = %+v; want one session, nothing sent, some dropped", st)
	}
	for _, want := range []string{"pushgateway: push run r1", "remote write: 0 requests sent", "dropped"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestExporterNothing(t *testing.T) {
	var e *Exporter
	if e.Enabled() {
		t.Error("nil Exporter is enabled")
	}
	if (&Exporter{}).Enabled() {
		t.Error("Exporter without destinations is enabled")
	}
}
