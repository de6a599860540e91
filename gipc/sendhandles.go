package gipc

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"gipc.dev/coro"
)

// maxSentHandleFds bounds the fds of one SendHandles (the kernel's
// SCM_MAX_FD is 253).
const maxSentHandleFds = 253

// SendHandles sends v to the process at the other end of c, a unix-socket
// connection (coro.Dial or Listener.Accept with "unix"), which may be any
// process, not only a child started by Target.Start: v is gob-encoded as
// Start encodes args, and the fds of the pipe handles inside it travel as
// SCM_RIGHTS. Once sent, the handles are closed here (ErrClosed
// afterwards), as with Start. On error nothing is closed. The receiver
// calls ReceiveHandles with the same type.
func SendHandles[A any](ctx context.Context, c *coro.Conn, v A) error {
	tr := &transfer{parent: true, index: map[*end]int{}}
	var body bytes.Buffer
	if err := withTransfer(tr, func() error { return gob.NewEncoder(&body).Encode(v) }); err != nil {
		return fmt.Errorf("gipc: SendHandles: cannot encode: %w", err)
	}
	if len(tr.ends) > maxSentHandleFds {
		return fmt.Errorf("gipc: SendHandles: %d handles, at most %d fit one message", len(tr.ends), maxSentHandleFds)
	}
	for _, e := range tr.ends {
		e.users++
	}
	defer func() {
		for _, e := range tr.ends {
			e.users--
		}
	}()
	fds := make([]int, len(tr.ends))
	for i, e := range tr.ends {
		fds[i] = e.fd
	}
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(body.Len()))
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(fds)))
	if err := c.SendFds(ctx, hdr[:], fds); err != nil {
		return err
	}
	if _, err := c.Write(ctx, body.Bytes()); err != nil {
		return err
	}
	for _, e := range tr.ends {
		e.users--
		e.close()
		e.users++ // undone by the deferred loop
	}
	return nil
}

// ReceiveHandles receives a value sent by SendHandles on c and rebuilds the
// pipe handles inside it on the fds that came along (close-on-exec). It
// returns io.EOF when c is at its end before a message.
func ReceiveHandles[A any](ctx context.Context, c *coro.Conn) (A, error) {
	var zero A
	var hdr [8]byte
	n, fds, err := c.ReceiveFds(ctx, hdr[:], maxSentHandleFds)
	closeAll := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	if err != nil {
		return zero, err
	}
	if n < len(hdr) {
		if _, err := io.ReadFull(c.Bind(ctx), hdr[n:]); err != nil {
			closeAll()
			return zero, fmt.Errorf("gipc: ReceiveHandles: %w", io.ErrUnexpectedEOF)
		}
	}
	size, nfds := binary.BigEndian.Uint32(hdr[:4]), int(binary.BigEndian.Uint32(hdr[4:]))
	if nfds != len(fds) {
		closeAll()
		return zero, fmt.Errorf("gipc: ReceiveHandles: %d fds announced, %d received", nfds, len(fds))
	}
	if size > maxMessageSizeLimit {
		closeAll()
		return zero, fmt.Errorf("gipc: ReceiveHandles: %w: %d bytes", ErrMessageTooLarge, size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(c.Bind(ctx), body); err != nil {
		closeAll()
		return zero, fmt.Errorf("gipc: ReceiveHandles: %w", io.ErrUnexpectedEOF)
	}
	tr := &transfer{nfds: len(fds), fds: fds, used: make([]bool, len(fds))}
	var v A
	err = withTransfer(tr, func() error { return gob.NewDecoder(bytes.NewReader(body)).Decode(&v) })
	for i, used := range tr.used {
		if !used || err != nil {
			// On error the handles decoded so far own their fds too; they
			// are garbage, so close every fd here.
			unix.Close(fds[i])
		}
	}
	if err != nil {
		return zero, fmt.Errorf("gipc: ReceiveHandles: %w", err)
	}
	return v, nil
}
