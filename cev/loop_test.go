package cev

import (
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	pointer "github.com/mattn/go-pointer"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func newLoop(t testing.TB) *Loop {
	t.Helper()
	l, err := NewLoop()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, l.Close()) })
	return l
}

func pipe(t testing.TB) (r, w int) {
	t.Helper()
	var p [2]int
	require.NoError(t, unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC))
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

// runUntil runs the loop until done reports true, failing after a few
// seconds of iterations (a fail-safe, not a timing assertion).
func runUntil(t *testing.T, l *Loop, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !done() {
		require.True(t, time.Now().Before(deadline), "loop did not get there")
		l.Run(Once)
	}
}

func TestBackendIsEpoll(t *testing.T) {
	l := newLoop(t)
	require.Equal(t, "epoll", l.Backend())
}

func TestIOFiresReadableAndWritable(t *testing.T) {
	l := newLoop(t)
	r, w := pipe(t)
	var got []Events
	rio := l.NewIO(func(ev Events) { got = append(got, ev) })
	rio.Start(r, Read)
	l.Run(NoWait)
	require.Empty(t, got, "an empty pipe is not readable")

	wio := l.NewIO(func(ev Events) { got = append(got, ev) })
	wio.Start(w, Write)
	l.Run(Once)
	require.Equal(t, []Events{Write}, got, "an empty pipe is writable")
	wio.Stop()

	got = nil
	_, err := unix.Write(w, []byte("x"))
	require.NoError(t, err)
	l.Run(Once)
	require.Equal(t, []Events{Read}, got)
	require.Equal(t, r, rio.Fd())
	require.Equal(t, Read, rio.Events())
}

func TestIOStaysArmedAndLevelTriggered(t *testing.T) {
	l := newLoop(t)
	r, w := pipe(t)
	n := 0
	rio := l.NewIO(func(Events) { n++ })
	rio.Start(r, Read)
	_, err := unix.Write(w, []byte("x"))
	require.NoError(t, err)
	l.Run(Once)
	l.Run(Once)
	require.Equal(t, 2, n, "an unread byte fires every iteration")
	require.True(t, rio.Active())
	rio.Start(r, Read) // same fd and mask: kept as it is
	require.True(t, rio.Active())
}

func TestIORearmWithOtherMask(t *testing.T) {
	l := newLoop(t)
	r, w := pipe(t)
	var got []Events
	io := l.NewIO(func(ev Events) { got = append(got, ev) })
	io.Start(r, Read)
	l.Run(NoWait)
	require.Empty(t, got)
	io.Start(w, Write) // re-arm on another fd and mask
	l.Run(Once)
	require.Equal(t, []Events{Write}, got)
	require.Equal(t, w, io.Fd())
}

func TestTimersFireInDeadlineOrder(t *testing.T) {
	l := newLoop(t)
	var order []int
	delays := []int{5, 1, 4, 2, 3}
	for _, d := range delays {
		tm := l.NewTimer(func(Events) { order = append(order, d) })
		tm.Start(time.Duration(d)*time.Millisecond, 0)
	}
	runUntil(t, l, func() bool { return len(order) == len(delays) })
	require.True(t, sort.IntsAreSorted(order), "order %v", order)
}

func TestTimersDueTogetherFireInDeadlineOrder(t *testing.T) {
	l := newLoop(t)
	var order []int
	for _, d := range []int{3, 1, 2} {
		tm := l.NewTimer(func(Events) { order = append(order, d) })
		tm.Start(time.Duration(d)*time.Microsecond, 0)
	}
	time.Sleep(time.Millisecond) // all three are due before the first poll
	runUntil(t, l, func() bool { return len(order) == 3 })
	require.Equal(t, []int{1, 2, 3}, order)
}

func TestTimerRevents(t *testing.T) {
	l := newLoop(t)
	var got Events
	tm := l.NewTimer(func(ev Events) { got = ev })
	tm.Start(0, 0)
	require.True(t, tm.Active())
	runUntil(t, l, func() bool { return got != 0 })
	require.Equal(t, Timeout, got)
	require.False(t, tm.Active(), "a timer without repeat stops when it fires")
}

func TestRepeatTimer(t *testing.T) {
	l := newLoop(t)
	n := 0
	var tm *Timer
	tm = l.NewTimer(func(Events) {
		n++
		if n == 3 {
			tm.Stop()
		}
	})
	tm.Start(time.Millisecond, time.Millisecond)
	runUntil(t, l, func() bool { return n == 3 })
	require.False(t, tm.Active())
	require.False(t, l.Run(Once), "nothing is active any more")
	require.Equal(t, 3, n)
}

func TestTimerAgainAndRemaining(t *testing.T) {
	l := newLoop(t)
	fired := false
	tm := l.NewTimer(func(Events) { fired = true })
	tm.Again(time.Hour)
	require.True(t, tm.Active())
	rem := tm.Remaining()
	require.Greater(t, rem, 59*time.Minute)
	require.LessOrEqual(t, rem, time.Hour)
	tm.Again(time.Millisecond)
	runUntil(t, l, func() bool { return fired })
	require.True(t, tm.Active(), "Again makes a repeating timer")
	tm.Again(0)
	require.False(t, tm.Active(), "Again(0) stops it")
}

func TestAsyncFromAnotherGoroutineWakesBlockedLoop(t *testing.T) {
	l := newLoop(t)
	var got Events
	a := l.NewAsync(func(ev Events) { got = ev })
	a.Start()
	go func() {
		// Let the loop reach epoll_wait; if it has not, the event is
		// still delivered, so this sleep cannot make the test flaky.
		time.Sleep(10 * time.Millisecond)
		a.Send()
	}()
	require.True(t, l.Run(Once))
	require.Equal(t, AsyncSent, got)
}

func TestAsyncSendsCoalesce(t *testing.T) {
	l := newLoop(t)
	n := 0
	a := l.NewAsync(func(Events) { n++ })
	a.Start()
	done := make(chan struct{})
	for range 4 {
		go func() {
			for range 100 {
				a.Send()
			}
			done <- struct{}{}
		}()
	}
	for range 4 {
		<-done
	}
	l.Run(Once)
	require.Equal(t, 1, n)
	l.Run(NoWait)
	require.Equal(t, 1, n, "no event is left over")
}

func TestUnrefAsyncDoesNotKeepLoopAlive(t *testing.T) {
	l := newLoop(t)
	a := l.NewAsync(func(Events) {})
	a.Start()
	require.True(t, l.Run(NoWait))
	l.Unref()
	require.False(t, l.Run(Once), "Run(Once) returns at once: only an unreferenced async is active")
	l.Ref()
	a.Send()
	require.True(t, l.Run(Once))
}

func TestNoWatchersRunReturnsInactive(t *testing.T) {
	l := newLoop(t)
	require.False(t, l.Run(Once))
	require.Equal(t, 0, l.PendingCount())
	require.GreaterOrEqual(t, l.Iteration(), uint(1))
}

// Two watchers fire in the same iteration; whichever handler runs first
// stops (or closes) the other, whose recorded event must then be dropped.
func TestStopFromHandlerDropsPendingEvent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		close bool
	}{
		{name: "stop"},
		{name: "close", close: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			r1, w1 := pipe(t)
			r2, w2 := pipe(t)
			_, err := unix.Write(w1, []byte("x"))
			require.NoError(t, err)
			_, err = unix.Write(w2, []byte("x"))
			require.NoError(t, err)
			var a, b *IO
			calls := 0
			a = l.NewIO(func(Events) {
				calls++
				if tc.close {
					b.Close()
				} else {
					b.Stop()
				}
			})
			b = l.NewIO(func(Events) {
				calls++
				if tc.close {
					a.Close()
				} else {
					a.Stop()
				}
			})
			a.Start(r1, Read)
			b.Start(r2, Read)
			l.Run(Once)
			require.Equal(t, 1, calls)
		})
	}
}

func TestRestartFromHandlerDropsStaleEvent(t *testing.T) {
	l := newLoop(t)
	var a, b *Timer
	calls := 0
	a = l.NewTimer(func(Events) { calls++; b.Start(time.Hour, 0) })
	b = l.NewTimer(func(Events) { calls++; a.Start(time.Hour, 0) })
	a.Start(0, 0)
	b.Start(0, 0)
	time.Sleep(time.Millisecond)
	l.Run(Once)
	require.Equal(t, 1, calls, "the restarted timer's old event is stale")
}

func TestStartFromHandler(t *testing.T) {
	l := newLoop(t)
	second := false
	var tm2 *Timer
	tm1 := l.NewTimer(func(Events) {
		tm2 = l.NewTimer(func(Events) { second = true })
		tm2.Start(0, 0)
	})
	tm1.Start(0, 0)
	runUntil(t, l, func() bool { return second })
}

func TestRunFromHandlerPanics(t *testing.T) {
	l := newLoop(t)
	tm := l.NewTimer(func(Events) { l.Run(NoWait) })
	tm.Start(0, 0)
	require.PanicsWithValue(t, "cev: Loop.Run called from a Handler", func() { l.Run(Once) })
}

func TestSlotReuseDoesNotDeliverToNewWatcher(t *testing.T) {
	l := newLoop(t)
	r, w := pipe(t)
	_, err := unix.Write(w, []byte("x"))
	require.NoError(t, err)
	var victim, fresh *IO
	freshCalls := 0
	killer := l.NewTimer(func(Events) {
		victim.Close()
		fresh = l.NewIO(func(Events) { freshCalls++ })
	})
	victim = l.NewIO(func(Events) { t.Error("closed watcher got an event") })
	killer.Start(0, 0)
	time.Sleep(time.Millisecond)
	victim.Start(r, Read)
	// libev invokes the io event before the timer (LIFO within a
	// priority) or after it; either way, a closed watcher gets nothing and
	// the new one, which may reuse its slot, is not started.
	l.Run(Once)
	l.Run(NoWait)
	require.Equal(t, 0, freshCalls)
	require.NotNil(t, fresh)
}

func TestTokenMapsBackThroughGoPointer(t *testing.T) {
	l := newLoop(t)
	io := l.NewIO(func(Events) {})
	got, ok := pointer.Restore(io.token).(*watcher)
	require.True(t, ok)
	require.Same(t, &io.watcher, got)
	io.Close()
	require.Nil(t, pointer.Restore(io.token), "Close releases the token")
}

func TestWatcherCloseIsIdempotentAndUseAfterClosePanics(t *testing.T) {
	l := newLoop(t)
	r, _ := pipe(t)
	io := l.NewIO(func(Events) {})
	io.Start(r, Read)
	require.Equal(t, 1, l.Watchers())
	io.Close()
	io.Close()
	require.Equal(t, 0, l.Watchers())
	require.False(t, io.Active())
	require.PanicsWithValue(t, "cev: use of closed IO", func() { io.Start(r, Read) })
	tm := l.NewTimer(func(Events) {})
	tm.Close()
	require.PanicsWithValue(t, "cev: use of closed Timer", func() { tm.Start(0, 0) })
	a := l.NewAsync(func(Events) {})
	a.Close()
	require.False(t, a.Send(), "Send after Close does nothing")
	require.PanicsWithValue(t, "cev: use of closed Async", func() { a.Start() })
}

func TestMisusePanicsWithMessage(t *testing.T) {
	l := newLoop(t)
	io := l.NewIO(func(Events) {})
	require.PanicsWithValue(t, "cev: IO.Start with a negative fd", func() { io.Start(-1, Read) })
	require.PanicsWithValue(t, "cev: IO.Start with neither Read nor Write", func() { io.Start(0, 0) })
	require.PanicsWithValue(t, "cev: nil Handler", func() { l.NewTimer(nil) })
}

func openFds(t *testing.T) map[string]string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	fds := map[string]string{}
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the fd of the directory listing itself, closed by now
		}
		fds[e.Name()] = target
	}
	return fds
}

func TestLoopCloseFreesEverythingAndClosesFds(t *testing.T) {
	before := openFds(t)
	l, err := NewLoop()
	require.NoError(t, err)
	a := l.NewAsync(func(Events) {})
	a.Start() // makes libev open its eventfd
	tm := l.NewTimer(func(Events) {})
	tm.Start(time.Hour, 0)
	var p [2]int
	require.NoError(t, unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC))
	io := l.NewIO(func(Events) {})
	io.Start(p[0], Read)
	l.Run(NoWait)

	var added []string
	for fd, target := range openFds(t) {
		if before[fd] != target && fd != strconv.Itoa(p[0]) && fd != strconv.Itoa(p[1]) {
			added = append(added, target)
		}
	}
	require.ElementsMatch(t, []string{"anon_inode:[eventpoll]", "anon_inode:[eventfd]"}, added)

	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "a second Close returns nil")
	require.True(t, l.Closed())
	unix.Close(p[0])
	unix.Close(p[1])
	after := openFds(t)
	for fd, target := range after {
		if before[fd] != target {
			require.NotContains(t, []string{"anon_inode:[eventpoll]", "anon_inode:[eventfd]"}, target,
				"fd %s still open after Close", fd)
		}
	}
	require.False(t, io.Active())
	require.False(t, a.Send())
	require.PanicsWithValue(t, "cev: use of closed IO", func() { io.Start(0, Read) })
	require.PanicsWithValue(t, "cev: use of closed Timer", func() { tm.Again(time.Second) })
	require.PanicsWithValue(t, "cev: use of closed Loop", func() { l.Run(NoWait) })
	require.PanicsWithValue(t, "cev: use of closed Loop", func() { l.NewTimer(func(Events) {}) })
	require.PanicsWithValue(t, "cev: use of closed Loop", func() { l.Now() })
}

func TestNowAdvances(t *testing.T) {
	l := newLoop(t)
	t0 := l.Now()
	require.WithinDuration(t, time.Now(), t0, time.Minute)
	time.Sleep(2 * time.Millisecond)
	require.True(t, l.UpdateNow().After(t0))
}
