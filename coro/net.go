package coro

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Listener is a cooperative TCP or Unix stream listener, like a listening
// gevent.socket. Its methods may be called from the coroutines of one hub.
type Listener struct {
	fd   *FD
	addr net.Addr
	path string // a unix socket file, removed on Close
}

// Conn is a cooperative stream connection, like a gevent.socket: Read and
// Write park the calling coroutine instead of blocking the hub. Its methods
// may be called from the coroutines of one hub.
type Conn struct {
	fd           *FD
	network      string
	laddr, raddr net.Addr
}

// Listen announces on a local address, like net.Listen, for the networks
// "tcp", "tcp4", "tcp6" and "unix". A host name is resolved on another
// goroutine (Offload); an empty host listens on every IPv4 address ("tcp",
// "tcp4") or every IPv6 address ("tcp6"). ctx must carry a coroutine.
func Listen(ctx context.Context, network, address string) (*Listener, error) {
	if _, err := enter(ctx); err != nil {
		return nil, err
	}
	sa, family, err := resolveSockaddr(ctx, network, address, true)
	if err != nil {
		return nil, opError("listen", network, nil, err)
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, opError("listen", network, nil, os.NewSyscallError("socket", err))
	}
	fail := func(call string, err error) (*Listener, error) {
		unix.Close(fd)
		return nil, opError("listen", network, nil, os.NewSyscallError(call, err))
	}
	if family != unix.AF_UNIX {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return fail("setsockopt", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		return fail("listen", err)
	}
	lsa, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	l := &Listener{fd: NewFD(fd), addr: sockaddrToAddr(network, lsa)}
	if family == unix.AF_UNIX {
		l.path = address
	}
	return l, nil
}

// Accept waits for the next connection. It returns net.ErrClosed once the
// listener is closed (also when another coroutine closes it during the
// wait), and ErrKilled or ctx's error if the wait ended first.
func (l *Listener) Accept(ctx context.Context) (*Conn, error) {
	if _, err := enter(ctx); err != nil {
		return nil, err
	}
	for {
		if l.fd.closed {
			return nil, opError("accept", l.addr.Network(), l.addr, net.ErrClosed)
		}
		nfd, sa, err := unix.Accept4(l.fd.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == nil:
			c := newConn(nfd, l.addr.Network(), l.addr, sockaddrToAddr(l.addr.Network(), sa))
			return c, nil
		case err == unix.EINTR || err == unix.ECONNABORTED:
			continue
		case err == unix.EAGAIN:
			if err := l.fd.WaitReadable(ctx); err != nil {
				return nil, wrapWaitErr("accept", l.addr.Network(), l.addr, err)
			}
		default:
			return nil, opError("accept", l.addr.Network(), l.addr, os.NewSyscallError("accept4", err))
		}
	}
}

// Addr returns the listener's address (with the port the kernel chose, for
// port 0).
func (l *Listener) Addr() net.Addr { return l.addr }

// Close stops listening: Accepts waiting on it return net.ErrClosed, and a
// unix listener removes its socket file. A second Close returns
// net.ErrClosed.
func (l *Listener) Close() error {
	if err := l.fd.Close(); err != nil {
		return opError("close", l.addr.Network(), l.addr, err)
	}
	if l.path != "" && l.path[0] != '@' {
		os.Remove(l.path)
	}
	return nil
}

// Dial connects to the address on the named network ("tcp", "tcp4",
// "tcp6", "unix"), like net.Dial, parking the calling coroutine while the
// connection is made. ctx's deadline bounds the whole dial.
func Dial(ctx context.Context, network, address string) (*Conn, error) {
	if _, err := enter(ctx); err != nil {
		return nil, err
	}
	sa, family, err := resolveSockaddr(ctx, network, address, false)
	if err != nil {
		return nil, opError("dial", network, nil, err)
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, opError("dial", network, nil, os.NewSyscallError("socket", err))
	}
	f := NewFD(fd)
	raddr := sockaddrToAddr(network, sa)
	fail := func(err error) (*Conn, error) {
		f.Close()
		return nil, opError("dial", network, raddr, err)
	}
	for {
		err = unix.Connect(fd, sa)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN && family == unix.AF_UNIX {
			// A full backlog: wait and try again.
			if err := f.WaitWritable(ctx); err != nil {
				return fail(err)
			}
			continue
		}
		break
	}
	if err == unix.EINPROGRESS {
		for {
			if err := f.WaitWritable(ctx); err != nil {
				return fail(err)
			}
			soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
			if err != nil {
				return fail(os.NewSyscallError("getsockopt", err))
			}
			if soerr == 0 {
				break
			}
			if e := unix.Errno(soerr); e != unix.EINPROGRESS && e != unix.EALREADY && e != unix.EINTR {
				return fail(os.NewSyscallError("connect", e))
			}
		}
	} else if err != nil {
		return fail(os.NewSyscallError("connect", err))
	}
	lsa, _ := unix.Getsockname(fd)
	c := &Conn{fd: f, network: network, laddr: sockaddrToAddr(network, lsa), raddr: raddr}
	c.setNoDelay()
	return c, nil
}

func newConn(fd int, network string, laddr, raddr net.Addr) *Conn {
	if lsa, err := unix.Getsockname(fd); err == nil {
		laddr = sockaddrToAddr(network, lsa)
	}
	c := &Conn{fd: NewFD(fd), network: network, laddr: laddr, raddr: raddr}
	c.setNoDelay()
	return c
}

// setNoDelay turns Nagle's algorithm off, as the net package does.
func (c *Conn) setNoDelay() {
	if _, ok := c.laddr.(*net.TCPAddr); ok {
		unix.SetsockoptInt(c.fd.fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
}

// Read reads up to len(p) bytes, parking until some are available. It
// returns io.EOF at the end of the stream, net.ErrClosed if the conn is (or
// gets) closed, and ErrKilled or ctx's error if the wait ended first; after
// a timeout the conn stays usable.
func (c *Conn) Read(ctx context.Context, p []byte) (int, error) {
	if _, err := enter(ctx); err != nil {
		return 0, err
	}
	for {
		if c.fd.closed {
			return 0, opError("read", c.network, c.raddr, net.ErrClosed)
		}
		if len(p) == 0 {
			return 0, nil
		}
		n, err := unix.Read(c.fd.fd, p)
		switch {
		case err == nil && n == 0:
			return 0, io.EOF
		case err == nil:
			return n, nil
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := c.fd.WaitReadable(ctx); err != nil {
				return 0, wrapWaitErr("read", c.network, c.raddr, err)
			}
		default:
			return 0, opError("read", c.network, c.raddr, os.NewSyscallError("read", err))
		}
	}
}

// Write writes all of p, parking whenever the socket buffer is full. It
// returns len(p) and nil, or the number of bytes written and the error that
// stopped it (net.ErrClosed, ErrKilled, ctx's error, EPIPE, ...).
func (c *Conn) Write(ctx context.Context, p []byte) (int, error) {
	if _, err := enter(ctx); err != nil {
		return 0, err
	}
	written := 0
	for written < len(p) || len(p) == 0 {
		if c.fd.closed {
			return written, opError("write", c.network, c.raddr, net.ErrClosed)
		}
		if len(p) == 0 {
			return 0, nil
		}
		n, err := unix.Write(c.fd.fd, p[written:])
		switch {
		case err == nil:
			written += n
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := c.fd.WaitWritable(ctx); err != nil {
				return written, wrapWaitErr("write", c.network, c.raddr, err)
			}
		default:
			return written, opError("write", c.network, c.raddr, os.NewSyscallError("write", err))
		}
	}
	return written, nil
}

// Bind returns an io.ReadWriter whose Read and Write are the conn's with
// ctx, for bufio, io.Copy and friends. Use it from ctx's coroutine only.
func (c *Conn) Bind(ctx context.Context) io.ReadWriter { return boundConn{c: c, ctx: ctx} }

type boundConn struct {
	c   *Conn
	ctx context.Context
}

func (b boundConn) Read(p []byte) (int, error)  { return b.c.Read(b.ctx, p) }
func (b boundConn) Write(p []byte) (int, error) { return b.c.Write(b.ctx, p) }

// Close closes the conn; Reads and Writes parked on it return
// net.ErrClosed. A second Close returns net.ErrClosed.
func (c *Conn) Close() error {
	if err := c.fd.Close(); err != nil {
		return opError("close", c.network, c.raddr, err)
	}
	return nil
}

// CloseWrite shuts down the writing side: the peer reads io.EOF.
func (c *Conn) CloseWrite() error {
	if c.fd.closed {
		return opError("close", c.network, c.raddr, net.ErrClosed)
	}
	return os.NewSyscallError("shutdown", unix.Shutdown(c.fd.fd, unix.SHUT_WR))
}

// LocalAddr returns the local address.
func (c *Conn) LocalAddr() net.Addr { return c.laddr }

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.raddr }

// Serve accepts connections on l and runs handle for each in a coroutine
// of its own, like gevent's StreamServer. Each conn is closed when its
// handler returns; handlers inherit ctx. Serve closes l when it returns:
// nil when l was closed, ctx's error when ctx ended (ErrKilled when the
// serving coroutine was killed). It does not wait for running handlers.
func Serve(ctx context.Context, l *Listener, handle func(ctx context.Context, c *Conn)) error {
	defer l.Close()
	for {
		conn, err := l.Accept(ctx)
		if err != nil {
			switch {
			case errors.Is(err, net.ErrClosed):
				return nil
			case errors.Is(err, ErrKilled):
				return ErrKilled
			case ctx.Err() != nil:
				return ctx.Err()
			case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE),
				errors.Is(err, unix.ENOBUFS), errors.Is(err, unix.ENOMEM):
				// Out of descriptors or memory: back off, as the net
				// package's servers do, instead of spinning.
				if err := Sleep(ctx, 10*time.Millisecond); err != nil {
					return err
				}
				continue
			default:
				return err
			}
		}
		Spawn(ctx, func(ctx context.Context) error {
			defer conn.Close()
			handle(ctx, conn)
			return nil
		})
	}
}

// resolveSockaddr turns network and address into a socket address.
func resolveSockaddr(ctx context.Context, network, address string, listen bool) (unix.Sockaddr, int, error) {
	switch network {
	case "unix":
		if address == "" {
			return nil, 0, errors.New("coro: empty unix socket path")
		}
		return &unix.SockaddrUnix{Name: address}, unix.AF_UNIX, nil
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, 0, net.UnknownNetworkError(network)
	}
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, 0, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		if port, err = net.LookupPort(network, portStr); err != nil {
			return nil, 0, err
		}
	}
	if port < 0 || port > 65535 {
		return nil, 0, fmt.Errorf("coro: port %d out of range", port)
	}
	var ip netip.Addr
	switch {
	case host == "" && network == "tcp6":
		ip = netip.IPv6Unspecified()
	case host == "" && listen:
		ip = netip.IPv4Unspecified()
	case host == "":
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	default:
		if ip, err = netip.ParseAddr(host); err != nil {
			ips, err := Offload(ctx, func() ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(context.WithoutCancel(ctx), ipNet(network), host)
			})
			if err != nil {
				return nil, 0, err
			}
			if len(ips) == 0 {
				return nil, 0, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
			}
			ip = ips[0]
		}
	}
	ip = ip.Unmap()
	switch {
	case ip.Is4() && network != "tcp6":
		return &unix.SockaddrInet4{Port: port, Addr: ip.As4()}, unix.AF_INET, nil
	case ip.Is6() && network != "tcp4":
		sa := &unix.SockaddrInet6{Port: port, Addr: ip.As16()}
		if z := ip.Zone(); z != "" {
			if ifi, err := net.InterfaceByName(z); err == nil {
				sa.ZoneId = uint32(ifi.Index)
			}
		}
		return sa, unix.AF_INET6, nil
	}
	return nil, 0, &net.AddrError{Err: "address family does not match network " + network, Addr: host}
}

func ipNet(network string) string {
	switch network {
	case "tcp4":
		return "ip4"
	case "tcp6":
		return "ip6"
	}
	return "ip"
}

func sockaddrToAddr(network string, sa unix.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
	case *unix.SockaddrInet6:
		a := &net.TCPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port}
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a
	case *unix.SockaddrUnix:
		return &net.UnixAddr{Name: sa.Name, Net: "unix"}
	}
	return &net.UnixAddr{Net: network}
}

func opError(op, network string, addr net.Addr, err error) error {
	return &net.OpError{Op: op, Net: network, Addr: addr, Err: err}
}

// wrapWaitErr keeps ctx, kill and deadlock errors bare (callers compare
// them), and wraps the others (net.ErrClosed) like the net package.
func wrapWaitErr(op, network string, addr net.Addr, err error) error {
	if errors.Is(err, net.ErrClosed) {
		return opError(op, network, addr, err)
	}
	return err
}

// SendFds sends p and, with its first byte, the file descriptors fds
// (SCM_RIGHTS) over a unix conn, parking while the socket is full. p must
// not be empty: a descriptor travels with data. The caller keeps its fds.
func (c *Conn) SendFds(ctx context.Context, p []byte, fds []int) error {
	if _, err := enter(ctx); err != nil {
		return err
	}
	if len(p) == 0 {
		return errors.New("coro: SendFds needs at least one byte of data")
	}
	oob := unix.UnixRights(fds...)
	for {
		if c.fd.closed {
			return opError("write", c.network, c.raddr, net.ErrClosed)
		}
		n, err := unix.SendmsgN(c.fd.fd, p, oob, nil, 0)
		switch {
		case err == nil:
			if n < len(p) {
				_, err := c.Write(ctx, p[n:])
				return err
			}
			return nil
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := c.fd.WaitWritable(ctx); err != nil {
				return wrapWaitErr("write", c.network, c.raddr, err)
			}
		default:
			return opError("write", c.network, c.raddr, os.NewSyscallError("sendmsg", err))
		}
	}
}

// ReceiveFds reads up to len(p) bytes, like Read, and the file descriptors
// that came with them (SCM_RIGHTS), at most maxFds, close-on-exec. The
// caller owns the fds it gets. More descriptors than maxFds are closed and
// reported as an error.
func (c *Conn) ReceiveFds(ctx context.Context, p []byte, maxFds int) (int, []int, error) {
	if _, err := enter(ctx); err != nil {
		return 0, nil, err
	}
	oob := make([]byte, unix.CmsgSpace(4*max(maxFds, 1)))
	for {
		if c.fd.closed {
			return 0, nil, opError("read", c.network, c.raddr, net.ErrClosed)
		}
		n, oobn, flags, _, err := unix.Recvmsg(c.fd.fd, p, oob, unix.MSG_CMSG_CLOEXEC)
		switch {
		case err == nil:
			fds, perr := parseRights(oob[:oobn])
			if perr == nil && (flags&unix.MSG_CTRUNC != 0 || len(fds) > maxFds) {
				perr = fmt.Errorf("coro: more than %d fds received", maxFds)
			}
			if perr != nil {
				for _, fd := range fds {
					unix.Close(fd)
				}
				return n, nil, perr
			}
			if n == 0 && len(p) > 0 && len(fds) == 0 {
				return 0, nil, io.EOF
			}
			return n, fds, nil
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := c.fd.WaitReadable(ctx); err != nil {
				return 0, nil, wrapWaitErr("read", c.network, c.raddr, err)
			}
		default:
			return 0, nil, opError("read", c.network, c.raddr, os.NewSyscallError("recvmsg", err))
		}
	}
}

func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, os.NewSyscallError("recvmsg", err)
	}
	var fds []int
	for _, m := range msgs {
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		fds = append(fds, got...)
	}
	return fds, nil
}
