package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// shedder answers 503 at once to every request beyond a rate (req/s): a
// token bucket of that rate holding 100 ms of it, so a steady load at or
// under the rate is served whole and the excess of a faster one is shed.
// 0 = no shedding. /-/shed?rate=400 sets the rate (and zeroes the
// counts); /-/shed reports what was admitted and shed.
type shedder struct {
	mu               sync.Mutex
	rate, tokens     float64
	last             time.Time
	admitted, denied uint64
}

// admit takes a token, or reports that the request is shed.
func (s *shedder) admit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rate <= 0 {
		return true
	}
	now := time.Now()
	burst := max(1, s.rate*0.1)
	s.tokens = min(burst, s.tokens+now.Sub(s.last).Seconds()*s.rate)
	s.last = now
	if s.tokens < 1 {
		s.denied++
		return false
	}
	s.tokens--
	s.admitted++
	return true
}

// wrap sheds before next serves.
func (s *shedder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.admit() {
			w.Header().Set("Content-Length", "4")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("shed"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *shedder) control(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := r.URL.Query().Get("rate"); v != "" {
		rate, err := strconv.ParseFloat(v, 64)
		if err != nil || rate < 0 {
			http.Error(w, "rate: want req/s >= 0", http.StatusBadRequest)
			return
		}
		s.rate, s.last, s.admitted, s.denied = rate, time.Now(), 0, 0
		s.tokens = max(1, rate*0.1)
	}
	json.NewEncoder(w).Encode(map[string]any{"rate": s.rate, "admitted": s.admitted, "shed": s.denied})
}
