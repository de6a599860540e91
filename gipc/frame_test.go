package gipc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// frame returns the bytes of one frame carrying payload.
func frame(payload []byte) []byte {
	return append(appendHeader(nil, len(payload)), payload...)
}

func TestParseFrame(t *testing.T) {
	hello := []byte("hello")
	four := bytes.Repeat([]byte{'x'}, 4)
	cases := []struct {
		name        string
		buf         []byte
		limit       int
		wantPayload []byte
		wantSize    int
		wantNeed    int
		wantErr     error
	}{
		{name: "nothing buffered", buf: nil, limit: 8, wantNeed: 4},
		{name: "one header byte", buf: []byte{0}, limit: 8, wantNeed: 4},
		{name: "three header bytes", buf: []byte{0, 0, 0}, limit: 8, wantNeed: 4},
		{name: "empty message", buf: []byte{0, 0, 0, 0}, limit: 8, wantPayload: []byte{}, wantSize: 4, wantNeed: 4},
		{name: "empty message with limit 0", buf: []byte{0, 0, 0, 0}, limit: 0, wantPayload: []byte{}, wantSize: 4, wantNeed: 4},
		{name: "header only", buf: []byte{0, 0, 0, 5}, limit: 8, wantNeed: 9},
		{name: "partial payload", buf: []byte{0, 0, 0, 5, 'h', 'e'}, limit: 8, wantNeed: 9},
		{name: "gipc bytes of hello", buf: []byte{0x00, 0x00, 0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f}, limit: 8, wantPayload: hello, wantSize: 9, wantNeed: 9},
		{name: "bytes after the frame stay", buf: append(frame(hello), 0, 0), limit: 8, wantPayload: hello, wantSize: 9, wantNeed: 9},
		{name: "exactly the limit", buf: frame(four), limit: 4, wantPayload: four, wantSize: 8, wantNeed: 8},
		{name: "limit plus one", buf: frame(four), limit: 3, wantErr: ErrMessageTooLarge},
		{name: "over the limit from the header alone", buf: []byte{0, 0, 1, 0}, limit: 255, wantErr: ErrMessageTooLarge},
		{name: "over the default limit", buf: []byte{0x40, 0, 0, 1}, limit: DefaultMaxMessageSize, wantErr: ErrMessageTooLarge},
		{name: "largest signed header with the largest limit", buf: []byte{0x7f, 0xff, 0xff, 0xff}, limit: math.MaxInt32, wantNeed: 4 + math.MaxInt32},
		{name: "top bit set", buf: []byte{0x80, 0, 0, 0}, limit: math.MaxInt32, wantErr: ErrMessageTooLarge},
		{name: "all bits set (gipc's -1)", buf: []byte{0xff, 0xff, 0xff, 0xff}, limit: math.MaxInt, wantErr: ErrMessageTooLarge},
		{name: "negative limit acts as 0", buf: frame(nil), limit: -1, wantPayload: []byte{}, wantSize: 4, wantNeed: 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload, size, need, err := parseFrame(tc.buf, tc.limit)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Nil(t, payload)
				require.Zero(t, size)
				require.Zero(t, need)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantSize, size)
			require.Equal(t, tc.wantNeed, need)
			if tc.wantPayload == nil {
				require.Nil(t, payload)
				require.Greater(t, need, len(tc.buf))
				return
			}
			require.Equal(t, tc.wantPayload, payload)
		})
	}
}

func TestParseFramePayloadIsSubSliceWithoutSpareCapacity(t *testing.T) {
	buf := append(frame([]byte("ab")), frame([]byte("cd"))...)
	payload, size, _, err := parseFrame(buf, 8)
	require.NoError(t, err)
	require.Equal(t, 6, size)
	require.Same(t, &buf[4], &payload[0], "payload must alias buf, not copy it")
	require.Equal(t, 2, cap(payload), "appending to a payload must not overwrite the next frame")
}

func TestParseFrameSeveralFramesInOneBuffer(t *testing.T) {
	msgs := [][]byte{[]byte("one"), {}, []byte("three"), bytes.Repeat([]byte{7}, 300)}
	var buf []byte
	for _, m := range msgs {
		buf = append(buf, frame(m)...)
	}
	buf = append(buf, 0, 0) // the start of a fifth frame

	var got [][]byte
	rest := buf
	for {
		payload, size, need, err := parseFrame(rest, 300)
		require.NoError(t, err)
		if size == 0 {
			require.Equal(t, 4, need)
			break
		}
		got = append(got, payload)
		rest = rest[size:]
	}
	require.Equal(t, msgs, got)
	require.Len(t, rest, 2)
	require.Equal(t, io.ErrUnexpectedEOF, frameEOF(len(rest)))
}

func TestParseFrameAllocatesNothing(t *testing.T) {
	buf := append(frame([]byte("hello")), 0, 0, 0, 9, 'x')
	allocs := testing.AllocsPerRun(100, func() {
		_, size, _, _ := parseFrame(buf, 64)
		_, _, need, _ := parseFrame(buf[size:], 64)
		if need != 13 {
			panic("unexpected need")
		}
	})
	require.Zero(t, allocs)
}

func TestAppendHeaderWritesGipcBytes(t *testing.T) {
	cases := []struct {
		name string
		n    int
		want []byte
	}{
		{name: "zero", n: 0, want: []byte{0, 0, 0, 0}},
		{name: "five", n: 5, want: []byte{0, 0, 0, 5}},
		{name: "big-endian", n: 0x01020304, want: []byte{1, 2, 3, 4}},
		{name: "default max", n: DefaultMaxMessageSize, want: []byte{0x40, 0, 0, 0}},
		{name: "largest", n: math.MaxInt32, want: []byte{0x7f, 0xff, 0xff, 0xff}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, appendHeader(nil, tc.n))
			require.Equal(t, append([]byte("ab"), tc.want...), appendHeader([]byte("ab"), tc.n))
		})
	}
}

func TestAppendHeaderPanicsOutOfRange(t *testing.T) {
	require.Panics(t, func() { appendHeader(nil, -1) })
	require.Panics(t, func() { appendHeader(nil, math.MaxInt32+1) })
}

func TestRawMessageIsGipcBytes(t *testing.T) {
	// Python: struct.pack("!i", 5) + b"hello", what gipc writes for raw
	// b"hello" (encoder=None).
	want := []byte{0x00, 0x00, 0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f}
	got, err := appendMessage(nil, Raw(), []byte("hello"), DefaultMaxMessageSize)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestEndFrame(t *testing.T) {
	cases := []struct {
		name    string
		prefix  string
		payload string
		limit   int
		want    []byte
		wantErr error
	}{
		{name: "empty message", prefix: "", payload: "", limit: 1, want: []byte{0, 0, 0, 0}},
		{name: "behind earlier frames", prefix: "abc", payload: "hello", limit: 8, want: []byte("abc\x00\x00\x00\x05hello")},
		{name: "exactly the limit", prefix: "", payload: "four", limit: 4, want: []byte("\x00\x00\x00\x04four")},
		{name: "limit plus one", prefix: "abc", payload: "fives", limit: 4, want: []byte("abc"), wantErr: ErrMessageTooLarge},
		{name: "limit 0", prefix: "", payload: "x", limit: 0, want: []byte{}, wantErr: ErrMessageTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst, start := beginFrame([]byte(tc.prefix))
			require.Equal(t, len(tc.prefix), start)
			dst = append(dst, tc.payload...)
			got, err := endFrame(dst, start, tc.limit)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestEndFramePanicsWithoutBeginFrame(t *testing.T) {
	require.Panics(t, func() { _, _ = endFrame([]byte{0, 0}, 0, 8) })
	require.Panics(t, func() { _, _ = endFrame([]byte{0, 0, 0, 0}, -1, 8) })
}

func TestFrameEOF(t *testing.T) {
	cases := []struct {
		name     string
		buffered int
		want     error
	}{
		{name: "between messages", buffered: 0, want: io.EOF},
		{name: "inside a header", buffered: 1, want: io.ErrUnexpectedEOF},
		{name: "after a whole header", buffered: 4, want: io.ErrUnexpectedEOF},
		{name: "inside a payload", buffered: 100, want: io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, frameEOF(tc.buffered))
		})
	}
}

func TestCheckMaxMessageSize(t *testing.T) {
	cases := []struct {
		name string
		n    int
		ok   bool
	}{
		{name: "zero", n: 0},
		{name: "negative", n: -5},
		{name: "one", n: 1, ok: true},
		{name: "default", n: DefaultMaxMessageSize, ok: true},
		{name: "largest", n: math.MaxInt32, ok: true},
		{name: "past a signed 32-bit header", n: math.MaxInt32 + 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkMaxMessageSize(tc.n)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, "gipc: max message size")
			}
		})
	}
}

func TestBrokenErrorMatchesSentinelAndCause(t *testing.T) {
	err := brokenError(context.DeadlineExceeded)
	require.ErrorIs(t, err, ErrBroken)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, "gipc: writer broken by an interrupted put: context deadline exceeded", err.Error())
	require.Same(t, ErrBroken, brokenError(nil))
	require.False(t, errors.Is(err, ErrClosed))
}

// FuzzParseFrame feeds random bytes and limits to the frame reader, the way
// a reader walks its buffer: it must never panic, never return a payload
// over the limit, never ask for more than limit+4 bytes, and every frame it
// finds must re-encode to exactly the bytes it consumed.
func FuzzParseFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'}, 5)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 'x', 0, 0}, 1)
	f.Add([]byte{0x80, 0, 0, 0}, math.MaxInt32)
	f.Add([]byte{0, 0, 1}, 0)
	f.Add([]byte{0, 0, 0, 2, 1, 2, 0, 0, 0, 3}, -1)
	f.Fuzz(func(t *testing.T, buf []byte, limit int) {
		eff := clampMax(limit)
		rest := buf
		for {
			payload, size, need, err := parseFrame(rest, limit)
			if err != nil {
				if !errors.Is(err, ErrMessageTooLarge) {
					t.Fatalf("error %v does not match ErrMessageTooLarge", err)
				}
				if len(rest) < 4 {
					t.Fatalf("error %v from %d bytes, before a whole header", err, len(rest))
				}
				return
			}
			if need > eff+4 {
				t.Fatalf("need %d over limit %d + 4", need, eff)
			}
			if size == 0 {
				if payload != nil || need <= len(rest) {
					t.Fatalf("incomplete frame: payload %v, need %d with %d buffered", payload, need, len(rest))
				}
				if frameEOF(len(rest)) == io.EOF && len(rest) != 0 {
					t.Fatal("io.EOF in the middle of a frame")
				}
				return
			}
			if len(payload) > eff {
				t.Fatalf("payload of %d bytes over limit %d", len(payload), eff)
			}
			if size != need || size > len(rest) {
				t.Fatalf("size %d, need %d, buffered %d", size, need, len(rest))
			}
			if again := frame(payload); !bytes.Equal(again, rest[:size]) {
				t.Fatalf("re-encoded %x, consumed %x", again, rest[:size])
			}
			rest = rest[size:]
		}
	})
}

// FuzzFrameRoundTrip builds frames in place behind random earlier bytes:
// a payload within the limit parses back to itself, one over it leaves the
// buffer exactly as it was.
func FuzzFrameRoundTrip(f *testing.F) {
	f.Add([]byte(nil), []byte("hello"), 5)
	f.Add([]byte("abc"), []byte("hello"), 4)
	f.Add([]byte{1}, []byte{}, 0)
	f.Add([]byte{}, []byte{1, 2}, -3)
	f.Fuzz(func(t *testing.T, prefix, payload []byte, limit int) {
		dst, start := beginFrame(bytes.Clone(prefix))
		dst = append(dst, payload...)
		out, err := endFrame(dst, start, limit)
		if len(payload) > clampMax(limit) {
			if !errors.Is(err, ErrMessageTooLarge) {
				t.Fatalf("payload of %d bytes, limit %d: error %v", len(payload), limit, err)
			}
			if !bytes.Equal(out, prefix) {
				t.Fatalf("buffer %x after a refused frame, want %x", out, prefix)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out[:start], prefix) {
			t.Fatalf("earlier bytes changed: %x, want %x", out[:start], prefix)
		}
		got, size, _, err := parseFrame(out[start:], limit)
		if err != nil || size != len(out)-start || !bytes.Equal(got, payload) {
			t.Fatalf("parsed %x (size %d, err %v) from frame of %x", got, size, err, payload)
		}
	})
}
