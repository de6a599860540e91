package coro

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

func benchRun(b *testing.B, main func(ctx context.Context) error) {
	b.Helper()
	if err := Run(main); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSwitch: one resume of a coroutine by the hub plus its yield
// back (Yield in a loop).
func BenchmarkSwitch(b *testing.B) {
	b.ReportAllocs()
	benchRun(b, func(ctx context.Context) error {
		for b.Loop() {
			if err := Yield(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkSwitchPingPong: two coroutines hand control to each other
// through Events; one op is one hand-off each way.
func BenchmarkSwitchPingPong(b *testing.B) {
	b.ReportAllocs()
	benchRun(b, func(ctx context.Context) error {
		var ping, pong Event
		stop := false
		peer := Spawn(ctx, func(ctx context.Context) error {
			for {
				if err := ping.Wait(ctx); err != nil {
					return err
				}
				ping.Clear()
				if stop {
					return nil
				}
				pong.Set()
			}
		})
		for b.Loop() {
			ping.Set()
			if err := pong.Wait(ctx); err != nil {
				return err
			}
			pong.Clear()
		}
		stop = true
		ping.Set()
		return peer.Join(ctx)
	})
}

// BenchmarkGoroutineChannelPingPong is the baseline of BenchmarkSwitch and
// BenchmarkSwitchPingPong: two goroutines handing off over unbuffered
// channels, one op being one hand-off each way.
func BenchmarkGoroutineChannelPingPong(b *testing.B) {
	b.ReportAllocs()
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	for b.Loop() {
		ping <- struct{}{}
		<-pong
	}
	close(ping)
}

// BenchmarkSpawnJoin: spawn, run and join one empty coroutine.
func BenchmarkSpawnJoin(b *testing.B) {
	b.ReportAllocs()
	benchRun(b, func(ctx context.Context) error {
		empty := func(context.Context) error { return nil }
		for b.Loop() {
			if err := Spawn(ctx, empty).Join(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkParkedMemory reports the Go memory (heap and stacks) per
// coroutine with 100 000 coroutines parked on timers. The libev timers
// themselves are C memory (64 bytes each), not counted here.
func BenchmarkParkedMemory(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		var before, after runtime.MemStats
		benchRun(b, func(ctx context.Context) error {
			runtime.GC()
			runtime.ReadMemStats(&before)
			for range n {
				Spawn(ctx, func(ctx context.Context) error { return Sleep(ctx, time.Hour) })
			}
			if err := Yield(ctx); err != nil { // all of them park
				return err
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			return nil
		})
		used := (after.HeapInuse + after.StackInuse) - (before.HeapInuse + before.StackInuse)
		b.ReportMetric(float64(used)/n, "B/coroutine")
	}
}

// BenchmarkTCPEcho: round trips of 64-byte messages over loopback between
// N client connections and an echo server, all coroutines of one hub,
// against the net package with a goroutine per connection on each side.
func BenchmarkTCPEcho(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("conns=%d/coro", n), func(b *testing.B) { benchEchoCoro(b, n) })
		b.Run(fmt.Sprintf("conns=%d/netpoller", n), func(b *testing.B) { benchEchoNet(b, n) })
	}
}

func benchEchoCoro(b *testing.B, conns int) {
	benchRun(b, func(ctx context.Context) error {
		l, err := Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		Spawn(ctx, func(ctx context.Context) error { return Serve(ctx, l, echo) })
		cs := make([]*Conn, conns)
		for i := range cs {
			if cs[i], err = Dial(ctx, "tcp", l.Addr().String()); err != nil {
				return err
			}
		}
		b.ResetTimer()
		per := b.N/conns + 1
		var g Group
		for _, c := range cs {
			g.Go(ctx, func(ctx context.Context) error {
				msg := make([]byte, 64)
				for range per {
					if _, err := c.Write(ctx, msg); err != nil {
						return err
					}
					if _, err := io.ReadFull(c.Bind(ctx), msg); err != nil {
						return err
					}
				}
				return c.Close()
			})
		}
		err = g.Wait(ctx)
		b.StopTimer()
		l.Close()
		return err
	})
}

func benchEchoNet(b *testing.B, conns int) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	cs := make([]net.Conn, conns)
	for i := range cs {
		if cs[i], err = net.Dial("tcp", l.Addr().String()); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	per := b.N/conns + 1
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			msg := make([]byte, 64)
			for range per {
				if _, err := c.Write(msg); err != nil {
					return
				}
				if _, err := io.ReadFull(c, msg); err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkIterPullFloor is the floor under BenchmarkSwitch: one bare
// iter.Pull next/yield round trip, the runtime's coroutine switch both ways.
func BenchmarkIterPullFloor(b *testing.B) {
	next, stop := iter.Pull(func(yield func(struct{}) bool) {
		for yield(struct{}{}) {
		}
	})
	defer stop()
	for b.Loop() {
		next()
	}
}
