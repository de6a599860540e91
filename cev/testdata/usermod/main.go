// Command usermod stands for a user's module that requires gipc.dev: cev's
// TestVendoredUserModuleBuilds builds and tests it with and without
// `go mod vendor`. It runs a timer on a cev loop.
package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"gipc.dev/cev"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "usermod:", err)
		os.Exit(1)
	}
}

// run fires a one-millisecond timer on a new loop and says so on w.
func run(w io.Writer) error {
	l, err := cev.NewLoop()
	if err != nil {
		return err
	}
	defer l.Close()
	fired := false
	tm := l.NewTimer(func(cev.Events) { fired = true })
	tm.Start(time.Millisecond, 0)
	for !fired {
		if !l.Run(cev.Once) && !fired {
			return fmt.Errorf("loop stopped before the timer fired")
		}
	}
	_, err = fmt.Fprintf(w, "timer fired on %s (libev %s)\n", l.Backend(), cev.LibevVersion)
	return err
}
