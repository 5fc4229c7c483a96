// Package e2e is duckbench's end-to-end suite: it builds the real duckbench
// binary once and drives it as a user would — runs on the local runtime
// with every port "auto", faults, signals at each phase, safe defaults, a
// sweep of invalid invocations — checking exit codes, the files left behind
// and that no process of a run outlives it. The tests need the integration
// tag and the real haproxy and redis-server:
//
//	go test -tags integration ./e2e/ -v
package e2e
