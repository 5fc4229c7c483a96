//go:build integration

package stack

// Helpers of the internal integration tests, for the conformance test in
// package stack_test (which cannot be internal: stacktest imports stack).
var (
	TestBinary     = func() string { return duckbenchBin }
	TestRunDir     = runDir
	ProcessesUnder = processesUnder
)
