package gipc

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// The wire format is Python gipc's, byte for byte: every message is a
// 4-byte big-endian length followed by that many bytes of codec output.
// gipc packs the length with struct.pack("!i", n), a signed 32-bit value, so
// a message holds at most 2^31-1 bytes and a header with the top bit set is
// never valid. A raw Go pipe and a raw gipc pipe (encoder=None) speak the
// same bytes.
//
// The functions below are pure: they work on byte slices only and know
// nothing of file descriptors, hubs or codecs, so the reader and writer of a
// pipe share one tested and fuzzed definition of the format.

// DefaultMaxMessageSize is the size limit of a message when a pipe is made
// without WithMaxMessageSize: 1 GiB. A message of exactly the limit passes.
const DefaultMaxMessageSize = 1 << 30

const (
	// frameHeaderSize is the length of the header in front of every
	// message.
	frameHeaderSize = 4

	// maxMessageSizeLimit is the largest size limit a pipe accepts: the
	// largest length a signed 32-bit header can carry (also with room for
	// the header in an int where int has 32 bits).
	maxMessageSizeLimit = min(math.MaxInt32, math.MaxInt-frameHeaderSize)
)

// checkMaxMessageSize validates a size limit given to a pipe: it must be in
// 1..2^31-1.
func checkMaxMessageSize(n int) error {
	if n < 1 || n > maxMessageSizeLimit {
		return fmt.Errorf("gipc: max message size %d outside 1..%d", n, maxMessageSizeLimit)
	}
	return nil
}

// clampMax maps any int to a limit the frame functions can work with:
// negative limits act as 0 (only empty messages pass) and limits above
// maxMessageSizeLimit as that limit. Pipes validate their limit with
// checkMaxMessageSize, so for them this changes nothing; it keeps the pure
// functions total.
func clampMax(limit int) int {
	return min(maxMessageSizeLimit, max(0, limit))
}

// appendHeader appends the 4-byte header of an n-byte message to dst. n must
// be in 0..2^31-1; anything else is a bug in the caller and panics.
func appendHeader(dst []byte, n int) []byte {
	if n < 0 || n > maxMessageSizeLimit {
		panic(fmt.Sprintf("gipc: frame length %d out of range", n))
	}
	return binary.BigEndian.AppendUint32(dst, uint32(n))
}

// beginFrame reserves room for a header at the end of dst, so that a codec
// can append the payload right behind it and [endFrame] can patch the
// length in afterwards: a frame is built in place, with no second buffer
// and no copy. start is the offset of the frame in the returned slice (the
// old len(dst)).
func beginFrame(dst []byte) (out []byte, start int) {
	start = len(dst)
	return append(dst, 0, 0, 0, 0), start
}

// endFrame finishes the frame that [beginFrame] started at offset start:
// everything in dst behind the reserved header is the payload. If the
// payload is longer than limit it returns dst[:start] (nothing of the frame
// remains) and an error that matches [ErrMessageTooLarge]; otherwise it
// writes the length into the header and returns dst. A start that does not
// leave room for a header is a bug in the caller and panics.
func endFrame(dst []byte, start, limit int) ([]byte, error) {
	if start < 0 || len(dst)-start < frameHeaderSize {
		panic(fmt.Sprintf("gipc: endFrame at %d of a %d-byte buffer without beginFrame", start, len(dst)))
	}
	n := len(dst) - start - frameHeaderSize
	if limit = clampMax(limit); n > limit {
		return dst[:start], fmt.Errorf("%w: %d bytes, max %d", ErrMessageTooLarge, n, limit)
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(n))
	return dst, nil
}

// parseFrame looks at the bytes buffered by a reader and finds the first
// frame in them. limit is the size limit of a message.
//
//   - A complete frame: payload is its message (a sub-slice of buf, not a
//     copy), size the number of bytes of buf it takes, header included, and
//     need == size.
//   - More bytes are needed: payload is nil, size 0, and need > len(buf) is
//     what the whole frame needs as far as it is known: 4 while the header
//     is incomplete, header plus payload once it is there. A reader grows
//     its buffer to need, which is never more than limit+4.
//   - The header claims more than limit bytes or has its top bit set: an
//     error that matches [ErrMessageTooLarge], decided from the 4 header
//     bytes alone, so nothing has been allocated for the payload. The
//     stream is out of sync from there on.
//
// A negative limit acts as 0, and one over 2^31-1 as 2^31-1.
func parseFrame(buf []byte, limit int) (payload []byte, size, need int, err error) {
	if len(buf) < frameHeaderSize {
		return nil, 0, frameHeaderSize, nil
	}
	h := binary.BigEndian.Uint32(buf)
	if limit = clampMax(limit); uint64(h) > uint64(limit) {
		if h > math.MaxInt32 {
			return nil, 0, 0, fmt.Errorf("%w: frame header %#08x has the sign bit set (not a gipc stream?)", ErrMessageTooLarge, h)
		}
		return nil, 0, 0, fmt.Errorf("%w: frame header claims %d bytes, max %d", ErrMessageTooLarge, h, limit)
	}
	need = frameHeaderSize + int(h)
	if len(buf) < need {
		return nil, 0, need, nil
	}
	return buf[frameHeaderSize:need:need], need, need, nil
}

// frameEOF is the error of a reader that reached the end of the stream with
// buffered bytes still unparsed: [io.EOF] between messages (nothing
// buffered), [io.ErrUnexpectedEOF] in the middle of one, even inside its
// header. These are Python gipc's EOFError and "Message interrupted by EOF".
func frameEOF(buffered int) error {
	if buffered == 0 {
		return io.EOF
	}
	return io.ErrUnexpectedEOF
}
