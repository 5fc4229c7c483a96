// Package duckbench holds what the commands embed from the repository root:
// the Dockerfile, whose final stage `duckbench image build` feeds a binary
// built on the host when no image registry is at hand.
package duckbench

import _ "embed"

// Dockerfile is the repository's multi-stage Dockerfile.
//
//go:embed Dockerfile
var Dockerfile string
