package cev

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	pointer "github.com/mattn/go-pointer"
	"golang.org/x/sys/unix"
)

// BenchmarkCgoCall measures one cgo crossing: Loop.Now is a single call of
// cev_now, which only reads the loop's cached time.
func BenchmarkCgoCall(b *testing.B) {
	l := newLoop(b)
	b.ReportAllocs()
	var t time.Time
	for b.Loop() {
		t = l.Now()
	}
	_ = t
}

// BenchmarkTimerStartStop measures one ev_timer_start and one ev_timer_stop
// (two crossings).
func BenchmarkTimerStartStop(b *testing.B) {
	l := newLoop(b)
	tm := l.NewTimer(func(Events) {})
	b.ReportAllocs()
	for b.Loop() {
		tm.Start(time.Hour, 0)
		tm.Stop()
	}
}

// BenchmarkIOStartStop measures one ev_io_start and one ev_io_stop on a
// pipe (two crossings). libev hands fd changes to epoll_ctl only when the
// loop next runs, so no system call happens here.
func BenchmarkIOStartStop(b *testing.B) {
	l := newLoop(b)
	r, _ := pipe(b)
	io := l.NewIO(func(Events) {})
	b.ReportAllocs()
	for b.Loop() {
		io.Start(r, Read)
		io.Stop()
	}
}

// BenchmarkDeliver measures one Loop.Run(NoWait) in which n watchers fire.
// The watchers are timers that repeat every nanosecond, so each of them is
// due again in every iteration without any call from Go: an iteration costs
// the fixed part of ev_run (clock, epoll_wait with a zero timeout) plus, per
// event, libev's timer heap, the recording callback and the Go loop that
// calls the handler. ns/event divides the whole iteration by the events, so
// it includes the fixed part; the cost of one more event is the difference
// between two sizes. watchers=0 is the fixed part alone.
func BenchmarkDeliver(b *testing.B) {
	for _, n := range []int{0, 1, 16, 256} {
		b.Run(fmt.Sprintf("watchers=%d", n), func(b *testing.B) {
			l := newLoop(b)
			fired := 0
			for range n {
				tm := l.NewTimer(func(Events) { fired++ })
				tm.Start(0, time.Nanosecond)
			}
			l.Run(NoWait)
			fired = 0
			b.ReportAllocs()
			for b.Loop() {
				l.Run(NoWait)
			}
			reportEvents(b, n, fired)
		})
	}
}

// BenchmarkDeliverIO is BenchmarkDeliver with io watchers on the write ends
// of pipes, which are always writable (level-triggered): per event it adds
// the kernel's work in epoll_wait and libev's fd bookkeeping, which is what
// a hub waiting on many busy fds pays.
func BenchmarkDeliverIO(b *testing.B) {
	for _, n := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("watchers=%d", n), func(b *testing.B) {
			l := newLoop(b)
			fired := 0
			for range n {
				_, w := pipe(b)
				l.NewIO(func(Events) { fired++ }).Start(w, Write)
			}
			// libev's epoll_wait array starts small and grows when a
			// poll fills it: run until one iteration returns every fd.
			for fired = 0; fired < n; {
				fired = 0
				l.Run(NoWait)
			}
			fired = 0
			b.ReportAllocs()
			for b.Loop() {
				l.Run(NoWait)
			}
			reportEvents(b, n, fired)
		})
	}
}

// BenchmarkDrain measures the Go half of delivery alone: the walk over n
// events recorded by the C callback (slot lookup, generation check, handler
// call), without ev_run. The events are those of one real iteration of n
// timers, delivered again and again.
func BenchmarkDrain(b *testing.B) {
	for _, n := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("watchers=%d", n), func(b *testing.B) {
			l := newLoop(b)
			fired := 0
			for range n {
				tm := l.NewTimer(func(Events) { fired++ })
				tm.Start(0, time.Nanosecond)
			}
			for fired < n {
				fired = 0
				l.Run(NoWait)
			}
			events := unsafe.Slice(l.c.events, int(l.c.n))
			fired = 0
			b.ReportAllocs()
			for b.Loop() {
				l.deliver(events)
			}
			reportEvents(b, n, fired)
		})
	}
}

// reportEvents checks that every iteration delivered n events and reports
// the time per event.
func reportEvents(b *testing.B, n, fired int) {
	b.Helper()
	if n == 0 {
		return
	}
	iters := b.N
	if fired < n*iters {
		b.Fatalf("%d events in %d iterations of %d watchers", fired, iters, n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(fired), "ns/event")
}

// BenchmarkGoPointerRestore measures one lookup of a Go object by its
// go-pointer token (a map behind a mutex): what delivery would pay per
// event if it restored the watcher from the C watcher's data field instead
// of indexing the loop's slot table.
func BenchmarkGoPointerRestore(b *testing.B) {
	// A realistic table: a few hundred live watchers.
	var tokens []unsafe.Pointer
	for range 256 {
		tokens = append(tokens, pointer.Save(&watcher{}))
	}
	b.Cleanup(func() {
		for _, t := range tokens {
			pointer.Unref(t)
		}
	})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if pointer.Restore(tokens[i&255]) == nil {
			b.Fatal("token lost")
		}
		i++
	}
}

// wakePauses are how long the waker waits, once the sleeper has announced
// that it is about to block, before it wakes it. After 50µs the sleeper is
// asleep in the kernel (what a hub waiting for work pays); with no pause the
// wake-up often comes before the sleeper has blocked (a busy hub).
var wakePauses = []time.Duration{0, 50 * time.Microsecond}

// BenchmarkAsyncWakeLatency measures the time from Async.Send on another
// goroutine to the handler running on the loop's goroutine, which waits in
// Run(Once) (in epoll_wait, after the pause) when the Send comes. ns/op is
// the pause plus the latency and means little; the metrics are the latency
// percentiles.
func BenchmarkAsyncWakeLatency(b *testing.B) {
	for _, pause := range wakePauses {
		b.Run(pauseName(pause), func(b *testing.B) {
			l := newLoop(b)
			var woke time.Duration
			a := l.NewAsync(func(Events) { woke = sinceBase() })
			a.Start()
			wakeLatency(b, pause, func() time.Duration {
				woke = 0
				l.Run(Once)
				return woke
			}, func() { a.Send() })
		})
	}
}

// BenchmarkWakeLatencyBaseline measures the same hand-off without libev and
// cgo, in the same run: a goroutine blocked in epoll_wait(2) on an eventfd
// (the kernel path under ev_async_send), and one blocked in read(2) on an
// eventfd, each woken by a write(2) to the eventfd. Whatever this costs, no
// event loop can beat on the machine.
func BenchmarkWakeLatencyBaseline(b *testing.B) {
	var buf [8]byte
	one := [8]byte{1}
	for _, pause := range wakePauses {
		b.Run("wait=epoll/"+pauseName(pause), func(b *testing.B) {
			efd := eventfd(b, unix.EFD_NONBLOCK)
			ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { unix.Close(ep) })
			ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}
			if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
				b.Fatal(err)
			}
			events := make([]unix.EpollEvent, 1)
			wakeLatency(b, pause, func() time.Duration {
				if n, _ := unix.EpollWait(ep, events, -1); n != 1 {
					return 0 // EINTR: wait again
				}
				woke := sinceBase()
				unix.Read(efd, buf[:])
				return woke
			}, func() { unix.Write(efd, one[:]) })
		})
		b.Run("wait=read/"+pauseName(pause), func(b *testing.B) {
			efd := eventfd(b, 0)
			wakeLatency(b, pause, func() time.Duration {
				if _, err := unix.Read(efd, buf[:]); err != nil {
					return 0 // EINTR: wait again
				}
				return sinceBase()
			}, func() { unix.Write(efd, one[:]) })
		})
	}
}

func eventfd(b *testing.B, flags int) int {
	b.Helper()
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|flags)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(efd) })
	return efd
}

var base = time.Now()

// sinceBase reads the monotonic clock.
func sinceBase() time.Duration { return time.Since(base) }

// wakeLatency runs wait on the benchmark's goroutine once per iteration and
// calls wake from a second goroutine pause after each wait began. wait
// returns when it woke up, or 0 when it returned without being woken (an
// interrupted system call), in which case it is called again. It reports the
// percentiles of the time from the start of wake to the end of wait.
func wakeLatency(b *testing.B, pause time.Duration, wait func() time.Duration, wake func()) {
	var requests atomic.Int64 // waits begun
	var sent atomic.Int64     // when the last wake began, as sinceBase
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		var served int64
		for !stop.Load() {
			r := requests.Load()
			if r == served {
				continue // spin: a channel or a sleep would add a wake-up of its own
			}
			served = r
			for t := time.Now(); time.Since(t) < pause; {
			}
			sent.Store(int64(sinceBase()))
			wake()
		}
	}()

	var samples []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		requests.Add(1)
		woke := wait()
		for woke == 0 {
			woke = wait()
		}
		samples = append(samples, woke-time.Duration(sent.Load()))
	}
	stop.Store(true)
	<-done

	slices.Sort(samples)
	at := func(q float64) float64 {
		return float64(samples[int(q*float64(len(samples)-1))].Nanoseconds())
	}
	b.ReportMetric(at(0.5), "p50-ns")
	b.ReportMetric(at(0.99), "p99-ns")
	b.ReportMetric(at(0.999), "p999-ns")
	b.ReportMetric(at(1), "max-ns")
}

func pauseName(d time.Duration) string { return fmt.Sprintf("pause=%dus", d.Microseconds()) }
