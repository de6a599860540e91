package gipc_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

// In-process pipe benchmarks: a producer and a consumer coroutine on one
// hub, against the same workload on plain goroutines with os.Pipe (Go's
// netpoller) and with a Go channel, in the same run. One op is one message.

// benchCoro sends n messages of size bytes from a producer coroutine to the
// consumer (main) coroutine of one hub. putBatch > 1 sends them with
// PutBatch, that many at a time; getBatch > 1 receives them with GetBatch.
func benchCoro(b *testing.B, size, putBatch, getBatch int) {
	r, w, err := gipc.Pipe[[]byte](gipc.WithCodec(gipc.Raw()))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	msg := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	err = coro.Run(func(ctx context.Context) error {
		n := b.N
		b.ResetTimer()
		prod := coro.Spawn(ctx, func(ctx context.Context) error {
			if putBatch > 1 {
				vs := make([][]byte, putBatch)
				for i := range vs {
					vs[i] = msg
				}
				for sent := 0; sent < n; sent += putBatch {
					if err := w.PutBatch(ctx, vs[:min(putBatch, n-sent)]...); err != nil {
						return err
					}
				}
				return nil
			}
			for range n {
				if err := w.Put(ctx, msg); err != nil {
					return err
				}
			}
			return nil
		})
		if getBatch > 1 {
			ms := make([][]byte, getBatch)
			for got := 0; got < n; {
				k, err := r.GetBatch(ctx, ms[:min(getBatch, n-got)])
				if err != nil {
					return err
				}
				for _, m := range ms[:k] {
					if len(m) != size {
						return errors.New("short message")
					}
				}
				got += k
			}
			return prod.Join(ctx)
		}
		for range n {
			m, err := r.Get(ctx)
			if err != nil {
				return err
			}
			if len(m) != size {
				return errors.New("short message")
			}
		}
		return prod.Join(ctx)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// netpollerPipe is os.Pipe, which Go's runtime polls with its netpoller.
func netpollerPipe(b *testing.B, pipeSize int) (*os.File, *os.File) {
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	if pipeSize > 0 {
		sc, _ := w.SyscallConn()
		sc.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize) })
	}
	return r, w
}

// benchNetpoller: the writer writes header and body in one write per
// message; the reader reads the header, then the body, as gipc and most
// hand-written Go code do. With buffered, both sides use bufio.
func benchNetpoller(b *testing.B, size int, buffered bool) {
	r, w := netpollerPipe(b, 0)
	defer r.Close()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	n := b.N
	b.ResetTimer()
	errc := make(chan error, 1)
	go func() {
		defer w.Close()
		frame := make([]byte, 4+size)
		binary.BigEndian.PutUint32(frame, uint32(size))
		var out io.Writer = w
		var bw *bufio.Writer
		if buffered {
			bw = bufio.NewWriterSize(w, 64<<10)
			out = bw
		}
		for range n {
			if _, err := out.Write(frame); err != nil {
				errc <- err
				return
			}
		}
		if bw != nil {
			errc <- bw.Flush()
			return
		}
		errc <- nil
	}()
	var in io.Reader = r
	if buffered {
		in = bufio.NewReaderSize(r, 64<<10)
	}
	var hdr [4]byte
	for range n {
		if _, err := io.ReadFull(in, hdr[:]); err != nil {
			b.Fatal(err)
		}
		body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		if _, err := io.ReadFull(in, body); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}

func benchChannel(b *testing.B, size int) {
	ch := make(chan []byte, 1024)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	n := b.N
	b.ResetTimer()
	go func() {
		msg := make([]byte, size)
		for range n {
			ch <- msg
		}
	}()
	for range n {
		<-ch
	}
}

// benchRawLoop is the limit for big messages: a blocking write/read loop
// with reused buffers and a 1 MiB pipe, no framing.
func benchRawLoop(b *testing.B, size int) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		b.Fatal(err)
	}
	defer unix.Close(p[0])
	unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, 1<<20)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	n := b.N
	b.ResetTimer()
	go func() {
		defer unix.Close(p[1])
		buf := make([]byte, size)
		for range n {
			for off := 0; off < size; {
				k, err := unix.Write(p[1], buf[off:])
				if err != nil && err != unix.EINTR {
					return
				}
				off += max(k, 0)
			}
		}
	}()
	buf := make([]byte, size)
	for range n {
		for off := 0; off < size; {
			k, err := unix.Read(p[0], buf[off:])
			if err != nil && err != unix.EINTR {
				b.Fatal(err)
			}
			if k == 0 && err == nil {
				b.Fatal("early EOF")
			}
			off += max(k, 0)
		}
	}
}

func BenchmarkPipe(b *testing.B) {
	b.Run("msg=1B/put/coro", func(b *testing.B) { benchCoro(b, 1, 1, 1) })
	b.Run("msg=1B/put/netpoller", func(b *testing.B) { benchNetpoller(b, 1, false) })
	b.Run("msg=1B/put/channel", func(b *testing.B) { benchChannel(b, 1) })
	b.Run("msg=1B/batch/coro", func(b *testing.B) { benchCoro(b, 1, 1024, 1024) })
	b.Run("msg=1B/batch/coro-get", func(b *testing.B) { benchCoro(b, 1, 1024, 1) })
	b.Run("msg=1B/batch/netpoller-bufio", func(b *testing.B) { benchNetpoller(b, 1, true) })
	b.Run("msg=64000B/put/coro", func(b *testing.B) { benchCoro(b, 64000, 1, 1) })
	b.Run("msg=64000B/put/netpoller", func(b *testing.B) { benchNetpoller(b, 64000, false) })
	b.Run("msg=64000B/raw-loop-1MiB-pipe", func(b *testing.B) { benchRawLoop(b, 64000) })
}

// BenchmarkPutGetAllocs: allocations of one raw Put and one raw Get (the
// Get's one is the slice it returns), and of a raw PutBatch and GetBatch
// of 64 messages (one op: the GetBatch's one allocation holds them all).
func BenchmarkPutGetAllocs(b *testing.B) {
	for _, size := range []int{1, 1000, 64000} {
		b.Run(fmt.Sprintf("msg=%dB", size), func(b *testing.B) {
			r, w, _ := gipc.Pipe[[]byte](gipc.WithCodec(gipc.Raw()))
			defer r.Close()
			defer w.Close()
			msg := make([]byte, size)
			b.ReportAllocs()
			coro.Run(func(ctx context.Context) error {
				for b.Loop() {
					w.Put(ctx, msg)
					r.Get(ctx)
				}
				return nil
			})
		})
	}
	b.Run("msg=1B/batch=64", func(b *testing.B) {
		r, w, _ := gipc.Pipe[[]byte](gipc.WithCodec(gipc.Raw()))
		defer r.Close()
		defer w.Close()
		vs := make([][]byte, 64)
		for i := range vs {
			vs[i] = []byte{byte(i)}
		}
		ms := make([][]byte, len(vs))
		b.ReportAllocs()
		coro.Run(func(ctx context.Context) error {
			for b.Loop() {
				w.PutBatch(ctx, vs...)
				r.GetBatch(ctx, ms)
			}
			return nil
		})
	})
}
