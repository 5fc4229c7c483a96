package spec

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as "250ms", "10s", "1m30s".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a Go duration string ("10s"); a bare 0 is allowed.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "0" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("must be a duration like 250ms, 10s or 1m (got %q)", s)
	}
	*d = Duration(v)
	return nil
}

// Port is a TCP port: 1-65535, PortAuto ("auto": pick a free one), or 0 (unset).
type Port int

// PortAuto asks the runtime to pick a free port.
const PortAuto Port = -1

// IsAuto reports whether the port is "auto".
func (p Port) IsAuto() bool { return p == PortAuto }

func (p Port) String() string {
	if p == PortAuto {
		return "auto"
	}
	return strconv.Itoa(int(p))
}

// MarshalText writes the port number or "auto".
func (p Port) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a port number or "auto". Range is checked by Validate,
// so that the message can carry the field path.
func (p *Port) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "auto" {
		*p = PortAuto
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("must be a port number 1-65535 or \"auto\" (got %q)", s)
	}
	if n < 0 {
		n = math.MinInt32 // keeps negative input distinct from PortAuto
	}
	*p = Port(n)
	return nil
}

// ByteSize is a size in bytes written as "64mb", "512kb", "1gb" or a number.
type ByteSize int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10},
	{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1},
}

// MarshalText writes the size with the largest exact unit.
func (s ByteSize) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s ByteSize) String() string {
	switch {
	case s != 0 && s%(1<<30) == 0:
		return fmt.Sprintf("%dgb", s>>30)
	case s != 0 && s%(1<<20) == 0:
		return fmt.Sprintf("%dmb", s>>20)
	case s != 0 && s%(1<<10) == 0:
		return fmt.Sprintf("%dkb", s>>10)
	}
	return strconv.FormatInt(int64(s), 10)
}

// UnmarshalText reads "64mb", "512kb", "1gb", "100b" or a plain byte count.
func (s *ByteSize) UnmarshalText(b []byte) error {
	str := strings.ToLower(strings.TrimSpace(string(b)))
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(str, u.suffix) {
			str, mult = strings.TrimSpace(strings.TrimSuffix(str, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(str, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("must be a size like 64mb, 512kb or 1gb (got %q)", string(b))
	}
	*s = ByteSize(n * mult)
	return nil
}

// Rate is requests per second, or RateMax ("max") for as fast as possible.
type Rate float64

// RateMax means no pacing: as fast as the workers go.
const RateMax Rate = -1

// IsMax reports whether the rate is "max".
func (r Rate) IsMax() bool { return r == RateMax }

func (r Rate) String() string {
	if r == RateMax {
		return "max"
	}
	return strconv.FormatFloat(float64(r), 'f', -1, 64)
}

// MarshalText writes the rate or "max".
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a number of requests per second or "max".
func (r *Rate) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "max" {
		*r = RateMax
		return nil
	}
	s = strings.TrimSuffix(s, "/s")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("must be requests per second or \"max\" (got %q)", string(b))
	}
	if v < 0 {
		v = -2 // keeps negative input distinct from RateMax; Validate rejects it
	}
	*r = Rate(v)
	return nil
}

// Percent is a fraction written as "99.9%" (or 0.999); stored as 0-1.
type Percent float64

// MarshalText writes the value as a percentage.
func (p Percent) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

func (p Percent) String() string {
	return strconv.FormatFloat(float64(p)*100, 'f', -1, 64) + "%"
}

// UnmarshalText reads "99.9%" or a fraction such as 0.999.
func (p *Percent) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("must be a percentage like 99.9%% (got %q)", s)
	}
	if pct {
		v /= 100
	}
	*p = Percent(v)
	return nil
}
