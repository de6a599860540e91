// Package gipc is Python's gipc for Go: message pipes whose Get and Put block
// only the calling coroutine of a coro hub, and child processes whose Join
// waits cooperatively. Children are this same executable started again, and
// pipe handles travel to them as inherited file descriptors.
//
// # Mapping from Python gipc
//
//	gipc.pipe()                    Pipe[T]
//	gipc.pipe(duplex=True)         DuplexPipe[T]
//	handle.get(), handle.put(o)    Get(ctx), Put(ctx, v)
//	handle.close()                 Close()
//	encoder/decoder callables      [Codec] (pickle: [Gob], encoder=None: [Raw]; also [JSON])
//	gipc.start_process(target)     Target.Start (targets declared with NewTarget)
//	process.join()                 Process.Join(ctx)
//	GIPCClosed, GIPCLocked         [ErrClosed], [ErrLocked]
//	EOFError                       [io.EOF]
//	"Message interrupted by EOF"   [io.ErrUnexpectedEOF]
//
// # Wire format
//
// A pipe carries Python gipc's bytes: each message is a 4-byte big-endian
// length (a signed 32-bit value, so at most 2^31-1) followed by that many
// bytes of codec output. A raw pipe on one side and a raw gipc pipe
// (encoder=None) on the other understand each other. Both ends enforce a
// maximum message size, [DefaultMaxMessageSize] unless set otherwise; a
// message of exactly the maximum passes, anything larger is
// [ErrMessageTooLarge].
//
// # Codecs
//
// A [Codec] turns values into message payloads and back. [Gob] is the
// default; every gob message is self-contained (it decodes on its own, like
// a pickle), so a reader may start anywhere in a stream of whole messages.
// A custom codec is registered with [RegisterCodec] at package
// initialisation, so that a child process rebuilds handles that use it. A
// message that its codec cannot decode makes Get return a [*DecodeError]
// and is skipped; the pipe stays usable.
package gipc
