package gipc_test

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

type handleBox struct {
	R    *gipc.Reader[string]
	D    *gipc.Duplex[string]
	Note string
}

func TestSendHandlesOverUnixSocket(t *testing.T) {
	r, w := pipe[string](t)
	mine, theirs, err := gipc.DuplexPipe[string]()
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	sock := filepath.Join(t.TempDir(), "handles.sock")
	run(t, func(ctx context.Context) error {
		l, err := coro.Listen(ctx, "unix", sock)
		if err != nil {
			return err
		}
		defer l.Close()
		received := make(chan handleBox, 1)
		server := coro.Spawn(ctx, func(ctx context.Context) error {
			c, err := l.Accept(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			box, err := gipc.ReceiveHandles[handleBox](ctx, c)
			if err != nil {
				return err
			}
			received <- box
			_, err = gipc.ReceiveHandles[handleBox](ctx, c)
			assert.ErrorIs(t, err, io.EOF, "the sender closed the conn")
			return nil
		})
		c, err := coro.Dial(ctx, "unix", sock)
		if err != nil {
			return err
		}
		if err := gipc.SendHandles(ctx, c, handleBox{R: r, D: theirs, Note: "hi"}); err != nil {
			return err
		}
		c.Close()
		if err := server.Join(ctx); err != nil {
			return err
		}
		box := <-received
		defer box.R.Close()
		defer box.D.Close()
		assert.Equal(t, "hi", box.Note)
		_, err = r.Get(ctx)
		assert.ErrorIs(t, err, gipc.ErrClosed, "sent handles are closed in the sender")
		if err := w.Put(ctx, "through the received reader"); err != nil {
			return err
		}
		got, err := box.R.Get(ctx)
		assert.Equal(t, "through the received reader", got)
		if err := mine.Put(ctx, "ping"); err != nil {
			return err
		}
		got, err = box.D.Get(ctx)
		assert.Equal(t, "ping", got)
		return err
	})
}

func TestSendClosedHandleFailsAndSendsNothing(t *testing.T) {
	r, w := pipe[string](t)
	sock := filepath.Join(t.TempDir(), "h.sock")
	run(t, func(ctx context.Context) error {
		l, err := coro.Listen(ctx, "unix", sock)
		if err != nil {
			return err
		}
		defer l.Close()
		c, err := coro.Dial(ctx, "unix", sock)
		if err != nil {
			return err
		}
		defer c.Close()
		assert.NoError(t, r.Close())
		err = gipc.SendHandles(ctx, c, handleBox{R: r})
		assert.ErrorIs(t, err, gipc.ErrClosed)
		assert.NotContains(t, w.String(), "closed", "other handles are untouched")
		return nil
	})
}
