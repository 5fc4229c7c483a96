// Command duckbench turns one YAML spec into a running HAProxy + app + Redis
// stack, drives load through HAProxy, and records, exports and compares the
// results. This package only wires commands to packages and maps errors to
// exit codes.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes (see DESIGN.md).
const (
	exitOK         = 0
	exitCheckFail  = 1 // an SLO, regression or capacity check failed
	exitUsage      = 2 // bad usage or bad spec
	exitDependency = 3 // the stack or a dependency failed
	// exitInterrupted follows the shell's convention for SIGINT (128+2).
	exitInterrupted = 130
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so that run exits with code. An error that already
// carries a code keeps it: the innermost decision (e.g. a usage error found
// deep in a dependency's setup) is the one that names the cause.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: code, err: err}
}

// usageErr, checkErr and depErr are shorthands for withCode.
func usageErr(err error) error { return withCode(exitUsage, err) }
func checkErr(err error) error { return withCode(exitCheckFail, err) }
func depErr(err error) error   { return withCode(exitDependency, err) }

// commands holds constructors registered by the cmd_*.go files' init.
var commands []func() *cobra.Command

func register(f func() *cobra.Command) { commands = append(commands, f) }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "duckbench",
		Short:         "Spec-driven HAProxy + app + Redis benchmarks with replication and hit-ratio metrics",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr(err) })
	for _, f := range commands {
		root.AddCommand(f())
	}
	return root
}

func run(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "duckbench:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// cobra's own errors (unknown command, bad args) are usage errors.
	return exitUsage
}

func main() { os.Exit(run(os.Args[1:])) }
