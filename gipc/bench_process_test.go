package gipc_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

var pongRaw = gipc.NewTarget("pong-raw", func(ctx context.Context, d *gipc.Duplex[[]byte]) error {
	for {
		m, err := d.Get(ctx)
		if errors.Is(err, io.EOF) {
			return d.Close()
		}
		if err != nil {
			return err
		}
		if err := d.Put(ctx, m); err != nil {
			return err
		}
	}
})

// BenchmarkPingPongChild: round trips of a 1-byte raw message between the
// parent and a child process, with the parent hub spinning before it
// blocks, or not (the child's hub always uses coro.DefaultSpin).
func BenchmarkPingPongChild(b *testing.B) {
	for _, tc := range []struct {
		name string
		spin time.Duration
	}{
		{name: "spin=0", spin: 0},
		{name: "spin=default", spin: coro.DefaultSpin},
		{name: "spin=100us", spin: 100 * time.Microsecond},
	} {
		b.Run(tc.name, func(b *testing.B) {
			mine, theirs, err := gipc.DuplexPipe[[]byte](gipc.WithCodec(gipc.Raw()))
			if err != nil {
				b.Fatal(err)
			}
			defer mine.Close()
			h, err := coro.NewHub()
			if err != nil {
				b.Fatal(err)
			}
			h.SetSpin(tc.spin)
			err = h.Run(func(ctx context.Context) error {
				p, err := pongRaw.Start(ctx, theirs)
				if err != nil {
					return err
				}
				msg := []byte{1}
				for b.Loop() {
					if err := mine.Put(ctx, msg); err != nil {
						return err
					}
					if _, err := mine.Get(ctx); err != nil {
						return err
					}
				}
				mine.Close()
				if err := p.Join(ctx); err != nil {
					return err
				}
				return p.Close()
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkStartJoin: start and join a child running an empty target.
func BenchmarkStartJoin(b *testing.B) {
	err := coro.Run(func(ctx context.Context) error {
		for b.Loop() {
			p, err := exitWith.Start(ctx, codeArgs{Code: 0})
			if err != nil {
				return err
			}
			if err := p.Join(ctx); err != nil {
				return err
			}
			p.Close()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
