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
// # Handles
//
// [Reader], [Writer] and [Duplex] are the ends of a pipe. Get and Put take
// the calling coroutine's ctx and park only that coroutine: the fds are
// non-blocking, and on EAGAIN the coroutine waits on a libev io watcher of
// its hub, which stays armed between waits. Several coroutines may use one
// handle: their Gets (or Puts) are served one at a time, in the order they
// came, each with whole messages. Close while another coroutine is inside
// Get or Put returns [ErrLocked] and leaves the handle usable. The methods
// of a handle belong to the coroutines of one hub at a time (or to any
// goroutine while no hub uses it).
//
// A reader buffers: one read brings in many small messages, and a big one
// is read into a buffer of its own (the raw codec hands that buffer to the
// caller: no copy). Put returns once the whole message is in the kernel,
// so a child may exit right after a Put without losing it; [Writer.PutBatch]
// sends many messages with few writes. A wait that ends early (ctx, Kill)
// loses nothing on the reading side, and on the writing side either sends
// nothing or, once part of a frame went out, breaks the writer for good
// ([ErrBroken]) rather than corrupt the stream.
//
// # Processes
//
// A child process is this executable started again (/proc/self/exe): Init,
// the first statement of main, finds the [Target] named by the parent and
// runs it as the main coroutine of a fresh hub, then exits. Targets are
// declared at package level with [NewTarget], so that both sides know them.
// [Target.Start] gob-encodes the args; pipe handles anywhere inside them
// are passed to the child as inherited fds, rebuilt there with their codec
// and size limit, and closed in the parent. Start returns once the child
// has taken its target; a child that cannot (unknown target, undecodable
// args, a main that skips Init) makes Start fail clearly and is reaped.
//
// A [Process] is watched through a pidfd: its hub reaps it the moment it
// exits, joined or not, and signals go through pidfd_send_signal, so a
// reused pid is never hit. [WithDaemon] children die with their parent
// (they watch its pidfd; PR_SET_PDEATHSIG would fire when the parent's
// forking thread exits, which Go decides). Signals and SIGCHLD stay with
// the Go runtime: nothing here installs a handler.
//
// Handles can also go to a process that gipc did not start: [SendHandles]
// sends a value over a Unix-socket [coro.Conn], the fds of the handles in
// it as SCM_RIGHTS, and [ReceiveHandles] rebuilds them on the other side.
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
