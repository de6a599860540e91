package gipc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"gipc.dev/coro"
)

// White-box tests of GetBatch and of the raw fast paths of Put and
// PutBatch: frames written straight into the pipe, allocation counts,
// and the internal helpers at the edges of their buffers.

// frameOf is the frame of a payload given as a string.
func frameOf(payload string) []byte { return frame([]byte(payload)) }

func TestGetBatchTakesEveryBufferedMessageUpToLen(t *testing.T) {
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	var all []byte
	for i := range 10 {
		all = append(all, frameOf(fmt.Sprint(i))...)
	}
	writeRaw(t, w.fd, all)
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		buf := make([][]byte, 4)
		var got []string
		for _, want := range []int{4, 4, 2} {
			n, err := r.GetBatch(ctx, buf)
			if err != nil {
				return err
			}
			assert.Equal(t, want, n)
			for _, m := range buf[:n] {
				got = append(got, string(m))
			}
		}
		assert.Equal(t, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, got)
		assert.Equal(t, uint64(1), r.Stats().Syscalls, "one read brought them all")
		tctx, cancel := coro.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		n, err := r.GetBatch(tctx, buf)
		assert.Zero(t, n)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "waits for at least one")
		return nil
	}))
}

func TestGetBatchReadsWhatArrivedWithoutWaiting(t *testing.T) {
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	writeRaw(t, w.fd, append(frameOf("a"), frameOf("b")...))
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		// "b" stays buffered; "c" and "d" are in the pipe only: one read
		// without waiting brings them in.
		if _, err := r.Get(ctx); err != nil {
			return err
		}
		writeRaw(t, w.fd, append(frameOf("c"), frameOf("d")...))
		buf := make([][]byte, 8)
		n, err := r.GetBatch(ctx, buf)
		assert.Equal(t, [][]byte{[]byte("b"), []byte("c"), []byte("d")}, buf[:n])
		assert.Equal(t, uint64(2), r.Stats().Syscalls)
		assert.Zero(t, r.Stats().Waits)
		return err
	}))
}

func TestGetBatchTimeoutKeepsPartialMessage(t *testing.T) {
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	writeRaw(t, w.fd, []byte{0, 0, 0, 10, '0', '1', '2', '3', '4'})
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		buf := make([][]byte, 4)
		tctx, cancel := coro.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		n, err := r.GetBatch(tctx, buf)
		assert.Zero(t, n)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		writeRaw(t, w.fd, append([]byte("56789"), frameOf("next")...))
		n, err = r.GetBatch(ctx, buf)
		assert.Equal(t, 2, n)
		assert.Equal(t, "0123456789", string(buf[0]))
		assert.Equal(t, "next", string(buf[1]))
		return err
	}))
}

func TestGetBatchTimeoutKeepsPartialBigMessage(t *testing.T) {
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	const size = 48 << 10 // big enough for a buffer of its own
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	full := append(appendHeader(nil, size), msg...)
	writeRaw(t, w.fd, full[:size/2])
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		buf := make([][]byte, 4)
		tctx, cancel := coro.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		n, err := r.GetBatch(tctx, buf)
		assert.Zero(t, n)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		writeRaw(t, w.fd, full[size/2:])
		writeRaw(t, w.fd, frameOf("after"))
		n, err = r.GetBatch(ctx, buf)
		if err != nil {
			return err
		}
		assert.True(t, bytes.Equal(msg, buf[0]), "big message intact")
		if n == 1 { // the small one came later than the read
			n, err = r.GetBatch(ctx, buf[1:])
			n++
		}
		assert.Equal(t, 2, n)
		assert.Equal(t, "after", string(buf[1]))
		return err
	}))
}

func TestGetBatchReturnsMessagesBeforeEOFFirst(t *testing.T) {
	for _, tc := range []struct {
		name string
		tail []byte
		err  error
	}{
		{name: "between messages", tail: nil, err: io.EOF},
		{name: "inside a header", tail: []byte{0, 0}, err: io.ErrUnexpectedEOF},
		{name: "inside a payload", tail: []byte{0, 0, 0, 9, 'x'}, err: io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w := rawPipe[[]byte](t, WithCodec(Raw()))
			writeRaw(t, w.fd, append(append(frameOf("one"), frameOf("two")...), tc.tail...))
			require.NoError(t, w.Close())
			require.NoError(t, coro.Run(func(ctx context.Context) error {
				buf := make([][]byte, 8)
				n, err := r.GetBatch(ctx, buf)
				assert.NoError(t, err, "messages first")
				assert.Equal(t, 2, n)
				n, err = r.GetBatch(ctx, buf)
				assert.Zero(t, n)
				assert.ErrorIs(t, err, tc.err)
				return nil
			}))
		})
	}
}

func TestGetBatchLeavesDecodeErrorToNextCall(t *testing.T) {
	r, w := rawPipe[map[string]int](t, WithCodec(JSON[map[string]int]()))
	writeRaw(t, w.fd, append(append(frameOf(`{"a":1}`), frameOf("{bad")...), frameOf(`{"b":2}`)...))
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		buf := make([]map[string]int, 8)
		n, err := r.GetBatch(ctx, buf)
		assert.NoError(t, err)
		assert.Equal(t, []map[string]int{{"a": 1}}, buf[:n])
		n, err = r.GetBatch(ctx, buf)
		var de *DecodeError
		assert.ErrorAs(t, err, &de, "the bad message, alone")
		assert.Zero(t, n)
		n, err = r.GetBatch(ctx, buf)
		assert.Equal(t, []map[string]int{{"b": 2}}, buf[:n], "the bad message was consumed")
		return err
	}))
}

func TestGetBatchHeaderOverLimitIsStickyAfterTheMessagesBefore(t *testing.T) {
	r, w := rawPipe[[]byte](t, WithCodec(Raw()), WithMaxMessageSize(255))
	writeRaw(t, w.fd, append(frameOf("ok"), 0, 0, 1, 0))
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		buf := make([][]byte, 8)
		n, err := r.GetBatch(ctx, buf)
		assert.NoError(t, err)
		assert.Equal(t, 1, n)
		for range 2 {
			n, err = r.GetBatch(ctx, buf)
			assert.Zero(t, n)
			assert.ErrorIs(t, err, ErrMessageTooLarge)
		}
		_, err = r.Get(ctx)
		assert.ErrorIs(t, err, ErrMessageTooLarge)
		return nil
	}))
}

func TestGetBatchEmptyBufAndMisuse(t *testing.T) {
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	writeRaw(t, w.fd, frameOf("x"))
	_, err := r.GetBatch(context.Background(), make([][]byte, 1))
	require.ErrorIs(t, err, coro.ErrNotCoroutine, "even with a message waiting")
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		n, err := r.GetBatch(ctx, nil)
		assert.Zero(t, n)
		assert.NoError(t, err)
		assert.Zero(t, r.Stats().Syscalls, "an empty buf reads nothing")
		return nil
	}))
	require.NoError(t, r.Close())
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		_, err := r.GetBatch(ctx, make([][]byte, 1))
		assert.ErrorIs(t, err, ErrClosed)
		return nil
	}))
}

// The raw payloads of one GetBatch share one allocation, each slice capped
// at its end: appending to one cannot overwrite the next.
func TestGetBatchRawSlicesShareOneBlockAndAreCapped(t *testing.T) {
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	writeRaw(t, w.fd, append(append(append(frameOf("ab"), frameOf("")...), frameOf("cd")...), frameOf(string(make([]byte, 100)))...))
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		buf := make([][]byte, 8)
		n, err := r.GetBatch(ctx, buf)
		if err != nil {
			return err
		}
		assert.Equal(t, 4, n)
		for i, m := range buf[:n] {
			assert.Equal(t, len(m), cap(m), "message %d capped", i)
			assert.NotNil(t, m, "message %d: empty, not nil", i)
		}
		// One block, in order: ab, "" (whose pointer says nothing), cd,
		// then 100 zero bytes.
		base := reflect.ValueOf(buf[0]).Pointer()
		assert.Equal(t, base+2, reflect.ValueOf(buf[2]).Pointer())
		assert.Equal(t, base+4, reflect.ValueOf(buf[3]).Pointer())
		_ = append(buf[0], 'X', 'Y')
		assert.Equal(t, "cd", string(buf[2]), "an append to one message leaves the next alone")
		buf[2][0] = 'z'
		assert.Equal(t, "ab", string(buf[0]))
		// The read buffer is not shared: the next messages overwrite it.
		writeRaw(t, w.fd, frameOf("ef"))
		if _, err := r.GetBatch(ctx, buf[4:]); err != nil {
			return err
		}
		assert.Equal(t, "zd", string(buf[2]))
		assert.Equal(t, "ef", string(buf[4]))
		return nil
	}))
}

func TestGetBatchCostsOneAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	msgs := make([][]byte, 64)
	for i := range msgs {
		msgs[i] = []byte{byte(i)}
	}
	out := make([][]byte, len(msgs))
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		var err error
		allocs := testing.AllocsPerRun(100, func() {
			if e := w.PutBatch(ctx, msgs...); e != nil {
				err = e
			}
			n, e := r.GetBatch(ctx, out)
			if e == nil && n != len(msgs) {
				e = fmt.Errorf("got %d messages", n)
			}
			if e != nil {
				err = e
			}
		})
		assert.Equal(t, 1.0, allocs, "PutBatch none, GetBatch one for all 64")
		return err
	}))
}

func TestRawPutGetAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	for _, size := range []int{0, 1, 1000, 20 << 10, 64000} {
		t.Run(fmt.Sprintf("%dB", size), func(t *testing.T) {
			r, w := rawPipe[[]byte](t, WithCodec(Raw()))
			msg := make([]byte, size)
			require.NoError(t, coro.Run(func(ctx context.Context) error {
				var err error
				put := testing.AllocsPerRun(50, func() {
					if e := w.Put(ctx, msg); e != nil {
						err = e
					}
					if _, e := r.Get(ctx); e != nil {
						err = e
					}
				})
				want := 1.0 // the slice Get returns
				if size == 0 {
					want = 0
				}
				assert.Equal(t, want, put, "Put none, Get one")
				return err
			}))
		})
	}
}

// A big raw Put goes out in two writes, header then payload, without a
// copy and without an allocation.
func TestRawPutOfADirectPayloadAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	w.grow(directFrame)
	if size, err := unix.FcntlInt(uintptr(w.fd), unix.F_GETPIPE_SZ, 0); err != nil || size < 2*directFrame {
		t.Skipf("pipe of %d bytes (%v): Put would wait for a reader", size, err)
	}
	msg := make([]byte, directFrame)
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		var err error
		allocs := testing.AllocsPerRun(20, func() {
			if e := w.Put(ctx, msg); e != nil {
				err = e
			}
			if _, e := r.Get(ctx); e != nil {
				err = e
			}
		})
		assert.Equal(t, 1.0, allocs, "Put none, Get one")
		assert.Equal(t, uint64(2*21), w.Stats().Syscalls, "two writes a message")
		return err
	}))
}

// Payloads of every size class the raw fast paths distinguish, in random
// order and batch sizes, arrive whole and in order through PutBatch,
// Put, Get and GetBatch.
func TestRawFastPathsMixedSizes(t *testing.T) {
	sizes := []int{0, 1, tinyFrame - 1, tinyFrame, tinyFrame + 1, 1000, ownedFrame - 1, ownedFrame,
		bigFrame - frameHeaderSize, bigFrame, directFrame - 1, directFrame, directFrame + 1, 1 << 20}
	rng := rand.New(rand.NewPCG(1, 2))
	var msgs [][]byte
	for i := range 2000 {
		size := rng.IntN(3) // mostly tiny, to cross buffer boundaries
		if rng.IntN(16) == 0 {
			size = sizes[rng.IntN(len(sizes))]
		}
		m := make([]byte, size)
		for j := range m {
			m[j] = byte(i + j)
		}
		msgs = append(msgs, m)
	}
	r, w := rawPipe[[]byte](t, WithCodec(Raw()))
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		prod := coro.Spawn(ctx, func(ctx context.Context) error {
			rng := rand.New(rand.NewPCG(3, 4))
			for rest := msgs; len(rest) > 0; {
				k := min(len(rest), 1+rng.IntN(200))
				var err error
				if k == 1 {
					err = w.Put(ctx, rest[0])
				} else {
					err = w.PutBatch(ctx, rest[:k]...)
				}
				if err != nil {
					return err
				}
				rest = rest[k:]
			}
			return w.Close()
		})
		buf := make([][]byte, 300)
		var got [][]byte
		for {
			var n int
			var err error
			if k := rng.IntN(len(buf)); k == 0 {
				buf[0], err = r.Get(ctx)
				n = 1
			} else {
				n, err = r.GetBatch(ctx, buf[:k])
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			for _, m := range buf[:n] {
				assert.Equal(t, len(m), cap(m))
			}
			got = append(got, buf[:n]...)
		}
		if !assert.Equal(t, len(msgs), len(got)) {
			return nil
		}
		for i := range msgs {
			if !bytes.Equal(msgs[i], got[i]) {
				return fmt.Errorf("message %d (%d bytes) differs: got %d bytes", i, len(msgs[i]), len(got[i]))
			}
		}
		assert.Equal(t, uint64(len(msgs)), w.Stats().Messages)
		assert.Equal(t, uint64(len(msgs)), r.Stats().Messages)
		assert.Equal(t, w.Stats().Bytes, r.Stats().Bytes)
		return prod.Join(ctx)
	}))
}

func TestRawPutBatchTooLargeSendsTheMessagesBefore(t *testing.T) {
	r, w := rawPipe[[]byte](t, WithCodec(Raw()), WithMaxMessageSize(100))
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		err := w.PutBatch(ctx, []byte("a"), []byte("b"), make([]byte, 101), []byte("c"))
		assert.ErrorIs(t, err, ErrMessageTooLarge)
		assert.NoError(t, w.PutBatch(ctx, make([]byte, 100)), "exactly the limit passes")
		buf := make([][]byte, 8)
		n, err := r.GetBatch(ctx, buf)
		assert.Equal(t, []int{1, 1, 100}, lens(buf[:n]))
		assert.Equal(t, uint64(3), w.Stats().Messages)
		return err
	}))
}

func lens(ms [][]byte) []int {
	out := make([]int, len(ms))
	for i, m := range ms {
		out[i] = len(m)
	}
	return out
}

// The header of a frame went out, the rest of it cannot: an interrupted
// wait then breaks the writer even though none of the rest was written.
func TestWriteAfterTheHeaderBreaksTheWriterWhenInterrupted(t *testing.T) {
	_, w := rawPipe[[]byte](t, WithCodec(Raw()))
	fill := make([]byte, 4096)
	for {
		if _, err := unix.Write(w.fd, fill); err == unix.EAGAIN {
			break
		}
	}
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		tctx, cancel := coro.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		err := w.write(tctx, []byte("payload"), true)
		assert.ErrorIs(t, err, ErrBroken)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, w.Put(ctx, []byte("x")), ErrBroken, "for good")
		return nil
	}))
}

// appendTiny stops where the buffer has no room for one more tiny frame,
// and always makes progress when it has.
func TestAppendTinyAtTheEdgeOfItsBuffer(t *testing.T) {
	vs := [][]byte{{1}, {2, 2}, {}, make([]byte, tinyFrame), {3}}
	for size := frameHeaderSize + tinyFrame; size < 80; size++ {
		free := make([]byte, size)
		j, i := appendTiny(free, vs, 1<<20)
		require.Positive(t, i, "buffer of %d", size)
		require.LessOrEqual(t, j, size)
		var want []byte
		for _, v := range vs[:i] {
			want = append(want, frameOf(string(v))...)
		}
		require.Equal(t, want, free[:j], "buffer of %d", size)
	}
	j, i := appendTiny(make([]byte, 100), vs, 1)
	require.Equal(t, 1, i, "stop after the first")
	require.Equal(t, frameHeaderSize+1, j)
}
