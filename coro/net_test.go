package coro

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func echo(ctx context.Context, c *Conn) {
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
}

func TestTCPEchoThousandClientsOneHub(t *testing.T) {
	const clients = 1000
	err := run(t, func(ctx context.Context) error {
		l, err := Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := Spawn(ctx, func(ctx context.Context) error { return Serve(ctx, l, echo) })
		var g Group
		for i := range clients {
			g.Go(ctx, func(ctx context.Context) error {
				c, err := Dial(ctx, "tcp", l.Addr().String())
				if err != nil {
					return err
				}
				defer c.Close()
				for j := range 3 {
					msg := fmt.Sprintf("client %d message %d\n", i, j)
					if _, err := c.Write(ctx, []byte(msg)); err != nil {
						return err
					}
					got := make([]byte, len(msg))
					if _, err := io.ReadFull(c.Bind(ctx), got); err != nil {
						return err
					}
					if string(got) != msg {
						return fmt.Errorf("echo %q, want %q", got, msg)
					}
				}
				return nil
			})
		}
		if err := g.Wait(ctx); err != nil {
			return err
		}
		assert.NoError(t, l.Close())
		return srv.Join(ctx)
	})
	require.NoError(t, err)
}

func TestUnixListenerRemovesSocketFileOnClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	err := run(t, func(ctx context.Context) error {
		l, err := Listen(ctx, "unix", path)
		if err != nil {
			return err
		}
		Spawn(ctx, func(ctx context.Context) error { return Serve(ctx, l, echo) })
		c, err := Dial(ctx, "unix", path)
		if err != nil {
			return err
		}
		defer c.Close()
		rw := bufio.NewReadWriter(bufio.NewReader(c.Bind(ctx)), bufio.NewWriter(c.Bind(ctx)))
		if _, err := rw.WriteString("hello\n"); err != nil {
			return err
		}
		if err := rw.Flush(); err != nil {
			return err
		}
		line, err := rw.ReadString('\n')
		assert.Equal(t, "hello\n", line)
		assert.Equal(t, path, l.Addr().String())
		assert.NoError(t, l.Close())
		_, statErr := os.Stat(path)
		assert.True(t, errors.Is(statErr, os.ErrNotExist), "socket file still there")
		assert.ErrorIs(t, l.Close(), net.ErrClosed)
		return err
	})
	require.NoError(t, err)
}

func TestCloseWakesParkedReadAndAccept(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		l, err := Listen(ctx, "tcp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		var acceptErr error
		acc := Spawn(ctx, func(ctx context.Context) error {
			_, acceptErr = l.Accept(ctx)
			return nil
		})
		_ = Yield(ctx)
		assert.NoError(t, l.Close())
		_ = acc.Join(ctx)
		assert.ErrorIs(t, acceptErr, net.ErrClosed)

		l2, err := Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l2.Close()
		c, err := Dial(ctx, "tcp", l2.Addr().String())
		if err != nil {
			return err
		}
		s, err := l2.Accept(ctx)
		if err != nil {
			return err
		}
		defer s.Close()
		var readErr error
		r := Spawn(ctx, func(ctx context.Context) error {
			_, readErr = c.Read(ctx, make([]byte, 10))
			return nil
		})
		_ = Yield(ctx)
		assert.NoError(t, c.Close())
		_ = r.Join(ctx)
		assert.ErrorIs(t, readErr, net.ErrClosed)
		assert.ErrorIs(t, c.Close(), net.ErrClosed)
		_, err = c.Write(ctx, []byte("x"))
		assert.ErrorIs(t, err, net.ErrClosed)
		return nil
	})
	require.NoError(t, err)
}

func TestReadTimeoutLeavesConnUsableAndEOF(t *testing.T) {
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
		tctx, cancel := WithTimeout(ctx, 5*time.Millisecond)
		_, err = c.Read(tctx, make([]byte, 1))
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		if _, err := s.Write(ctx, []byte("ok")); err != nil {
			return err
		}
		buf := make([]byte, 2)
		_, err = io.ReadFull(c.Bind(ctx), buf)
		assert.Equal(t, "ok", string(buf))
		assert.NoError(t, s.Close())
		_, eofErr := c.Read(ctx, buf)
		assert.ErrorIs(t, eofErr, io.EOF)
		assert.Equal(t, l.Addr().String(), c.RemoteAddr().String())
		assert.NotNil(t, c.LocalAddr())
		return err
	})
	require.NoError(t, err)
}

func TestServeReturnsCtxErrorWhenCtxEnds(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		l, err := Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		tctx, cancel := WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		err = Serve(tctx, l, echo)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, l.Close(), net.ErrClosed, "Serve closed the listener")
		return nil
	})
	require.NoError(t, err)
}

func TestDialRefusedAndBadInput(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		l, err := Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := l.Addr().String()
		l.Close()
		_, err = Dial(ctx, "tcp", addr)
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
		_, err = Dial(ctx, "udp", addr)
		assert.Error(t, err)
		_, err = Listen(ctx, "tcp", "no-port")
		assert.Error(t, err)
		_, err = Dial(ctx, "unix", filepath.Join(t.TempDir(), "none.sock"))
		assert.ErrorIs(t, err, syscall.ENOENT)
		return nil
	})
	require.NoError(t, err)
	_, err = Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.ErrorIs(t, err, ErrNotCoroutine)
	_, err = Dial(context.Background(), "tcp", "127.0.0.1:1")
	require.ErrorIs(t, err, ErrNotCoroutine)
}

func TestDialResolvesLocalhost(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		l, err := Listen(ctx, "tcp4", "localhost:0")
		if err != nil {
			return err
		}
		defer l.Close()
		_, port, _ := net.SplitHostPort(l.Addr().String())
		c, err := Dial(ctx, "tcp4", "localhost:"+port)
		if err != nil {
			return err
		}
		return c.Close()
	})
	require.NoError(t, err)
}

func TestFDWaitAndClose(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		var p [2]int
		if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
			return err
		}
		r, w := NewFD(p[0]), NewFD(p[1])
		defer w.Close()
		assert.NoError(t, w.WaitWritable(ctx))
		waiter := Spawn(ctx, func(ctx context.Context) error { return r.WaitReadable(ctx) })
		_ = Yield(ctx)
		if _, err := syscall.Write(w.Sysfd(), []byte("x")); err != nil {
			return err
		}
		assert.NoError(t, waiter.Join(ctx))
		// raw waits
		assert.NoError(t, WaitReadable(ctx, p[0]))
		assert.NoError(t, WaitWritable(ctx, p[1]))
		assert.Error(t, WaitReadable(ctx, -1))
		// close wakes the parked waiter
		buf := make([]byte, 1)
		syscall.Read(p[0], buf)
		waiter = Spawn(ctx, func(ctx context.Context) error { return r.WaitReadable(ctx) })
		_ = Yield(ctx)
		assert.NoError(t, r.Close())
		assert.ErrorIs(t, waiter.Join(ctx), net.ErrClosed)
		assert.ErrorIs(t, r.Close(), net.ErrClosed)
		assert.Equal(t, -1, r.Sysfd())
		return nil
	})
	require.NoError(t, err)
}
