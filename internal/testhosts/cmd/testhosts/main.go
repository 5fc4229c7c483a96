// Command testhosts starts or removes the multi-host test swarm for people
// (the tests use package testhosts directly): scripts/testhosts up|down.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/duckbench/duckbench/appimage"
	"github.com/duckbench/duckbench/internal/testhosts"
)

func main() {
	fs := flag.NewFlagSet("testhosts", flag.ExitOnError)
	o := testhosts.Options{Swarm: true, Log: os.Stderr}
	fs.StringVar(&o.Prefix, "prefix", "dbh", "names of the namespaces, cgroups and directories (the tests use dbt)")
	fs.IntVar(&o.Hosts, "hosts", 3, "number of hosts")
	fs.StringVar(&o.Subnet, "subnet", "10.213.8", "first three octets of the private /24")
	images := fs.String("images", "", "comma-separated images of the local engine to copy into every host")
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testhosts up|down [flags]")
		os.Exit(2)
	}
	cmd := os.Args[1]
	_ = fs.Parse(os.Args[2:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch cmd {
	case "up":
		c, err := testhosts.Up(ctx, o)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		if *images != "" {
			copies, err := appimage.Distribute(ctx, strings.Split(*images, ","), c.AllEngines(), nil)
			fmt.Fprint(os.Stderr, appimage.CopiesText(copies))
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
		}
		for _, h := range c.Hosts {
			fmt.Printf("%s\t%s\tDOCKER_HOST=%s\n", h.Name, h.Addr, h.DockerHost())
		}
		fmt.Printf("# manager: export DOCKER_HOST=%s DUCKBENCH_SWARM_ENGINES=%s\n", c.Hosts[0].DockerHost(), c.EnginesFlag())
	case "down":
		c, err := testhosts.Plan(o)
		if err == nil {
			err = c.Down(ctx)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: testhosts up|down [flags]")
		os.Exit(2)
	}
}
