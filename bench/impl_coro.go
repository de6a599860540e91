package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

// This stack: coroutines on a libev hub, gipc pipes with the raw codec
// (the bytes as they are, gipc's encoder=None) between the parent and a
// child started with Target.Start.

var (
	ready = []byte("r")
	done  = []byte("d")
)

// sinkArgs: the child reads Count messages of Size bytes from In. It says
// "ready" on Ack before the first and "done" after the last, so that the
// parent's clock runs from the first message to the last one read.
type sinkArgs struct {
	In    *gipc.Reader[[]byte]
	Ack   *gipc.Writer[[]byte]
	Count int
	Size  int
	Batch int // > 1: read with GetBatch, that many at a time, where gipc has it
}

// batchGetter is Reader.GetBatch: the batched side of the reader, which
// the sink uses for the batched workload when this gipc has it.
type batchGetter interface {
	GetBatch(ctx context.Context, buf [][]byte) (int, error)
}

// hasGetBatch says whether gipc's Reader has GetBatch.
var _, hasGetBatch = any((*gipc.Reader[[]byte])(nil)).(batchGetter)

// batchedName names this stack's row of the batched workload.
var batchedName = func() string {
	if hasGetBatch {
		return "coro+gipc PutBatch/GetBatch"
	}
	return "coro+gipc PutBatch"
}()

// echoArgs: the child sends back every message it gets, Count of them.
type echoArgs struct {
	D     *gipc.Duplex[[]byte]
	Count int
}

var (
	sinkTarget = gipc.NewTarget("bench-sink", func(ctx context.Context, a sinkArgs) error {
		defer a.In.Close()
		defer a.Ack.Close()
		if err := a.Ack.Put(ctx, ready); err != nil {
			return err
		}
		if bg, ok := any(a.In).(batchGetter); ok && a.Batch > 1 {
			ms := make([][]byte, a.Batch)
			for got := 0; got < a.Count; {
				n, err := bg.GetBatch(ctx, ms[:min(a.Batch, a.Count-got)])
				if err != nil {
					return fmt.Errorf("message %d: %w", got, err)
				}
				for _, m := range ms[:n] {
					if len(m) != a.Size {
						return fmt.Errorf("message %d has %d bytes, want %d", got, len(m), a.Size)
					}
					got++
				}
			}
			return a.Ack.Put(ctx, done)
		}
		for i := range a.Count {
			m, err := a.In.Get(ctx)
			if err != nil {
				return fmt.Errorf("message %d: %w", i, err)
			}
			if len(m) != a.Size {
				return fmt.Errorf("message %d has %d bytes, want %d", i, len(m), a.Size)
			}
		}
		return a.Ack.Put(ctx, done)
	})
	echoTarget = gipc.NewTarget("bench-echo", func(ctx context.Context, a echoArgs) error {
		defer a.D.Close()
		if err := a.D.Put(ctx, ready); err != nil {
			return err
		}
		for i := range a.Count {
			m, err := a.D.Get(ctx)
			if err != nil {
				return fmt.Errorf("round trip %d: %w", i, err)
			}
			if err := a.D.Put(ctx, m); err != nil {
				return fmt.Errorf("round trip %d: %w", i, err)
			}
		}
		return nil
	})
	emptyTarget = gipc.NewTarget("bench-empty", func(ctx context.Context, _ struct{}) error { return nil })
)

// withChild runs body in a fresh hub with a ctx bounded by measureTimeout;
// a child that body started and left running is killed and reaped.
func withChild(body func(ctx context.Context, started func(*gipc.Process)) error) error {
	return coro.Run(func(mctx context.Context) error {
		ctx, cancel := coro.WithTimeout(mctx, measureTimeout)
		defer cancel()
		var p *gipc.Process
		defer func() {
			if p != nil && p.IsAlive() {
				p.Kill()
				p.Join(mctx)
			}
			if p != nil {
				p.Close()
			}
		}()
		return body(ctx, func(q *gipc.Process) { p = q })
	})
}

// joinClean waits for p and checks that it exited with code 0.
func joinClean(ctx context.Context, p *gipc.Process) error {
	if err := p.Join(ctx); err != nil {
		return err
	}
	if code, _ := p.ExitCode(); code != 0 {
		return fmt.Errorf("%v: exit code %d", p, code)
	}
	return nil
}

// coroOneway sends count messages of size bytes to a child: one Put each,
// or PutBatch of batch messages at a time when batch > 1 (and the child
// then reads them with GetBatch, where gipc has it).
func coroOneway(count, size, batch int) (elapsed time.Duration, err error) {
	err = withChild(func(ctx context.Context, started func(*gipc.Process)) error {
		raw := gipc.WithCodec(gipc.Raw())
		in, out, err := gipc.Pipe[[]byte](raw)
		if err != nil {
			return err
		}
		defer in.Close() // ErrClosed once the child has it
		defer out.Close()
		ackIn, ackOut, err := gipc.Pipe[[]byte](raw)
		if err != nil {
			return err
		}
		defer ackIn.Close()
		defer ackOut.Close()
		p, err := sinkTarget.Start(ctx, sinkArgs{In: in, Ack: ackOut, Count: count, Size: size, Batch: batch}, gipc.WithStdout(nil))
		if err != nil {
			return err
		}
		started(p)
		if _, err := ackIn.Get(ctx); err != nil {
			return fmt.Errorf("waiting for the child: %w", err)
		}
		msg := payload(size)
		t0 := time.Now()
		if batch > 1 {
			vs := make([][]byte, batch)
			for i := range vs {
				vs[i] = msg
			}
			for sent := 0; sent < count; sent += batch {
				if err := out.PutBatch(ctx, vs[:min(batch, count-sent)]...); err != nil {
					return err
				}
			}
		} else {
			for range count {
				if err := out.Put(ctx, msg); err != nil {
					return err
				}
			}
		}
		if _, err := ackIn.Get(ctx); err != nil {
			return fmt.Errorf("waiting for the child to read everything: %w", err)
		}
		elapsed = time.Since(t0)
		return joinClean(ctx, p)
	})
	return elapsed, err
}

// coroPingPong sends a 1-byte message to an echoing child and waits for it
// to come back, count times.
func coroPingPong(count int) (elapsed time.Duration, err error) {
	err = withChild(func(ctx context.Context, started func(*gipc.Process)) error {
		mine, theirs, err := gipc.DuplexPipe[[]byte](gipc.WithCodec(gipc.Raw()))
		if err != nil {
			return err
		}
		defer mine.Close()
		defer theirs.Close()
		p, err := echoTarget.Start(ctx, echoArgs{D: theirs, Count: count}, gipc.WithStdout(nil))
		if err != nil {
			return err
		}
		started(p)
		if _, err := mine.Get(ctx); err != nil {
			return fmt.Errorf("waiting for the child: %w", err)
		}
		msg := []byte("x")
		t0 := time.Now()
		for i := range count {
			if err := mine.Put(ctx, msg); err != nil {
				return fmt.Errorf("round trip %d: %w", i, err)
			}
			m, err := mine.Get(ctx)
			if err != nil {
				return fmt.Errorf("round trip %d: %w", i, err)
			}
			if len(m) != 1 {
				return fmt.Errorf("round trip %d: %d bytes back", i, len(m))
			}
		}
		elapsed = time.Since(t0)
		return joinClean(ctx, p)
	})
	return elapsed, err
}

// coroStartJoin starts n children of an empty target one after the other,
// joining each.
func coroStartJoin(n int) (elapsed time.Duration, err error) {
	err = withChild(func(ctx context.Context, started func(*gipc.Process)) error {
		t0 := time.Now()
		for range n {
			p, err := emptyTarget.Start(ctx, struct{}{}, gipc.WithStdout(nil))
			if err != nil {
				return err
			}
			started(p)
			if err := joinClean(ctx, p); err != nil {
				return err
			}
			p.Close()
			started(nil)
		}
		elapsed = time.Since(t0)
		return nil
	})
	return elapsed, err
}

// coroEcho: an echo server (coro.Serve) and clients clients, all
// coroutines of one hub; each client connects, does rounds round trips of
// msgSize bytes and closes.
func coroEcho(clients, rounds, msgSize int) (elapsed time.Duration, err error) {
	err = coro.Run(func(mctx context.Context) error {
		ctx, cancel := coro.WithTimeout(mctx, measureTimeout)
		defer cancel()
		l, err := coro.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := l.Addr().String()
		srv := coro.Spawn(ctx, func(ctx context.Context) error {
			return coro.Serve(ctx, l, func(ctx context.Context, c *coro.Conn) {
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(ctx, buf)
					if err != nil {
						return
					}
					if _, err := c.Write(ctx, buf[:n]); err != nil {
						return
					}
				}
			})
		})
		t0 := time.Now()
		var g coro.Group
		for range clients {
			g.Go(ctx, func(ctx context.Context) error {
				c, err := coro.Dial(ctx, "tcp", addr)
				if err != nil {
					return err
				}
				defer c.Close()
				msg := make([]byte, msgSize)
				rw := c.Bind(ctx)
				for range rounds {
					if _, err := rw.Write(msg); err != nil {
						return err
					}
					if _, err := io.ReadFull(rw, msg); err != nil {
						return err
					}
				}
				return nil
			})
		}
		err = g.Wait(ctx)
		elapsed = time.Since(t0)
		l.Close()
		if jerr := srv.Join(ctx); err == nil && jerr != nil && !errors.Is(jerr, coro.ErrKilled) {
			err = jerr
		}
		return err
	})
	return elapsed, err
}

// coroSwitch: two coroutines yield to each other, n hand-offs in all.
func coroSwitch(n int) (elapsed time.Duration, err error) {
	err = coro.Run(func(ctx context.Context) error {
		half := n / 2
		peer := coro.Spawn(ctx, func(ctx context.Context) error {
			for range half {
				if err := coro.Yield(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		t0 := time.Now()
		for range half {
			if err := coro.Yield(ctx); err != nil {
				return err
			}
		}
		elapsed = time.Since(t0)
		return peer.Join(ctx)
	})
	return elapsed, err
}
