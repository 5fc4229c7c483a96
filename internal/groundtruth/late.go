package groundtruth

import (
	"encoding/json"
	"time"
)

// DelayNext makes the next request to arrive wait d on top of its service
// time (once).
func (b *Backend) DelayNext(d time.Duration) { b.call("/-/late?d=" + d.String()) }

// LateHolds returns the extra holds DelayNext caused, as they happened.
func (b *Backend) LateHolds() []Span {
	var raw [][2]int64
	if err := json.Unmarshal(b.call("/-/late"), &raw); err != nil {
		b.t.Errorf("calibrated backend late holds: %v", err)
	}
	var out []Span
	for _, h := range raw {
		out = append(out, Span{From: time.Unix(0, h[0]), To: time.Unix(0, h[1])})
	}
	return out
}
