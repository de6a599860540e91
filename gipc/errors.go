package gipc

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrClosed is returned by every use of a closed pipe handle, including a
// second Close and any use in the parent of a handle that was transferred to
// a child process (Python gipc's GIPCClosed).
var ErrClosed = errors.New("gipc: handle closed")

// ErrLocked is returned by Close while another coroutine is inside Get or
// Put on the same handle (Python gipc's GIPCLocked). The handle stays open
// and usable; Close may be called again once the other coroutine is done.
var ErrLocked = errors.New("gipc: handle locked by another coroutine")

// ErrMessageTooLarge reports a message, or a frame header, over the maximum
// message size of a pipe. Put of such a message writes nothing. Get of such
// a header allocates nothing; the reader is then out of sync with the stream
// and returns this error again on every later Get. The error usually comes
// wrapped with the sizes involved: test for it with [errors.Is].
var ErrMessageTooLarge = errors.New("gipc: message too large")

// ErrBroken reports a writer whose Put was interrupted after part of a frame
// had gone out (a deadline or a kill in the middle of a large message). The
// stream cannot be resynchronised, so that Put and every later Put on the
// writer fail; the reader sees [io.ErrUnexpectedEOF] once the writer is
// closed. The error returned by Put matches both ErrBroken and the cause of
// the interruption (for example [context.DeadlineExceeded]) with
// [errors.Is].
var ErrBroken = errors.New("gipc: writer broken by an interrupted put")

// brokenError returns an error that matches both [ErrBroken] and cause with
// [errors.Is] (and cause's types with [errors.As]). A nil cause gives
// ErrBroken itself.
func brokenError(cause error) error {
	if cause == nil {
		return ErrBroken
	}
	return fmt.Errorf("%w: %w", ErrBroken, cause)
}

// DecodeError reports that a codec failed on one message. Get returns it
// (test with [errors.As]); the message is consumed, and the next Get returns
// the next message. Err is the codec's own error, also reachable with
// [errors.Is] and [errors.As] through Unwrap.
type DecodeError struct {
	Codec string // Name of the codec that failed
	Len   int    // length of the message payload, in bytes
	Err   error  // the codec's error
}

// Error describes the failure, naming the codec and the message length.
func (e *DecodeError) Error() string {
	return "gipc: " + strconv.Quote(e.Codec) + " codec cannot decode message of " +
		strconv.Itoa(e.Len) + " bytes: " + errString(e.Err)
}

// Unwrap returns the codec's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// encodeError wraps the error of a codec's Append with the codec's name.
// Encoding fails on the caller's own value (a type the codec cannot carry, a
// nil pointer for gob), so there is nothing to branch on beyond the codec's
// error itself, which stays reachable with [errors.Is] and [errors.As].
func encodeError(codec string, err error) error {
	return fmt.Errorf("gipc: %q codec cannot encode message: %w", codec, err)
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
