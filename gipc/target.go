package gipc

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"gipc.dev/coro"
)

// childEnv marks a process started by Target.Start. Its value is
// "<protocol version>:<watchdog milliseconds>"; the args themselves come
// over the bootstrap socket (fd 3), never through the environment. Init
// removes the variable, so the child's own children do not inherit it.
const childEnv = "GIPC_GO_CHILD"

const (
	protocolVersion = "1"
	bootstrapFd     = 3
	// exitBootstrap is the exit code of a child that could not take its
	// target (unknown target, undecodable args, no Init in main).
	exitBootstrap = 3
)

// watchdog is how long a child waits for its main to call Init before it
// reports the fact to its parent and exits. Tests shorten it.
var watchdog = 10 * time.Second

// Target is a function that a child process runs: this executable,
// re-executed, finds the target by name and runs it. Targets are declared
// at package level, so that the parent and the child both know them:
//
//	var worker = gipc.NewTarget("worker", func(ctx context.Context, args WorkerArgs) error { ... })
type Target[A any] struct {
	name string
	fn   func(ctx context.Context, args A) error
}

// runner is the untyped view of a Target that Init uses in the child.
type runner interface {
	prepare(args []byte) (func(ctx context.Context) error, error)
}

var (
	targetsMu  sync.Mutex
	targets    = map[string]runner{}
	initCalled atomic.Bool
	isChild    bool // started by Target.Start (set before main runs)
)

// NewTarget declares a target named name that runs fn with the args given
// to Start. Call it during package initialisation (var x =
// gipc.NewTarget(...)); a duplicate name, an empty name, a nil fn or a
// call after Init panics with a "gipc:" message. A target without args
// takes struct{}. Args are gob-encoded (exported fields only); pipe
// handles anywhere inside them are passed to the child (see Start).
func NewTarget[A any](name string, fn func(ctx context.Context, args A) error) *Target[A] {
	if initCalled.Load() {
		panic(fmt.Sprintf("gipc: NewTarget(%q) after Init: declare targets at package level", name))
	}
	if name == "" || fn == nil {
		panic("gipc: NewTarget needs a name and a function")
	}
	targetsMu.Lock()
	defer targetsMu.Unlock()
	if _, dup := targets[name]; dup {
		panic(fmt.Sprintf("gipc: NewTarget: duplicate target name %q", name))
	}
	t := &Target[A]{name: name, fn: fn}
	targets[name] = t
	return t
}

// Name returns the target's name.
func (t *Target[A]) Name() string { return t.name }

func (t *Target[A]) prepare(b []byte) (func(ctx context.Context) error, error) {
	var args A
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&args); err != nil {
		return nil, fmt.Errorf("gipc: cannot decode the args of target %q: %w", t.name, err)
	}
	return func(ctx context.Context) error { return t.fn(ctx, args) }, nil
}

func init() {
	v, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	isChild = true
	if _, ms, ok := strings.Cut(v, ":"); ok {
		if n, err := strconv.Atoi(ms); err == nil && n > 0 {
			watchdog = time.Duration(n) * time.Millisecond
		}
	}
	// A child whose main never calls Init would run the program's main
	// instead of its target, forever perhaps: tell the parent and leave.
	go func() {
		time.Sleep(watchdog)
		if initCalled.Load() {
			return
		}
		writeFrame(bootstrapFd, []byte("the child's main did not call gipc.Init within "+watchdog.String()))
		os.Exit(exitBootstrap)
	}()
}

// Init must be the first statement of main, and of TestMain in tests that
// start children. In a process started by Target.Start it runs the target
// as the main coroutine of a fresh hub and exits: 0 when the target
// returned nil, 1 when it returned an error (printed to stderr), 2 when it
// panicked (with its stack, as Go does). In any other process it returns
// at once. Target.Start refuses to run in a process whose main did not
// call Init, so a child that skips Init can never start children itself.
func Init() {
	if !initCalled.CompareAndSwap(false, true) {
		return
	}
	v, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	os.Unsetenv(childEnv)
	if !strings.HasPrefix(v, protocolVersion+":") {
		fmt.Fprintf(os.Stderr, "gipc: started by an incompatible parent (%s=%q)\n", childEnv, v)
		os.Exit(exitBootstrap)
	}
	os.Exit(runChild())
}

// runChild is the child's side of Start: read the bootstrap, rebuild the
// args and their handles, confirm, run the target.
func runChild() int {
	fail := func(format string, a ...any) int {
		msg := fmt.Sprintf(format, a...)
		if err := writeFrame(bootstrapFd, []byte(msg)); err != nil {
			fmt.Fprintln(os.Stderr, "gipc:", msg)
		}
		return exitBootstrap
	}
	b, err := readFrame(bootstrapFd)
	if err != nil {
		return fail("cannot read the bootstrap: %v", err)
	}
	var boot bootstrap
	if err := boot.unmarshal(b); err != nil {
		return fail("cannot decode the bootstrap: %v", err)
	}
	setCloexec(bootstrapFd)
	for i := range boot.NFDs {
		setCloexec(firstHandleFd + i)
	}
	targetsMu.Lock()
	r, ok := targets[boot.Target]
	targetsMu.Unlock()
	if !ok {
		return fail("unknown target %q: declare it with gipc.NewTarget at package level of this program", boot.Target)
	}
	tr := &transfer{nfds: boot.NFDs, used: make([]bool, boot.NFDs)}
	var run func(ctx context.Context) error
	err = withTransfer(tr, func() error {
		var err error
		run, err = r.prepare(boot.Args)
		return err
	})
	if err != nil {
		return fail("%v", err)
	}
	for i, used := range tr.used {
		if !used {
			unix.Close(firstHandleFd + i)
		}
	}
	if boot.Daemon {
		if err := watchParent(boot.ParentPid); err != nil {
			return fail("%v", err)
		}
	}
	if err := writeFrame(bootstrapFd, nil); err != nil {
		return exitBootstrap // the parent is gone, or gave up on us
	}
	unix.Close(bootstrapFd)
	if err := coro.Run(run); err != nil {
		fmt.Fprintf(os.Stderr, "gipc: target %s (%s) failed: %v\n", boot.Target, boot.Name, err)
		return 1
	}
	return 0
}

// watchParent makes a daemon child die with its parent. It watches the
// parent's pidfd from a goroutine rather than relying on
// PR_SET_PDEATHSIG, which fires when the parent's forking *thread* exits,
// and Go retires threads as it likes.
func watchParent(ppid int) error {
	pidfd, err := unix.PidfdOpen(ppid, 0)
	if err != nil {
		return fmt.Errorf("gipc: daemon child cannot watch its parent: %w", os.NewSyscallError("pidfd_open", err))
	}
	if unix.Getppid() != ppid {
		// The parent died before the watch began.
		unix.Kill(unix.Getpid(), unix.SIGKILL)
	}
	go func() {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); err == unix.EINTR {
				continue
			}
			break
		}
		unix.Kill(unix.Getpid(), unix.SIGKILL)
	}()
	return nil
}

// writeFrame writes one frame to a blocking fd.
func writeFrame(fd int, payload []byte) error {
	return writeAll(fd, append(appendHeader(nil, len(payload)), payload...))
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// readFrame reads one frame from a blocking fd.
func readFrame(fd int) ([]byte, error) {
	var hdr [frameHeaderSize]byte
	if err := readFull(fd, hdr[:]); err != nil {
		return nil, err
	}
	_, _, need, err := parseFrame(hdr[:], maxMessageSizeLimit)
	if err != nil {
		return nil, err
	}
	b := make([]byte, need-frameHeaderSize)
	return b, readFull(fd, b)
}

func readFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return errEOF
		}
		b = b[n:]
	}
	return nil
}

var errEOF = fmt.Errorf("unexpected end of bootstrap stream")
