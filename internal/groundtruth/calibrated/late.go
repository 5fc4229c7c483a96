package main

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// late holds one chosen request longer than the others: /-/late?d=3s arms
// it for the next request to arrive, GET /-/late lists the late holds as
// they happened ([from, to] in Unix nanoseconds).
type late struct {
	mu    sync.Mutex
	armed time.Duration
	holds [][2]int64
}

// hold sleeps the armed extra time if it is armed, and disarms it.
func (l *late) hold() {
	l.mu.Lock()
	d := l.armed
	l.armed = 0
	l.mu.Unlock()
	if d <= 0 {
		return
	}
	from := time.Now()
	time.Sleep(d)
	l.mu.Lock()
	l.holds = append(l.holds, [2]int64{from.UnixNano(), time.Now().UnixNano()})
	l.mu.Unlock()
}

func (l *late) control(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v := r.URL.Query().Get("d"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		l.armed = d
		return
	}
	json.NewEncoder(w).Encode(l.holds)
}
