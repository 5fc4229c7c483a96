// Package app is the reference web app that stands in for the origin lab's
// Django app: a small HTTP server backed by a Redis master and its replicas.
// It reads through a cache-aside pattern (replicas round-robin, values
// computed on a miss at a simulated origin cost and written to the master with
// a TTL) and tells on every response which instance served it.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Defaults for Config fields left zero.
const (
	DefaultOriginCost  = 2 * time.Millisecond
	DefaultCacheTTL    = 60 * time.Second
	DefaultListen      = "127.0.0.1:8001"
	DefaultRedisMaster = "127.0.0.1:6379"
	// DefaultRedisTimeout bounds one Redis command.
	DefaultRedisTimeout = time.Second
	// MaxBodySize caps a PUT body.
	MaxBodySize = 1 << 20
)

// Config configures one app instance.
type Config struct {
	// Name is the instance name sent in X-Served-By (required).
	Name string
	// Listen is the address to serve on (default DefaultListen).
	Listen string
	// RedisMaster is the master's host:port (default DefaultRedisMaster).
	RedisMaster string
	// RedisReplicas are read in turn; with none, reads go to the master.
	RedisReplicas []string
	// RedisPassword authenticates every Redis link ("" = none).
	RedisPassword string
	// OriginCost is how long computing a value takes on a miss. A negative
	// value means no cost; zero means DefaultOriginCost.
	OriginCost time.Duration
	// CacheTTL is the Redis TTL of computed values and the Cache-Control
	// max-age. A negative value stores values without TTL and marks
	// responses uncacheable; zero means DefaultCacheTTL.
	CacheTTL time.Duration
	// MaxConcurrency caps in-flight requests (0 = no cap); requests beyond
	// it get 503. /healthz is exempt so that HAProxy keeps the server UP.
	MaxConcurrency int
	// PoolSize is the connection pool size per Redis link (default 128).
	PoolSize int
}

func (c *Config) applyDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.RedisMaster == "" {
		c.RedisMaster = DefaultRedisMaster
	}
	if c.OriginCost == 0 {
		c.OriginCost = DefaultOriginCost
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = DefaultCacheTTL
	}
	if c.PoolSize <= 0 {
		c.PoolSize = 128
	}
}

// App is one running instance. It is an http.Handler.
type App struct {
	cfg      Config
	master   *redis.Client
	replicas []*redis.Client
	next     atomic.Uint64
	inflight atomic.Int64
	max      int64

	// Header values built once: assigning a prebuilt slice avoids
	// canonicalising and allocating on every request.
	servedBy     []string
	cacheControl []string
	hello        []byte
}

var (
	hdrHit     = []string{"hit"}
	hdrMiss    = []string{"miss"}
	hdrNoStore = []string{"no-store"}
	hdrText    = []string{"text/plain; charset=utf-8"}
	hdrJSON    = []string{"application/json"}
	hdrRetry   = []string{"1"}
)

// New returns an app for cfg. It does not dial Redis until the first request.
func New(cfg Config) (*App, error) {
	cfg.applyDefaults()
	if cfg.Name == "" {
		return nil, errors.New("new app: name is required")
	}
	if cfg.MaxConcurrency < 0 {
		return nil, fmt.Errorf("new app: max concurrency must be >= 0 (got %d)", cfg.MaxConcurrency)
	}
	a := &App{
		cfg:      cfg,
		max:      int64(cfg.MaxConcurrency),
		servedBy: []string{cfg.Name},
		hello:    []byte("hello from " + cfg.Name + "\n"),
	}
	if cfg.CacheTTL > 0 {
		a.cacheControl = []string{"public, max-age=" + strconv.Itoa(int(cfg.CacheTTL/time.Second))}
	} else {
		a.cacheControl = hdrNoStore
	}
	// The master retries once; a replica fails fast, because a failed read
	// falls back to the master at once.
	a.master = newClient(cfg.RedisMaster, cfg, 1)
	for _, r := range cfg.RedisReplicas {
		a.replicas = append(a.replicas, newClient(r, cfg, -1))
	}
	return a, nil
}

func newClient(addr string, cfg Config, retries int) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:       addr,
		MaxRetries: retries,
		// A refused connection will not be accepted 100ms later: one
		// attempt per command, not five with backoff.
		DialerRetries:      1,
		DialerRetryTimeout: 10 * time.Millisecond,
		Password:           cfg.RedisPassword,
		Protocol:           2, // no HELLO round trip on connect
		DisableIdentity:    true,
		PoolSize:           cfg.PoolSize,
		DialTimeout:        time.Second,
		ReadTimeout:        DefaultRedisTimeout,
		WriteTimeout:       DefaultRedisTimeout,
		PoolTimeout:        2 * time.Second,
		// Small values only: 4 KiB buffers keep a big pool cheap.
		ReadBufferSize:           4 << 10,
		WriteBufferSize:          4 << 10,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
}

// Close closes every Redis link.
func (a *App) Close() error {
	err := a.master.Close()
	for _, r := range a.replicas {
		err = errors.Join(err, r.Close())
	}
	return err
}

// ServeHTTP routes: GET /, GET|PUT /kv/{key}, GET /healthz.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["X-Served-By"] = a.servedBy
	path := r.URL.Path
	if path == "/healthz" {
		a.serveHealth(w, r)
		return
	}
	if a.max > 0 {
		if a.inflight.Add(1) > a.max {
			a.inflight.Add(-1)
			h["Retry-After"] = hdrRetry
			h["Cache-Control"] = hdrNoStore
			http.Error(w, "over capacity", http.StatusServiceUnavailable)
			return
		}
		defer a.inflight.Add(-1)
	}
	switch {
	case path == "/":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
		h["Content-Type"] = hdrText
		h["Cache-Control"] = hdrNoStore
		w.Write(a.hello)
	case len(path) > 4 && path[:4] == "/kv/":
		key := path[4:]
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			a.serveGet(w, r, key)
		case http.MethodPut:
			a.servePut(w, r, key)
		default:
			methodNotAllowed(w, "GET, HEAD, PUT")
		}
	default:
		h["Cache-Control"] = hdrNoStore
		http.NotFound(w, r)
	}
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	w.Header()["Cache-Control"] = hdrNoStore
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// reader picks the next replica round-robin, or the master without replicas.
func (a *App) reader() *redis.Client {
	n := len(a.replicas)
	if n == 0 {
		return a.master
	}
	return a.replicas[(a.next.Add(1)-1)%uint64(n)]
}

func (a *App) serveGet(w http.ResponseWriter, r *http.Request, key string) {
	ctx := r.Context()
	h := w.Header()
	rd := a.reader()
	val, err := rd.Get(ctx, key).Bytes()
	if err != nil && err != redis.Nil && rd != a.master {
		// A replica that fails is not a miss: ask the master.
		val, err = a.master.Get(ctx, key).Bytes()
	}
	switch {
	case err == nil:
		h["X-Cache"] = hdrHit
	case err == redis.Nil:
		val = a.compute(ctx, key)
		if err := a.master.Set(ctx, key, val, max(a.cfg.CacheTTL, 0)).Err(); err != nil {
			h["Cache-Control"] = hdrNoStore
			http.Error(w, "redis set: "+err.Error(), http.StatusBadGateway)
			return
		}
		h["X-Cache"] = hdrMiss
	default:
		h["Cache-Control"] = hdrNoStore
		http.Error(w, "redis get: "+err.Error(), http.StatusBadGateway)
		return
	}
	h["Content-Type"] = hdrText
	h["Cache-Control"] = a.cacheControl
	w.Write(val)
}

// compute is the simulated origin: it costs OriginCost and returns a value
// that depends only on the key.
func (a *App) compute(ctx context.Context, key string) []byte {
	if a.cfg.OriginCost > 0 {
		t := time.NewTimer(a.cfg.OriginCost)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	return Value(key)
}

// Value is the value the app computes for key on a miss.
func Value(key string) []byte {
	f := fnv.New64a()
	io.WriteString(f, key)
	b := make([]byte, 0, len(key)+24)
	b = append(b, "value:"...)
	b = append(b, key...)
	b = append(b, ':')
	return strconv.AppendUint(b, f.Sum64(), 16)
}

func (a *App) servePut(w http.ResponseWriter, r *http.Request, key string) {
	h := w.Header()
	h["Cache-Control"] = hdrNoStore
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	if err := a.master.Set(r.Context(), key, body, max(a.cfg.CacheTTL, 0)).Err(); err != nil {
		http.Error(w, "redis set: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Health is the /healthz body.
type Health struct {
	// Status is ok (every link answers), degraded (some do) or down (none).
	Status string `json:"status"`
	Name   string `json:"name"`
	// Redis maps each link ("master", "replica-N") to "ok" or the error.
	Redis map[string]string `json:"redis"`
}

// Check PINGs every Redis link. A replica or the master alone failing
// is "degraded" (reads fall back, the app still serves); nothing answering
// is "down".
func (a *App) Check(ctx context.Context) Health {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	hl := Health{Name: a.cfg.Name, Redis: map[string]string{}}
	type res struct {
		name string
		err  error
	}
	ch := make(chan res, 1+len(a.replicas))
	ping := func(name string, c *redis.Client) { ch <- res{name, c.Ping(ctx).Err()} }
	go ping("master", a.master)
	for i, r := range a.replicas {
		go ping("replica-"+strconv.Itoa(i+1), r)
	}
	ok := 0
	for range 1 + len(a.replicas) {
		r := <-ch
		if r.err != nil {
			hl.Redis[r.name] = r.err.Error()
			continue
		}
		hl.Redis[r.name] = "ok"
		ok++
	}
	switch {
	case ok == 1+len(a.replicas):
		hl.Status = "ok"
	case ok > 0:
		hl.Status = "degraded"
	default:
		hl.Status = "down"
	}
	return hl
}

func (a *App) serveHealth(w http.ResponseWriter, r *http.Request) {
	hl := a.Check(r.Context())
	w.Header()["Content-Type"] = hdrJSON
	w.Header()["Cache-Control"] = hdrNoStore
	if hl.Status == "down" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(hl)
}

// NewServer returns an http.Server for a with timeouts fit for a benchmark
// backend: slow clients cannot hold connections forever, keep-alive is long.
func NewServer(a *App) *http.Server {
	return &http.Server{
		Addr:              a.cfg.Listen,
		Handler:           a,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Run serves a on cfg.Listen until ctx is done, then shuts down gracefully
// (at most 5s) and closes the Redis links. ready, if not nil, is called with
// the bound address once the listener is open.
func (a *App) Run(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %q: %w", a.cfg.Listen, err)
	}
	srv := NewServer(a)
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		a.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	return errors.Join(err, a.Close())
}
