package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/duckbench/duckbench/spec"
)

func init() { register(newSchemaCmd) }

func newSchemaCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "schema",
		Short: "Print the spec's JSON Schema (for editor completion)",
		Long: `Print the JSON Schema (draft 2020-12) of a duckbench spec: every key with its
description, enums and required keys. Point yaml-language-server at it with a
first line in the spec:

  # yaml-language-server: $schema=duckbench.schema.json`,
		Example: `  duckbench schema > duckbench.schema.json
  duckbench schema -o .vscode/duckbench.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := spec.JSONSchema()
			if out == "" || out == "-" {
				_, err := cmd.OutOrStdout().Write(b)
				return err
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return usageErr(fmt.Errorf("write schema: %w", err))
			}
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "write the schema to this file instead of stdout")
	return c
}
