package main

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The raw limit: blocking pipes, plain read and write system calls in a
// loop (golang.org/x/sys/unix), the child started with syscall.ForkExec
// and reaped with wait4, and no framing beyond what the workload needs:
// the messages have a fixed size, so the byte count tells where they end.
// Pipes that carry messages of 32 KiB or more are enlarged to 1 MiB, as
// gipc does for its own.

func rawPipe() (r, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return -1, -1, os.NewSyscallError("pipe2", err)
	}
	return p[0], p[1], nil
}

// rawStart starts this executable in role with fds as its fds 3, 4, ...;
// stdin is /dev/null, stdout and stderr are the parent's.
func rawStart(role string, fds ...int) (int, error) {
	devnull, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, os.NewSyscallError("open", err)
	}
	defer unix.Close(devnull)
	files := []uintptr{uintptr(devnull), 1, 2}
	for _, fd := range fds {
		files = append(files, uintptr(fd))
	}
	env := append(os.Environ(), roleEnv+"="+role)
	pid, err := syscall.ForkExec(exe, []string{exe}, &syscall.ProcAttr{Env: env, Files: files})
	if err != nil {
		return 0, os.NewSyscallError("fork/exec", err)
	}
	return pid, nil
}

// rawWait reaps pid and checks that it exited with code 0.
func rawWait(pid int) error {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("wait4", err)
		}
		break
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return fmt.Errorf("child %d: %v", pid, ws)
	}
	return nil
}

// rawKillAfterTimeout kills pid when the measurement takes longer than
// measureTimeout; the returned func disarms it, and must run before pid
// is reaped.
func rawKillAfterTimeout(pid int) func() {
	t := time.AfterFunc(measureTimeout, func() { syscall.Kill(pid, syscall.SIGKILL) })
	return func() { t.Stop() }
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("write", err)
		}
		b = b[n:]
	}
	return nil
}

func readFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("read", err)
		}
		if n == 0 {
			return fmt.Errorf("unexpected end of stream")
		}
		b = b[n:]
	}
	return nil
}

// rawOneway writes count messages of size bytes to a child, batch
// messages per write.
func rawOneway(count, size, batch int) (elapsed time.Duration, err error) {
	inR, inW, err := rawPipe()
	if err != nil {
		return 0, err
	}
	defer unix.Close(inW)
	ackR, ackW, err := rawPipe()
	if err != nil {
		unix.Close(inR)
		return 0, err
	}
	defer unix.Close(ackR)
	if size >= 32<<10 {
		unix.FcntlInt(uintptr(inW), unix.F_SETPIPE_SZ, 1<<20)
	}
	pid, err := rawStart(fmt.Sprintf("raw-sink:%d:%d", count, size), inR, ackW)
	unix.Close(inR)
	unix.Close(ackW)
	if err != nil {
		return 0, err
	}
	disarm := rawKillAfterTimeout(pid)
	fail := func(err error) (time.Duration, error) {
		disarm()
		syscall.Kill(pid, syscall.SIGKILL)
		rawWait(pid)
		return 0, err
	}
	var b [1]byte
	if err := readFull(ackR, b[:]); err != nil {
		return fail(fmt.Errorf("waiting for the child: %w", err))
	}
	buf := payload(size * batch)
	t0 := time.Now()
	for sent := 0; sent < count; sent += batch {
		if err := writeAll(inW, buf[:min(batch, count-sent)*size]); err != nil {
			return fail(err)
		}
	}
	if err := readFull(ackR, b[:]); err != nil {
		return fail(fmt.Errorf("waiting for the child to read everything: %w", err))
	}
	elapsed = time.Since(t0)
	disarm()
	return elapsed, rawWait(pid)
}

// rawPingPong writes one byte to an echoing child and reads it back, count
// times.
func rawPingPong(count int) (elapsed time.Duration, err error) {
	toR, toW, err := rawPipe()
	if err != nil {
		return 0, err
	}
	defer unix.Close(toW)
	fromR, fromW, err := rawPipe()
	if err != nil {
		unix.Close(toR)
		return 0, err
	}
	defer unix.Close(fromR)
	pid, err := rawStart(fmt.Sprintf("raw-echo:%d", count), toR, fromW)
	unix.Close(toR)
	unix.Close(fromW)
	if err != nil {
		return 0, err
	}
	disarm := rawKillAfterTimeout(pid)
	fail := func(err error) (time.Duration, error) {
		disarm()
		syscall.Kill(pid, syscall.SIGKILL)
		rawWait(pid)
		return 0, err
	}
	var b [1]byte
	if err := readFull(fromR, b[:]); err != nil {
		return fail(fmt.Errorf("waiting for the child: %w", err))
	}
	msg := []byte("x")
	t0 := time.Now()
	for i := range count {
		if err := writeAll(toW, msg); err != nil {
			return fail(fmt.Errorf("round trip %d: %w", i, err))
		}
		if err := readFull(fromR, b[:]); err != nil {
			return fail(fmt.Errorf("round trip %d: %w", i, err))
		}
	}
	elapsed = time.Since(t0)
	disarm()
	return elapsed, rawWait(pid)
}

// rawStartJoin forks and execs n children that exit at once, one after the
// other, reaping each with wait4.
func rawStartJoin(n int) (time.Duration, error) {
	t0 := time.Now()
	for range n {
		pid, err := rawStart("empty")
		if err != nil {
			return 0, err
		}
		if err := rawWait(pid); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

// The children's side: fd 3 is the input, fd 4 the output, both blocking.

func rawSinkChild(count, size int) error {
	if err := writeAll(4, ready); err != nil {
		return err
	}
	buf := make([]byte, max(size, 64<<10))
	for left := count * size; left > 0; {
		n, err := unix.Read(3, buf[:min(len(buf), left)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("read", err)
		}
		if n == 0 {
			return fmt.Errorf("unexpected end of stream, %d bytes missing", left)
		}
		left -= n
	}
	return writeAll(4, done)
}

func rawEchoChild(count int) error {
	if err := writeAll(4, ready); err != nil {
		return err
	}
	var b [1]byte
	for i := range count {
		if err := readFull(3, b[:]); err != nil {
			return fmt.Errorf("round trip %d: %w", i, err)
		}
		if err := writeAll(4, b[:]); err != nil {
			return fmt.Errorf("round trip %d: %w", i, err)
		}
	}
	return nil
}
