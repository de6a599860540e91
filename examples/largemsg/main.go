// Largemsg sends one big message to a child process, twice: through a raw
// pipe (gipc.Raw: the bytes as they are, gipc's encoder=None) and through
// a pipe with the default gob codec, and prints the rate of each. The
// child sends back the SHA-256 of what it got, which must match the
// parent's. It is Python gipc's raw_largemsg_bench example.
//
//	go run ./examples/largemsg -mib 64
//
// prints something like
//
//	data: 64 MiB, sha256 f0353115bb4993ff61b6e4c3b6acf149baa28573d19b0c776faf0e2806af8df2
//	raw pipe: 64 MiB in 0.116 s, 551.0 MiB/s, checksum ok
//	gob pipe: 64 MiB in 0.705 s, 90.8 MiB/s, checksum ok
//
// The gob pipe is slower mostly because of encoding/gob itself: its
// decoder copies the message into a buffer of its own, and it grows both
// that buffer and the decoded []byte in steps, since it does not trust the
// lengths it reads.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

// receiver takes the big message and sends back its checksum. It says
// "done" before hashing, so that the parent times the transfer alone.
var receiver = gipc.NewTarget("largemsg-receiver", func(ctx context.Context, d *gipc.Duplex[[]byte]) error {
	defer d.Close()
	if err := d.Put(ctx, []byte("start")); err != nil {
		return err
	}
	data, err := d.Get(ctx)
	if err != nil {
		return err
	}
	if err := d.Put(ctx, []byte("done")); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	return d.Put(ctx, sum[:])
})

func main() {
	gipc.Init()
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "largemsg:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("largemsg", flag.ContinueOnError)
	mib := fs.Int("mib", 64, "size of the message in MiB")
	seed := fs.Uint64("seed", 1, "seed of the message's pseudo-random bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// A message is at most 2^31-1 bytes on the wire (a signed 32-bit
	// length, as in Python gipc); leave room for gob's few bytes.
	if *mib < 1 || *mib > 2047 {
		return errors.New("-mib must be in 1..2047")
	}
	data := make([]byte, *mib<<20)
	rand.NewChaCha8(seedBytes(*seed)).Read(data)
	sum := sha256.Sum256(data)
	fmt.Fprintf(stdout, "data: %d MiB, sha256 %x\n", *mib, sum)

	return coro.Run(func(ctx context.Context) error {
		// The default limit is 1 GiB; both ends of a pipe enforce it,
		// so a bigger message needs a bigger one, set at creation.
		limit := gipc.WithMaxMessageSize(min(len(data)+1<<20, 1<<31-1))
		for _, pipe := range []struct {
			name string
			opts []gipc.Option
		}{
			{name: "raw", opts: []gipc.Option{gipc.WithCodec(gipc.Raw()), limit}},
			{name: "gob", opts: []gipc.Option{limit}},
		} {
			elapsed, err := send(ctx, data, sum[:], pipe.opts...)
			if err != nil {
				return fmt.Errorf("%s pipe: %w", pipe.name, err)
			}
			fmt.Fprintf(stdout, "%s pipe: %d MiB in %.3f s, %.1f MiB/s, checksum ok\n",
				pipe.name, *mib, elapsed.Seconds(), float64(*mib)/elapsed.Seconds())
		}
		return nil
	})
}

// send starts a receiver child on a new duplex pipe, sends it data and
// checks the checksum it sends back. It returns how long the message took,
// from the Put to the child's "done".
func send(ctx context.Context, data, sum []byte, opts ...gipc.Option) (time.Duration, error) {
	childEnd, d, err := gipc.DuplexPipe[[]byte](opts...)
	if err != nil {
		return 0, err
	}
	defer childEnd.Close() // only matters if Start fails
	defer d.Close()
	p, err := receiver.Start(ctx, childEnd)
	if err != nil {
		return 0, err
	}
	elapsed, err := exchange(ctx, d, data, sum)
	if err != nil {
		// Whatever went wrong, leave no child behind.
		p.Kill()
	}
	if err := p.Join(ctx); err != nil {
		return 0, err
	}
	code, _ := p.ExitCode()
	if err := p.Close(); err != nil {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("%w (the child exited with code %d)", err, code)
	}
	if code != 0 {
		return 0, fmt.Errorf("the child exited with code %d", code)
	}
	return elapsed, nil
}

func exchange(ctx context.Context, d *gipc.Duplex[[]byte], data, sum []byte) (time.Duration, error) {
	if err := expect(ctx, d, []byte("start")); err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := d.Put(ctx, data); err != nil {
		return 0, err
	}
	if err := expect(ctx, d, []byte("done")); err != nil {
		return 0, err
	}
	elapsed := time.Since(t0)
	if err := expect(ctx, d, sum); err != nil {
		return 0, fmt.Errorf("checksum: %w", err)
	}
	return elapsed, nil
}

// expect gets the next message, which must be want.
func expect(ctx context.Context, d *gipc.Duplex[[]byte], want []byte) error {
	got, err := d.Get(ctx)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("got %x, expected %x", got, want)
	}
	return nil
}

// seedBytes spreads a number over a ChaCha8 seed.
func seedBytes(n uint64) (seed [32]byte) {
	for i := range 8 {
		seed[i] = byte(n >> (8 * i))
	}
	return seed
}
