package remotewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"
)

// Defaults of a Writer.
const (
	// DefaultInterval is how often the registry is gathered and sent.
	DefaultInterval = 2 * time.Second
	// DefaultQueue is how many batches wait for a slow or absent receiver
	// before the oldest is dropped (at DefaultInterval: two minutes).
	DefaultQueue = 60
	// DefaultFlushTimeout bounds the final send at Close.
	DefaultFlushTimeout = 5 * time.Second
	// DefaultTimeout bounds one HTTP request.
	DefaultTimeout = 5 * time.Second
	// MinBackoff and MaxBackoff bound the wait between retries of a batch.
	MinBackoff = 100 * time.Millisecond
	MaxBackoff = 5 * time.Second
)

// Options configure a Writer. Zero values take the defaults above.
type Options struct {
	// URL is the receiver, e.g. http://127.0.0.1:9090/api/v1/write.
	URL string
	// Labels are added to every series (run, spec, spec_hash, runtime, the
	// user's --label k=v).
	Labels map[string]string
	// Prefix selects the families sent (default DefaultPrefix).
	Prefix       string
	Interval     time.Duration
	Queue        int
	FlushTimeout time.Duration
	Timeout      time.Duration
	// Client is the HTTP client (default one with Timeout).
	Client *http.Client
	// Now is the clock (tests).
	Now func() time.Time
}

// Stats say what became of the batches.
type Stats struct {
	// Sent and Dropped count batches; SentSeries and DroppedSeries their
	// series. Dropped ones are those pushed out of the full queue, those the
	// receiver rejected (4xx) and those still queued when Close gave up.
	Sent, Dropped             int
	SentSeries, DroppedSeries int
	// Retries counts failed attempts that were retried.
	Retries int
	// LastError is the last failure ("" for none).
	LastError string
}

// Writer gathers a registry at an interval and sends each gathering as one
// remote-write request.
type Writer struct {
	o     Options
	g     prometheus.Gatherer
	mu    sync.Mutex
	queue [][]prompb.TimeSeries
	stats Stats
	wake  chan struct{}
	// failing is true while the receiver could not be reached at the
	// last attempt (nothing listens, a time-out): Close then does not wait
	// for it. A receiver that answers 5xx or 429 is waited for.
	failing bool

	cancel   context.CancelFunc
	flushing chan struct{} // closed when Close starts the final flush
	done     sync.WaitGroup
}

// Start begins gathering g and sending. Close stops it.
func Start(ctx context.Context, g prometheus.Gatherer, o Options) *Writer {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = DefaultFlushTimeout
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	w := &Writer{o: o, g: g, wake: make(chan struct{}, 1), flushing: make(chan struct{})}
	ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w.done.Add(2)
	go w.gatherLoop(ctx)
	go w.sendLoop(ctx)
	return w
}

// Close gathers once more (the run's final figures), sends what is queued
// within the flush timeout — not waiting at all for a receiver that could
// not be reached at the last attempt — stops, and returns the stats.
func (w *Writer) Close() Stats {
	close(w.flushing)
	w.gather()
	deadline := time.Now().Add(w.o.FlushTimeout)
	for time.Now().Before(deadline) && w.pending() > 0 && !w.isFailing() {
		time.Sleep(20 * time.Millisecond)
	}
	w.cancel()
	w.done.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.queue {
		w.stats.Dropped++
		w.stats.DroppedSeries += len(b)
	}
	w.queue = nil
	return w.stats
}

func (w *Writer) isFailing() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failing
}

func (w *Writer) pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

func (w *Writer) gatherLoop(ctx context.Context) {
	defer w.done.Done()
	t := time.NewTicker(w.o.Interval)
	defer t.Stop()
	w.gather()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.flushing:
			return
		case <-t.C:
			w.gather()
		}
	}
}

// gather adds one batch to the queue, dropping the oldest when it is full.
func (w *Writer) gather() {
	mfs, err := w.g.Gather()
	if err != nil && len(mfs) == 0 {
		w.fail(fmt.Errorf("gather: %w", err))
		return
	}
	ts := Convert(mfs, w.o.Prefix, w.o.Labels, w.o.Now())
	if len(ts) == 0 {
		return
	}
	w.mu.Lock()
	if len(w.queue) >= w.o.Queue {
		w.stats.Dropped++
		w.stats.DroppedSeries += len(w.queue[0])
		w.queue = w.queue[1:]
	}
	w.queue = append(w.queue, ts)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Writer) fail(err error) {
	w.mu.Lock()
	w.stats.LastError = err.Error()
	w.mu.Unlock()
}

// sendLoop sends the queue's head until it goes through or is rejected,
// waiting between attempts with doubling back-off.
func (w *Writer) sendLoop(ctx context.Context) {
	defer w.done.Done()
	backoff := MinBackoff
	for {
		w.mu.Lock()
		var head []prompb.TimeSeries
		if len(w.queue) > 0 {
			head = w.queue[0]
		}
		w.mu.Unlock()
		if head == nil {
			select {
			case <-ctx.Done():
				return
			case <-w.wake:
				continue
			}
		}
		err := w.send(ctx, head)
		w.mu.Lock()
		switch {
		case err == nil || errors.Is(err, errRejected):
			if len(w.queue) > 0 && sameBatch(w.queue[0], head) {
				w.queue = w.queue[1:]
			}
			if err == nil {
				w.stats.Sent++
				w.stats.SentSeries += len(head)
			} else {
				w.stats.Dropped++
				w.stats.DroppedSeries += len(head)
				w.stats.LastError = err.Error()
			}
			backoff = MinBackoff
			w.failing = false
			w.mu.Unlock()
			continue
		default:
			w.stats.Retries++
			w.stats.LastError = err.Error()
			w.failing = errors.Is(err, errUnreachable)
		}
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, MaxBackoff)
	}
}

func sameBatch(a, b []prompb.TimeSeries) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// errUnreachable marks an attempt that got no answer at all.
var errUnreachable = errors.New("receiver unreachable")

// errRejected marks a request the receiver refused for good (4xx other
// than 429): retrying it cannot help.
var errRejected = errors.New("rejected by the receiver")

func (w *Writer) send(ctx context.Context, ts []prompb.TimeSeries) error {
	req := &prompb.WriteRequest{Timeseries: ts}
	raw, err := req.Marshal()
	if err != nil {
		return fmt.Errorf("%w: marshal write request: %v", errRejected, err)
	}
	body := snappy.Encode(nil, raw)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, w.o.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: build request: %v", errRejected, err)
	}
	hr.Header.Set("Content-Encoding", "snappy")
	hr.Header.Set("Content-Type", "application/x-protobuf")
	hr.Header.Set("User-Agent", "duckbench")
	hr.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := w.o.Client.Do(hr)
	if err != nil {
		return fmt.Errorf("%w: remote write to %s: %w", errUnreachable, w.o.URL, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests:
		return fmt.Errorf("%w: remote write to %s: %s: %s", errRejected, w.o.URL, resp.Status, bytes.TrimSpace(msg))
	default:
		return fmt.Errorf("remote write to %s: %s: %s", w.o.URL, resp.Status, bytes.TrimSpace(msg))
	}
}
