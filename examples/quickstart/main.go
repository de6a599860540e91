// Quickstart is the usage example of Python gipc's documentation, in Go: a
// coroutine of the parent puts messages into a pipe, and a child process
// reads them and prints them.
//
//	go run ./examples/quickstart -n 3
//
// prints
//
//	child: got "hello 0"
//	child: got "hello 1"
//	child: got "hello 2"
//	child: end of the pipe after 3 messages
//	parent: child exited with code 0
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

// readChild runs in the child process. It is declared at package level so
// that the child, which is this program started again, knows it too.
var readChild = gipc.NewTarget("quickstart-reader", func(ctx context.Context, r *gipc.Reader[string]) error {
	defer r.Close()
	n := 0
	for {
		msg, err := r.Get(ctx)
		if errors.Is(err, io.EOF) {
			// The parent closed its write end: nothing more will come.
			fmt.Printf("child: end of the pipe after %d messages\n", n)
			return nil
		}
		if err != nil {
			return err
		}
		n++
		fmt.Printf("child: got %q\n", msg)
	}
})

func main() {
	// In the child this runs readChild and exits; here it returns at once.
	gipc.Init()
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run is the parent. The child prints to its own standard output, which is
// stdout when stdout is a file, and the process's standard output
// otherwise.
func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	n := fs.Int("n", 3, "number of messages to send")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var opts []gipc.StartOption
	if f, ok := stdout.(*os.File); ok {
		opts = append(opts, gipc.WithStdout(f))
	}
	return coro.Run(func(ctx context.Context) error {
		r, w, err := gipc.Pipe[string]()
		if err != nil {
			return err
		}
		// Start hands r to the child and closes it here, and the writer
		// closes w: these only matter on an early return (a second Close
		// is harmless, it returns ErrClosed).
		defer r.Close()
		defer w.Close()

		writer := coro.Spawn(ctx, func(ctx context.Context) error {
			// Closing the write end is how the child learns that the
			// messages are over (its Get returns io.EOF).
			defer w.Close()
			for i := range *n {
				if err := w.Put(ctx, fmt.Sprintf("hello %d", i)); err != nil {
					return err
				}
			}
			return nil
		})

		p, err := readChild.Start(ctx, r, opts...)
		if err != nil {
			return err // the writer is killed when this main returns
		}
		// Wait for both, like g.join() and p.join() in Python. The
		// writer closes w even when it fails, so the child always comes
		// to its end of the pipe.
		werr := writer.Join(ctx)
		if err := p.Join(ctx); err != nil {
			return err
		}
		code, _ := p.ExitCode()
		fmt.Fprintf(stdout, "parent: child exited with code %d\n", code)
		if err := p.Close(); err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("the child failed (exit code %d)", code)
		}
		return werr
	})
}
