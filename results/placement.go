package results

import (
	"maps"
	"slices"
	"strings"
)

// PlacementText is r.Placement in one line, services in name order, a
// service's nodes joined by "+": "app1@h2+h3 haproxy@h1 redis-master@h3"
// ("" when the record has none).
func (r *Result) PlacementText() string {
	parts := make([]string, 0, len(r.Placement))
	for _, svc := range slices.Sorted(maps.Keys(r.Placement)) {
		nodes := r.Placement[svc]
		if len(nodes) == 0 {
			nodes = []string{"?"}
		}
		parts = append(parts, svc+"@"+strings.Join(nodes, "+"))
	}
	return strings.Join(parts, " ")
}
