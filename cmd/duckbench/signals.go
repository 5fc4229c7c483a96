package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// interruptible returns two contexts: work is cancelled by the first SIGINT
// or SIGTERM (stop the attack gracefully, keep the results so far); abort is
// cancelled by the second (tear down fast, without waiting). Teardown runs
// under abort, so it always runs. stop releases the signal handler.
func interruptible(parent context.Context) (work, abort context.Context, stop func()) {
	work, cancelWork := context.WithCancel(parent)
	abort, cancelAbort := context.WithCancel(context.WithoutCancel(parent))
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-done:
				return
			case sig := <-ch:
				n++
				if n == 1 {
					fmt.Fprintf(os.Stderr, "\nduckbench: %v: stopping, tearing down and keeping the results so far (again to abort)\n", sig)
					cancelWork()
					continue
				}
				fmt.Fprintf(os.Stderr, "\nduckbench: %v again: aborting; still stopping what was started\n", sig)
				cancelAbort()
				return
			}
		}
	}()
	return work, abort, func() {
		signal.Stop(ch)
		close(done)
		cancelWork()
		cancelAbort()
	}
}
