// Infinite_send is Python gipc's infinite_send_to_child example turned
// around: the parent sends messages to a child without end, and the child
// handles SIGINT itself. The first SIGINT starts a clean shutdown: the
// child tells the parent, which stops sending and closes the pipe, and the
// child drains every message still in it before it exits with code 0. A
// second SIGINT during the shutdown is ignored instead of cutting it short.
// The parent plays the user who presses Ctrl-C twice, with
// Process.Signal.
//
//	go run ./examples/infinite_send -before 5
//
// prints something like
//
//	child: received 5 messages
//	parent: sending SIGINT
//	child: SIGINT: shutting down, draining the pipe
//	parent: stopped sending after 6 messages; sending SIGINT again
//	child: SIGINT again: ignored, the shutdown goes on
//	parent: closed the pipe
//	child: drained the pipe: 6 messages in all
//	parent: child exited with code 0
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

type receiverArgs struct {
	In     *gipc.Reader[string] // the endless messages
	Events *gipc.Writer[string] // what the child tells the parent
	Before int                  // report once this many messages arrived
}

var receiver = gipc.NewTarget("infinite-send-receiver", func(ctx context.Context, a receiverArgs) error {
	defer a.In.Close()
	defer a.Events.Close()
	// From the start: SIGINT's default action would kill the child.
	sigs := coro.NotifySignal(ctx, os.Interrupt)
	defer sigs.Close()

	signals := coro.Spawn(ctx, func(ctx context.Context) error {
		shuttingDown := false
		for {
			if _, err := sigs.Get(ctx); err != nil {
				return nil // the queue was closed: the shutdown is over
			}
			event := "SIGINT again: ignored, the shutdown goes on"
			if !shuttingDown {
				shuttingDown = true
				event = "SIGINT: shutting down, draining the pipe"
			}
			if err := a.Events.Put(ctx, event); err != nil {
				return err
			}
		}
	})

	// Receive until the parent closes its end. The shutdown does not
	// stop this loop: it asks the parent to stop, so that no message
	// already sent is lost.
	received := 0
	for {
		_, err := a.In.Get(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		received++
		if received == a.Before {
			if err := a.Events.Put(ctx, fmt.Sprintf("received %d messages", received)); err != nil {
				return err
			}
		}
	}
	sigs.Close()
	if err := signals.Join(ctx); err != nil {
		return err
	}
	return a.Events.Put(ctx, fmt.Sprintf("drained the pipe: %d messages in all", received))
})

func main() {
	gipc.Init()
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "infinite_send:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("infinite_send", flag.ContinueOnError)
	before := fs.Int("before", 5, "messages the child receives before the first SIGINT")
	interval := fs.Duration("interval", 100*time.Millisecond, "pause between two messages (0: as fast as the pipe goes)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *before < 1 {
		return errors.New("-before must be at least 1")
	}
	return coro.Run(func(ctx context.Context) error {
		in, out, err := gipc.Pipe[string]()
		if err != nil {
			return err
		}
		events, eventsW, err := gipc.Pipe[string]()
		if err != nil {
			in.Close()
			out.Close()
			return err
		}
		// Start closes the child's ends here; these Closes matter only
		// on an early return.
		defer in.Close()
		defer out.Close()
		defer events.Close()
		defer eventsW.Close()

		p, err := receiver.Start(ctx, receiverArgs{In: in, Events: eventsW, Before: *before})
		if err != nil {
			return err
		}
		// fail stops the child after something went wrong, so that no
		// child outlives the example, and says how it ended.
		fail := func(err error) error {
			p.Kill()
			p.Join(ctx)
			code, _ := p.ExitCode()
			p.Close()
			return fmt.Errorf("%w (the child exited with code %d)", err, code)
		}

		var stop coro.Event
		sent := 0
		sender := coro.Spawn(ctx, func(ctx context.Context) error {
			for !stop.IsSet() {
				if err := out.Put(ctx, fmt.Sprintf("message %d", sent)); err != nil {
					return err
				}
				sent++
				if err := coro.Sleep(ctx, *interval); err != nil {
					return err
				}
			}
			return nil
		})

		// expect prints the child's next event, which must start with
		// prefix.
		expect := func(prefix string) error {
			ev, err := events.Get(ctx)
			if err != nil {
				return fail(fmt.Errorf("waiting for the child's %q: %w", prefix, err))
			}
			fmt.Fprintln(stdout, "child:", ev)
			if !strings.HasPrefix(ev, prefix) {
				return fail(fmt.Errorf("the child said %q, expected %q", ev, prefix))
			}
			return nil
		}

		if err := expect("received "); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "parent: sending SIGINT")
		if err := p.Signal(syscall.SIGINT); err != nil {
			return fail(err)
		}
		if err := expect("SIGINT: shutting down"); err != nil {
			return err
		}
		// The sender finishes the message it is putting (the child
		// still reads) and stops.
		stop.Set()
		if err := sender.Join(ctx); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "parent: stopped sending after %d messages; sending SIGINT again\n", sent)
		if err := p.Signal(syscall.SIGINT); err != nil {
			return fail(err)
		}
		if err := expect("SIGINT again: ignored"); err != nil {
			return err
		}
		if err := out.Close(); err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, "parent: closed the pipe")
		if err := expect(fmt.Sprintf("drained the pipe: %d messages in all", sent)); err != nil {
			return err
		}
		if err := p.Join(ctx); err != nil {
			return fail(err)
		}
		code, _ := p.ExitCode()
		fmt.Fprintf(stdout, "parent: child exited with code %d\n", code)
		if err := p.Close(); err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("the child did not exit cleanly: code %d", code)
		}
		return nil
	})
}
