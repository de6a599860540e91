package coro_test

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"time"

	"gipc.dev/coro"
)

// Two coroutines on one hub: the sleeps overlap, so the whole takes about
// 20 ms, not 30.
func ExampleRun() {
	err := coro.Run(func(ctx context.Context) error {
		var g coro.Group
		for _, d := range []time.Duration{20 * time.Millisecond, 10 * time.Millisecond} {
			g.Go(ctx, func(ctx context.Context) error {
				if err := coro.Sleep(ctx, d); err != nil {
					return err
				}
				fmt.Println("slept", d)
				return nil
			})
		}
		return g.Wait(ctx)
	})
	fmt.Println("err:", err)
	// Output:
	// slept 10ms
	// slept 20ms
	// err: <nil>
}

// A queue between a producer and a consumer coroutine.
func ExampleQueue() {
	coro.Run(func(ctx context.Context) error {
		q := coro.NewQueue[string](1)
		coro.Spawn(ctx, func(ctx context.Context) error {
			defer q.Close()
			for _, s := range []string{"a", "b", "c"} {
				if err := q.Put(ctx, s); err != nil {
					return err
				}
			}
			return nil
		})
		for {
			s, err := q.Get(ctx)
			if err != nil {
				fmt.Println(err)
				return nil
			}
			fmt.Println(s)
		}
	})
	// Output:
	// a
	// b
	// c
	// coro: queue closed
}

// A wait with a deadline enforced by a libev timer.
func ExampleWithTimeout() {
	coro.Run(func(ctx context.Context) error {
		tctx, cancel := coro.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		var ev coro.Event
		fmt.Println(ev.Wait(tctx))
		return nil
	})
	// Output: context deadline exceeded
}

// A cooperative TCP echo server and a client, on one hub.
func ExampleServe() {
	coro.Run(func(ctx context.Context) error {
		l, err := coro.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		coro.Spawn(ctx, func(ctx context.Context) error {
			return coro.Serve(ctx, l, func(ctx context.Context, c *coro.Conn) {
				io.Copy(c.Bind(ctx), c.Bind(ctx))
			})
		})
		c, err := coro.Dial(ctx, "tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		c.Write(ctx, []byte("hello"))
		buf := make([]byte, 5)
		io.ReadFull(c.Bind(ctx), buf)
		fmt.Println(string(buf))
		return nil
	})
	// Output: hello
}

// Hub.Call runs a function as a coroutine from an ordinary goroutine.
func ExampleHub_Call() {
	h, _ := coro.NewHub()
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := h.Call(context.Background(), func(ctx context.Context) error {
			return coro.Sleep(ctx, time.Millisecond)
		})
		fmt.Println("call:", err)
		h.Close()
	}()
	err := h.Run(func(ctx context.Context) error {
		// Wait on a signal queue: it keeps the hub alive for the Call.
		q := coro.NotifySignal(ctx, syscall.SIGUSR2)
		defer q.Close()
		_, err := q.Get(ctx)
		return err
	})
	<-done
	fmt.Println("run:", err)
	// Output:
	// call: <nil>
	// run: coro: hub closed
}
