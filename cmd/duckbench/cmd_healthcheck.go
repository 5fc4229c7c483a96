package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/compose"
)

func init() { register(newHealthcheckCmd) }

// newHealthcheckCmd is the container health check of the compose runtime
// (hidden): the app image is FROM scratch, with no shell or curl, so its
// duckbench binary probes the app itself (the Dockerfile's HEALTHCHECK).
func newHealthcheckCmd() *cobra.Command {
	var timeout time.Duration
	c := &cobra.Command{
		Use:    "healthcheck URL|tcp:HOST:PORT",
		Short:  "Exit 0 when an HTTP URL answers 2xx/3xx or a TCP port accepts (container health check)",
		Hidden: true,
		Example: `  duckbench healthcheck http://127.0.0.1:8001/healthz
  duckbench healthcheck tcp:127.0.0.1:6301`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return checkErr(compose.Probe(ctx, args[0]))
		},
	}
	c.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "give up after this long")
	return c
}
