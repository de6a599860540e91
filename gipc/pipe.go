package gipc

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Pipe creates a pipe for messages of type T and returns its two ends;
// Python gipc's pipe(). The pipe is pipe2(O_CLOEXEC|O_NONBLOCK): its fds
// stay out of child processes unless a handle is passed to one. Messages
// are encoded with Gob[T] unless WithCodec says otherwise. Pipe returns an
// error for a codec of another type, a size limit out of range, or when the
// process is out of fds.
func Pipe[T any](opts ...Option) (*Reader[T], *Writer[T], error) {
	o := buildOptions(opts)
	c, err := codecFor[T](o)
	if err != nil {
		return nil, nil, err
	}
	registerHandles[T]()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	return newReader(p[0], c, o.max), newWriter(p[1], c, o.max), nil
}

// Duplex is one end of a duplex pipe: two pipes, one for each direction.
// Put on one end, Get on the other. Get and Put may run at the same time
// (from two coroutines); several Gets (or Puts) are served one at a time.
type Duplex[T any] struct {
	r *Reader[T]
	w *Writer[T]
}

// DuplexPipe creates two connected duplex ends: what one Puts, the other
// Gets. Options as for Pipe apply to both directions.
func DuplexPipe[T any](opts ...Option) (*Duplex[T], *Duplex[T], error) {
	r1, w1, err := Pipe[T](opts...)
	if err != nil {
		return nil, nil, err
	}
	r2, w2, err := Pipe[T](opts...)
	if err != nil {
		r1.Close()
		w1.Close()
		return nil, nil, err
	}
	return &Duplex[T]{r: r1, w: w2}, &Duplex[T]{r: r2, w: w1}, nil
}

// Get returns the next message from the other end; see Reader.Get.
func (d *Duplex[T]) Get(ctx context.Context) (T, error) { return d.r.Get(ctx) }

// Put sends v to the other end; see Writer.Put.
func (d *Duplex[T]) Put(ctx context.Context, v T) error { return d.w.Put(ctx, v) }

// PutBatch sends vs to the other end; see Writer.PutBatch.
func (d *Duplex[T]) PutBatch(ctx context.Context, vs ...T) error { return d.w.PutBatch(ctx, vs...) }

// Close closes both directions; the other end's Get then returns io.EOF.
// When one half is inside a Get or Put of another coroutine, Close closes
// the other half and returns ErrLocked, and a later Close finishes the job.
// Once both halves are closed, Close returns ErrClosed.
func (d *Duplex[T]) Close() error {
	if d.r.closed && d.w.closed {
		return ErrClosed
	}
	var errs []error
	for _, c := range []func() error{d.r.Close, d.w.Close} {
		if err := c(); err != nil && !errors.Is(err, ErrClosed) {
			errs = append(errs, err)
		}
	}
	for _, err := range errs {
		if errors.Is(err, ErrLocked) {
			return ErrLocked
		}
	}
	return errors.Join(errs...)
}

// Stats returns the counters of the reading and the writing half.
func (d *Duplex[T]) Stats() (read, write Stats) { return d.r.stats, d.w.stats }

// String describes the handle: "gipc.Duplex(read fd 7, write fd 10, codec gob)".
func (d *Duplex[T]) String() string {
	if d.r.closed && d.w.closed {
		return fmt.Sprintf("gipc.Duplex(closed, codec %s)", d.r.codec.Name())
	}
	return fmt.Sprintf("gipc.Duplex(read fd %d, write fd %d, codec %s)", d.r.fd, d.w.fd, d.r.codec.Name())
}
