package coro

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gipc.dev/internal/leak"
)

// run runs main on a new hub, with a leak check around it.
func run(t *testing.T, main func(ctx context.Context) error) error {
	t.Helper()
	leak.Check(t)
	h, err := NewHub()
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Close()) })
	return h.Run(main)
}

func TestRunReturnsMainError(t *testing.T) {
	boom := errors.New("boom")
	require.Same(t, boom, run(t, func(ctx context.Context) error { return boom }))
	require.NoError(t, run(t, func(ctx context.Context) error { return nil }))
}

func TestSleepersWakeInDeadlineOrder(t *testing.T) {
	var order []int
	err := run(t, func(ctx context.Context) error {
		var g Group
		for _, d := range []int{30, 10, 20, 0, 5} {
			g.Go(ctx, func(ctx context.Context) error {
				if err := Sleep(ctx, time.Duration(d)*time.Millisecond); err != nil {
					return err
				}
				order = append(order, d)
				return nil
			})
		}
		return g.Wait(ctx)
	})
	require.NoError(t, err)
	require.Equal(t, []int{0, 5, 10, 20, 30}, order)
}

func TestYieldLetsEveryReadyCoroutineRunOnce(t *testing.T) {
	var trace []string
	err := run(t, func(ctx context.Context) error {
		for _, name := range []string{"a", "b", "c"} {
			Spawn(ctx, func(ctx context.Context) error {
				trace = append(trace, name+"1")
				if err := Yield(ctx); err != nil {
					return err
				}
				trace = append(trace, name+"2")
				return nil
			})
		}
		trace = append(trace, "main1")
		if err := Sleep(ctx, 0); err != nil {
			return err
		}
		trace = append(trace, "main2")
		return Sleep(ctx, time.Millisecond)
	})
	require.NoError(t, err)
	require.Equal(t, []string{"main1", "a1", "b1", "c1", "main2", "a2", "b2", "c2"}, trace)
}

func TestKillParkedCoroutineRunsDefersAndJoinReturnsItsError(t *testing.T) {
	deferred := false
	var waitErr error
	err := run(t, func(ctx context.Context) error {
		c := Spawn(ctx, func(ctx context.Context) error {
			defer func() { deferred = true }()
			waitErr = Sleep(ctx, time.Hour)
			return errors.New("returned after kill")
		})
		if err := Yield(ctx); err != nil {
			return err
		}
		c.Kill()
		err := c.Join(ctx)
		assert.EqualError(t, err, "returned after kill")
		assert.True(t, c.Done())
		c.Kill() // killing a finished coroutine does nothing
		return nil
	})
	require.NoError(t, err)
	require.True(t, deferred)
	require.ErrorIs(t, waitErr, ErrKilled)
}

func TestKillBeforeStartJoinReturnsErrKilled(t *testing.T) {
	ran := false
	err := run(t, func(ctx context.Context) error {
		c := Spawn(ctx, func(ctx context.Context) error { ran = true; return nil })
		c.Kill()
		assert.True(t, c.Done())
		return c.Join(ctx)
	})
	require.ErrorIs(t, err, ErrKilled)
	require.False(t, ran)
}

func TestKilledCoroutineCtxCauseIsErrKilled(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		var cause, ctxErr error
		c := Spawn(ctx, func(ctx context.Context) error {
			_ = Sleep(ctx, time.Hour)
			cause, ctxErr = context.Cause(ctx), ctx.Err()
			return nil
		})
		_ = Yield(ctx)
		c.Kill()
		_ = c.Join(ctx)
		assert.ErrorIs(t, cause, ErrKilled)
		assert.ErrorIs(t, ctxErr, context.Canceled)
		return nil
	})
	require.NoError(t, err)
}

func TestKillIsStrictEvenWhenWokenInSameIteration(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		var ev Event
		var got error
		c := Spawn(ctx, func(ctx context.Context) error {
			got = ev.Wait(ctx)
			return nil
		})
		_ = Yield(ctx)
		ev.Set() // c is now ready with a nil result...
		c.Kill() // ...and the kill overrides it
		_ = c.Join(ctx)
		assert.ErrorIs(t, got, ErrKilled)
		return nil
	})
	require.NoError(t, err)
}

func TestNestedTimeoutsShorterWins(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		outer, cancel1 := WithTimeout(ctx, 20*time.Millisecond)
		defer cancel1()
		inner, cancel2 := WithTimeout(outer, time.Hour)
		defer cancel2()
		dl, ok := inner.Deadline()
		assert.True(t, ok)
		assert.WithinDuration(t, time.Now().Add(20*time.Millisecond), dl, 20*time.Millisecond)
		start := time.Now()
		err := Sleep(inner, time.Hour)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 30*time.Minute)

		short, cancel3 := WithTimeout(ctx, time.Hour)
		defer cancel3()
		shorter, cancel4 := WithTimeout(short, time.Millisecond)
		defer cancel4()
		var ev Event
		assert.ErrorIs(t, ev.Wait(shorter), context.DeadlineExceeded)
		assert.NoError(t, short.Err(), "the outer ctx is not done")
		return nil
	})
	require.NoError(t, err)
}

func TestStandardContextTimeoutWakesParkedCoroutine(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		var ev Event
		err := ev.Wait(sctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		cctx, cancel2 := context.WithCancel(ctx)
		Spawn(ctx, func(context.Context) error { cancel2(); return nil })
		assert.ErrorIs(t, ev.Wait(cctx), context.Canceled)
		return nil
	})
	require.NoError(t, err)
}

func TestSpawnInheritsValuesDeadlineAndCancellation(t *testing.T) {
	type key struct{}
	err := run(t, func(ctx context.Context) error {
		vctx := context.WithValue(ctx, key{}, "v")
		tctx, cancel := WithTimeout(vctx, 10*time.Millisecond)
		defer cancel()
		var val any
		var hasDL bool
		var waitErr error
		c := Spawn(tctx, func(ctx context.Context) error {
			val = ctx.Value(key{})
			_, hasDL = ctx.Deadline()
			waitErr = Sleep(ctx, time.Hour)
			return nil
		})
		detached := Spawn(context.WithoutCancel(tctx), func(ctx context.Context) error {
			return Sleep(ctx, 20*time.Millisecond)
		})
		assert.NoError(t, c.Join(ctx))
		assert.Equal(t, "v", val)
		assert.True(t, hasDL)
		assert.ErrorIs(t, waitErr, context.DeadlineExceeded)
		assert.NoError(t, detached.Join(ctx))
		return nil
	})
	require.NoError(t, err)
}

func TestKillCancelsSpawnedChildren(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		var childErr error
		var child *Coroutine
		parent := Spawn(ctx, func(ctx context.Context) error {
			child = Spawn(ctx, func(ctx context.Context) error {
				childErr = Sleep(ctx, time.Hour)
				return nil
			})
			return Sleep(ctx, time.Hour)
		})
		_ = Yield(ctx)
		_ = Yield(ctx)
		parent.Kill()
		_ = parent.Join(ctx)
		_ = child.Join(ctx)
		assert.ErrorIs(t, childErr, context.Canceled)
		return nil
	})
	require.NoError(t, err)
}

func TestDeadlockReturnsErrDeadlock(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		var ev Event
		return ev.Wait(ctx)
	})
	require.ErrorIs(t, err, ErrDeadlock)
	require.Contains(t, err.Error(), "Event.Wait")
}

func TestDeadlockThroughJoin(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		var ev Event
		c := Spawn(ctx, func(ctx context.Context) error { return ev.Wait(ctx) })
		return c.Join(ctx)
	})
	require.ErrorIs(t, err, ErrDeadlock)
}

func TestErrNotCoroutine(t *testing.T) {
	ctx := context.Background()
	require.ErrorIs(t, Sleep(ctx, time.Millisecond), ErrNotCoroutine)
	require.ErrorIs(t, Yield(ctx), ErrNotCoroutine)
	var ev Event
	require.ErrorIs(t, ev.Wait(ctx), ErrNotCoroutine)
	_, err := NewQueue[int](0).Get(ctx)
	require.ErrorIs(t, err, ErrNotCoroutine)
	require.ErrorIs(t, NewSemaphore(0).Acquire(ctx), ErrNotCoroutine)
	_, err = Offload(ctx, func() (int, error) { return 1, nil })
	require.ErrorIs(t, err, ErrNotCoroutine)
	require.PanicsWithValue(t, "coro: Spawn needs the ctx of the running coroutine", func() {
		Spawn(ctx, func(context.Context) error { return nil })
	})
}

func TestEndedHubCtx(t *testing.T) {
	var leaked context.Context
	require.NoError(t, run(t, func(ctx context.Context) error { leaked = ctx; return nil }))
	require.ErrorIs(t, Sleep(leaked, time.Millisecond), ErrHubClosed)
	require.PanicsWithValue(t, "coro: hub closed", func() {
		Spawn(leaked, func(context.Context) error { return nil })
	})
}

func TestMainReturnKillsAndAwaitsTheRest(t *testing.T) {
	var order []string
	err := run(t, func(ctx context.Context) error {
		for _, n := range []string{"a", "b"} {
			Spawn(ctx, func(ctx context.Context) error {
				defer func() { order = append(order, n) }()
				return Sleep(ctx, time.Hour)
			})
		}
		return Yield(ctx)
	})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, order)
}
