package gipc_test

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gipc.dev/coro"
	"gipc.dev/gipc"
	"gipc.dev/internal/leak"
)

// run runs main as the main coroutine of a new hub, with a leak check
// (goroutines and fds) around the test.
func run(t *testing.T, main func(ctx context.Context) error) {
	t.Helper()
	leak.Check(t)
	require.NoError(t, coro.Run(main))
}

func pipe[T any](t *testing.T, opts ...gipc.Option) (*gipc.Reader[T], *gipc.Writer[T]) {
	t.Helper()
	r, w, err := gipc.Pipe[T](opts...)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

type record struct {
	Name  string
	Count int
	Tags  []string
}

func TestSingleShortMessage(t *testing.T) {
	r, w := pipe[string](t)
	run(t, func(ctx context.Context) error {
		if err := w.Put(ctx, "foo"); err != nil {
			return err
		}
		got, err := r.Get(ctx)
		assert.Equal(t, "foo", got)
		return err
	})
}

func TestLongMessages(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		raw  bool
	}{
		{name: "gob 1MB", size: 1 << 20},
		{name: "raw 20MB", size: 20 << 20, raw: true},
		{name: "gob 20MB", size: 20 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Repeat([]byte("gipc"), tc.size/4)
			var opts []gipc.Option
			if tc.raw {
				opts = append(opts, gipc.WithCodec(gipc.Raw()))
			}
			r, w := pipe[[]byte](t, opts...)
			run(t, func(ctx context.Context) error {
				writer := coro.Spawn(ctx, func(ctx context.Context) error { return w.Put(ctx, data) })
				got, err := r.Get(ctx)
				if err != nil {
					return err
				}
				assert.True(t, bytes.Equal(data, got), "message differs")
				return writer.Join(ctx)
			})
		})
	}
}

func TestStructMessagesBetweenCoroutines(t *testing.T) {
	r, w := pipe[record](t)
	run(t, func(ctx context.Context) error {
		want := []record{{Name: "a", Count: 1}, {Name: "b", Count: 2, Tags: []string{"x", "y"}}, {}}
		coro.Spawn(ctx, func(ctx context.Context) error {
			for _, v := range want {
				if err := w.Put(ctx, v); err != nil {
					return err
				}
			}
			return w.Close()
		})
		var got []record
		for {
			v, err := r.Get(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		assert.Equal(t, want, got)
		return nil
	})
}

func TestOneWriterTwoReaders(t *testing.T) {
	r, w := pipe[int](t)
	run(t, func(ctx context.Context) error {
		var g coro.Group
		got := map[int]int{}
		for id := range 2 {
			g.Go(ctx, func(ctx context.Context) error {
				for {
					v, err := r.Get(ctx)
					if errors.Is(err, io.EOF) {
						return nil
					}
					if err != nil {
						return err
					}
					got[v]++
					_ = id
				}
			})
		}
		for i := range 1000 {
			if err := w.Put(ctx, i); err != nil {
				return err
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := g.Wait(ctx); err != nil {
			return err
		}
		assert.Len(t, got, 1000)
		for v, n := range got {
			assert.Equal(t, 1, n, "message %d", v)
		}
		return nil
	})
}

func TestTwoWritersOneReader(t *testing.T) {
	r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
	run(t, func(ctx context.Context) error {
		var g coro.Group
		for id := range 2 {
			g.Go(ctx, func(ctx context.Context) error {
				// Big messages, so that Puts park mid-message and would
				// interleave if they were not serialised.
				msg := bytes.Repeat([]byte{byte('a' + id)}, 200<<10)
				for range 20 {
					if err := w.Put(ctx, msg); err != nil {
						return err
					}
				}
				return nil
			})
		}
		for range 40 {
			m, err := r.Get(ctx)
			if err != nil {
				return err
			}
			assert.Len(t, m, 200<<10)
			assert.Equal(t, bytes.Repeat(m[:1], len(m)), m, "messages interleaved")
		}
		return g.Wait(ctx)
	})
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	r, w := pipe[int](t)
	run(t, func(ctx context.Context) error {
		assert.NoError(t, r.Close())
		assert.ErrorIs(t, r.Close(), gipc.ErrClosed)
		_, err := r.Get(ctx)
		assert.ErrorIs(t, err, gipc.ErrClosed)
		assert.NoError(t, w.Close())
		assert.ErrorIs(t, w.Close(), gipc.ErrClosed)
		assert.ErrorIs(t, w.Put(ctx, 1), gipc.ErrClosed)
		assert.Contains(t, r.String(), "closed")
		return nil
	})
}

func TestCloseWhileLockedReturnsErrLockedAndStaysUsable(t *testing.T) {
	r, w := pipe[int](t)
	run(t, func(ctx context.Context) error {
		var got int
		getter := coro.Spawn(ctx, func(ctx context.Context) error {
			var err error
			got, err = r.Get(ctx)
			return err
		})
		if err := coro.Yield(ctx); err != nil { // getter parks inside Get
			return err
		}
		assert.ErrorIs(t, r.Close(), gipc.ErrLocked)
		if err := w.Put(ctx, 7); err != nil {
			return err
		}
		if err := getter.Join(ctx); err != nil {
			return err
		}
		assert.Equal(t, 7, got)
		assert.NoError(t, r.Close())
		return nil
	})
}

func TestPutLockedWriterCloseReturnsErrLocked(t *testing.T) {
	r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
	run(t, func(ctx context.Context) error {
		putter := coro.Spawn(ctx, func(ctx context.Context) error {
			return w.Put(ctx, make([]byte, 4<<20)) // parks: the pipe is full
		})
		if err := coro.Yield(ctx); err != nil {
			return err
		}
		assert.ErrorIs(t, w.Close(), gipc.ErrLocked)
		m, err := r.Get(ctx)
		assert.Len(t, m, 4<<20)
		if err := putter.Join(ctx); err != nil {
			return err
		}
		assert.NoError(t, w.Close())
		return err
	})
}

func TestGetAfterWriterClosedReturnsEOFOnceDrained(t *testing.T) {
	r, w := pipe[string](t)
	run(t, func(ctx context.Context) error {
		for _, s := range []string{"a", "b"} {
			if err := w.Put(ctx, s); err != nil {
				return err
			}
		}
		assert.NoError(t, w.Close())
		for _, want := range []string{"a", "b"} {
			got, err := r.Get(ctx)
			assert.NoError(t, err)
			assert.Equal(t, want, got)
		}
		_, err := r.Get(ctx)
		assert.ErrorIs(t, err, io.EOF)
		_, err = r.Get(ctx)
		assert.ErrorIs(t, err, io.EOF)
		return nil
	})
}

func TestWriterBrokenMidMessageGivesUnexpectedEOF(t *testing.T) {
	r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
	run(t, func(ctx context.Context) error {
		tctx, cancel := coro.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		err := w.Put(tctx, make([]byte, 8<<20)) // nobody reads: times out mid-frame
		assert.ErrorIs(t, err, gipc.ErrBroken)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, w.Put(ctx, []byte("x")), gipc.ErrBroken, "a broken writer stays broken")
		assert.NoError(t, w.Close())
		_, err = r.Get(ctx)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		return nil
	})
}

func TestPutTimeoutBeforeFirstByteSendsNothing(t *testing.T) {
	r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
	run(t, func(ctx context.Context) error {
		// Fill the pipe.
		filler := make([]byte, 1<<20)
		fill := coro.Spawn(ctx, func(ctx context.Context) error { return w.Put(ctx, filler) })
		if err := coro.Yield(ctx); err != nil {
			return err
		}
		// This one queues behind the filler, which holds the lock.
		tctx, cancel := coro.WithTimeout(ctx, 5*time.Millisecond)
		defer cancel()
		err := w.Put(tctx, []byte("lost?"))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, gipc.ErrBroken)
		m, err := r.Get(ctx)
		assert.Len(t, m, 1<<20)
		if err := fill.Join(ctx); err != nil {
			return err
		}
		assert.NoError(t, w.Put(ctx, []byte("next")))
		m, err = r.Get(ctx)
		assert.Equal(t, "next", string(m))
		return err
	})
}

func TestPutAfterReaderClosedIsEPIPE(t *testing.T) {
	r, w := pipe[int](t)
	run(t, func(ctx context.Context) error {
		assert.NoError(t, r.Close())
		err := w.Put(ctx, 1)
		assert.ErrorIs(t, err, syscall.EPIPE)
		return nil
	})
}

func TestGetTimeout(t *testing.T) {
	r, w := pipe[int](t)
	run(t, func(ctx context.Context) error {
		tctx, cancel := coro.WithTimeout(ctx, 5*time.Millisecond)
		_, err := r.Get(tctx)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		// does not expire
		if err := w.Put(ctx, 5); err != nil {
			return err
		}
		tctx, cancel = coro.WithTimeout(ctx, time.Hour)
		v, err := r.Get(tctx)
		cancel()
		assert.Equal(t, 5, v)
		return err
	})
}

func TestKilledGetterReleasesTheHandle(t *testing.T) {
	r, w := pipe[int](t)
	run(t, func(ctx context.Context) error {
		getter := coro.Spawn(ctx, func(ctx context.Context) error { _, err := r.Get(ctx); return err })
		if err := coro.Yield(ctx); err != nil {
			return err
		}
		getter.Kill()
		assert.ErrorIs(t, getter.Join(ctx), coro.ErrKilled)
		if err := w.Put(ctx, 9); err != nil {
			return err
		}
		v, err := r.Get(ctx)
		assert.Equal(t, 9, v)
		assert.NoError(t, r.Close(), "nobody holds the handle")
		return err
	})
}

func TestGetPutNeedCoroutineCtx(t *testing.T) {
	r, w := pipe[int](t)
	_, err := r.Get(context.Background())
	require.ErrorIs(t, err, coro.ErrNotCoroutine)
	require.ErrorIs(t, w.Put(context.Background(), 1), coro.ErrNotCoroutine)
	run(t, func(ctx context.Context) error {
		return w.Put(ctx, 1) // buffered in the kernel now
	})
	_, err = r.Get(context.Background())
	require.ErrorIs(t, err, coro.ErrNotCoroutine, "even with a message waiting")
}

func TestMaxMessageSize(t *testing.T) {
	r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()), gipc.WithMaxMessageSize(10))
	run(t, func(ctx context.Context) error {
		err := w.Put(ctx, make([]byte, 11))
		assert.ErrorIs(t, err, gipc.ErrMessageTooLarge)
		assert.NoError(t, w.Put(ctx, make([]byte, 10)), "exactly the limit passes")
		m, err := r.Get(ctx)
		assert.Len(t, m, 10, "the refused message sent nothing")
		return err
	})
	for _, n := range []int{0, -1, 1 << 31} {
		_, _, err := gipc.Pipe[int](gipc.WithMaxMessageSize(n))
		require.Error(t, err, "size %d", n)
	}
}

func TestCodecs(t *testing.T) {
	t.Run("default gob", func(t *testing.T) {
		r, w := pipe[record](t)
		run(t, func(ctx context.Context) error {
			want := record{Name: "n", Count: 3, Tags: []string{"t"}}
			if err := w.Put(ctx, want); err != nil {
				return err
			}
			got, err := r.Get(ctx)
			assert.Equal(t, want, got)
			assert.Contains(t, r.String(), "codec gob")
			return err
		})
	})
	t.Run("json", func(t *testing.T) {
		r, w := pipe[map[string]int](t, gipc.WithCodec(gipc.JSON[map[string]int]()))
		run(t, func(ctx context.Context) error {
			if err := w.Put(ctx, map[string]int{"a": 1}); err != nil {
				return err
			}
			got, err := r.Get(ctx)
			assert.Equal(t, map[string]int{"a": 1}, got)
			return err
		})
	})
	t.Run("raw", func(t *testing.T) {
		r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
		run(t, func(ctx context.Context) error {
			in := []byte("raw bytes")
			if err := w.Put(ctx, in); err != nil {
				return err
			}
			got, err := r.Get(ctx)
			assert.Equal(t, in, got)
			return err
		})
	})
	t.Run("custom deflate", func(t *testing.T) {
		r, w := pipe[[]byte](t, gipc.WithCodec[[]byte](deflateCodec{}))
		run(t, func(ctx context.Context) error {
			in := bytes.Repeat([]byte("compress me "), 1000)
			if err := w.Put(ctx, in); err != nil {
				return err
			}
			got, err := r.Get(ctx)
			assert.Equal(t, in, got)
			assert.Less(t, w.Stats().Bytes, uint64(len(in)/10), "it was compressed")
			return err
		})
	})
	t.Run("type mismatch", func(t *testing.T) {
		_, _, err := gipc.Pipe[string](gipc.WithCodec(gipc.Raw()))
		require.ErrorContains(t, err, "does not encode the pipe's type string")
	})
}

// deflateCodec compresses raw bytes, like the zlib encoder/decoder pair of
// Python gipc's test suite.
type deflateCodec struct{}

func (deflateCodec) Name() string { return "deflate" }

func (deflateCodec) Append(dst []byte, v []byte) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	fw, _ := flate.NewWriter(buf, flate.BestSpeed)
	if _, err := fw.Write(v); err != nil {
		return nil, err
	}
	if err := fw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (deflateCodec) Decode(data []byte) ([]byte, error) {
	return io.ReadAll(flate.NewReader(bytes.NewReader(data)))
}

func init() { gipc.RegisterCodec[[]byte](deflateCodec{}) }

func TestDuplexBasics(t *testing.T) {
	leak.Check(t)
	a, b, err := gipc.DuplexPipe[string]()
	require.NoError(t, err)
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		peer := coro.Spawn(ctx, func(ctx context.Context) error {
			for {
				s, err := b.Get(ctx)
				if errors.Is(err, io.EOF) {
					return b.Close()
				}
				if err != nil {
					return err
				}
				if err := b.Put(ctx, "echo "+s); err != nil {
					return err
				}
			}
		})
		for _, s := range []string{"one", "two"} {
			if err := a.Put(ctx, s); err != nil {
				return err
			}
			got, err := a.Get(ctx)
			if err != nil {
				return err
			}
			assert.Equal(t, "echo "+s, got)
		}
		assert.Contains(t, a.String(), "gipc.Duplex(read fd")
		assert.NoError(t, a.Close())
		assert.ErrorIs(t, a.Close(), gipc.ErrClosed)
		return peer.Join(ctx)
	}))
}

func TestDuplexCloseWithOneHalfLocked(t *testing.T) {
	leak.Check(t)
	a, b, err := gipc.DuplexPipe[int]()
	require.NoError(t, err)
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		getter := coro.Spawn(ctx, func(ctx context.Context) error { _, err := a.Get(ctx); return err })
		if err := coro.Yield(ctx); err != nil {
			return err
		}
		assert.ErrorIs(t, a.Close(), gipc.ErrLocked, "the read half is locked")
		_, err := b.Get(ctx)
		assert.ErrorIs(t, err, io.EOF, "the write half was closed")
		if err := b.Put(ctx, 1); err != nil {
			return err
		}
		if err := getter.Join(ctx); err != nil {
			return err
		}
		assert.NoError(t, a.Close(), "finishes the job")
		assert.ErrorIs(t, a.Close(), gipc.ErrClosed)
		return b.Close()
	}))
}

// Many messages of random sizes through concurrent writers and readers:
// nothing lost, duplicated, corrupted or interleaved.
func TestManyMessagesRandomSizesConcurrent(t *testing.T) {
	const writers, readers, perWriter = 4, 3, 2500
	r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
	run(t, func(ctx context.Context) error {
		// Payloads are slices of one random block at random offsets: cheap
		// to make, and a mix-up of any two messages shows in the checksum.
		block := make([]byte, 2<<20)
		rand.NewChaCha8([32]byte{7}).Read(block)
		var wg coro.Group
		for id := range writers {
			wg.Go(ctx, func(ctx context.Context) error {
				rng := rand.New(rand.NewPCG(uint64(id), 1))
				for seq := range perWriter {
					// Log-uniform sizes from 12 bytes to 1 MiB.
					size := 12 + int(float64(1<<20-12)*pow(rng.Float64()))
					m := make([]byte, size)
					binary.BigEndian.PutUint32(m[0:], uint32(id))
					binary.BigEndian.PutUint32(m[4:], uint32(seq))
					off := rng.IntN(len(block) - size)
					copy(m[12:], block[off:])
					binary.BigEndian.PutUint32(m[8:], crc32.ChecksumIEEE(m[12:]))
					if err := w.Put(ctx, m); err != nil {
						return err
					}
				}
				return nil
			})
		}
		seen := make([][]bool, writers)
		for i := range seen {
			seen[i] = make([]bool, perWriter)
		}
		var rg coro.Group
		for range readers {
			rg.Go(ctx, func(ctx context.Context) error {
				for {
					m, err := r.Get(ctx)
					if errors.Is(err, io.EOF) {
						return nil
					}
					if err != nil {
						return err
					}
					id, seq := binary.BigEndian.Uint32(m[0:]), binary.BigEndian.Uint32(m[4:])
					if crc32.ChecksumIEEE(m[12:]) != binary.BigEndian.Uint32(m[8:]) {
						return fmt.Errorf("message %d/%d corrupted", id, seq)
					}
					if seen[id][seq] {
						return fmt.Errorf("message %d/%d duplicated", id, seq)
					}
					seen[id][seq] = true
				}
			})
		}
		if err := wg.Wait(ctx); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := rg.Wait(ctx); err != nil {
			return err
		}
		for id := range seen {
			for seq, ok := range seen[id] {
				if !ok {
					return fmt.Errorf("message %d/%d lost", id, seq)
				}
			}
		}
		return nil
	})
}

// pow skews a uniform [0,1) value towards 0: x^6, so most messages are
// small and a few are near the maximum.
func pow(x float64) float64 { return x * x * x * x * x * x }

func TestPutBatchUsesFewSyscalls(t *testing.T) {
	r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
	run(t, func(ctx context.Context) error {
		msgs := make([][]byte, 1000)
		for i := range msgs {
			msgs[i] = []byte{byte(i)}
		}
		if err := w.PutBatch(ctx, msgs...); err != nil {
			return err
		}
		for i := range msgs {
			m, err := r.Get(ctx)
			if err != nil {
				return err
			}
			assert.Equal(t, []byte{byte(i)}, m)
		}
		ws, rs := w.Stats(), r.Stats()
		assert.Equal(t, uint64(1000), ws.Messages)
		assert.Equal(t, uint64(5000), ws.Bytes)
		assert.Equal(t, uint64(1), ws.Syscalls, "one write for the batch")
		assert.Equal(t, uint64(1000), rs.Messages)
		assert.LessOrEqual(t, rs.Syscalls, uint64(2), "one read for the batch")
		return nil
	})
}

func TestGetBatchBetweenCoroutines(t *testing.T) {
	r, w := pipe[record](t)
	run(t, func(ctx context.Context) error {
		want := make([]record, 500)
		for i := range want {
			want[i] = record{Name: fmt.Sprint("r", i), Count: i}
		}
		coro.Spawn(ctx, func(ctx context.Context) error {
			if err := w.PutBatch(ctx, want[:300]...); err != nil {
				return err
			}
			for _, v := range want[300:] {
				if err := w.Put(ctx, v); err != nil {
					return err
				}
			}
			return w.Close()
		})
		buf := make([]record, 64)
		var got []record
		for {
			n, err := r.GetBatch(ctx, buf)
			if errors.Is(err, io.EOF) {
				assert.Zero(t, n)
				break
			}
			if err != nil {
				return err
			}
			assert.True(t, n >= 1 && n <= len(buf), "got %d", n)
			got = append(got, buf[:n]...)
		}
		assert.Equal(t, want, got)
		return nil
	})
}

func TestGetBatchFromSeveralCoroutinesGetsEachMessageOnce(t *testing.T) {
	const messages, getters = 3000, 3
	r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
	run(t, func(ctx context.Context) error {
		coro.Spawn(ctx, func(ctx context.Context) error {
			for i := 0; i < messages; i += 100 {
				batch := make([][]byte, 100)
				for j := range batch {
					batch[j] = binary.BigEndian.AppendUint32(nil, uint32(i+j))
				}
				if err := w.PutBatch(ctx, batch...); err != nil {
					return err
				}
				if err := coro.Yield(ctx); err != nil {
					return err
				}
			}
			return w.Close()
		})
		seen := make([]bool, messages)
		var g coro.Group
		for k := range getters {
			g.Go(ctx, func(ctx context.Context) error {
				buf := make([][]byte, 7+k*13)
				last := -1
				for {
					n, err := r.GetBatch(ctx, buf)
					if errors.Is(err, io.EOF) {
						return nil
					}
					if err != nil {
						return err
					}
					for _, m := range buf[:n] {
						i := int(binary.BigEndian.Uint32(m))
						if seen[i] || i <= last {
							return fmt.Errorf("message %d twice or out of order", i)
						}
						seen[i], last = true, i
					}
				}
			})
		}
		if err := g.Wait(ctx); err != nil {
			return err
		}
		for i, ok := range seen {
			if !ok {
				return fmt.Errorf("message %d lost", i)
			}
		}
		return nil
	})
}

// Raw messages from GetBatch belong to the caller: later reads into the
// pipe's buffer do not touch them.
func TestGetBatchRawMessagesAreTheCallers(t *testing.T) {
	r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
	run(t, func(ctx context.Context) error {
		var kept [][]byte
		buf := make([][]byte, 10)
		for round := range 20 {
			batch := make([][]byte, 10)
			for i := range batch {
				batch[i] = bytes.Repeat([]byte{byte(round*10 + i)}, 1+i)
			}
			if err := w.PutBatch(ctx, batch...); err != nil {
				return err
			}
			n, err := r.GetBatch(ctx, buf)
			if err != nil {
				return err
			}
			kept = append(kept, buf[:n]...)
		}
		assert.Len(t, kept, 200)
		for k, m := range kept {
			assert.Equal(t, bytes.Repeat([]byte{byte(k)}, 1+k%10), m, "message %d", k)
		}
		return nil
	})
}

func TestDuplexGetBatch(t *testing.T) {
	leak.Check(t)
	a, b, err := gipc.DuplexPipe[string]()
	require.NoError(t, err)
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		if err := a.PutBatch(ctx, "x", "y", "z"); err != nil {
			return err
		}
		buf := make([]string, 2)
		n, err := b.GetBatch(ctx, buf)
		assert.Equal(t, []string{"x", "y"}, buf[:n])
		if err != nil {
			return err
		}
		n, err = b.GetBatch(ctx, buf)
		assert.Equal(t, []string{"z"}, buf[:n])
		assert.NoError(t, a.Close())
		n, err = b.GetBatch(ctx, buf)
		assert.Zero(t, n)
		assert.ErrorIs(t, err, io.EOF)
		return b.Close()
	}))
}
