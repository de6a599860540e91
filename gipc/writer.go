package gipc

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
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
	direct payloader[T] // the raw codec: big payloads go out without a copy
	buf    []byte
	iov    [2][]byte
	broken error // why an interrupted Put broke the stream
	grown  bool  // the pipe buffer was enlarged (F_SETPIPE_SZ)
}

func newWriter[T any](fd int, c Codec[T], max int) *Writer[T] {
	w := &Writer[T]{end: newEnd(fd, max, c.Name()), codec: c}
	w.direct, _ = c.(payloader[T])
	return w
}

// payloader is a codec whose encoding of v is v itself (the raw codec).
type payloader[T any] interface {
	payload(v T) []byte
}

func (rawCodec) payload(v []byte) []byte { return v }

// directFrame is the payload size from which a raw Put writes the header
// and the caller's bytes with one writev instead of copying them into the
// encode buffer first.
const directFrame = 16 << 10

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
func (w *Writer[T]) Put(ctx context.Context, v T) error {
	if err := w.enter(ctx); err != nil {
		return err
	}
	defer w.leave()
	if w.broken != nil {
		return brokenError(w.broken)
	}
	if w.direct != nil {
		if p := w.direct.payload(v); len(p) >= directFrame {
			if len(p) > w.max {
				return fmt.Errorf("%w: %d bytes, max %d", ErrMessageTooLarge, len(p), w.max)
			}
			var hdr [frameHeaderSize]byte
			err := w.writev(ctx, appendHeader(hdr[:0], len(p)), p)
			if err == nil {
				w.stats.Messages++
			}
			return err
		}
	}
	buf, err := appendMessage(w.buf[:0], w.codec, v, w.max)
	if err != nil {
		return err
	}
	err = w.write(ctx, buf)
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
	buf := w.buf[:0]
	pending := uint64(0)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if err := w.write(ctx, buf); err != nil {
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

// keep holds on to the encode buffer for the next Put, unless it grew big.
func (w *Writer[T]) keep(buf []byte) {
	if cap(buf) <= maxKeptBuf {
		w.buf = buf[:0]
	} else {
		w.buf = nil
	}
}

// write writes all of b, parking while the pipe is full.
func (w *Writer[T]) write(ctx context.Context, b []byte) error {
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
				if off == 0 {
					return err
				}
				w.broken = err
				return brokenError(err)
			}
		default:
			err = os.NewSyscallError("write", err)
			if off > 0 {
				w.broken = err
			}
			return err
		}
	}
	return nil
}

// writev writes the frame hdr+p with as few writev calls as it takes,
// parking while the pipe is full; errors as for write.
func (w *Writer[T]) writev(ctx context.Context, hdr, p []byte) error {
	total := len(hdr) + len(p)
	if !w.grown {
		w.grow(total)
	}
	off := 0
	for off < total {
		if off < len(hdr) {
			w.iov[0], w.iov[1] = hdr[off:], p
		} else {
			w.iov[0], w.iov[1] = p[off-len(hdr):], nil
		}
		iov := w.iov[:1]
		if w.iov[1] != nil {
			iov = w.iov[:2]
		}
		n, err := unix.Writev(w.fd, iov)
		w.iov[0], w.iov[1] = nil, nil
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
				if off == 0 {
					return err
				}
				w.broken = err
				return brokenError(err)
			}
		default:
			err = os.NewSyscallError("writev", err)
			if off > 0 {
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
