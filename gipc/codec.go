package gipc

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"sync/atomic"
)

// Codec turns values of type T into message payloads and back; Python gipc's
// encoder/decoder pair. A pipe uses one codec for all its messages (Gob[T]
// unless WithCodec says otherwise), and both ends of a pipe must use the
// same one.
//
// A codec value may be shared by every pipe of its type and used from many
// goroutines at once, so implementations must be safe for concurrent use.
// Codec errors never close a pipe: a failed Append makes Put return an
// error that wraps the codec's and send nothing; a failed Decode makes Get
// return a [*DecodeError] that wraps it, and consumes that one message. The
// codec returns its own errors unwrapped: the pipe adds the codec's name and
// the message length. A panic inside Append or Decode is turned into such an
// error too: data from a peer never crashes the reader.
type Codec[T any] interface {
	// Name names the codec, so that a handle sent to a child process is
	// rebuilt there with the same codec: "gob", "json" and "raw" are the
	// built-in codecs, other names those given to [RegisterCodec].
	Name() string

	// Append appends the encoding of v to dst and returns the extended
	// slice, as the append built-in does. On error the returned slice is
	// ignored (the caller keeps dst as it was).
	Append(dst []byte, v T) ([]byte, error)

	// Decode decodes one message. data is only valid during the call:
	// Decode must copy whatever it keeps. Every message is decoded on its
	// own, with no state carried over from earlier ones.
	Decode(data []byte) (T, error)
}

// Names of the built-in codecs, as their Name methods return them.
const (
	gobName  = "gob"
	jsonName = "json"
	rawName  = "raw"
)

// appendMessage appends a whole frame to dst: a header and v encoded by c,
// in place (see [beginFrame]). On error it returns dst unchanged in length,
// with an error that matches [ErrMessageTooLarge] when the payload is over
// limit, or wraps the codec's error (see [encodeError]).
func appendMessage[T any](dst []byte, c Codec[T], v T, limit int) (out []byte, err error) {
	out, start := beginFrame(dst)
	out, err = safeAppend(c, out, v)
	if err != nil {
		return dst[:start], encodeError(c.Name(), err)
	}
	if len(out) < start+frameHeaderSize {
		return dst[:start], encodeError(c.Name(), errors.New("Append returned a slice shorter than it was given"))
	}
	return endFrame(out, start, limit)
}

// decodeMessage decodes one payload with c. Every failure comes back as a
// [*DecodeError]. A codec's own io.EOF or io.ErrUnexpectedEOF is reported
// by text only: to a caller of Get those two mean that the stream ended,
// and a decode error must never look like that.
func decodeMessage[T any](c Codec[T], payload []byte) (T, error) {
	v, err := safeDecode(c, payload)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("message ends early: %v", err)
		}
		var zero T
		return zero, &DecodeError{Codec: c.Name(), Len: len(payload), Err: err}
	}
	return v, nil
}

func safeAppend[T any](c Codec[T], dst []byte, v T) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, panicError(r)
		}
	}()
	return c.Append(dst, v)
}

func safeDecode[T any](c Codec[T], data []byte) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, panicError(r)
		}
	}()
	return c.Decode(data)
}

// panicError turns the value of a recovered codec panic into an error,
// keeping it reachable with errors.Is/As when it is one.
func panicError(r any) error {
	if err, ok := r.(error); ok {
		return fmt.Errorf("codec panicked: %w", err)
	}
	return fmt.Errorf("codec panicked: %v", r)
}

// appendWriter is an io.Writer that appends to buf. It lets the encoders of
// the standard library write straight behind a frame header.
type appendWriter struct {
	buf []byte
	// writes counts the Write calls and last is where the last one
	// started in buf: gob writes one message per call.
	writes, last int
}

func (w *appendWriter) Write(p []byte) (int, error) {
	w.writes++
	w.last = len(w.buf)
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// maxPooled is the largest message after which a pooled encoder or decoder
// goes back to its pool: they keep buffers as large as the last message, and
// a pool must not pin a large one. Above it, the cost of a fresh encoder is
// small next to the cost of the message.
const maxPooled = 64 << 10

// Raw returns the codec that sends byte slices as they are: the payload is
// the slice itself, so Python gipc's raw pipes (encoder=None) speak the same
// bytes. Append of a nil and of an empty slice both give an empty message;
// Decode returns a copy that the caller owns, made with exactly one
// allocation (none for an empty message, which gives a non-nil empty
// slice), and never fails.
func Raw() Codec[[]byte] { return rawCodec{} }

type rawCodec struct{}

func (rawCodec) Name() string { return rawName }

func (rawCodec) Append(dst []byte, v []byte) ([]byte, error) { return append(dst, v...), nil }

func (rawCodec) Decode(data []byte) ([]byte, error) {
	out := make([]byte, len(data))
	copy(out, data)
	return out, nil
}

// JSON returns the codec that sends values of type T as JSON, with the
// rules of [encoding/json] (exported fields, `json` struct tags). HTML
// characters are not escaped. Decode rejects trailing data after the value.
func JSON[T any]() Codec[T] { return jsonCodec[T]{} }

type jsonCodec[T any] struct{}

// jsonEncoder is a json.Encoder that appends to a caller's slice; pooled,
// since a json.Encoder keeps no state between values.
type jsonEncoder struct {
	w   appendWriter
	enc *json.Encoder
}

var jsonEncoders = sync.Pool{New: func() any {
	e := new(jsonEncoder)
	e.enc = json.NewEncoder(&e.w)
	e.enc.SetEscapeHTML(false)
	return e
}}

func (jsonCodec[T]) Name() string { return jsonName }

func (jsonCodec[T]) Append(dst []byte, v T) ([]byte, error) {
	e := jsonEncoders.Get().(*jsonEncoder)
	e.w.buf = dst
	err := e.enc.Encode(v)
	out := e.w.buf
	e.w.buf = nil
	if err != nil {
		return dst, err // the encoder is dropped, error state and all
	}
	jsonEncoders.Put(e)
	// Encoder.Encode ends every value with a newline, in the same write.
	return out[:len(out)-1], nil
}

func (jsonCodec[T]) Decode(data []byte) (T, error) {
	var v T
	err := json.Unmarshal(data, &v)
	return v, err
}

// Gob returns the codec that sends values of type T with [encoding/gob]; it
// is the default codec of a pipe (Python gipc's pickle). Only exported
// struct fields travel. A nil pointer at the top level is an error, since
// gob has no encoding for it. When T is an interface type, the value is
// sent as an interface, so its concrete types must be registered with
// [gob.Register] in both processes.
//
// Every message is self-contained, like a pickle: it starts with the gob
// type definitions of T, so any message decodes on its own, whatever the
// reader saw before. That is what a fresh [gob.Encoder] per message writes,
// and the messages are byte for byte what it would write; the codec makes
// them faster by reusing encoders and decoders where that cannot change a
// byte or a result (when T's type graph holds no interface type). Decode
// rejects trailing data after the value.
func Gob[T any]() Codec[T] {
	t := reflect.TypeFor[T]()
	if c, ok := gobCodecs.Load(t); ok {
		return c.(*gobCodec[T])
	}
	c, _ := gobCodecs.LoadOrStore(t, newGobCodec[T]())
	return c.(*gobCodec[T])
}

// gobCodecs holds one *gobCodec[T] per type T, so that every pipe of a type
// shares the pools of its codec.
var gobCodecs sync.Map

// A gobCodec keeps every message self-contained (decodable by a fresh
// gob.Decoder) and still avoids most of what a fresh gob.Encoder and
// gob.Decoder per message cost: a new encoder allocates its state and
// encodes T's type definitions again, and a new decoder parses them and
// compiles a decoding engine for T, for every message. For a small struct
// that is about 6x the time of the encoding and 14x that of the decoding
// (BenchmarkGobAppend, BenchmarkGobDecode).
//
// Encoding. A gob stream is a series of messages: first one per type
// definition (negative type id), then the value (positive id). Type ids are
// global to a process, and when T's type graph holds no interface type, a
// fresh encoder writes the definitions of all of T's types before the first
// value, whatever the value; an encoder that has sent them writes only the
// value message after that, and the same bytes that the fresh one wrote for
// it. So the first fresh encoder's definitions are kept as prefix, and a
// primed encoder from the pool writes prefix + value message: the bytes of
// a fresh encoder. Interfaces break the argument (gob defines the concrete
// type of an interface value the first time an encoder meets it, inside the
// value), so a T with an interface anywhere in its type graph always gets a
// fresh encoder. As a guard, a primed encoder that writes more than the
// value message is dropped and the value encoded again by a fresh one.
//
// Decoding. A decoder that has read a message's type definitions holds
// them as its only state besides caches; fed just the value message of the
// next message with the same definitions (the same prefix bytes), it
// decodes what a fresh decoder would decode from the whole message. So
// decoders are pooled per prefix (a few prefixes per codec: the peer may be
// another process, whose type ids differ). A primed decoder that fails in any
// way is dropped and the whole message decoded again by a fresh one, whose
// verdict is the one returned. (A peer whose struct has an interface field
// that T lacks can define types inside a value; a primed decoder may then
// refuse a later message with "duplicate type", which the fresh decoder
// retries, or accept a malformed one that names a type defined only in an
// earlier message. Correct streams always decode as with a fresh decoder.)
type gobCodec[T any] struct {
	typ   reflect.Type
	ptr   bool // T is a pointer type: a nil value is refused
	reuse bool // no interface in T's type graph: encoders and decoders are reused

	prefix   atomic.Pointer[[]byte] // T's type definitions, as the first fresh encoder wrote them
	encoders sync.Pool              // *gobEncoder[T], each having sent prefix

	mu       sync.Mutex                          // serialises additions to decoders
	decoders atomic.Pointer[[]*gobDecoderSet[T]] // copy on write, at most maxGobPrefixes
}

// maxGobPrefixes bounds the number of distinct type-definition prefixes a
// codec keeps primed decoders for. One per peer process with its own type
// ids is the usual need.
const maxGobPrefixes = 8

type gobEncoder[T any] struct {
	w   appendWriter
	enc *gob.Encoder
	val T // encoded through &val, then zeroed
}

type gobDecoder[T any] struct {
	r   bytes.Reader
	dec *gob.Decoder
	val T // decoded into, then copied out and zeroed: gob merges into non-zero values
}

type gobDecoderSet[T any] struct {
	prefix []byte
	pool   sync.Pool // *gobDecoder[T] that have read prefix
}

func newGobCodec[T any]() *gobCodec[T] {
	t := reflect.TypeFor[T]()
	return &gobCodec[T]{
		typ:   t,
		ptr:   t.Kind() == reflect.Pointer,
		reuse: !hasInterface(t, map[reflect.Type]bool{}),
	}
}

// hasInterface reports whether an interface type occurs anywhere in t's
// type graph: fields (exported or not), elements, keys, pointees.
func hasInterface(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return hasInterface(t.Elem(), seen)
	case reflect.Map:
		return hasInterface(t.Key(), seen) || hasInterface(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if hasInterface(t.Field(i).Type, seen) {
				return true
			}
		}
	}
	return false
}

func (c *gobCodec[T]) Name() string { return gobName }

func (c *gobCodec[T]) Append(dst []byte, v T) ([]byte, error) {
	if c.ptr && nilPointer(any(v)) {
		return dst, fmt.Errorf("gob: cannot encode nil pointer of type %v", c.typ)
	}
	if c.reuse {
		if e, _ := c.encoders.Get().(*gobEncoder[T]); e != nil {
			return c.appendPrimed(dst, e, v)
		}
	}
	return c.appendFresh(dst, v)
}

// nilPointer reports whether x is a nil pointer or a pointer chain ending
// in nil: gob panics on those instead of returning an error.
func nilPointer(x any) bool {
	v := reflect.ValueOf(x)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return true
		}
		v = v.Elem()
	}
	return false
}

func (c *gobCodec[T]) appendPrimed(dst []byte, e *gobEncoder[T], v T) ([]byte, error) {
	start := len(dst)
	e.w.buf = append(dst, *c.prefix.Load()...)
	e.w.writes = 0
	err := e.encode(v)
	out, writes := e.w.buf, e.w.writes
	e.w.buf = nil
	if err != nil {
		return dst, err // the encoder is dropped: its state after an error is not trusted
	}
	if writes != 1 {
		return c.appendFresh(dst, v) // it sent definitions again; see gobCodec
	}
	if len(out)-start <= maxPooled {
		c.encoders.Put(e)
	}
	return out, nil
}

func (c *gobCodec[T]) appendFresh(dst []byte, v T) ([]byte, error) {
	e := new(gobEncoder[T])
	e.w.buf = dst
	e.enc = gob.NewEncoder(&e.w)
	start := len(dst)
	err := e.encode(v)
	out := e.w.buf
	e.w.buf = nil
	if err != nil {
		return dst, err
	}
	if c.reuse && len(out)-start <= maxPooled && c.samePrefix(out[start:e.w.last]) {
		c.encoders.Put(e)
	}
	return out, nil
}

// encode encodes v through a pointer to a copy of it in e: that costs no
// allocation (a T passed to Encode would be boxed), writes the same bytes
// (gob sends what pointers point to, not pointers), and is how gob sends an
// interface value as an interface rather than as its concrete type.
func (e *gobEncoder[T]) encode(v T) error {
	e.val = v
	err := e.enc.Encode(&e.val)
	var zero T
	e.val = zero
	return err
}

// samePrefix records p as the codec's prefix if it has none yet and reports
// whether p is the prefix: only then may the encoder that wrote it be
// reused.
func (c *gobCodec[T]) samePrefix(p []byte) bool {
	old := c.prefix.Load()
	if old == nil {
		p := bytes.Clone(p)
		if c.prefix.CompareAndSwap(nil, &p) {
			return true
		}
		old = c.prefix.Load()
	}
	return bytes.Equal(*old, p)
}

func (c *gobCodec[T]) Decode(data []byte) (T, error) {
	if c.reuse {
		if split := gobValueStart(data); split >= 0 {
			if set := c.decoderSet(data[:split]); set != nil {
				if d, _ := set.pool.Get().(*gobDecoder[T]); d != nil {
					if v, rest, err := d.decode(data[split:]); err == nil && rest == 0 {
						if len(data) <= maxPooled {
							set.pool.Put(d)
						}
						return v, nil
					}
					// Dropped; the fresh decoder below decides.
				}
			}
		}
	}
	return c.decodeFresh(data)
}

func (c *gobCodec[T]) decodeFresh(data []byte) (T, error) {
	d := &gobDecoder[T]{}
	d.dec = gob.NewDecoder(&d.r)
	v, rest, err := d.decode(data)
	if err != nil {
		var zero T
		switch err {
		case io.EOF:
			err = errors.New("gob: empty message")
		case io.ErrUnexpectedEOF:
			err = errors.New("gob: message truncated")
		}
		return zero, err
	}
	if rest != 0 {
		var zero T
		return zero, fmt.Errorf("gob: %d bytes of trailing data after the value", rest)
	}
	if c.reuse && len(data) <= maxPooled {
		if split := gobValueStart(data); split >= 0 {
			c.addDecoder(data[:split], d)
		}
	}
	return v, nil
}

// decode decodes one value from b and reports how many bytes of b were
// left unread.
func (d *gobDecoder[T]) decode(b []byte) (v T, rest int, err error) {
	d.r.Reset(b)
	err = d.dec.Decode(&d.val)
	rest = d.r.Len()
	d.r.Reset(nil) // b belongs to the caller
	v = d.val
	var zero T
	d.val = zero
	return v, rest, err
}

func (c *gobCodec[T]) decoderSet(prefix []byte) *gobDecoderSet[T] {
	if sets := c.decoders.Load(); sets != nil {
		for _, s := range *sets {
			if bytes.Equal(s.prefix, prefix) {
				return s
			}
		}
	}
	return nil
}

// addDecoder pools d, which has read exactly prefix and one value message.
func (c *gobCodec[T]) addDecoder(prefix []byte, d *gobDecoder[T]) {
	s := c.decoderSet(prefix)
	if s == nil {
		c.mu.Lock()
		if s = c.decoderSet(prefix); s == nil {
			var sets []*gobDecoderSet[T]
			if old := c.decoders.Load(); old != nil {
				sets = *old
			}
			if len(sets) >= maxGobPrefixes {
				c.mu.Unlock()
				return
			}
			s = &gobDecoderSet[T]{prefix: bytes.Clone(prefix)}
			sets = append(sets[:len(sets):len(sets)], s)
			c.decoders.Store(&sets)
		}
		c.mu.Unlock()
	}
	s.pool.Put(d)
}

// gobValueStart returns the offset of the value message in a gob stream
// (the first message whose type id is not negative), or -1 when data is not
// a well-formed series of messages up to one. Each message is a byte count
// and that many bytes, starting with the type id.
func gobValueStart(data []byte) int {
	for off := 0; off < len(data); {
		n, w := gobUint(data[off:])
		if w == 0 || n > uint64(len(data)-off-w) {
			return -1
		}
		id, iw := gobUint(data[off+w : off+w+int(n)])
		if iw == 0 {
			return -1
		}
		if id&1 == 0 { // gob stores the sign of an int in the low bit
			return off
		}
		off += w + int(n)
	}
	return -1
}

// gobUint reads an unsigned integer in gob's encoding from the start of b:
// a byte below 0x80 is the value; otherwise the byte is minus the number of
// big-endian bytes (1 to 8) that follow. width is 0 when b does not start
// with a complete one.
func gobUint(b []byte) (x uint64, width int) {
	if len(b) == 0 {
		return 0, 0
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	n := -int(int8(b[0]))
	if n > 8 || len(b) < 1+n {
		return 0, 0
	}
	for _, c := range b[1 : 1+n] {
		x = x<<8 | uint64(c)
	}
	return x, 1 + n
}

// RegisterCodec registers a custom codec under its Name, so that a pipe
// handle using it can be rebuilt in a child process. Call it during package
// initialisation (a package-level var or an init function), so that the
// parent and every child register the same codecs. It panics with a "gipc:"
// message on a nil codec, an empty name, a built-in name ("gob", "json",
// "raw") or a name registered before.
func RegisterCodec[T any](c Codec[T]) {
	if c == nil {
		panic("gipc: RegisterCodec of a nil codec")
	}
	name := c.Name()
	switch name {
	case "":
		panic("gipc: RegisterCodec of a codec with an empty name")
	case gobName, jsonName, rawName:
		panic(fmt.Sprintf("gipc: RegisterCodec: %q is a built-in codec", name))
	}
	codecs.Lock()
	defer codecs.Unlock()
	if old, ok := codecs.m[name]; ok {
		panic(fmt.Sprintf("gipc: RegisterCodec: codec %q registered twice (for %v and %v)", name, old.typ, reflect.TypeFor[T]()))
	}
	codecs.m[name] = registeredCodec{codec: c, typ: reflect.TypeFor[T]()}
}

// codecs holds the codecs given to RegisterCodec, by name.
var codecs = struct {
	sync.RWMutex
	m map[string]registeredCodec
}{m: map[string]registeredCodec{}}

type registeredCodec struct {
	codec any // a Codec[typ]
	typ   reflect.Type
}

// codecByName returns the codec called name for values of type T, as a
// child process rebuilding a handle needs it: "gob" and "json" are built for
// T, "raw" exists for []byte only, and any other name must have been given
// to RegisterCodec with a Codec[T].
func codecByName[T any](name string) (Codec[T], error) {
	switch name {
	case gobName:
		return Gob[T](), nil
	case jsonName:
		return JSON[T](), nil
	case rawName:
		if c, ok := any(Raw()).(Codec[T]); ok {
			return c, nil
		}
		return nil, fmt.Errorf("gipc: codec %q carries []byte, not %v", name, reflect.TypeFor[T]())
	}
	codecs.RLock()
	r, ok := codecs.m[name]
	codecs.RUnlock()
	if !ok {
		return nil, fmt.Errorf("gipc: unknown codec %q (custom codecs must be registered with RegisterCodec at package initialisation, in parent and child)", name)
	}
	c, ok := r.codec.(Codec[T])
	if !ok {
		return nil, fmt.Errorf("gipc: codec %q carries %v, not %v", name, r.typ, reflect.TypeFor[T]())
	}
	return c, nil
}
