// Package haproxyprobe is a small client of HAProxy's Runtime API (a unix
// socket or a TCP stats socket) and a prometheus.Collector over its
// `show stat`: per-server state, requests, share of the backend and
// responses by class, per-backend cache lookups and hits.
package haproxyprobe

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Row types of `show stat` (the "type" column).
const (
	TypeFrontend = 0
	TypeBackend  = 1
	TypeServer   = 2
	TypeListener = 3
)

// ErrNoHeader is returned by ParseStat when the input has no "# " header line.
var ErrNoHeader = errors.New("show stat: no \"# pxname,svname,…\" header line")

// CodeClasses are the response classes of `show stat`, in column order.
var CodeClasses = []string{"1xx", "2xx", "3xx", "4xx", "5xx", "other"}

// StatRow is one line of `show stat`, with the fields the probes use and
// every field by its header name in Fields.
type StatRow struct {
	Proxy   string // pxname
	Service string // svname: FRONTEND, BACKEND or a server name
	Type    int
	Status  string // UP, DOWN, "UP 1/3", MAINT, no check, OPEN, …
	Weight  uint64
	// Sessions is stot; in HTTP mode one per request that reached the server.
	Sessions uint64
	// Requests is req_tot (HTTP requests; servers have it since 2.4).
	Requests uint64
	// Responses maps a class of CodeClasses to hrsp_<class>.
	Responses    map[string]uint64
	CacheLookups uint64
	CacheHits    uint64
	Fields       map[string]string
}

// Up reports whether a server takes traffic per its status: UP (also while
// going down, "UP 1/3"), no check, DRAIN and NOLB count as up.
func (r StatRow) Up() bool {
	s := r.Status
	return strings.HasPrefix(s, "UP") || s == "no check" || s == "DRAIN" || s == "NOLB" || s == "OPEN"
}

// Ready reports whether a server is fully in service: UP with its last
// health check passed (L4OK, L6OK or L7OK, "* "-prefixed while the next
// check runs), or "no check" when checks are off. It is stricter than Up,
// which also counts a server on its way down ("UP 1/3") or draining: a
// stack is up once every server is Ready.
func (r StatRow) Ready() bool {
	if r.Status == "no check" {
		return true
	}
	if r.Status != "UP" {
		return false
	}
	c := strings.TrimPrefix(r.Fields["check_status"], "* ")
	return c == "" || strings.HasPrefix(c, "L7OK") || strings.HasPrefix(c, "L4OK") || strings.HasPrefix(c, "L6OK")
}

// Uint returns a numeric field by header name; false when absent or empty.
func (r StatRow) Uint(name string) (uint64, bool) {
	v, err := strconv.ParseUint(r.Fields[name], 10, 64)
	return v, err == nil
}

// ParseStat reads `show stat` CSV. Columns are found by their header name,
// never by position: positions past ~100 differ between builds. Rows with a
// field count different from the header are read as far as both go;
// non-numeric counters read as 0.
func ParseStat(r io.Reader) ([]StatRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = false
	var header []string
	var rows []StatRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse show stat: %w", err)
		}
		if header == nil {
			if len(rec) == 0 || !strings.HasPrefix(rec[0], "# ") {
				return nil, ErrNoHeader
			}
			rec[0] = strings.TrimPrefix(rec[0], "# ")
			header = rec
			continue
		}
		if len(rec) == 1 && rec[0] == "" {
			continue
		}
		rows = append(rows, newRow(header, rec))
	}
	if header == nil {
		return nil, ErrNoHeader
	}
	return rows, nil
}

func newRow(header, rec []string) StatRow {
	f := make(map[string]string, len(header))
	for i, name := range header {
		if i >= len(rec) {
			break
		}
		if name != "" && name != "-" {
			f[name] = rec[i]
		}
	}
	u := func(name string) uint64 { v, _ := strconv.ParseUint(f[name], 10, 64); return v }
	row := StatRow{
		Proxy: f["pxname"], Service: f["svname"], Status: f["status"],
		Weight: u("weight"), Sessions: u("stot"), Requests: u("req_tot"),
		CacheLookups: u("cache_lookups"), CacheHits: u("cache_hits"),
		Responses: make(map[string]uint64, len(CodeClasses)), Fields: f,
	}
	for _, c := range CodeClasses {
		row.Responses[c] = u("hrsp_" + c)
	}
	if t, err := strconv.Atoi(f["type"]); err == nil {
		row.Type = t
	} else {
		switch row.Service {
		case "FRONTEND":
			row.Type = TypeFrontend
		case "BACKEND":
			row.Type = TypeBackend
		default:
			row.Type = TypeServer
		}
	}
	return row
}

// ParseInfo reads `show info`: "Name: value" lines.
func ParseInfo(r io.Reader) (map[string]string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read show info: %w", err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && k != "" {
			out[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("show info: empty reply")
	}
	return out, nil
}
