package gipc

import (
	"bytes"
	"compress/zlib"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// zlibCodec compresses raw bytes, like the zlib encoder/decoder pair of
// Python gipc's test suite. It is registered at package initialisation, as
// custom codecs must be.
type zlibCodec struct{}

func (zlibCodec) Name() string { return "zlib" }

func (zlibCodec) Append(dst []byte, v []byte) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	w := zlib.NewWriter(buf)
	if _, err := w.Write(v); err != nil {
		return dst, err
	}
	if err := w.Close(); err != nil {
		return dst, err
	}
	return buf.Bytes(), nil
}

func (zlibCodec) Decode(data []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func init() { RegisterCodec[[]byte](zlibCodec{}) }

type point struct {
	X, Y int
}

type record struct {
	ID     int
	Name   string
	Tags   []string
	Attrs  map[string]int
	Origin *point
	Score  float64
	hidden int // not sent by gob or json
}

// shape is an interface whose concrete types are registered with gob.
type shape interface{ Area() int }

type square struct{ Side int }

func (s square) Area() int { return s.Side * s.Side }

type rect struct{ W, H int }

func (r rect) Area() int { return r.W * r.H }

func init() {
	gob.Register(square{})
	gob.Register(rect{})
}

// roundTrip encodes v behind some earlier bytes, checks they are kept, and
// decodes it again.
func roundTrip[T any](t *testing.T, c Codec[T], v T) T {
	t.Helper()
	earlier := []byte("earlier")
	out, err := c.Append(bytes.Clone(earlier), v)
	require.NoError(t, err)
	require.Equal(t, earlier, out[:len(earlier)])
	got, err := c.Decode(out[len(earlier):])
	require.NoError(t, err)
	return got
}

func sampleRecord() record {
	return record{
		ID:     7,
		Name:   "seven <&>",
		Tags:   []string{"a", "b"},
		Attrs:  map[string]int{"x": 1, "y": -2},
		Origin: &point{X: 3, Y: 4},
		Score:  0.5,
		hidden: 99,
	}
}

func TestGobRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{name: "struct", run: func(t *testing.T) {
			want := sampleRecord()
			want.hidden = 0
			require.Equal(t, want, roundTrip(t, Gob[record](), sampleRecord()))
		}},
		{name: "struct with nil pointer field", run: func(t *testing.T) {
			require.Equal(t, record{ID: 1}, roundTrip(t, Gob[record](), record{ID: 1}))
		}},
		{name: "pointer to struct", run: func(t *testing.T) {
			require.Equal(t, &point{X: 1, Y: 2}, roundTrip(t, Gob[*point](), &point{X: 1, Y: 2}))
		}},
		{name: "map", run: func(t *testing.T) {
			want := map[string][]int{"a": {1, 2}, "b": {}}
			got := roundTrip(t, Gob[map[string][]int](), want)
			require.Equal(t, []int{1, 2}, got["a"])
			require.Empty(t, got["b"])
		}},
		{name: "slice", run: func(t *testing.T) {
			require.Equal(t, []string{"x", "", "z"}, roundTrip(t, Gob[[]string](), []string{"x", "", "z"}))
		}},
		{name: "string", run: func(t *testing.T) {
			require.Equal(t, "héllo", roundTrip(t, Gob[string](), "héllo"))
		}},
		{name: "empty string", run: func(t *testing.T) {
			require.Equal(t, "", roundTrip(t, Gob[string](), ""))
		}},
		{name: "int", run: func(t *testing.T) {
			require.Equal(t, math.MinInt, roundTrip(t, Gob[int](), math.MinInt))
		}},
		{name: "bytes", run: func(t *testing.T) {
			require.Equal(t, []byte{0, 1, 2}, roundTrip(t, Gob[[]byte](), []byte{0, 1, 2}))
		}},
		{name: "interface", run: func(t *testing.T) {
			c := Gob[shape]()
			require.Equal(t, shape(square{Side: 3}), roundTrip(t, c, shape(square{Side: 3})))
			require.Equal(t, shape(rect{W: 2, H: 5}), roundTrip(t, c, shape(rect{W: 2, H: 5})))
		}},
		{name: "any", run: func(t *testing.T) {
			require.Equal(t, any(rect{W: 1, H: 1}), roundTrip(t, Gob[any](), any(rect{W: 1, H: 1})))
			require.Equal(t, any("text"), roundTrip(t, Gob[any](), any("text")))
		}},
		{name: "struct holding an interface", run: func(t *testing.T) {
			type holder struct {
				S    shape
				Name string
			}
			c := Gob[holder]()
			for _, v := range []holder{{S: square{Side: 2}, Name: "sq"}, {S: rect{W: 1, H: 3}}, {Name: "nil shape"}} {
				require.Equal(t, v, roundTrip(t, c, v))
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{name: "struct", run: func(t *testing.T) {
			want := sampleRecord()
			want.hidden = 0
			require.Equal(t, want, roundTrip(t, JSON[record](), sampleRecord()))
		}},
		{name: "nil pointer", run: func(t *testing.T) {
			require.Nil(t, roundTrip(t, JSON[*point](), nil))
		}},
		{name: "pointer to struct", run: func(t *testing.T) {
			require.Equal(t, &point{X: 1, Y: 2}, roundTrip(t, JSON[*point](), &point{X: 1, Y: 2}))
		}},
		{name: "map", run: func(t *testing.T) {
			want := map[string][]int{"a": {1, 2}, "b": {}}
			require.Equal(t, want, roundTrip(t, JSON[map[string][]int](), want))
		}},
		{name: "slice", run: func(t *testing.T) {
			require.Equal(t, []string{"x", "", "z"}, roundTrip(t, JSON[[]string](), []string{"x", "", "z"}))
		}},
		{name: "string", run: func(t *testing.T) {
			require.Equal(t, "héllo <b>", roundTrip(t, JSON[string](), "héllo <b>"))
		}},
		{name: "int", run: func(t *testing.T) {
			require.Equal(t, -42, roundTrip(t, JSON[int](), -42))
		}},
		{name: "any", run: func(t *testing.T) {
			want := map[string]any{"a": 1.5, "b": []any{"c", true, nil}}
			require.Equal(t, any(want), roundTrip(t, JSON[any](), any(want)))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}

func TestJSONAppendWritesOneCompactValue(t *testing.T) {
	out, err := JSON[map[string]string]().Append([]byte("x"), map[string]string{"k": "<v>"})
	require.NoError(t, err)
	require.Equal(t, `x{"k":"<v>"}`, string(out))
}

func TestGobNilPointerIsAnError(t *testing.T) {
	cases := []struct {
		name string
		run  func() error
	}{
		{name: "pointer", run: func() error {
			_, err := Gob[*point]().Append(nil, nil)
			return err
		}},
		{name: "pointer to nil pointer", run: func() error {
			var p *point
			_, err := Gob[**point]().Append(nil, &p)
			return err
		}},
		{name: "nil pointer in an interface", run: func() error {
			var p *square
			_, err := Gob[any]().Append(nil, p)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tc.run() })
			require.ErrorContains(t, err, "nil pointer")
		})
	}
}

func TestGobUnencodableValueIsAnError(t *testing.T) {
	_, err := Gob[func()]().Append(nil, func() {})
	require.Error(t, err)
	_, err = Gob[struct{ x int }]().Append(nil, struct{ x int }{1})
	require.Error(t, err)
}

func TestGobReturnsOneCodecPerType(t *testing.T) {
	require.Same(t, Gob[record]().(*gobCodec[record]), Gob[record]().(*gobCodec[record]))
}

// freshGob is what the gob codec must produce for every message: the output
// of a new gob.Encoder.
func freshGob(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, gob.NewEncoder(&buf).Encode(v))
	return buf.Bytes()
}

// sameAsFresh appends values with c, several times over so that primed
// encoders are used, and checks every message against a fresh encoder's.
func sameAsFresh[T any](values ...T) func(t *testing.T) {
	return func(t *testing.T) {
		c := Gob[T]()
		for round := range 3 {
			for i, v := range values {
				got, err := c.Append(nil, v)
				require.NoError(t, err)
				require.Equal(t, freshGob(t, &v), got, "round %d, value %d", round, i)
			}
		}
		if gc := c.(*gobCodec[T]); gc.reuse {
			require.NotNil(t, gc.prefix.Load(), "the encoder was never primed")
		}
	}
}

type list struct {
	Next *list
	V    int
}

func TestGobMessagesAreThoseOfAFreshEncoder(t *testing.T) {
	var records []record
	for i := range 20 {
		v := record{ID: i, Name: strings.Repeat("n", i), Tags: make([]string, i%3), Attrs: map[string]int{"i": i}}
		if i%2 == 0 {
			v.Origin = &point{X: i}
		}
		records = append(records, v)
	}
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{name: "struct", run: sameAsFresh(records...)},
		{name: "int", run: sameAsFresh(0, 1, -1, math.MaxInt)},
		{name: "string", run: sameAsFresh("", "a", strings.Repeat("b", 300))},
		{name: "bytes", run: sameAsFresh([]byte(nil), []byte{1, 2, 3})},
		{name: "pointer", run: sameAsFresh(&point{}, &point{X: 1, Y: -1})},
		{name: "nested slices", run: sameAsFresh([][]point{{{X: 1}}, {}}, nil)},
		{name: "map of structs", run: sameAsFresh(map[int]point{1: {X: 1}}, map[int]point{})},
		{name: "array", run: sameAsFresh([3]uint8{1, 2, 3}, [3]uint8{})},
		{name: "recursive", run: sameAsFresh(list{V: 1, Next: &list{V: 2}}, list{})},
		{name: "gob encoder type", run: sameAsFresh(time.Unix(0, 0).UTC(), time.Date(2024, 2, 29, 12, 0, 0, 5, time.UTC))},
		{name: "interface", run: sameAsFresh[shape](square{Side: 1}, rect{W: 1, H: 2}, nil)},
		{name: "struct holding an interface", run: sameAsFresh(struct{ S shape }{S: square{}}, struct{ S shape }{S: rect{}})},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}

func TestGobMessagesDecodeOnTheirOwn(t *testing.T) {
	// Each message, taken alone, decodes with a new gob.Decoder, and any
	// one of them may be decoded first.
	c := Gob[[]point]()
	var msgs [][]byte
	for i := range 5 {
		msg, err := c.Append(nil, []point{{X: i}})
		require.NoError(t, err)
		msgs = append(msgs, msg)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		var got []point
		require.NoError(t, gob.NewDecoder(bytes.NewReader(msgs[i])).Decode(&got))
		require.Equal(t, []point{{X: i}}, got)
	}
}

func TestGobPrimedDecoderMatchesFreshDecoder(t *testing.T) {
	c := Gob[record]()
	// The codec is shared by every test of the binary (one per type), and
	// other tests may have pooled decoders for record already.
	before := 0
	if sets := c.(*gobCodec[record]).decoders.Load(); sets != nil {
		before = len(*sets)
	}
	for i := range 20 {
		v := record{ID: i, Tags: []string{fmt.Sprint(i)}}
		if i%3 == 0 {
			v.Attrs = map[string]int{"k": i}
		}
		msg := freshGob(t, v)
		got, err := c.Decode(msg)
		require.NoError(t, err)
		require.Equal(t, v, got, "message %d", i)
	}
	sets := c.(*gobCodec[record]).decoders.Load()
	require.NotNil(t, sets, "no decoder was ever pooled")
	require.LessOrEqual(t, len(*sets), max(before, 1), "messages of one peer share one pooled decoder set")
}

// recordTwin has the fields of record under another type name: its
// messages decode into record, with other type ids and names in their type
// definitions, as the messages of another process would have.
type recordTwin struct {
	ID     int
	Name   string
	Tags   []string
	Attrs  map[string]int
	Origin *point
	Score  float64
}

func TestGobDecodesPeersWithOtherTypeIDs(t *testing.T) {
	c := Gob[record]()
	twin := Gob[recordTwin]()
	for i := range 10 {
		var msg []byte
		var err error
		if i%2 == 0 {
			msg, err = c.Append(nil, record{ID: i, Name: "own"})
		} else {
			msg, err = twin.Append(nil, recordTwin{ID: i, Name: "twin"})
		}
		require.NoError(t, err)
		got, err := c.Decode(msg)
		require.NoError(t, err)
		require.Equal(t, i, got.ID)
		require.Equal(t, map[bool]string{true: "own", false: "twin"}[i%2 == 0], got.Name)
	}
	sets := c.(*gobCodec[record]).decoders.Load()
	require.NotNil(t, sets)
	require.Len(t, *sets, 2, "one primed decoder set per type-definition prefix")
}

func TestGobDecodeDoesNotMergeIntoEarlierValues(t *testing.T) {
	// gob leaves fields that a message does not carry (zero values) as
	// they are in the target, so a reused target would leak old values.
	c := Gob[record]()
	full := sampleRecord()
	for range 3 {
		msg, err := c.Append(nil, full)
		require.NoError(t, err)
		_, err = c.Decode(msg)
		require.NoError(t, err)
		msg, err = c.Append(nil, record{})
		require.NoError(t, err)
		got, err := c.Decode(msg)
		require.NoError(t, err)
		require.Equal(t, record{}, got)
	}
}

func TestGobConcurrentUse(t *testing.T) {
	c := Gob[record]()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			var buf []byte
			for i := range 200 {
				v := record{ID: g*1000 + i, Name: fmt.Sprint(g), Tags: []string{fmt.Sprint(i)}}
				var err error
				buf, err = c.Append(buf[:0], v)
				if err != nil {
					errs <- err
					return
				}
				got, err := c.Decode(buf)
				if err != nil {
					errs <- err
					return
				}
				if !reflect.DeepEqual(got, v) {
					errs <- fmt.Errorf("got %+v, want %+v", got, v)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestRawRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want []byte
	}{
		{name: "nil", in: nil, want: []byte{}},
		{name: "empty", in: []byte{}, want: []byte{}},
		{name: "bytes", in: []byte{0, 0xff, 'a'}, want: []byte{0, 0xff, 'a'}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Raw().Append([]byte("ab"), tc.in)
			require.NoError(t, err)
			require.Equal(t, append([]byte("ab"), tc.in...), out)
			got, err := Raw().Decode(out[2:])
			require.NoError(t, err)
			require.NotNil(t, got)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestRawNilAndEmptyEncodeToNothing(t *testing.T) {
	for _, v := range [][]byte{nil, {}} {
		msg, err := appendMessage(nil, Raw(), v, 1)
		require.NoError(t, err)
		require.Equal(t, []byte{0, 0, 0, 0}, msg)
	}
}

func TestRawDecodeReturnsACopyTheCallerOwns(t *testing.T) {
	data := []byte("payload")
	got, err := Raw().Decode(data)
	require.NoError(t, err)
	copy(data, "XXXXXXX")
	require.Equal(t, []byte("payload"), got)
	got[0] = 'P'
	require.Equal(t, []byte("XXXXXXX"), data)
}

func TestRawDecodeAllocatesOnce(t *testing.T) {
	data := make([]byte, 1000)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := Raw().Decode(data); err != nil {
			panic(err)
		}
	})
	require.Equal(t, 1.0, allocs)
}

func TestRawAppendAllocatesNothing(t *testing.T) {
	dst := make([]byte, 0, 2000)
	v := make([]byte, 1000)
	c := Raw()
	allocs := testing.AllocsPerRun(100, func() {
		out, err := appendMessage(dst, c, v, DefaultMaxMessageSize)
		if err != nil || len(out) != 1004 {
			panic("bad frame")
		}
	})
	require.Zero(t, allocs)
}

func TestDecodeGarbageIsAnError(t *testing.T) {
	valid, err := Gob[record]().Append(nil, sampleRecord())
	require.NoError(t, err)
	cases := []struct {
		name   string
		decode func([]byte) error
		data   []byte
	}{
		{name: "gob empty", decode: decodeWith(Gob[record]()), data: nil},
		{name: "gob noise", decode: decodeWith(Gob[record]()), data: []byte("\x07\xff\x81\x03\x01\x01\x06")},
		{name: "gob truncated", decode: decodeWith(Gob[record]()), data: valid[:len(valid)-3]},
		{name: "gob trailing bytes", decode: decodeWith(Gob[record]()), data: append(bytes.Clone(valid), 1, 2)},
		{name: "gob wrong type", decode: decodeWith(Gob[int]()), data: valid},
		{name: "gob huge count", decode: decodeWith(Gob[record]()), data: []byte{0xf8, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{name: "json empty", decode: decodeWith(JSON[record]()), data: nil},
		{name: "json noise", decode: decodeWith(JSON[record]()), data: []byte("{\"ID\": ")},
		{name: "json wrong type", decode: decodeWith(JSON[record]()), data: []byte("[1, 2]")},
		{name: "json trailing data", decode: decodeWith(JSON[int]()), data: []byte("1 2")},
		{name: "zlib noise", decode: decodeWith[[]byte](zlibCodec{}), data: []byte("not zlib")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tc.decode(tc.data) })
			require.Error(t, err)
		})
	}
}

// decodeWith decodes as a pipe's Get does, and checks the error's shape.
func decodeWith[T any](c Codec[T]) func([]byte) error {
	return func(data []byte) error {
		_, err := decodeMessage(c, data)
		if err == nil {
			return nil
		}
		var de *DecodeError
		if !errors.As(err, &de) || de.Codec != c.Name() || de.Len != len(data) {
			return fmt.Errorf("not a *DecodeError for %q of %d bytes: %#v", c.Name(), len(data), err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("decode error %v looks like the end of the stream", err)
		}
		return err
	}
}

// faultyCodec fails the way it is told to.
type faultyCodec struct {
	appendErr, decodeErr error
	panicWith            any
	shrink               bool
}

func (faultyCodec) Name() string { return "faulty" }

func (c faultyCodec) Append(dst []byte, v string) ([]byte, error) {
	if c.panicWith != nil {
		panic(c.panicWith)
	}
	if c.shrink {
		return dst[:len(dst)-2], nil
	}
	if c.appendErr != nil {
		return append(dst, "partial"...), c.appendErr
	}
	return append(dst, v...), nil
}

func (c faultyCodec) Decode(data []byte) (string, error) {
	if c.panicWith != nil {
		panic(c.panicWith)
	}
	return "", c.decodeErr
}

func TestDecodeMessageWrapsCodecErrors(t *testing.T) {
	errBad := errors.New("bad payload")
	cases := []struct {
		name    string
		codec   faultyCodec
		wantIs  error
		wantMsg string
	}{
		{name: "codec error", codec: faultyCodec{decodeErr: errBad}, wantIs: errBad,
			wantMsg: `gipc: "faulty" codec cannot decode message of 3 bytes: bad payload`},
		{name: "codec io.EOF", codec: faultyCodec{decodeErr: io.EOF},
			wantMsg: `gipc: "faulty" codec cannot decode message of 3 bytes: message ends early: EOF`},
		{name: "codec wrapped io.ErrUnexpectedEOF", codec: faultyCodec{decodeErr: fmt.Errorf("short: %w", io.ErrUnexpectedEOF)},
			wantMsg: `gipc: "faulty" codec cannot decode message of 3 bytes: message ends early: short: unexpected EOF`},
		{name: "codec panic with an error", codec: faultyCodec{panicWith: errBad}, wantIs: errBad,
			wantMsg: `gipc: "faulty" codec cannot decode message of 3 bytes: codec panicked: bad payload`},
		{name: "codec panic with a value", codec: faultyCodec{panicWith: 42},
			wantMsg: `gipc: "faulty" codec cannot decode message of 3 bytes: codec panicked: 42`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := decodeMessage[string](tc.codec, []byte("abc"))
			require.Zero(t, v)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			require.Equal(t, "faulty", de.Codec)
			require.Equal(t, 3, de.Len)
			require.EqualError(t, err, tc.wantMsg)
			if tc.wantIs != nil {
				require.ErrorIs(t, err, tc.wantIs)
			}
			require.NotErrorIs(t, err, io.EOF)
			require.NotErrorIs(t, err, io.ErrUnexpectedEOF)
		})
	}
}

func TestAppendMessage(t *testing.T) {
	errBad := errors.New("cannot encode")
	earlier := []byte("earlier frames")
	cases := []struct {
		name    string
		codec   Codec[string]
		v       string
		limit   int
		want    []byte
		wantIs  error
		wantMsg string
	}{
		{name: "frame", codec: faultyCodec{}, v: "hi", limit: 2, want: append(bytes.Clone(earlier), 0, 0, 0, 2, 'h', 'i')},
		{name: "too large", codec: faultyCodec{}, v: "hi!", limit: 2, want: earlier, wantIs: ErrMessageTooLarge,
			wantMsg: "gipc: message too large: 3 bytes, max 2"},
		{name: "codec error", codec: faultyCodec{appendErr: errBad}, v: "hi", limit: 8, want: earlier, wantIs: errBad,
			wantMsg: `gipc: "faulty" codec cannot encode message: cannot encode`},
		{name: "codec panic", codec: faultyCodec{panicWith: "boom"}, v: "hi", limit: 8, want: earlier,
			wantMsg: `gipc: "faulty" codec cannot encode message: codec panicked: boom`},
		{name: "codec shrinks the buffer", codec: faultyCodec{shrink: true}, v: "hi", limit: 8, want: earlier,
			wantMsg: `gipc: "faulty" codec cannot encode message: Append returned a slice shorter than it was given`},
		{name: "json", codec: JSON[string](), v: "hi", limit: 8, want: append(bytes.Clone(earlier), "\x00\x00\x00\x04\"hi\""...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, len(earlier), 64)
			copy(dst, earlier)
			got, err := appendMessage(dst, tc.codec, tc.v, tc.limit)
			require.Equal(t, tc.want, got)
			if tc.wantMsg == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.wantMsg)
			if tc.wantIs != nil {
				require.ErrorIs(t, err, tc.wantIs)
			}
		})
	}
}

func TestDecodeErrorUnwraps(t *testing.T) {
	inner := errors.New("inner")
	err := error(&DecodeError{Codec: "gob", Len: 12, Err: inner})
	require.ErrorIs(t, err, inner)
	require.Equal(t, `gipc: "gob" codec cannot decode message of 12 bytes: inner`, err.Error())
	require.Equal(t, `gipc: "x" codec cannot decode message of 0 bytes: <nil>`, (&DecodeError{Codec: "x"}).Error())
}

func TestZlibCodecRoundTrip(t *testing.T) {
	c, err := codecByName[[]byte]("zlib")
	require.NoError(t, err)
	want := bytes.Repeat([]byte("gipc "), 1000)
	msg, err := appendMessage(nil, c, want, DefaultMaxMessageSize)
	require.NoError(t, err)
	require.Less(t, len(msg), len(want)/10, "not compressed")
	payload, size, _, err := parseFrame(msg, DefaultMaxMessageSize)
	require.NoError(t, err)
	require.Equal(t, len(msg), size)
	got, err := decodeMessage(c, payload)
	require.NoError(t, err)
	require.Equal(t, want, got)
}

func TestCodecByName(t *testing.T) {
	cases := []struct {
		name    string
		lookup  func() (string, error)
		want    string
		wantErr string
	}{
		{name: "gob", lookup: lookup[record]("gob"), want: "gob"},
		{name: "json", lookup: lookup[map[string]int]("json"), want: "json"},
		{name: "raw", lookup: lookup[[]byte]("raw"), want: "raw"},
		{name: "raw for another type", lookup: lookup[string]("raw"), wantErr: `gipc: codec "raw" carries []byte, not string`},
		{name: "raw for a named byte slice", lookup: lookup[byteString]("raw"), wantErr: `gipc: codec "raw" carries []byte, not gipc.byteString`},
		{name: "registered", lookup: lookup[[]byte]("zlib"), want: "zlib"},
		{name: "registered for another type", lookup: lookup[string]("zlib"), wantErr: `gipc: codec "zlib" carries []uint8, not string`},
		{name: "unknown", lookup: lookup[[]byte]("lz4"), wantErr: `gipc: unknown codec "lz4"`},
		{name: "empty", lookup: lookup[[]byte](""), wantErr: `gipc: unknown codec ""`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.lookup()
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// byteString is a named byte slice, which the raw codec does not carry.
type byteString []byte

func lookup[T any](name string) func() (string, error) {
	return func() (string, error) {
		c, err := codecByName[T](name)
		if err != nil {
			return "", err
		}
		return c.Name(), nil
	}
}

func TestCodecByNameGivesTheSharedGobCodec(t *testing.T) {
	c, err := codecByName[record]("gob")
	require.NoError(t, err)
	require.Same(t, Gob[record]().(*gobCodec[record]), c.(*gobCodec[record]))
}

type namedCodec struct {
	faultyCodec
	name string
}

func (c namedCodec) Name() string { return c.name }

func TestRegisterCodecPanics(t *testing.T) {
	cases := []struct {
		name    string
		codec   Codec[string]
		wantMsg string
	}{
		{name: "nil", codec: nil, wantMsg: "gipc: RegisterCodec of a nil codec"},
		{name: "empty name", codec: namedCodec{name: ""}, wantMsg: "gipc: RegisterCodec of a codec with an empty name"},
		{name: "gob", codec: Gob[string](), wantMsg: `gipc: RegisterCodec: "gob" is a built-in codec`},
		{name: "json", codec: namedCodec{name: "json"}, wantMsg: `gipc: RegisterCodec: "json" is a built-in codec`},
		{name: "raw", codec: namedCodec{name: "raw"}, wantMsg: `gipc: RegisterCodec: "raw" is a built-in codec`},
		{name: "duplicate", codec: namedCodec{name: "zlib"}, wantMsg: `gipc: RegisterCodec: codec "zlib" registered twice (for []uint8 and string)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.PanicsWithValue(t, tc.wantMsg, func() { RegisterCodec(tc.codec) })
		})
	}
	// The registered codec is still the first one.
	c, err := codecByName[[]byte]("zlib")
	require.NoError(t, err)
	require.Equal(t, zlibCodec{}, c)
}

func TestGobValueStart(t *testing.T) {
	withDefs, err := Gob[record]().Append(nil, record{ID: 1})
	require.NoError(t, err)
	plain, err := Gob[int]().Append(nil, 5)
	require.NoError(t, err)
	cases := []struct {
		name string
		data []byte
		want func(int) bool
	}{
		{name: "type definitions first", data: withDefs, want: func(i int) bool { return i > 0 && i < len(withDefs) }},
		{name: "no definitions", data: plain, want: func(i int) bool { return i == 0 }},
		{name: "empty", data: nil, want: func(i int) bool { return i == -1 }},
		{name: "count past the end", data: []byte{9, 2}, want: func(i int) bool { return i == -1 }},
		{name: "only definitions", data: withDefs[:gobValueStart(withDefs)], want: func(i int) bool { return i == -1 }},
		{name: "bad count", data: []byte{0xf0, 1}, want: func(i int) bool { return i == -1 }},
		{name: "empty message body", data: []byte{0}, want: func(i int) bool { return i == -1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := gobValueStart(tc.data)
			require.True(t, tc.want(got), "gobValueStart = %d", got)
		})
	}
}

func TestHasInterface(t *testing.T) {
	type withAny struct{ M map[string][]any }
	cases := []struct {
		name string
		typ  reflect.Type
		want bool
	}{
		{name: "int", typ: reflect.TypeFor[int]()},
		{name: "struct", typ: reflect.TypeFor[record]()},
		{name: "recursive", typ: reflect.TypeFor[list]()},
		{name: "interface", typ: reflect.TypeFor[shape](), want: true},
		{name: "nested any", typ: reflect.TypeFor[*withAny](), want: true},
		{name: "any key", typ: reflect.TypeFor[map[any]int](), want: true},
		{name: "array", typ: reflect.TypeFor[[2]error](), want: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, hasInterface(tc.typ, map[reflect.Type]bool{}))
		})
	}
}

// fuzzRecord is the gob fuzz target's type: nested, with slices, maps and
// pointers, and nothing that DeepEqual cannot compare (no floats).
type fuzzRecord struct {
	A    int
	B    string
	C    []uint16
	D    map[string]*point
	E    *fuzzRecord
	F    []byte
	G    bool
	Hide int
}

// FuzzGobDecode feeds random bytes to the gob codec. It must never panic,
// and whatever it decodes must be what a fresh gob.Decoder decodes from
// the same bytes: the primed decoders it reuses change nothing.
func FuzzGobDecode(f *testing.F) {
	c := Gob[fuzzRecord]()
	for _, v := range []fuzzRecord{
		{},
		{A: 1, B: "b", C: []uint16{1, 2}, D: map[string]*point{"p": {X: 1}}, F: []byte{0}},
		{E: &fuzzRecord{A: -1, E: &fuzzRecord{G: true}}},
	} {
		msg, err := c.Append(nil, v)
		require.NoError(f, err)
		f.Add(msg)
	}
	twin, err := Gob[struct {
		A int
		B string
	}]().Append(nil, struct {
		A int
		B string
	}{A: 2, B: "twin"})
	require.NoError(f, err)
	f.Add(twin)
	f.Add([]byte{})
	f.Add([]byte{3, 4, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := c.Decode(data)
		var want fuzzRecord
		r := bytes.NewReader(data)
		ferr := gob.NewDecoder(r).Decode(&want)
		if ferr == nil && r.Len() != 0 {
			ferr = errors.New("trailing data")
		}
		if (err == nil) != (ferr == nil) {
			t.Fatalf("codec error %v, fresh decoder error %v", err, ferr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("codec decoded %+v, fresh decoder %+v", got, want)
		}
	})
}

// FuzzJSONDecode feeds random bytes to the JSON codec: never a panic, and
// what it decodes encodes and decodes again to the same value.
func FuzzJSONDecode(f *testing.F) {
	c := JSON[fuzzRecord]()
	msg, err := c.Append(nil, fuzzRecord{A: 1, B: "x", C: []uint16{3}, D: map[string]*point{"k": {Y: 2}}, E: &fuzzRecord{G: true}})
	require.NoError(f, err)
	f.Add(msg)
	f.Add([]byte(`{"A": 1e3}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"E": {"E": {"E": null}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := c.Decode(data)
		if err != nil {
			return
		}
		again, err := c.Append(nil, v)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", v, err)
		}
		w, err := c.Decode(again)
		if err != nil || !reflect.DeepEqual(v, w) {
			t.Fatalf("%+v re-encoded as %q decodes to %+v, %v", v, again, w, err)
		}
	})
}

var benchRecord = record{
	ID:     12345,
	Name:   "benchmark record",
	Tags:   []string{"alpha", "beta", "gamma"},
	Attrs:  map[string]int{"a": 1, "b": 2},
	Origin: &point{X: 10, Y: 20},
	Score:  3.25,
}

// BenchmarkGobAppend compares the codec with the plain way to keep gob
// messages self-contained, a new gob.Encoder per message.
func BenchmarkGobAppend(b *testing.B) {
	b.Run("codec", func(b *testing.B) {
		c := Gob[record]()
		buf, _ := c.Append(nil, benchRecord)
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = c.Append(buf[:0], benchRecord)
		}
	})
	b.Run("fresh-encoder", func(b *testing.B) {
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := gob.NewEncoder(&buf).Encode(benchRecord); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
	})
}

// BenchmarkGobDecode compares the codec with a new gob.Decoder per message.
func BenchmarkGobDecode(b *testing.B) {
	msg, err := Gob[record]().Append(nil, benchRecord)
	require.NoError(b, err)
	b.Run("codec", func(b *testing.B) {
		c := Gob[record]()
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Decode(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fresh-decoder", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for b.Loop() {
			var v record
			if err := gob.NewDecoder(bytes.NewReader(msg)).Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkJSONAppend(b *testing.B) {
	c := JSON[record]()
	buf, _ := c.Append(nil, benchRecord)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = c.Append(buf[:0], benchRecord)
	}
}

func BenchmarkJSONDecode(b *testing.B) {
	c := JSON[record]()
	msg, _ := c.Append(nil, benchRecord)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decode(msg); err != nil {
			b.Fatal(err)
		}
	}
}

var benchSizes = []struct {
	name string
	n    int
}{{"msg=1B", 1}, {"msg=1KiB", 1 << 10}, {"msg=64KiB", 64 << 10}}

// BenchmarkRawAppend measures a whole frame built in place, as Put does.
func BenchmarkRawAppend(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			v := make([]byte, size.n)
			buf := make([]byte, 0, size.n+frameHeaderSize)
			c := Raw()
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = appendMessage(buf[:0], c, v, DefaultMaxMessageSize)
			}
		})
	}
}

// BenchmarkRawDecode measures parsing a frame and copying its payload out,
// as Get does.
func BenchmarkRawDecode(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			msg, _ := appendMessage(nil, Raw(), make([]byte, size.n), DefaultMaxMessageSize)
			c := Raw()
			b.SetBytes(int64(size.n))
			b.ReportAllocs()
			for b.Loop() {
				payload, _, _, _ := parseFrame(msg, DefaultMaxMessageSize)
				if _, err := decodeMessage(c, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
