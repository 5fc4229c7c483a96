// Package export sends a session's series and records where the user's
// metrics live: its Exporter (a runner.Exporter) runs a remote-write
// Writer for the session's registry during the run and pushes each saved
// record's summary to a Pushgateway. Failures are logged, never fatal.
package export

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/duckbench/duckbench/export/pushgw"
	"github.com/duckbench/duckbench/export/remotewrite"
	"github.com/duckbench/duckbench/results"
)

// PushTimeout bounds one push to the Pushgateway.
const PushTimeout = 10 * time.Second

// Exporter is the --remote-write and --pushgateway destinations of a
// command's sessions.
type Exporter struct {
	// RemoteWrite is the remote-write receiver's URL ("" for none).
	RemoteWrite string
	// Pushgateway is the Pushgateway's URL ("" for none).
	Pushgateway string
	// Interval overrides remotewrite.DefaultInterval (0: default).
	Interval time.Duration
	// Log receives what was sent and dropped (nil: nothing).
	Log io.Writer

	mu    sync.Mutex
	stats []remotewrite.Stats
}

// Enabled says whether there is anywhere to export to.
func (e *Exporter) Enabled() bool { return e != nil && (e.RemoteWrite != "" || e.Pushgateway != "") }

// Start implements runner.Exporter: a remote-write Writer for g, whose
// Close (the returned stop) sends the final figures and logs the stats.
func (e *Exporter) Start(ctx context.Context, g prometheus.Gatherer, labels map[string]string) func() {
	if e.RemoteWrite == "" {
		return func() {}
	}
	w := remotewrite.Start(ctx, g, remotewrite.Options{URL: e.RemoteWrite, Labels: labels, Interval: e.Interval})
	e.logf("remote write to %s (run=%s)", e.RemoteWrite, labels["run"])
	return func() {
		st := w.Close()
		e.mu.Lock()
		e.stats = append(e.stats, st)
		e.mu.Unlock()
		msg := fmt.Sprintf("remote write: %d requests sent (%d series), %d dropped (%d series), %d retries",
			st.Sent, st.SentSeries, st.Dropped, st.DroppedSeries, st.Retries)
		if st.LastError != "" {
			msg += "; last error: " + st.LastError
		}
		e.logf("%s", msg)
	}
}

// Recorded implements runner.Exporter: it pushes r's summary.
func (e *Exporter) Recorded(r *results.Result, labels map[string]string) {
	if e.Pushgateway == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), PushTimeout)
	defer cancel()
	if err := pushgw.Push(ctx, e.Pushgateway, r, labels); err != nil {
		e.logf("pushgateway: %v (the run's record is kept)", err)
		return
	}
	e.logf("pushed the summary of %s to %s", r.ID, e.Pushgateway)
}

// Stats are the remote-write stats of the sessions that ended.
func (e *Exporter) Stats() []remotewrite.Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]remotewrite.Stats(nil), e.stats...)
}

func (e *Exporter) logf(format string, args ...any) {
	if e.Log != nil {
		fmt.Fprintf(e.Log, format+"\n", args...)
	}
}
