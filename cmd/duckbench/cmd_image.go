package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/appimage"
)

func init() { register(newImageCmd) }

func newImageCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "image",
		Short: "Build the container image of the built-in app (duckbench:<version>)",
	}
	c.AddCommand(newImageBuildCmd())
	return c
}

func newImageBuildCmd() *cobra.Command {
	var tag, binary, source string
	c := &cobra.Command{
		Use:   "build",
		Short: "Build the app image the compose runtime runs",
		Long: `Build the image of duckbench's built-in app, which the compose runtime and a
rendered compose.yaml run by default (duckbench:<version>; a spec's
apps[].image overrides it).

By default it needs no image registry: the final stage of the repository's
Dockerfile (FROM scratch, a non-root user, a HEALTHCHECK) is fed a static
duckbench binary built on this machine — this one, or --binary. Build a
static binary with CGO_ENABLED=0 (for Docker Desktop on macOS or Windows
also GOOS=linux). An image built from the same binary is kept as it is.

With a registry at hand, --source DIR runs the whole multi-stage Dockerfile
of a duckbench checkout instead (its Go build stage pulls the golang image):
the same as docker build --build-arg VERSION=<version> -t duckbench:<version> DIR.`,
		Example: `  CGO_ENABLED=0 go build -o duckbench ./cmd/duckbench && ./duckbench image build
  duckbench image build --binary ./duckbench-linux --tag duckbench:test
  duckbench image build --source .`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if source != "" {
				if binary != "" {
					return usageErr(errors.New("--source and --binary exclude each other"))
				}
				if err := appimage.BuildSource(ctx, source, tag, version, cmd.ErrOrStderr()); err != nil {
					return depErr(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "built %s from the Dockerfile in %s\n", tag, source)
				return nil
			}
			if binary == "" {
				exe, err := os.Executable()
				if err != nil {
					return depErr(fmt.Errorf("find the duckbench binary: %w (use --binary)", err))
				}
				binary = exe
			}
			built, err := appimage.Build(ctx, appimage.Options{Binary: binary, Tag: tag, Log: cmd.ErrOrStderr()})
			if err != nil {
				return depErr(err)
			}
			if !built {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is up to date (built from %s)\n", tag, binary)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "built %s from %s\n", tag, binary)
			return nil
		},
	}
	c.Flags().StringVarP(&tag, "tag", "t", appimage.Tag(version), "image name and tag")
	c.Flags().StringVar(&binary, "binary", "", "static Linux duckbench binary to put in the image (default: this one)")
	c.Flags().StringVar(&source, "source", "", "build with the whole multi-stage Dockerfile of this duckbench checkout (needs a registry)")
	return c
}
