package gipc

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"gipc.dev/coro"
)

var (
	// ErrStillRunning is returned by Process.Close while the child runs.
	ErrStillRunning = errors.New("gipc: process still running")
	// ErrProcessClosed is returned by Join after Close.
	ErrProcessClosed = errors.New("gipc: process closed")
)

// StartOption configures a child started by Target.Start.
type StartOption func(*startOptions)

type startOptions struct {
	name           string
	daemon         bool
	env            []string
	dir            string
	stdout, stderr *os.File
	stdoutSet      bool
	stderrSet      bool
}

// WithName names the process (Process.Name); the default is the target's
// name and a number: "worker-3".
func WithName(name string) StartOption { return func(o *startOptions) { o.name = name } }

// WithDaemon(true) makes the child die when its parent dies, like a daemon
// process of Python's multiprocessing. The default is false: a child
// outlives its parent.
func WithDaemon(on bool) StartOption { return func(o *startOptions) { o.daemon = on } }

// WithEnv sets the child's environment, like exec.Cmd.Env: nil (the
// default) means the parent's, an empty slice means none.
func WithEnv(env []string) StartOption {
	return func(o *startOptions) {
		if env == nil {
			o.env = nil
			return
		}
		o.env = append([]string{}, env...)
	}
}

// WithDir sets the child's working directory; the default is the
// parent's.
func WithDir(dir string) StartOption { return func(o *startOptions) { o.dir = dir } }

// WithStdout sends the child's standard output to f; nil means /dev/null.
// The default is the parent's standard output. The caller keeps owning f.
func WithStdout(f *os.File) StartOption {
	return func(o *startOptions) { o.stdout, o.stdoutSet = f, true }
}

// WithStderr sends the child's standard error to f; nil means /dev/null.
// The default is the parent's standard error. The caller keeps owning f.
func WithStderr(f *os.File) StartOption {
	return func(o *startOptions) { o.stderr, o.stderrSet = f, true }
}

var processCount atomic.Int64

// Process is a child started by Target.Start; Python gipc's _GProcess. Its
// exit is watched through a pidfd on the hub that started it: the hub
// reaps the child as soon as it exits, whether anybody joins it or not.
// Join may be called from the coroutines of any hub; the other methods
// from any goroutine.
type Process struct {
	pid  int
	name string
	fd   *pidfd

	mu      sync.Mutex
	exited  bool
	code    int
	closed  bool
	waiting int // coroutines and goroutines waiting on the pidfd
}

// pidfd owns the process's pidfd, apart from the Process so that a
// cleanup can close it when the Process is garbage.
type pidfd struct {
	fd     int
	closed atomic.Bool
}

func (p *pidfd) close() {
	if !p.closed.Swap(true) {
		unix.Close(p.fd)
	}
}

// Start starts a child process that runs the target with args, and returns
// once the child has found the target and decoded the args (a handshake on
// the child's bootstrap socket). The child is this executable re-executed
// (/proc/self/exe), never a fork of the running Go program; it inherits
// stdout, stderr, the environment and the working directory unless options
// say otherwise, and Go's default signal behaviour.
//
// Pipe handles (*Reader, *Writer, *Duplex) anywhere inside args are passed
// to the child as inherited fds and rebuilt there with their codec and size
// limit (a reader takes its unread bytes along); in the parent they are
// closed once the child has them (ErrClosed afterwards). Every other fd
// stays behind (close-on-exec).
//
// Start parks the calling coroutine during the handshake; ctx bounds it.
// On error (args that cannot be encoded, a handle that is closed or in use,
// the child failing to take its target, ctx ending) it returns a nil
// Process, the child (if any) is killed and reaped, and every handle in
// args stays open and usable in the parent.
func (t *Target[A]) Start(ctx context.Context, args A, opts ...StartOption) (*Process, error) {
	if err := coro.Check(ctx); err != nil {
		return nil, err
	}
	if !initCalled.Load() {
		if isChild {
			return nil, errors.New("gipc: this process was started by gipc but its main did not call gipc.Init: it may not start children")
		}
		return nil, errors.New("gipc: Init was not called: gipc.Init() must be the first statement of main (and of TestMain)")
	}
	o := startOptions{stdout: os.Stdout, stderr: os.Stderr}
	for _, opt := range opts {
		opt(&o)
	}
	if o.name == "" {
		o.name = t.name + "-" + strconv.FormatInt(processCount.Add(1), 10)
	}

	tr := &transfer{parent: true, index: map[*end]int{}}
	var argBuf bytes.Buffer
	err := withTransfer(tr, func() error { return gob.NewEncoder(&argBuf).Encode(args) })
	if err != nil {
		return nil, fmt.Errorf("gipc: Start %s: cannot encode args: %w", t.name, err)
	}
	// The handles are ours until the child has them: Close returns
	// ErrLocked, and no fd number can be reused under the fork.
	for _, e := range tr.ends {
		e.users++
	}
	defer func() {
		for _, e := range tr.ends {
			e.users--
		}
	}()
	boot := bootstrap{Target: t.name, Args: argBuf.Bytes(), NFDs: len(tr.ends),
		Daemon: o.daemon, ParentPid: os.Getpid(), Name: o.name}

	pid, pfd, sock, err := spawn(o, tr.ends)
	if err != nil {
		return nil, fmt.Errorf("gipc: Start %s: %w", t.name, err)
	}
	p := &Process{pid: pid, name: o.name, fd: &pidfd{fd: pfd}}
	runtime.AddCleanup(p, func(fd *pidfd) { fd.close() }, p.fd)

	reply, err := handshake(ctx, sock, boot.marshal())
	sock.Close()
	if err == nil && len(reply) > 0 {
		err = fmt.Errorf("gipc: child of %s: %s", t.name, reply)
	}
	if err != nil {
		p.kill(ctx)
		if errors.Is(err, errEOF) {
			err = fmt.Errorf("gipc: Start %s: the child exited before taking its target (does its main call gipc.Init first?)", t.name)
		}
		return nil, err
	}
	for _, e := range tr.ends {
		e.users--
		e.close()
		e.users++ // undone by the deferred loop
	}
	p.watch(ctx)
	return p, nil
}

// spawn forks and execs the child, with fd 3 its end of a socketpair and
// the handles' fds from 4 on.
func spawn(o startOptions, ends []*end) (pid, pidfd int, sock *coro.FD, err error) {
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, 0, nil, os.NewSyscallError("socketpair", err)
	}
	defer unix.Close(sp[1])
	if err := unix.SetNonblock(sp[0], true); err != nil {
		unix.Close(sp[0])
		return 0, 0, nil, os.NewSyscallError("fcntl", err)
	}
	devnull, err := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(sp[0])
		return 0, 0, nil, os.NewSyscallError("open", err)
	}
	defer unix.Close(devnull)
	files := []uintptr{uintptr(devnull), uintptr(devnull), uintptr(devnull), uintptr(sp[1])}
	for i, f := range []*os.File{o.stdout, o.stderr} {
		if f == nil {
			continue
		}
		// Not f.Fd(): it would switch the file to blocking mode.
		sc, err := f.SyscallConn()
		if err != nil {
			unix.Close(sp[0])
			return 0, 0, nil, err
		}
		sc.Control(func(fd uintptr) { files[1+i] = fd })
	}
	for _, e := range ends {
		files = append(files, uintptr(e.fd))
	}
	env := o.env
	if env == nil {
		env = os.Environ()
	}
	env = append(env[:len(env):len(env)], childEnv+"="+protocolVersion+":"+strconv.Itoa(int(watchdog.Milliseconds())))
	pidfd = -1
	attr := &syscall.ProcAttr{Dir: o.dir, Env: env, Files: files, Sys: &syscall.SysProcAttr{PidFD: &pidfd}}
	pid, err = syscall.ForkExec("/proc/self/exe", os.Args, attr)
	runtime.KeepAlive(o.stdout)
	runtime.KeepAlive(o.stderr)
	if err != nil {
		unix.Close(sp[0])
		return 0, 0, nil, os.NewSyscallError("fork/exec", err)
	}
	if pidfd < 0 {
		// The kernel lacks CLONE_PIDFD (before Linux 5.3).
		unix.Close(sp[0])
		syscall.Kill(pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
		return 0, 0, nil, errors.New("no pidfd for the child: Linux 5.3 or newer is required")
	}
	return pid, pidfd, coro.NewFD(sp[0]), nil
}

// handshake sends the bootstrap and returns the child's reply: empty when
// it took its target, an error message otherwise.
func handshake(ctx context.Context, sock *coro.FD, boot []byte) ([]byte, error) {
	out := append(appendHeader(nil, len(boot)), boot...)
	for len(out) > 0 {
		n, err := unix.Write(sock.Sysfd(), out)
		switch {
		case err == nil:
			out = out[n:]
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := sock.WaitWritable(ctx); err != nil {
				return nil, err
			}
		case err == unix.EPIPE || err == unix.ECONNRESET:
			return nil, errEOF
		default:
			return nil, os.NewSyscallError("write", err)
		}
	}
	var in []byte
	buf := make([]byte, 4096)
	for {
		if payload, size, _, err := parseFrame(in, maxMessageSizeLimit); err != nil {
			return nil, err
		} else if size > 0 {
			return payload, nil
		}
		n, err := unix.Read(sock.Sysfd(), buf)
		switch {
		case err == nil && n == 0, err == unix.ECONNRESET:
			return nil, errEOF
		case err == nil:
			in = append(in, buf[:n]...)
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := sock.WaitReadable(ctx); err != nil {
				return nil, err
			}
		default:
			return nil, os.NewSyscallError("read", err)
		}
	}
}

// kill kills a child that failed its start and reaps it.
func (p *Process) kill(ctx context.Context) {
	unix.PidfdSendSignal(p.fd.fd, unix.SIGKILL, nil, 0)
	if err := p.Join(context.WithoutCancel(ctx)); err != nil {
		// The calling coroutine was killed: reap on a goroutine.
		go func() {
			p.reapBlocking()
			p.Close()
		}()
		return
	}
	p.Close()
}

// watch reaps the child as soon as it exits: a coroutine of the starting
// hub waits on the pidfd. When that hub ends first, a goroutine takes over,
// so that no child is ever left a zombie, joined or not.
func (p *Process) watch(ctx context.Context) {
	w := coro.Spawn(context.WithoutCancel(ctx), func(ctx context.Context) error {
		for !p.reaped() {
			if err := p.waitExit(ctx); err != nil {
				return err
			}
			p.tryReap()
		}
		return nil
	})
	// Killed (the hub is ending), perhaps before it even started.
	w.OnDone(func(error) {
		if !p.reaped() {
			go p.reapBlocking()
		}
	})
}

// reapBlocking waits on the pidfd on a goroutine (a blocking poll) and
// reaps.
func (p *Process) reapBlocking() {
	if !p.startWaiting() {
		return
	}
	defer p.stopWaiting()
	fds := []unix.PollFd{{Fd: int32(p.fd.fd), Events: unix.POLLIN}}
	for !p.tryReap() {
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			return
		}
	}
}

// waitExit parks the calling coroutine until the pidfd is readable (the
// child has exited). Close does not close the pidfd under a waiter: the
// last waiter does, after its watcher is gone.
func (p *Process) waitExit(ctx context.Context) error {
	if !p.startWaiting() {
		return ErrProcessClosed
	}
	defer p.stopWaiting()
	return coro.WaitReadable(ctx, p.fd.fd)
}

func (p *Process) startWaiting() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.waiting++
	return true
}

func (p *Process) stopWaiting() {
	p.mu.Lock()
	p.waiting--
	last := p.closed && p.waiting == 0
	p.mu.Unlock()
	if last {
		p.fd.close()
	}
}

func (p *Process) reaped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// tryReap reaps the child if it has exited, without blocking. It asks the
// pidfd first (waitid P_PIDFD with WNOWAIT): only a child known to be a
// zombie is then reaped by pid, which cannot have been reused while the
// zombie holds it. (waitid's siginfo would carry the status too, but its
// fields are out of reach without unsafe.)
func (p *Process) tryReap() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return true
	}
	if p.fd.closed.Load() {
		return false
	}
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PIDFD, p.fd.fd, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || info.Signo == 0 {
			return false
		}
		break
	}
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(p.pid, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		break
	}
	p.exited = true
	switch {
	case ws.Exited():
		p.code = ws.ExitStatus()
	case ws.Signaled():
		p.code = -int(ws.Signal())
	}
	return true
}

// Pid returns the child's process id.
func (p *Process) Pid() int { return p.pid }

// Name returns the process's name (see WithName).
func (p *Process) Name() string { return p.name }

// Join waits until the child has exited and returns nil, or ctx's error
// (or ErrKilled) when the wait ends first: the child keeps running and a
// later Join can wait again. After Close it returns ErrProcessClosed.
func (p *Process) Join(ctx context.Context) error {
	if err := coro.Check(ctx); err != nil {
		return err
	}
	for {
		p.mu.Lock()
		closed, exited := p.closed, p.exited
		p.mu.Unlock()
		switch {
		case closed:
			return ErrProcessClosed
		case exited || p.tryReap():
			return nil
		}
		if err := p.waitExit(ctx); err != nil {
			return err
		}
	}
}

// IsAlive reports whether the child is still running.
func (p *Process) IsAlive() bool { return !p.tryReap() }

// ExitCode returns the child's exit code and whether it has exited. A
// negative code -N means that signal N killed it (gipc's convention). It
// keeps answering after Close.
func (p *Process) ExitCode() (code int, exited bool) {
	p.tryReap()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.code, p.exited
}

// Terminate sends SIGTERM (Go's default action: exit, code -15). After the
// child has exited it sends nothing and returns nil.
func (p *Process) Terminate() error { return p.Signal(syscall.SIGTERM) }

// Kill sends SIGKILL (code -9). After the child has exited it sends nothing
// and returns nil.
func (p *Process) Kill() error { return p.Signal(syscall.SIGKILL) }

// Signal sends sig to the child through its pidfd (pidfd_send_signal: no
// pid-reuse race). After the child has exited it sends nothing and returns
// nil.
func (p *Process) Signal(sig syscall.Signal) error {
	if p.tryReap() {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited || p.fd.closed.Load() {
		return nil
	}
	if err := unix.PidfdSendSignal(p.fd.fd, sig, nil, 0); err != nil && err != unix.ESRCH {
		return os.NewSyscallError("pidfd_send_signal", err)
	}
	return nil
}

// Close releases the process's pidfd. It returns ErrStillRunning, and does
// nothing, while the child runs; a second Close returns nil. Afterwards
// Join returns ErrProcessClosed; ExitCode keeps answering.
func (p *Process) Close() error {
	if !p.tryReap() {
		return ErrStillRunning
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	if p.waiting == 0 {
		p.fd.close()
	}
	return nil
}

// String describes the process: "gipc.Process(worker-1, pid 1234, running)".
func (p *Process) String() string {
	code, exited := p.ExitCode()
	state := "running"
	if exited {
		state = "exit code " + strconv.Itoa(code)
	}
	return fmt.Sprintf("gipc.Process(%s, pid %d, %s)", p.name, p.pid, state)
}
