package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Idiomatic Go on the runtime's netpoller: os.Pipe, the child started with
// os/exec (this executable again, its role in the environment), the
// child's pipe ends passed as ExtraFiles and made non-blocking again in the
// child so that they go through the netpoller, goroutines, and gipc's
// framing: a 4-byte big-endian length, then the payload. "naive" writes
// each frame with one Write and reads the header, then the body; "bufio"
// puts a 64 KiB bufio.Writer and bufio.Reader in between.

// startExecChild starts this executable in role, with files as fds 3, 4,
// ... and the parent's stderr.
func startExecChild(role string, files ...*os.File) (*exec.Cmd, error) {
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	cmd.Stderr = os.Stderr
	cmd.ExtraFiles = files
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}

// killAfterTimeout kills the child when the measurement takes longer than
// measureTimeout; the returned func disarms it.
func killAfterTimeout(cmd *exec.Cmd) func() {
	t := time.AfterFunc(measureTimeout, func() { cmd.Process.Kill() })
	return func() { t.Stop() }
}

// frame returns a frame of size payload bytes.
func frame(size int) []byte {
	f := payload(4 + size)
	binary.BigEndian.PutUint32(f, uint32(size))
	return f
}

// payload returns size bytes, all written to, so that no implementation
// pays page faults on its send buffer inside the measurement.
func payload(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = 'x'
	}
	return b
}

// readFrame reads one frame from r: the header, then a body of its own.
func readFrame(r io.Reader, hdr *[4]byte) ([]byte, error) {
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body, nil
}

// npOneway sends count frames of size bytes to a child, from a goroutine.
func npOneway(count, size int, buffered bool) (elapsed time.Duration, err error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer inW.Close()
	ackR, ackW, err := os.Pipe()
	if err != nil {
		inR.Close()
		return 0, err
	}
	defer ackR.Close()
	cmd, err := startExecChild(fmt.Sprintf("np-sink:%d:%d:%d", count, size, b2i(buffered)), inR, ackW)
	inR.Close()
	ackW.Close()
	if err != nil {
		return 0, err
	}
	defer killAfterTimeout(cmd)()
	fail := func(err error) (time.Duration, error) {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	var b [1]byte
	if _, err := io.ReadFull(ackR, b[:]); err != nil {
		return fail(fmt.Errorf("waiting for the child: %w", err))
	}
	f := frame(size)
	t0 := time.Now()
	errc := make(chan error, 1)
	go func() {
		var w io.Writer = inW
		var bw *bufio.Writer
		if buffered {
			bw = bufio.NewWriterSize(inW, 64<<10)
			w = bw
		}
		for range count {
			if _, err := w.Write(f); err != nil {
				errc <- err
				return
			}
		}
		if bw != nil {
			errc <- bw.Flush()
			return
		}
		errc <- nil
	}()
	if _, err := io.ReadFull(ackR, b[:]); err != nil {
		cmd.Process.Kill()
		<-errc
		return fail(fmt.Errorf("waiting for the child to read everything: %w", err))
	}
	elapsed = time.Since(t0)
	if err := <-errc; err != nil {
		return fail(err)
	}
	return elapsed, cmd.Wait()
}

// npPingPong sends a 1-byte frame to an echoing child and reads it back,
// count times.
func npPingPong(count int) (elapsed time.Duration, err error) {
	toR, toW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer toW.Close()
	fromR, fromW, err := os.Pipe()
	if err != nil {
		toR.Close()
		return 0, err
	}
	defer fromR.Close()
	cmd, err := startExecChild(fmt.Sprintf("np-echo:%d", count), toR, fromW)
	toR.Close()
	fromW.Close()
	if err != nil {
		return 0, err
	}
	defer killAfterTimeout(cmd)()
	fail := func(err error) (time.Duration, error) {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	var b [1]byte
	if _, err := io.ReadFull(fromR, b[:]); err != nil {
		return fail(fmt.Errorf("waiting for the child: %w", err))
	}
	f := frame(1)
	var hdr [4]byte
	t0 := time.Now()
	for i := range count {
		if _, err := toW.Write(f); err != nil {
			return fail(fmt.Errorf("round trip %d: %w", i, err))
		}
		body, err := readFrame(fromR, &hdr)
		if err != nil {
			return fail(fmt.Errorf("round trip %d: %w", i, err))
		}
		if len(body) != 1 {
			return fail(fmt.Errorf("round trip %d: %d bytes back", i, len(body)))
		}
	}
	elapsed = time.Since(t0)
	return elapsed, cmd.Wait()
}

// execStartJoin runs n children that exit at once, one after the other,
// with os/exec (Start and Wait).
func execStartJoin(n int) (time.Duration, error) {
	t0 := time.Now()
	for range n {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), roleEnv+"=empty")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

// netEcho: an echo server with a goroutine per connection and clients
// client goroutines, with the net package; each client connects, does
// rounds round trips of msgSize bytes and closes.
func netEcho(clients, rounds, msgSize int) (time.Duration, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	var served sync.WaitGroup
	served.Go(func() {
		var conns sync.WaitGroup
		defer conns.Wait()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Go(func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			})
		}
	})
	addr := l.Addr().String()
	deadline := time.Now().Add(measureTimeout)
	t0 := time.Now()
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(deadline)
			msg := make([]byte, msgSize)
			for range rounds {
				if _, err := c.Write(msg); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, msg); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	l.Close()
	served.Wait()
	close(errs)
	return elapsed, <-errs // nil when the channel is empty
}

// chanSwitch: two goroutines hand a token back and forth over unbuffered
// channels, n hand-offs in all.
func chanSwitch(n int) (time.Duration, error) {
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
	}()
	t0 := time.Now()
	for range n / 2 {
		ping <- struct{}{}
		<-pong
	}
	elapsed := time.Since(t0)
	close(ping)
	return elapsed, nil
}

// The children's side.

// npFile makes an inherited fd non-blocking again (exec gave it to us
// blocking) and wraps it, so that os.File uses the netpoller for it.
func npFile(fd int, name string) (*os.File, error) {
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

func npSinkChild(count, size int, buffered bool) error {
	in, err := npFile(3, "in")
	if err != nil {
		return err
	}
	out, err := npFile(4, "ack")
	if err != nil {
		return err
	}
	if _, err := out.Write(ready); err != nil {
		return err
	}
	var r io.Reader = in
	if buffered {
		r = bufio.NewReaderSize(in, 64<<10)
	}
	var hdr [4]byte
	for i := range count {
		body, err := readFrame(r, &hdr)
		if err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		if len(body) != size {
			return fmt.Errorf("message %d has %d bytes, want %d", i, len(body), size)
		}
	}
	_, err = out.Write(done)
	return err
}

func npEchoChild(count int) error {
	in, err := npFile(3, "in")
	if err != nil {
		return err
	}
	out, err := npFile(4, "out")
	if err != nil {
		return err
	}
	if _, err := out.Write(ready); err != nil {
		return err
	}
	var hdr [4]byte
	for i := range count {
		body, err := readFrame(in, &hdr)
		if err != nil {
			return fmt.Errorf("round trip %d: %w", i, err)
		}
		if _, err := out.Write(append(hdr[:], body...)); err != nil {
			return fmt.Errorf("round trip %d: %w", i, err)
		}
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

var errUsage = errors.New("bad role arguments")
