package gipc

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"golang.org/x/sys/unix"
)

// Handle transfer. Target.Start gob-encodes the args of a child; a handle
// anywhere inside them (a field, a pointer, a slice, a map, an interface)
// encodes itself through GobEncode as a small description: which inherited
// fd it becomes in the child, its codec's name, its size limit and, for a
// reader, the bytes it had buffered but not yet returned. The child's
// GobDecode rebuilds it there. The encoding and decoding run inside a
// transfer, set for the duration of one gob call: that is how GobEncode,
// which gob calls without any context, knows where to record the fd.

// firstHandleFd is the fd number of the first transferred handle in the
// child: 0-2 are stdio and 3 is the bootstrap socket.
const firstHandleFd = 4

type transfer struct {
	parent bool
	ends   []*end       // parent: the ends to pass, in child fd order
	index  map[*end]int // parent: end → position
	nfds   int          // child: how many fds were inherited
	fds    []int        // receiver of SendHandles: the fds received (else firstHandleFd on)
	used   []bool       // child: which inherited fds a handle took
}

var (
	transferMu sync.Mutex
	current    *transfer
)

// withTransfer runs f (a gob call) with t as the current transfer.
func withTransfer(t *transfer, f func() error) error {
	transferMu.Lock()
	defer transferMu.Unlock()
	current = t
	defer func() { current = nil }()
	return f()
}

// handleWire is what a handle encodes to.
type handleWire struct {
	Kind     string // "reader", "writer", "duplex"
	FD       int    // position among the inherited fds (a duplex: its reader)
	FD2      int    // a duplex: its writer
	Codec    string
	Max      int
	Buffered []byte // a reader's unread bytes
}

// add records an end to pass and returns its position. A closed end, or
// one that another coroutine is using, cannot travel.
func (t *transfer) add(e *end) (int, error) {
	if _, ok := t.index[e]; ok {
		return 0, errSharedHandle
	}
	if e.closed {
		return 0, fmt.Errorf("gipc: cannot pass a closed handle to a child: %w", ErrClosed)
	}
	if e.users > 0 {
		return 0, fmt.Errorf("gipc: cannot pass a handle that is inside Get or Put: %w", ErrLocked)
	}
	t.index[e] = len(t.ends)
	t.ends = append(t.ends, e)
	return len(t.ends) - 1, nil
}

// fd returns the child's fd for position i, once.
func (t *transfer) fd(i int) (int, error) {
	if i < 0 || i >= t.nfds {
		return 0, fmt.Errorf("gipc: handle refers to fd #%d of %d inherited", i, t.nfds)
	}
	if t.used[i] {
		return 0, errSharedHandle
	}
	t.used[i] = true
	if t.fds != nil {
		return t.fds[i], nil
	}
	return firstHandleFd + i, nil
}

// errSharedHandle: gob does not keep pointer identity, so a handle that
// appears twice in the args would become two owners of one fd in the child.
var errSharedHandle = errors.New("gipc: the same handle appears twice in the args of a child")

func encodeWire(w handleWire) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(w); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func decodeWire(b []byte) (handleWire, *transfer, error) {
	var w handleWire
	t := current
	if t == nil || t.parent {
		return w, nil, errors.New("gipc: a handle can only be decoded by a child process's Init or by ReceiveHandles")
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&w); err != nil {
		return w, nil, fmt.Errorf("gipc: bad handle description: %w", err)
	}
	return w, t, nil
}

func parentTransfer() (*transfer, error) {
	t := current
	if t == nil || !t.parent {
		return nil, errors.New("gipc: a handle can only be encoded as an argument of Target.Start or SendHandles")
	}
	return t, nil
}

// GobEncode lets a Reader travel inside the args of Target.Start: it
// becomes an inherited fd of the child, and is closed in the parent once
// the child has it. Encoding a Reader anywhere else is an error.
func (r *Reader[T]) GobEncode() ([]byte, error) {
	t, err := parentTransfer()
	if err != nil {
		return nil, err
	}
	w, err := r.wire(t)
	if err != nil {
		return nil, err
	}
	return encodeWire(w)
}

func (r *Reader[T]) wire(t *transfer) (handleWire, error) {
	if r.stuck != nil {
		return handleWire{}, fmt.Errorf("gipc: cannot pass a reader that is out of sync: %w", r.stuck)
	}
	i, err := t.add(&r.end)
	if err != nil {
		return handleWire{}, err
	}
	buffered := append([]byte(nil), r.buf[r.r:r.w]...)
	if r.big != nil {
		buffered = append(buffered, r.big[:r.bigN]...)
	}
	return handleWire{Kind: "reader", FD: i, Codec: r.codec.Name(), Max: r.max, Buffered: buffered}, nil
}

// rebuild makes r a reader on fd with the unread bytes it had.
func (r *Reader[T]) rebuild(fd int, c Codec[T], w handleWire) {
	*r = *newReader(fd, c, w.Max)
	if len(w.Buffered) > 0 {
		r.buf = make([]byte, max(readBufSize, len(w.Buffered)))
		r.w = copy(r.buf, w.Buffered)
	}
}

// GobDecode rebuilds a Reader in a child process.
func (r *Reader[T]) GobDecode(b []byte) error {
	w, t, err := decodeWire(b)
	if err != nil {
		return err
	}
	if w.Kind != "reader" {
		return fmt.Errorf("gipc: a %s handle where the args have a Reader", w.Kind)
	}
	c, err := codecByName[T](w.Codec)
	if err != nil {
		return err
	}
	fd, err := t.fd(w.FD)
	if err != nil {
		return err
	}
	r.rebuild(fd, c, w)
	return nil
}

// GobEncode lets a Writer travel inside the args of Target.Start; see
// Reader.GobEncode. A writer has nothing buffered (Put returns once the
// message is in the kernel); a broken writer cannot travel.
func (w *Writer[T]) GobEncode() ([]byte, error) {
	t, err := parentTransfer()
	if err != nil {
		return nil, err
	}
	hw, err := w.wire(t)
	if err != nil {
		return nil, err
	}
	return encodeWire(hw)
}

func (w *Writer[T]) wire(t *transfer) (handleWire, error) {
	if w.broken != nil {
		return handleWire{}, brokenError(w.broken)
	}
	i, err := t.add(&w.end)
	if err != nil {
		return handleWire{}, err
	}
	return handleWire{Kind: "writer", FD: i, Codec: w.codec.Name(), Max: w.max}, nil
}

// GobDecode rebuilds a Writer in a child process.
func (w *Writer[T]) GobDecode(b []byte) error {
	hw, t, err := decodeWire(b)
	if err != nil {
		return err
	}
	if hw.Kind != "writer" {
		return fmt.Errorf("gipc: a %s handle where the args have a Writer", hw.Kind)
	}
	c, err := codecByName[T](hw.Codec)
	if err != nil {
		return err
	}
	fd, err := t.fd(hw.FD)
	if err != nil {
		return err
	}
	*w = *newWriter(fd, c, hw.Max)
	return nil
}

// GobEncode lets a Duplex travel inside the args of Target.Start; see
// Reader.GobEncode.
func (d *Duplex[T]) GobEncode() ([]byte, error) {
	t, err := parentTransfer()
	if err != nil {
		return nil, err
	}
	rw, err := d.r.wire(t)
	if err != nil {
		return nil, err
	}
	ww, err := d.w.wire(t)
	if err != nil {
		return nil, err
	}
	rw.Kind, rw.FD2 = "duplex", ww.FD
	return encodeWire(rw)
}

// GobDecode rebuilds a Duplex in a child process.
func (d *Duplex[T]) GobDecode(b []byte) error {
	hw, t, err := decodeWire(b)
	if err != nil {
		return err
	}
	if hw.Kind != "duplex" {
		return fmt.Errorf("gipc: a %s handle where the args have a Duplex", hw.Kind)
	}
	c, err := codecByName[T](hw.Codec)
	if err != nil {
		return err
	}
	rfd, err := t.fd(hw.FD)
	if err != nil {
		return err
	}
	wfd, err := t.fd(hw.FD2)
	if err != nil {
		return err
	}
	d.r = &Reader[T]{}
	d.r.rebuild(rfd, c, hw)
	d.w = newWriter(wfd, c, hw.Max)
	return nil
}

// registerHandles lets handles of type T travel inside interface values of
// the args too (gob needs concrete types registered).
func registerHandles[T any]() {
	if _, done := registered.LoadOrStore(reflect.TypeFor[T](), true); done {
		return
	}
	gob.Register(&Reader[T]{})
	gob.Register(&Writer[T]{})
	gob.Register(&Duplex[T]{})
}

var registered sync.Map // reflect.Type of T → true

// setCloexec marks an inherited fd close-on-exec again, so that it does
// not leak into the child's own children.
func setCloexec(fd int) error {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC)
	return err
}
