package coro

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSendAndReceiveFds(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "fds.sock")
	err := run(t, func(ctx context.Context) error {
		l, err := Listen(ctx, "unix", sock)
		if err != nil {
			return err
		}
		defer l.Close()
		c, err := Dial(ctx, "unix", sock)
		if err != nil {
			return err
		}
		defer c.Close()
		s, err := l.Accept(ctx)
		if err != nil {
			return err
		}
		defer s.Close()
		var p [2]int
		if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
			return err
		}
		defer syscall.Close(p[0])
		defer syscall.Close(p[1])

		assert.Error(t, c.SendFds(ctx, nil, p[:1]), "an fd needs a byte to travel with")
		if err := c.SendFds(ctx, []byte("x"), p[:1]); err != nil {
			return err
		}
		buf := make([]byte, 1)
		n, fds, err := s.ReceiveFds(ctx, buf, 4)
		if err != nil {
			return err
		}
		assert.Equal(t, 1, n)
		if assert.Len(t, fds, 1) {
			// The received fd is the pipe's read end: what we write
			// into p[1] comes out of it.
			syscall.Write(p[1], []byte("y"))
			got := make([]byte, 1)
			k, _ := syscall.Read(fds[0], got)
			assert.Equal(t, "y", string(got[:k]))
			syscall.Close(fds[0])
		}

		// More fds than the receiver takes: an error, and none leaks
		// (the leak check of run looks for them).
		if err := c.SendFds(ctx, []byte("z"), p[:]); err != nil {
			return err
		}
		_, fds, err = s.ReceiveFds(ctx, buf, 1)
		assert.Error(t, err)
		assert.Empty(t, fds)
		return nil
	})
	require.NoError(t, err)
}
