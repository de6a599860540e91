package coro

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func panicsOnPurpose() { panic("boom") }

func TestPanicInCoroutineCarriesItsStack(t *testing.T) {
	var got any
	func() {
		defer func() { got = recover() }()
		Run(func(ctx context.Context) error {
			panicsOnPurpose()
			return nil
		})
	}()
	pe, ok := got.(*PanicError)
	require.True(t, ok, "panic value %T", got)
	require.Equal(t, "boom", pe.Value)
	require.Contains(t, string(pe.Stack), "panicsOnPurpose")
	require.True(t, strings.HasPrefix(pe.Error(), "boom"))
}

func TestOnDoneRunsForFinishedAndNeverStartedCoroutines(t *testing.T) {
	boom := errors.New("boom")
	var results []error
	err := run(t, func(ctx context.Context) error {
		done := Spawn(ctx, func(context.Context) error { return boom })
		done.OnDone(func(err error) { results = append(results, err) })
		never := Spawn(ctx, func(context.Context) error { return nil })
		never.OnDone(func(err error) { results = append(results, err) })
		never.Kill()
		if err := done.Join(ctx); err != boom {
			return err
		}
		done.OnDone(func(err error) { results = append(results, err) }) // already done: at once
		return nil
	})
	require.NoError(t, err)
	require.Len(t, results, 3)
	require.ErrorIs(t, results[0], ErrKilled, "killed before it started")
	require.Same(t, boom, results[1])
	require.Same(t, boom, results[2])
}

func TestDeadlineCancelFromAnotherGoroutineWakesWaiter(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		tctx, cancel := WithTimeout(ctx, time.Hour)
		go cancel()
		var ev Event
		assert.ErrorIs(t, ev.Wait(tctx), context.Canceled)
		return nil
	})
	require.NoError(t, err)
}

func TestCloseWriteGivesPeerEOF(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		l, err := Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		c, err := Dial(ctx, "tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		s, err := l.Accept(ctx)
		if err != nil {
			return err
		}
		defer s.Close()
		assert.NoError(t, c.CloseWrite())
		_, err = s.Read(ctx, make([]byte, 1))
		assert.ErrorIs(t, err, io.EOF)
		assert.NoError(t, c.Close())
		assert.Error(t, c.CloseWrite(), "closed conn")
		return nil
	})
	require.NoError(t, err)
}

func TestSetSpinZeroStillWakes(t *testing.T) {
	h, err := NewHub()
	require.NoError(t, err)
	h.SetSpin(0)
	require.NoError(t, h.Run(func(ctx context.Context) error { return Sleep(ctx, time.Millisecond) }))
}
