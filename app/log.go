package app

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// rateLimitedLog lets at most one go-redis log line per interval through:
// with a replica down, the client would otherwise log every failed dial,
// thousands a second under load.
type rateLimitedLog struct {
	mu         sync.Mutex
	w          io.Writer
	every      time.Duration
	last       time.Time
	suppressed int
}

func (l *rateLimitedLog) Printf(_ context.Context, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.last) < l.every {
		l.suppressed++
		return
	}
	if l.suppressed > 0 {
		fmt.Fprintf(l.w, "redis: (%d similar lines suppressed)\n", l.suppressed)
		l.suppressed = 0
	}
	l.last = now
	fmt.Fprintf(l.w, "redis: "+format+"\n", v...)
}

// SetRedisLog routes the Redis client's log (a process-wide setting) to w,
// at most one line per second. For the app's own process only.
func SetRedisLog(w io.Writer) {
	redis.SetLogger(&rateLimitedLog{w: w, every: time.Second})
}
