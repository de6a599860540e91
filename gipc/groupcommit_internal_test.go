package gipc

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"gipc.dev/coro"
)

// fillPipe writes raw bytes into w's pipe until it is full.
func fillPipe(t *testing.T, fd int) int {
	t.Helper()
	chunk := make([]byte, 4096)
	total := 0
	for {
		n, err := unix.Write(fd, chunk)
		if err == unix.EAGAIN {
			return total
		}
		require.NoError(t, err)
		total += n
	}
}

// drainRaw reads n raw bytes from fd, parking when it is empty.
func drainRaw(ctx context.Context, fd int, n int) error {
	buf := make([]byte, 4096)
	for n > 0 {
		k, err := unix.Read(fd, buf[:min(n, len(buf))])
		if err == unix.EAGAIN {
			if err := coro.WaitReadable(ctx, fd); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// A leader whose wait ends before any byte of its frame went out hands the
// queue over: the queued Put leads, its message goes out, the leader's
// does not.
func TestLeaderTimeoutHandsTheQueueOver(t *testing.T) {
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	filled := fillPipe(t, w.fd)
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		var leaderErr error
		leader := coro.Spawn(ctx, func(ctx context.Context) error {
			tctx, cancel := coro.WithTimeout(ctx, 10*time.Millisecond)
			defer cancel()
			leaderErr = w.Put(tctx, []byte("leader"))
			return nil
		})
		follower := coro.Spawn(ctx, func(ctx context.Context) error { return w.Put(ctx, []byte("follower")) })
		if err := leader.Join(ctx); err != nil {
			return err
		}
		assert.ErrorIs(t, leaderErr, context.DeadlineExceeded)
		assert.NotErrorIs(t, leaderErr, ErrBroken, "nothing of the leader's frame went out")
		assert.Nil(t, w.broken)
		if err := drainRaw(ctx, r.fd, filled); err != nil {
			return err
		}
		m, err := r.Get(ctx)
		if err != nil {
			return err
		}
		assert.Equal(t, "follower", string(m))
		assert.NoError(t, follower.Join(ctx))
		assert.NoError(t, w.Put(ctx, []byte("after")))
		m, err = r.Get(ctx)
		assert.Equal(t, "after", string(m), "the leader's message was never sent")
		return err
	}))
}
