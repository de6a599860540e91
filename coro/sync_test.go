package coro

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventWakesAllWaiters(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		var ev Event
		woken := 0
		var g Group
		for range 5 {
			g.Go(ctx, func(ctx context.Context) error {
				if err := ev.Wait(ctx); err != nil {
					return err
				}
				woken++
				return nil
			})
		}
		_ = Yield(ctx)
		assert.False(t, ev.IsSet())
		ev.Set()
		assert.True(t, ev.IsSet())
		if err := g.Wait(ctx); err != nil {
			return err
		}
		assert.Equal(t, 5, woken)
		assert.NoError(t, ev.Wait(ctx), "a set event does not block")
		ev.Clear()
		assert.False(t, ev.IsSet())
		return nil
	})
	require.NoError(t, err)
}

func TestQueueHandsItemsInOrderToWaitersInOrder(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		q := NewQueue[int](0)
		var got []string
		var g Group
		for i := range 3 {
			g.Go(ctx, func(ctx context.Context) error {
				v, err := q.Get(ctx)
				got = append(got, fmt.Sprintf("g%d:%d", i, v))
				return err
			})
		}
		_ = Yield(ctx)
		for v := range 3 {
			if err := q.Put(ctx, v*10); err != nil {
				return err
			}
		}
		if err := g.Wait(ctx); err != nil {
			return err
		}
		assert.Equal(t, []string{"g0:0", "g1:10", "g2:20"}, got)
		return nil
	})
	require.NoError(t, err)
}

func TestBoundedQueuePutWaitsForRoomInOrder(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		q := NewQueue[int](1)
		if err := q.Put(ctx, 0); err != nil {
			return err
		}
		var g Group
		for i := 1; i <= 3; i++ {
			g.Go(ctx, func(ctx context.Context) error { return q.Put(ctx, i) })
		}
		_ = Yield(ctx)
		assert.Equal(t, 1, q.Len())
		var got []int
		for range 4 {
			v, err := q.Get(ctx)
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		assert.Equal(t, []int{0, 1, 2, 3}, got)
		return g.Wait(ctx)
	})
	require.NoError(t, err)
}

func TestQueueCloseWakesEveryoneAndDrains(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		q := NewQueue[int](0)
		var getErr error
		c := Spawn(ctx, func(ctx context.Context) error {
			_, getErr = q.Get(ctx)
			return nil
		})
		_ = Yield(ctx)
		q.Close()
		q.Close()
		_ = c.Join(ctx)
		assert.ErrorIs(t, getErr, ErrQueueClosed)
		assert.ErrorIs(t, q.Put(ctx, 1), ErrQueueClosed)

		q2 := NewQueue[int](1)
		assert.NoError(t, q2.Put(ctx, 7))
		var putErr error
		p := Spawn(ctx, func(ctx context.Context) error { putErr = q2.Put(ctx, 8); return nil })
		_ = Yield(ctx)
		q2.Close()
		_ = p.Join(ctx)
		assert.ErrorIs(t, putErr, ErrQueueClosed)
		v, err := q2.Get(ctx)
		assert.NoError(t, err)
		assert.Equal(t, 7, v, "Get drains what is left")
		_, err = q2.Get(ctx)
		assert.ErrorIs(t, err, ErrQueueClosed)
		_, ok := q2.TryGet()
		assert.False(t, ok)
		return nil
	})
	require.NoError(t, err)
}

func TestQueueGetKilledAfterHandOffLosesNothing(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		q := NewQueue[int](0)
		c := Spawn(ctx, func(ctx context.Context) error { _, err := q.Get(ctx); return err })
		_ = Yield(ctx)
		assert.NoError(t, q.Put(ctx, 42)) // handed to c...
		c.Kill()                          // ...which dies before it runs
		assert.ErrorIs(t, c.Join(ctx), ErrKilled)
		v, ok := q.TryGet()
		assert.True(t, ok)
		assert.Equal(t, 42, v)
		return nil
	})
	require.NoError(t, err)
}

func TestQueueGetTimeout(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		q := NewQueue[string](0)
		tctx, cancel := WithTimeout(ctx, time.Millisecond)
		defer cancel()
		_, err := q.Get(tctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		return nil
	})
	require.NoError(t, err)
}

func TestSemaphoreIsFair(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		s := NewSemaphore(1)
		assert.True(t, s.TryAcquire())
		assert.False(t, s.TryAcquire())
		var order []int
		var g Group
		for i := range 4 {
			g.Go(ctx, func(ctx context.Context) error {
				if err := s.Acquire(ctx); err != nil {
					return err
				}
				order = append(order, i)
				defer s.Release()
				return Yield(ctx)
			})
		}
		_ = Yield(ctx)
		s.Release()
		// A newcomer does not overtake the waiters.
		assert.False(t, s.TryAcquire())
		if err := g.Wait(ctx); err != nil {
			return err
		}
		assert.Equal(t, []int{0, 1, 2, 3}, order)
		assert.True(t, s.TryAcquire())
		s.Release()
		assert.PanicsWithValue(t, "coro: semaphore released more than held", s.Release)
		return nil
	})
	require.NoError(t, err)
}

func TestSemaphoreKilledWaiterPassesPermitOn(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		s := NewSemaphore(1)
		assert.NoError(t, s.Acquire(ctx))
		a := Spawn(ctx, func(ctx context.Context) error { return s.Acquire(ctx) })
		gotB := false
		b := Spawn(ctx, func(ctx context.Context) error {
			if err := s.Acquire(ctx); err != nil {
				return err
			}
			gotB = true
			s.Release()
			return nil
		})
		_ = Yield(ctx)
		s.Release() // to a...
		a.Kill()    // ...killed before it runs: the permit goes to b
		assert.ErrorIs(t, a.Join(ctx), ErrKilled)
		assert.NoError(t, b.Join(ctx))
		assert.True(t, gotB)
		return nil
	})
	require.NoError(t, err)
}

func TestGroupWaitReturnsFirstErrorOthersKeepRunning(t *testing.T) {
	first := errors.New("first")
	err := run(t, func(ctx context.Context) error {
		var g Group
		finished := 0
		g.Go(ctx, func(ctx context.Context) error { return first })
		g.Go(ctx, func(ctx context.Context) error { _ = Sleep(ctx, time.Millisecond); return errors.New("second") })
		g.Go(ctx, func(ctx context.Context) error { _ = Sleep(ctx, 2*time.Millisecond); finished++; return nil })
		err := g.Wait(ctx)
		assert.Equal(t, 1, finished)
		return err
	})
	require.Same(t, first, err)
	var empty Group
	require.NoError(t, run(t, func(ctx context.Context) error { return empty.Wait(ctx) }))
}
