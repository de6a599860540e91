package gipc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"gipc.dev/coro"
	"gipc.dev/internal/leak"
)

// These tests write raw bytes into a pipe, to produce the frames a buggy
// or hostile peer could send.

func rawPipe[T any](t *testing.T, opts ...Option) (*Reader[T], *Writer[T]) {
	t.Helper()
	leak.Check(t)
	r, w, err := Pipe[T](opts...)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func writeRaw(t *testing.T, fd int, b []byte) {
	t.Helper()
	n, err := unix.Write(fd, b)
	require.NoError(t, err)
	require.Equal(t, len(b), n)
}

func TestWireFormatIsGipcs(t *testing.T) {
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	require.NoError(t, coro.Run(func(ctx context.Context) error { return w.Put(ctx, []byte("hello")) }))
	buf := make([]byte, 64)
	n, err := unix.Read(r.fd, buf)
	require.NoError(t, err)
	require.Equal(t, []byte{0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'}, buf[:n])
}

func TestTimeoutMidMessageLosesNothing(t *testing.T) {
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	writeRaw(t, w.fd, []byte{0, 0, 0, 10, '0', '1', '2', '3', '4'})
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		tctx, cancel := coro.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		_, err := r.Get(tctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		writeRaw(t, w.fd, []byte("56789"))
		m, err := r.Get(ctx)
		assert.Equal(t, "0123456789", string(m))
		return err
	}))
}

func TestTimeoutMidBigMessageLosesNothing(t *testing.T) {
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	const size = 100 << 10
	first := make([]byte, 4+size/2)
	first[0], first[1], first[2], first[3] = 0, 1, 0x90, 0 // 100 KiB
	for i := 4; i < len(first); i++ {
		first[i] = byte(i)
	}
	writeRaw(t, w.fd, first)
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		tctx, cancel := coro.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		_, err := r.Get(tctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		rest := make([]byte, size-(len(first)-4))
		for i := range rest {
			rest[i] = byte(len(first) + i)
		}
		writeRaw(t, w.fd, rest)
		m, err := r.Get(ctx)
		if err != nil {
			return err
		}
		assert.Len(t, m, size)
		for i, b := range m {
			if b != byte(i+4) {
				return errors.New("big message corrupted")
			}
		}
		return nil
	}))
}

func TestHeaderOverLimitIsStickyAndAllocatesNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header []byte
	}{
		{name: "over the limit", header: []byte{0, 0, 1, 0}},
		{name: "top bit set", header: []byte{0x80, 0, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w := rawPipe[[]byte](t, WithCodec(Raw()), WithMaxMessageSize(255))
			writeRaw(t, w.fd, tc.header)
			require.NoError(t, coro.Run(func(ctx context.Context) error {
				_, err := r.Get(ctx)
				assert.ErrorIs(t, err, ErrMessageTooLarge)
				writeRaw(t, w.fd, []byte{0, 0, 0, 1, 'x'})
				_, err = r.Get(ctx)
				assert.ErrorIs(t, err, ErrMessageTooLarge, "the reader is out of sync for good")
				assert.Nil(t, r.big)
				assert.LessOrEqual(t, len(r.buf), readBufSize)
				return nil
			}))
		})
	}
}

func TestDecodeErrorConsumesOneMessage(t *testing.T) {
	r, w := rawPipe[map[string]int](t, WithCodec(JSON[map[string]int]()))
	frame := func(s string) []byte { return appendHeader(nil, len(s)) }
	writeRaw(t, w.fd, append(frame("{bad"), "{bad"...))
	writeRaw(t, w.fd, append(frame(`{"a":1}`), `{"a":1}`...))
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		_, err := r.Get(ctx)
		var de *DecodeError
		assert.ErrorAs(t, err, &de)
		assert.Equal(t, "json", de.Codec)
		v, err := r.Get(ctx)
		assert.Equal(t, map[string]int{"a": 1}, v)
		return err
	}))
}

func TestEOFInsideHeaderIsUnexpected(t *testing.T) {
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	writeRaw(t, w.fd, []byte{0, 0})
	require.NoError(t, w.Close())
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		_, err := r.Get(ctx)
		assert.ErrorIs(t, err, errUnexpectedEOF())
		return nil
	}))
}

func errUnexpectedEOF() error { return frameEOF(1) }
