package results

// Ratio is num/den, and 0 when den is 0 (0/0 included). A record cannot hold
// NaN (JSON has none), so "nothing to divide" is 0 in a record; every ratio
// in one sits beside its denominator (requests, lookups, hits+misses), which
// tells "none yet" from 0 % where it matters (see ratioOrDash). The exported
// gauges differ on purpose: they give NaN for 0/0, as PromQL would.
func Ratio(num, den float64) float64 {
	if den == 0 {
		return 0
	}
	return num / den
}
