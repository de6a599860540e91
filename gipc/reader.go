package gipc

import (
	"context"
)

// readBufSize is a reader's buffer: one read brings in up to this many
// bytes, so small messages cost a fraction of a syscall each.
const readBufSize = 64 << 10

// bigFrame is the frame size from which a reader reads the frame into a
// buffer of its own, exactly its size, instead of through its read buffer.
// The raw codec hands that buffer to the caller, so for it the threshold is
// lower: a frame from ownedFrame bytes on costs no copy at all, which beats
// sharing a read syscall with the frames around it.
const (
	bigFrame   = readBufSize
	ownedFrame = 32 << 10
)

// Reader is the read end of a pipe; Python gipc's _GIPCReader. Get may be
// called from the coroutines of one hub at a time; concurrent Gets are
// served one after the other, in the order they came, each getting whole
// messages. Close belongs to the hub's coroutines too, or to a goroutine
// when no hub uses the handle.
type Reader[T any] struct {
	end
	codec Codec[T]
	owned bool // the codec keeps payloads (raw)
	// lastBig: the last frame went through a buffer of its own, so the
	// next header is read alone: a stream of big raw messages then moves
	// with no copy at all, at the price of a 4-byte read per message.
	lastBig bool
	buf     []byte // buffered bytes are buf[r:w]
	r, w    int
	big     []byte // a big frame being read into a buffer of its own
	bigN    int    // bytes of big filled
	stuck   error  // ErrMessageTooLarge: the stream is out of sync
}

func newReader[T any](fd int, c Codec[T], max int) *Reader[T] {
	_, owned := c.(ownedDecoder[T])
	return &Reader[T]{end: newEnd(fd, max, c.Name()), codec: c, owned: owned}
}

// Get returns the next message. It parks the calling coroutine until a
// whole message has arrived. It returns io.EOF when the write end is closed
// and no message is left, io.ErrUnexpectedEOF when it closed in the middle
// of a message, a *DecodeError when the codec fails on the message (which
// is then consumed: the next Get returns the next one), ErrMessageTooLarge
// for a header over the size limit (the reader is out of sync for good),
// ErrClosed after Close, and ErrKilled or ctx's error when the wait ends
// first; a message that was partly read then is not lost: the next Get
// continues it.
func (r *Reader[T]) Get(ctx context.Context) (T, error) {
	var zero T
	if err := r.enter(ctx); err != nil {
		return zero, err
	}
	defer r.leave()
	if r.stuck != nil {
		return zero, r.stuck
	}
	if r.big != nil {
		return r.readBig(ctx)
	}
	for {
		payload, size, need, err := parseFrame(r.buf[r.r:r.w], r.max)
		if err != nil {
			r.stuck = err
			return zero, err
		}
		if size > 0 {
			r.lastBig = false
			r.r += size
			if r.r == r.w {
				r.r, r.w = 0, 0
			}
			r.stats.Messages++
			r.stats.Bytes += uint64(size)
			return decodeMessage(r.codec, payload)
		}
		if need >= bigFrame || r.owned && need >= ownedFrame {
			// Move the buffered start of the frame into a buffer of its
			// own and read the rest straight into it.
			r.big = make([]byte, need)
			r.bigN = copy(r.big, r.buf[r.r:r.w])
			r.r, r.w = 0, 0
			return r.readBig(ctx)
		}
		if r.buf == nil {
			r.buf = make([]byte, readBufSize)
		}
		if r.r > 0 && len(r.buf)-r.r < need {
			r.w = copy(r.buf, r.buf[r.r:r.w])
			r.r = 0
		}
		room := r.buf[r.w:]
		if r.lastBig && r.w-r.r < frameHeaderSize {
			room = r.buf[r.w : r.r+frameHeaderSize]
		}
		n, err := r.read(ctx, room)
		if err != nil {
			return zero, err
		}
		if n == 0 {
			return zero, frameEOF(r.w - r.r)
		}
		r.w += n
	}
}

// readBig finishes a big frame and decodes it; the raw codec gets to keep
// the buffer (no copy).
func (r *Reader[T]) readBig(ctx context.Context) (T, error) {
	var zero T
	for r.bigN < len(r.big) {
		n, err := r.read(ctx, r.big[r.bigN:])
		if err != nil {
			return zero, err
		}
		if n == 0 {
			r.big, r.bigN = nil, 0
			return zero, frameEOF(1)
		}
		r.bigN += n
	}
	frame := r.big
	r.big, r.bigN = nil, 0
	r.lastBig = r.owned
	r.stats.Messages++
	r.stats.Bytes += uint64(len(frame))
	payload := frame[frameHeaderSize:]
	if o, ok := r.codec.(ownedDecoder[T]); ok {
		return o.decodeOwned(payload), nil
	}
	return decodeMessage(r.codec, payload)
}

// ownedDecoder is a codec that can keep the payload it is given (the raw
// codec): a big frame read into a buffer of its own is handed over whole.
type ownedDecoder[T any] interface {
	decodeOwned(payload []byte) T
}

// Close closes the read end. It returns ErrLocked, and closes nothing,
// while another coroutine is inside Get; ErrClosed the second time.
// Buffered messages are dropped.
func (r *Reader[T]) Close() error {
	if err := r.close(); err != nil {
		return err
	}
	r.buf, r.big = nil, nil
	return nil
}

// Stats returns the reader's counters.
func (r *Reader[T]) Stats() Stats { return r.stats }

// String describes the handle: "gipc.Reader(fd 7, codec gob)".
func (r *Reader[T]) String() string { return r.describe("Reader") }

func (rawCodec) decodeOwned(payload []byte) []byte { return payload }
