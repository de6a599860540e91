package gipc

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"gipc.dev/coro"
)

// batchChunk is how many encoded bytes PutBatch gathers before it writes.
const batchChunk = 256 << 10

// maxKeptBuf is the largest encode buffer a writer keeps between Puts.
const maxKeptBuf = 1 << 20

// Writer is the write end of a pipe; Python gipc's _GIPCWriter. Put may be
// called from the coroutines of one hub at a time; concurrent Puts are
// served one after the other, in the order they came, and messages never
// interleave. Close belongs to the hub's coroutines too, or to a goroutine
// when no hub uses the handle.
type Writer[T any] struct {
	end
	codec  Codec[T]
	direct payloader[T] // the raw codec: frames without the codec's call
	buf    []byte
	broken error // why an interrupted Put broke the stream
	grown  bool  // the pipe buffer was enlarged (F_SETPIPE_SZ)

	leading bool         // the lock holder is a Put that drains the queue
	queue   []*queuedPut // frames of Puts waiting for the leader (group commit)
}

func newWriter[T any](fd int, c Codec[T], max int) *Writer[T] {
	w := &Writer[T]{end: newEnd(fd, max, c.Name()), codec: c}
	w.direct, _ = c.(payloader[T])
	return w
}

// payloader is a codec whose encoding of v is v itself (the raw codec).
type payloader[T any] interface {
	payload(v T) []byte
	// appendFrames appends the frames of vs to dst, header and payload,
	// until dst holds chunk bytes or more, or a payload of directFrame
	// bytes or more comes (left for a write of its own), or one over
	// limit (an error matching ErrMessageTooLarge). It returns how many
	// it appended.
	appendFrames(dst []byte, vs []T, limit, chunk int) ([]byte, int, error)
}

func (rawCodec) payload(v []byte) []byte { return v }

func (rawCodec) appendFrames(dst []byte, vs [][]byte, limit, chunk int) ([]byte, int, error) {
	small := min(limit, directFrame-1)
	i, n := 0, len(dst)
	for i < len(vs) && n < chunk {
		m := len(vs[i])
		if m > small {
			if m > limit {
				return dst[:n], i, tooLarge(m, limit)
			}
			return dst[:n], i, nil
		}
		if cap(dst)-n < frameHeaderSize+max(m, tinyFrame) {
			dst = slices.Grow(dst[:n], frameHeaderSize+max(m, tinyFrame))
		}
		if m > tinyFrame {
			f := dst[n : n+frameHeaderSize+m]
			binary.BigEndian.PutUint32(f, uint32(m))
			copy(f[frameHeaderSize:], vs[i])
			n += frameHeaderSize + m
			i++
			continue
		}
		j, k := appendTiny(dst[n:cap(dst)], vs[i:], chunk-n)
		n += j
		i += k
	}
	return dst[:n], i, nil
}

// appendTiny writes the frames of the tiny payloads at the start of vs
// into free, while fewer than stop bytes are used and free has room for
// one more, and returns the bytes used and the payloads taken; it takes at
// least one when stop > 0 and free holds a tiny frame. It is the loop that
// sends 1-byte messages: a loop of its own, without calls, so that the
// compiler keeps its variables in registers, which took PutBatch of
// 1-byte messages from 55 to 44 instructions a message (callgrind).
//
//go:noinline
func appendTiny(free []byte, vs [][]byte, stop int) (j, i int) {
	stop = min(stop, len(free)-(frameHeaderSize+tinyFrame)+1)
	for ; i < len(vs) && j < stop; i++ {
		v := vs[i]
		if len(v) > tinyFrame {
			break
		}
		f := free[j : j+frameHeaderSize+len(v)]
		binary.BigEndian.PutUint32(f, uint32(len(v)))
		p := f[frameHeaderSize:]
		for k := range p {
			p[k] = v[k]
		}
		j += frameHeaderSize + len(v)
	}
	return j, i
}

func tooLarge(n, limit int) error {
	return fmt.Errorf("%w: %d bytes, max %d", ErrMessageTooLarge, n, limit)
}

// directFrame is the payload size from which a raw message goes out
// without a copy: its header is written (behind the frames gathered before
// it, for PutBatch), then the caller's bytes with a write of their own.
// Smaller payloads are copied into the kept encode buffer behind their
// header and go out with one write.
//
// Measured with 64 000-byte messages (AMD EPYC, Linux 6.18, 2 CPUs): one
// writev of header and payload ran at 0.29 of the speed of a bare
// write/read loop, the copy plus one write at 0.38 (BenchmarkPipe,
// medians of five interleaved runs), header and payload in two writes at
// 0.51 against 0.58 for the copy in a later series. Alone, a writev of a
// 4-byte and a 64 000-byte segment into an empty pipe took 50 µs, one
// write of the same 64 004 bytes 18 µs, and a writev split at a page
// boundary 18 µs too: the kernel's copy slows down when source and
// destination are not equally aligned, which the 4-byte header causes.
// From 256 KiB on the copy costs more than a second syscall, and the kept
// buffer stays bounded.
const directFrame = 256 << 10

// Put sends v as one message and returns once the whole message is in the
// kernel (a child may exit right after Put and nothing is lost), parking
// the calling coroutine while the pipe is full. A message over the size
// limit sends nothing and returns ErrMessageTooLarge; an encoding error
// sends nothing. A Put whose wait ends (ErrKilled, ctx's error) before any
// byte of the message went out sends nothing and returns that error; one
// that ends after part of it went out breaks the writer: it returns an
// error matching both ErrBroken and the cause, and so does every later
// Put. Put returns an error matching syscall.EPIPE when every read end is
// closed (the process does not die of SIGPIPE), and ErrClosed after Close.
//
// Several coroutines putting at once share writes (group commit; see
// groupcommit.go): while one Put waits for room in the pipe, the others
// queue their frames, and the first writes them all with one write.
func (w *Writer[T]) Put(ctx context.Context, v T) error {
	if w.leading && !w.closed && w.broken == nil {
		if err := coro.Check(ctx); err != nil {
			return err
		}
		return w.putQueued(ctx, v)
	}
	if err := w.enter(ctx); err != nil {
		return err
	}
	defer w.leave()
	if w.broken != nil {
		return brokenError(w.broken)
	}
	w.leading = true
	defer func() { w.leading = false }()
	err := w.putOwn(ctx, v)
	if err == nil || len(w.queue) > 0 {
		w.drain(ctx)
	}
	return err
}

func (w *Writer[T]) putOwn(ctx context.Context, v T) error {
	if w.direct != nil {
		return w.putRaw(ctx, w.direct.payload(v))
	}
	buf, err := appendMessage(w.buf[:0], w.codec, v, w.max)
	if err != nil {
		return err
	}
	err = w.write(ctx, buf, false)
	w.keep(buf)
	if err == nil {
		w.stats.Messages++
	}
	return err
}

// PutBatch sends vs as len(vs) messages, gathering their frames into few
// large writes: the way to send many small messages from one coroutine.
// Like Put, it returns once every message is in the kernel. On an error it
// returns at once: the messages before the failing one were sent (an
// encoding error or ErrMessageTooLarge sends nothing of that message and
// nothing after it); a wait that ends in the middle of a frame breaks the
// writer, as with Put.
func (w *Writer[T]) PutBatch(ctx context.Context, vs ...T) error {
	if err := w.enter(ctx); err != nil {
		return err
	}
	defer w.leave()
	if w.broken != nil {
		return brokenError(w.broken)
	}
	if w.direct != nil {
		return w.putRawBatch(ctx, vs)
	}
	buf := w.buf[:0]
	pending := uint64(0)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if err := w.write(ctx, buf, false); err != nil {
			return err
		}
		w.stats.Messages += pending
		buf, pending = buf[:0], 0
		return nil
	}
	for _, v := range vs {
		var err error
		buf, err = appendMessage(buf, w.codec, v, w.max)
		if err != nil {
			if ferr := flush(); ferr != nil {
				err = ferr
			}
			w.keep(buf)
			return err
		}
		pending++
		if len(buf) >= batchChunk {
			if err := flush(); err != nil {
				w.keep(buf)
				return err
			}
		}
	}
	err := flush()
	w.keep(buf)
	return err
}

// putRaw is Put for the raw codec: the frame is built with no call to the
// codec, and a payload from directFrame bytes on goes out without a copy.
func (w *Writer[T]) putRaw(ctx context.Context, p []byte) error {
	if len(p) > w.max {
		return tooLarge(len(p), w.max)
	}
	buf := appendHeader(w.buf[:0], len(p))
	if len(p) < directFrame {
		buf = append(buf, p...)
	}
	err := w.write(ctx, buf, false)
	w.keep(buf)
	if err == nil && len(p) >= directFrame {
		err = w.write(ctx, p, true)
	}
	if err == nil {
		w.stats.Messages++
	}
	return err
}

// putRawBatch is PutBatch for the raw codec: headers and payloads go
// straight into the buffer, and a payload from directFrame bytes on goes
// out with a write of its own, behind the frames gathered before it and
// its header.
func (w *Writer[T]) putRawBatch(ctx context.Context, vs []T) (err error) {
	buf := w.buf[:0]
	defer func() { w.keep(buf) }()
	for len(vs) > 0 {
		var k int
		buf, k, err = w.direct.appendFrames(buf[:0], vs, w.max, batchChunk)
		vs = vs[k:]
		var p []byte
		if err == nil && len(vs) > 0 && len(buf) < batchChunk {
			p = w.direct.payload(vs[0]) // a big one
			buf = appendHeader(buf, len(p))
			vs = vs[1:]
		}
		if len(buf) > 0 {
			if werr := w.write(ctx, buf, false); werr != nil {
				return werr
			}
			w.stats.Messages += uint64(k)
		}
		if p != nil {
			if werr := w.write(ctx, p, true); werr != nil {
				return werr
			}
			w.stats.Messages++
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// keep holds on to the encode buffer for the next Put, unless it grew big.
func (w *Writer[T]) keep(buf []byte) {
	if cap(buf) <= maxKeptBuf {
		w.buf = buf[:0]
	} else {
		w.buf = nil
	}
}

// write writes all of b, parking while the pipe is full. started says
// that the frame b continues has begun to go out already: then a write
// that is interrupted breaks the writer even when none of b went out.
func (w *Writer[T]) write(ctx context.Context, b []byte, started bool) error {
	if !w.grown && len(b) >= 32<<10 {
		w.grow(len(b))
	}
	off := 0
	for off < len(b) {
		n, err := unix.Write(w.fd, b[off:])
		if n > 0 {
			off += n
			w.stats.Syscalls++
			w.stats.Bytes += uint64(n)
		}
		switch err {
		case nil, unix.EINTR:
		case unix.EAGAIN:
			w.stats.Waits++
			if err := w.cfd.WaitWritable(ctx); err != nil {
				if off == 0 && !started {
					return err
				}
				w.broken = err
				return brokenError(err)
			}
		default:
			err = os.NewSyscallError("write", err)
			if off > 0 || started {
				w.broken = err
			}
			return err
		}
	}
	return nil
}

// grow enlarges the pipe's kernel buffer (F_SETPIPE_SZ) to 1 MiB, the
// default pipe-max-size for unprivileged processes, the first time the
// writer sends a frame of 32 KiB or more: big messages then move in large
// chunks, with fewer wake-ups on both sides. Pipes of small messages keep
// the default 64 KiB, since every user has a quota of pipe memory. A
// failure (over the quota) is harmless.
func (w *Writer[T]) grow(n int) {
	w.grown = true
	if n < 32<<10 {
		return
	}
	unix.FcntlInt(uintptr(w.fd), unix.F_SETPIPE_SZ, 1<<20)
}

// Close closes the write end: the reader gets io.EOF once it has read
// every message. It returns ErrLocked, and closes nothing, while another
// coroutine is inside Put; ErrClosed the second time.
func (w *Writer[T]) Close() error {
	if err := w.close(); err != nil {
		return err
	}
	w.buf = nil
	return nil
}

// Stats returns the writer's counters.
func (w *Writer[T]) Stats() Stats { return w.stats }

// String describes the handle: "gipc.Writer(fd 8, codec gob)".
func (w *Writer[T]) String() string { return w.describe("Writer") }
