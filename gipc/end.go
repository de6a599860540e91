package gipc

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"gipc.dev/coro"
)

// Stats counts what one handle did, so that buffering and batching can be
// seen working: Messages and Bytes (frames, headers included) moved,
// Syscalls (reads or writes that moved data) and Waits (times the handle
// parked its coroutine on the fd).
type Stats struct {
	Messages uint64
	Bytes    uint64
	Syscalls uint64
	Waits    uint64
}

// end is one end of a pipe: the fd, its coro.FD (which keeps the io watcher
// armed between waits), the FIFO lock that serialises Gets or Puts, and
// the close state. It is the untyped part of Reader, Writer and Duplex.
type end struct {
	fd     int
	cfd    *coro.FD
	max    int
	codec  string
	closed bool
	users  int // coroutines inside Get/Put (waiting for the lock included)
	lock   *coro.Semaphore
	stats  Stats
}

func newEnd(fd, max int, codec string) end {
	return end{fd: fd, cfd: coro.NewFD(fd), max: max, codec: codec, lock: coro.NewSemaphore(1)}
}

// enter checks ctx and the handle, then takes the handle's lock: Gets (or
// Puts) from several coroutines run one at a time, in the order they came.
func (e *end) enter(ctx context.Context) error {
	if err := coro.Check(ctx); err != nil {
		return err
	}
	if e.closed {
		return ErrClosed
	}
	e.users++
	if !e.lock.TryAcquire() {
		if err := e.lock.Acquire(ctx); err != nil {
			e.users--
			return err
		}
		if e.closed {
			e.lock.Release()
			e.users--
			return ErrClosed
		}
	}
	return nil
}

func (e *end) leave() {
	e.lock.Release()
	e.users--
}

// close closes the fd: ErrClosed the second time, ErrLocked (and nothing
// done) while another coroutine is inside Get or Put.
func (e *end) close() error {
	if e.closed {
		return ErrClosed
	}
	if e.users > 0 {
		return ErrLocked
	}
	e.closed = true
	if err := e.cfd.Close(); err != nil {
		return fmt.Errorf("gipc: close fd %d: %w", e.fd, err)
	}
	return nil
}

// read reads into p, retrying on EINTR and parking on EAGAIN; n == 0 with a
// nil error is the end of the stream.
func (e *end) read(ctx context.Context, p []byte) (int, error) {
	for {
		n, err := unix.Read(e.fd, p)
		switch err {
		case nil:
			if n > 0 {
				e.stats.Syscalls++
			}
			return n, nil
		case unix.EINTR:
		case unix.EAGAIN:
			e.stats.Waits++
			if err := e.cfd.WaitReadable(ctx); err != nil {
				return 0, err
			}
		default:
			return 0, os.NewSyscallError("read", err)
		}
	}
}

func (e *end) describe(kind string) string {
	if e.closed {
		return fmt.Sprintf("gipc.%s(closed, codec %s)", kind, e.codec)
	}
	return fmt.Sprintf("gipc.%s(fd %d, codec %s)", kind, e.fd, e.codec)
}
