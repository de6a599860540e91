package gipc

import (
	"context"
	"encoding/binary"

	"golang.org/x/sys/unix"
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

// Reader is the read end of a pipe; Python gipc's _GIPCReader. Get and
// GetBatch may be called from the coroutines of one hub at a time;
// concurrent calls are served one after the other, in the order they came,
// each getting whole messages. Close belongs to the hub's coroutines too,
// or to a goroutine when no hub uses the handle.
type Reader[T any] struct {
	end
	codec Codec[T]
	own   ownedDecoder[T] // the raw codec: payloads can be handed over
	// lastBig: the last frame went through a buffer of its own, so the
	// next header is read alone: a stream of big raw messages then moves
	// with no copy at all, at the price of a 4-byte read per message.
	// For 64 000-byte messages that measured 0.58 of the speed of a bare
	// write/read loop against 0.49 when the next header and the start of
	// its payload are read into the buffer and copied out (BenchmarkPipe,
	// medians of five interleaved runs).
	lastBig bool
	buf     []byte // buffered bytes are buf[r:w]
	r, w    int
	offs    []uint32 // GetBatch's scratch: where the frames start
	big     []byte   // a big frame being read into a buffer of its own
	bigN    int      // bytes of big filled
	stuck   error    // ErrMessageTooLarge: the stream is out of sync
}

func newReader[T any](fd int, c Codec[T], max int) *Reader[T] {
	own, _ := c.(ownedDecoder[T])
	return &Reader[T]{end: newEnd(fd, max, c.Name()), codec: c, own: own}
}

// ownedDecoder is a codec that can keep the payloads it is given (the raw
// codec): a big frame read into a buffer of its own is handed over whole,
// and the small frames of one GetBatch share one copy.
type ownedDecoder[T any] interface {
	// decodeOwned returns payload itself as the message.
	decodeOwned(payload []byte) T
	// decodeFrames sets out[i] to the payload of the frame that starts at
	// frames[offs[i]] and ends at frames[offs[i+1]], all of them copied
	// into one allocation of total bytes (their sum), each capped at its
	// end.
	decodeFrames(out []T, frames []byte, offs []uint32, total int)
}

func (rawCodec) decodeOwned(payload []byte) []byte { return payload }

func (rawCodec) decodeFrames(out [][]byte, frames []byte, offs []uint32, total int) {
	block := make([]byte, total)
	offs = offs[:len(out)+1]
	p, i := 0, 0
	for i < len(out) {
		k, q := decodeTiny(out[i:], frames, offs[i:], block[p:])
		if i, p = i+k, p+q; i == len(out) {
			break
		}
		src := frames[int(offs[i])+frameHeaderSize : offs[i+1]]
		dst := block[p : p+len(src) : p+len(src)]
		copy(dst, src)
		out[i] = dst
		p += len(src)
		i++
	}
}

// decodeTiny is decodeFrames for the run of tiny payloads at the start of
// out, into block; it returns how many it did and the bytes of block they
// took. Like appendTiny, a loop of its own without calls.
//
//go:noinline
func decodeTiny(out [][]byte, frames []byte, offs []uint32, block []byte) (i, p int) {
	offs = offs[:len(out)+1]
	start := int(offs[0])
	for ; i < len(out); i++ {
		end := int(offs[i+1])
		src := frames[start+frameHeaderSize : end]
		if len(src) > tinyFrame {
			break
		}
		dst := block[p : p+len(src) : p+len(src)]
		src = src[:len(dst)]
		for j := range dst {
			dst[j] = src[j]
		}
		out[i] = dst
		p += len(src)
		start = end
	}
	return i, p
}

// tinyFrame is the payload size up to which a loop copies it: for tiny
// payloads it beats the call to memmove.
const tinyFrame = 16

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
	if err := r.enter(ctx); err != nil {
		var zero T
		return zero, err
	}
	defer r.leave()
	return r.get(ctx)
}

// get is Get inside the handle's lock.
func (r *Reader[T]) get(ctx context.Context) (T, error) {
	var zero T
	if r.stuck != nil {
		return zero, r.stuck
	}
	if r.whole() < 0 {
		big, err := r.await(ctx)
		if err != nil {
			return zero, err
		}
		if big {
			return r.takeBig()
		}
	}
	payload := r.take()
	if r.own != nil {
		// The raw codec's Decode, without the panic guard it does not need.
		v := make([]byte, len(payload))
		copy(v, payload)
		return r.own.decodeOwned(v), nil
	}
	return decodeMessage(r.codec, payload)
}

// GetBatch fills buf with the next messages and returns how many it got:
// at least one and at most len(buf). It parks the calling coroutine until
// the first message has arrived, as Get does, then adds every further
// message that is buffered already or that one read brings in without
// waiting. An empty buf returns 0 and nil at once.
//
// The errors are Get's, and only ever come with n == 0: a call that has
// messages returns them with a nil error and leaves what stopped it (the
// end of the stream, a header over the size limit, a message its codec
// cannot decode) to the next call, which returns the error as Get would.
//
// With the raw codec the small messages of one call share one allocation,
// so a batch of tiny messages costs one allocation, not one each; every
// returned slice is capped at its own end, so appending to one never
// overwrites the next. A message kept alive keeps that allocation alive.
func (r *Reader[T]) GetBatch(ctx context.Context, buf []T) (int, error) {
	if err := r.enter(ctx); err != nil {
		return 0, err
	}
	defer r.leave()
	return r.getBatch(ctx, buf)
}

// getBatch is GetBatch inside the handle's lock.
func (r *Reader[T]) getBatch(ctx context.Context, buf []T) (int, error) {
	if r.stuck != nil {
		return 0, r.stuck
	}
	if len(buf) == 0 {
		return 0, nil
	}
	n := 0
	if r.whole() < 0 {
		big, err := r.await(ctx)
		if err != nil {
			return 0, err
		}
		if big {
			v, err := r.takeBig()
			if err != nil {
				return 0, err
			}
			buf[0] = v
			n = 1
		}
	}
	read := false
	for n < len(buf) {
		var err error
		if r.own != nil {
			n = r.takeShared(buf, n)
		} else if n, err = r.takeDecoded(buf, n); err != nil {
			return 0, err
		}
		// Once the buffer holds no whole frame, read what the pipe has
		// now, once, and take what came in.
		if n == len(buf) || read || !r.readNow() {
			break
		}
		read = true
	}
	return n, nil
}

// whole returns the size (header included) of the frame at the start of
// the buffered bytes, or -1 when they hold no whole frame, or a header
// that [parseFrame] must look at: one over the limit.
func (r *Reader[T]) whole() int {
	if r.w-r.r < frameHeaderSize {
		return -1
	}
	h := binary.BigEndian.Uint32(r.buf[r.r:])
	if uint64(h) > uint64(r.max) || int(h) > r.w-r.r-frameHeaderSize {
		return -1
	}
	return frameHeaderSize + int(h)
}

// take consumes the whole frame at the start of the buffered bytes and
// returns its payload, valid until the next read into the buffer.
func (r *Reader[T]) take() []byte {
	size := frameHeaderSize + int(binary.BigEndian.Uint32(r.buf[r.r:]))
	payload := r.buf[r.r+frameHeaderSize : r.r+size : r.r+size]
	r.consume(size, 1)
	return payload
}

// consume drops size buffered bytes, which held n whole frames.
func (r *Reader[T]) consume(size, n int) {
	r.lastBig = false
	r.r += size
	if r.r == r.w {
		r.r, r.w = 0, 0
	}
	r.stats.Messages += uint64(n)
	r.stats.Bytes += uint64(size)
}

// takeDecoded decodes the whole buffered frames into buf[n:]. A decode
// error consumes its message and comes back when it is the first one
// (n == 0); later, it stops the batch and stays for the next call.
func (r *Reader[T]) takeDecoded(buf []T, n int) (int, error) {
	for ; n < len(buf); n++ {
		size := r.whole()
		if size < 0 {
			break
		}
		v, err := decodeMessage(r.codec, r.buf[r.r+frameHeaderSize:r.r+size])
		if err != nil && n > 0 {
			break
		}
		r.consume(size, 1)
		if err != nil {
			return 0, err
		}
		buf[n] = v
	}
	return n, nil
}

// takeShared hands over the whole buffered frames as buf[n:], their
// payloads copied into one allocation (the raw codec).
//
// A first pass finds the frames and notes where each starts, so that the
// second, which copies, needs not follow the chain of headers again: each
// header says where the next one is, a chain of dependent loads that took
// a third of a GetBatch of 1-byte messages when walked twice. The first
// pass guesses that the next three frames are as long as the one it just
// read and checks their headers all at once: for a run of equal sizes that
// takes the chain at four frames a step (the pass measured 2.4 instead of
// 3.6 ns a frame).
func (r *Reader[T]) takeShared(buf []T, n int) int {
	b := r.buf[r.r:r.w]
	want := min(len(buf)-n, len(b)/frameHeaderSize)
	if cap(r.offs) <= want {
		r.offs = make([]uint32, want+1)
	}
	offs := r.offs[:want+1]
	limit := uint32(r.max)
	k, off := 0, 0
	for k < want && len(b)-off >= frameHeaderSize {
		h := binary.BigEndian.Uint32(b[off:])
		if h > limit || int(h) > len(b)-off-frameHeaderSize {
			break
		}
		step := frameHeaderSize + int(h)
		if k+4 <= want && (len(b)-off)/4 >= step {
			o1, o2, o3 := off+step, off+2*step, off+3*step
			if binary.BigEndian.Uint32(b[o1:]) == h && binary.BigEndian.Uint32(b[o2:]) == h &&
				binary.BigEndian.Uint32(b[o3:]) == h {
				q := offs[k : k+4]
				q[0], q[1], q[2], q[3] = uint32(off), uint32(o1), uint32(o2), uint32(o3)
				k, off = k+4, off+4*step
				continue
			}
		}
		offs[k] = uint32(off)
		k, off = k+1, off+step
	}
	if k == 0 {
		return n
	}
	offs[k] = uint32(off)
	r.own.decodeFrames(buf[n:n+k], b, offs[:k+1], off-frameHeaderSize*k)
	r.consume(off, k)
	return n + k
}

// await waits until the next frame is whole and reports where: in r.big
// (big == true) or at the start of the buffered bytes.
func (r *Reader[T]) await(ctx context.Context) (big bool, err error) {
	if r.big != nil {
		return true, r.fillBig(ctx)
	}
	for {
		_, size, need, err := parseFrame(r.buf[r.r:r.w], r.max)
		if err != nil {
			r.stuck = err
			return false, err
		}
		if size > 0 {
			return false, nil
		}
		if r.startBig(need) {
			return true, r.fillBig(ctx)
		}
		n, err := r.read(ctx, r.room(need))
		if err != nil {
			return false, err
		}
		if n == 0 {
			return false, frameEOF(r.w - r.r)
		}
		r.w += n
	}
}

// startBig moves the buffered start of a frame of need bytes into a buffer
// of its own when the frame is big, so that the rest is read straight into
// it, and reports whether it did.
func (r *Reader[T]) startBig(need int) bool {
	if !r.isBig(need) {
		return false
	}
	r.big = make([]byte, need)
	r.bigN = copy(r.big, r.buf[r.r:r.w])
	r.r, r.w = 0, 0
	return true
}

// isBig reports whether a frame of need bytes goes into a buffer of its
// own.
func (r *Reader[T]) isBig(need int) bool {
	return need >= bigFrame || r.own != nil && need >= ownedFrame
}

// room makes room in the read buffer for a frame of need bytes and
// returns where the next read goes.
func (r *Reader[T]) room(need int) []byte {
	if r.buf == nil {
		r.buf = make([]byte, readBufSize)
	}
	if r.r > 0 && len(r.buf)-r.r < need {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	if r.lastBig && r.w-r.r < frameHeaderSize {
		return r.buf[r.w : r.r+frameHeaderSize]
	}
	return r.buf[r.w:]
}

// readNow reads into the buffer what the pipe holds now, without waiting,
// for GetBatch, and reports whether it got anything. It leaves the end of
// the stream, read errors and big frames to the next Get.
func (r *Reader[T]) readNow() bool {
	_, size, need, err := parseFrame(r.buf[r.r:r.w], r.max)
	if err != nil || size > 0 || r.isBig(need) {
		return false
	}
	room := r.room(need)
	for {
		n, err := unix.Read(r.fd, room)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return false
		}
		r.stats.Syscalls++
		r.w += n
		return true
	}
}

// fillBig finishes reading the big frame in r.big.
func (r *Reader[T]) fillBig(ctx context.Context) error {
	for r.bigN < len(r.big) {
		n, err := r.read(ctx, r.big[r.bigN:])
		if err != nil {
			return err
		}
		if n == 0 {
			r.big, r.bigN = nil, 0
			return frameEOF(1)
		}
		r.bigN += n
	}
	return nil
}

// takeBig consumes the big frame in r.big and decodes it; the raw codec
// gets to keep the buffer (no copy).
func (r *Reader[T]) takeBig() (T, error) {
	frame := r.big
	r.big, r.bigN = nil, 0
	r.lastBig = r.own != nil
	r.stats.Messages++
	r.stats.Bytes += uint64(len(frame))
	payload := frame[frameHeaderSize:]
	if r.own != nil {
		return r.own.decodeOwned(payload), nil
	}
	return decodeMessage(r.codec, payload)
}

// Close closes the read end. It returns ErrLocked, and closes nothing,
// while another coroutine is inside Get or GetBatch; ErrClosed the second
// time.
// Buffered messages are dropped.
func (r *Reader[T]) Close() error {
	if err := r.close(); err != nil {
		return err
	}
	r.buf, r.big, r.offs = nil, nil, nil
	return nil
}

// Stats returns the reader's counters.
func (r *Reader[T]) Stats() Stats { return r.stats }

// String describes the handle: "gipc.Reader(fd 7, codec gob)".
func (r *Reader[T]) String() string { return r.describe("Reader") }

// GetBatch fills buf with the next messages from the other end; see
// Reader.GetBatch. (It lives here, with the rest of the read side.)
func (d *Duplex[T]) GetBatch(ctx context.Context, buf []T) (int, error) {
	return d.r.GetBatch(ctx, buf)
}
