package groundtruth

import "encoding/json"

// ShedCounts are what the backend admitted and shed since its shedding
// rate was last set.
type ShedCounts struct {
	Rate     float64 `json:"rate"`
	Admitted uint64  `json:"admitted"`
	Shed     uint64  `json:"shed"`
}

// Shed makes the backend answer 503 at once to every request beyond rate
// (req/s; a token bucket holding 100 ms of it), as a server that sheds
// load does; 0 stops shedding. It zeroes the counts.
func (b *Backend) Shed(rate float64) {
	b.call("/-/shed?rate=" + jsonFloat(rate))
}

// ShedCounts reports what was admitted and shed since Shed.
func (b *Backend) ShedCounts() ShedCounts {
	var c ShedCounts
	if err := json.Unmarshal(b.call("/-/shed"), &c); err != nil {
		b.t.Errorf("calibrated backend shed counts: %v", err)
	}
	return c
}

func jsonFloat(v float64) string {
	out, _ := json.Marshal(v)
	return string(out)
}
