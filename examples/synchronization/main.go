// Synchronization steps a parent and a child process together over a
// duplex pipe, then compares their clocks, as Python gipc's
// synchronization example does: the parent sends SYN, the child answers
// ACK and, right after, its current time; the parent reads its own clock as
// soon as the ACK arrives. The difference is about the latency of one
// message through a pipe.
//
//	go run ./examples/synchronization -rounds 3
//
// prints something like
//
//	round 1: time delta 0.000043 s
//	round 2: time delta 0.000021 s
//	round 3: time delta 0.000019 s
//	smallest time delta in 3 rounds: 0.000019 s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

// message is what travels both ways: SYN (parent to child), ACK and TIME
// (child to parent).
type message struct {
	Kind string
	Time time.Time // TIME: the child's clock
}

// timeChild answers every SYN with an ACK and its time, until the parent
// closes its end.
var timeChild = gipc.NewTarget("synchronization-child", func(ctx context.Context, d *gipc.Duplex[message]) error {
	defer d.Close()
	for {
		m, err := d.Get(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if m.Kind != "SYN" {
			return fmt.Errorf("child: expected SYN, got %q", m.Kind)
		}
		if err := d.Put(ctx, message{Kind: "ACK"}); err != nil {
			return err
		}
		// In step with the parent now: it reads its clock as soon as
		// the ACK is in.
		if err := d.Put(ctx, message{Kind: "TIME", Time: time.Now()}); err != nil {
			return err
		}
	}
})

func main() {
	gipc.Init()
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "synchronization:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("synchronization", flag.ContinueOnError)
	rounds := fs.Int("rounds", 5, "number of SYN/ACK rounds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rounds < 1 {
		return errors.New("-rounds must be at least 1")
	}
	return coro.Run(func(ctx context.Context) error {
		// childEnd goes to the child, parentEnd stays here.
		childEnd, parentEnd, err := gipc.DuplexPipe[message]()
		if err != nil {
			return err
		}
		defer childEnd.Close() // only matters if Start fails
		defer parentEnd.Close()
		p, err := timeChild.Start(ctx, childEnd)
		if err != nil {
			return err
		}
		best := time.Duration(-1)
		for i := 1; i <= *rounds; i++ {
			delta, err := syncRound(ctx, parentEnd)
			if err != nil {
				p.Kill()
				p.Join(ctx)
				p.Close()
				return err
			}
			fmt.Fprintf(stdout, "round %d: time delta %.6f s\n", i, delta.Seconds())
			if best < 0 || delta < best {
				best = delta
			}
		}
		// Closing our end ends the child's loop (its Get returns io.EOF).
		if err := parentEnd.Close(); err != nil {
			return err
		}
		if err := p.Join(ctx); err != nil {
			return err
		}
		if code, _ := p.ExitCode(); code != 0 {
			return fmt.Errorf("child exited with code %d", code)
		}
		fmt.Fprintf(stdout, "smallest time delta in %d rounds: %.6f s\n", *rounds, best.Seconds())
		return p.Close()
	})
}

// syncRound runs one SYN, ACK, TIME exchange and returns how far the
// child's clock was from ours.
func syncRound(ctx context.Context, d *gipc.Duplex[message]) (time.Duration, error) {
	if err := d.Put(ctx, message{Kind: "SYN"}); err != nil {
		return 0, err
	}
	ack, err := d.Get(ctx)
	if err != nil {
		return 0, err
	}
	now := time.Now()
	if ack.Kind != "ACK" {
		return 0, fmt.Errorf("expected ACK, got %q", ack.Kind)
	}
	m, err := d.Get(ctx)
	if err != nil {
		return 0, err
	}
	if m.Kind != "TIME" {
		return 0, fmt.Errorf("expected TIME, got %q", m.Kind)
	}
	// The child's time crossed a process boundary: it has no monotonic
	// reading, so this compares wall clocks, which is the point.
	return now.Sub(m.Time).Abs(), nil
}
