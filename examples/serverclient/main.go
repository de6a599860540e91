// Serverclient is Python gipc's server/client example in Go: a TCP echo
// server runs as coroutines in the parent (coro.Serve, gevent's
// StreamServer), and a child process runs many clients at once, one
// coroutine each. Every client sends one line and checks the echo.
//
//	go run ./examples/serverclient -clients 1000
//
// prints something like
//
//	1000 clients served within 0.21 s (4762 clients/s)
//	server: 1000 connections echoed
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

// clientArgs is what the child needs: where the server is, how many
// clients to run, and a pipe for the result.
type clientArgs struct {
	Addr    string
	Clients int
	Msg     string
	Report  *gipc.Writer[report]
}

type report struct {
	Clients int
	Elapsed time.Duration
}

// clientChild runs every client at once and reports how long they took.
var clientChild = gipc.NewTarget("serverclient-clients", func(ctx context.Context, a clientArgs) error {
	defer a.Report.Close()
	start := time.Now()
	var g coro.Group
	for range a.Clients {
		g.Go(ctx, func(ctx context.Context) error { return client(ctx, a.Addr, a.Msg) })
	}
	// The first failure, if any; Group waits for every client anyway.
	if err := g.Wait(ctx); err != nil {
		return err
	}
	return a.Report.Put(ctx, report{Clients: a.Clients, Elapsed: time.Since(start)})
})

// client sends one line and checks that the same line comes back.
func client(ctx context.Context, addr, msg string) error {
	c, err := coro.Dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write(ctx, []byte(msg+"\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c.Bind(ctx)).ReadString('\n')
	if err != nil {
		return err
	}
	if line != msg+"\n" {
		return fmt.Errorf("client: sent %q, got %q back", msg, line)
	}
	return nil
}

func main() {
	gipc.Init()
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "serverclient:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("serverclient", flag.ContinueOnError)
	clients := fs.Int("clients", 1000, "number of concurrent clients in the child")
	msg := fs.String("msg", "HELLO", "the line each client sends")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return coro.Run(func(ctx context.Context) error {
		l, err := coro.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		// Handlers are coroutines of this hub and only one runs at a
		// time, so a plain counter needs no lock.
		echoed := 0
		server := coro.Spawn(ctx, func(ctx context.Context) error {
			return coro.Serve(ctx, l, func(ctx context.Context, c *coro.Conn) {
				line, err := bufio.NewReader(c.Bind(ctx)).ReadString('\n')
				if err != nil {
					return
				}
				if _, err := c.Write(ctx, []byte(line)); err == nil {
					echoed++
				}
			})
		})

		results, report, err := gipc.Pipe[report]()
		if err != nil {
			return err
		}
		defer results.Close()
		defer report.Close() // only matters if Start fails
		p, err := clientChild.Start(ctx, clientArgs{Addr: l.Addr().String(), Clients: *clients, Msg: *msg, Report: report})
		if err != nil {
			return err
		}
		// io.EOF here means the child failed before reporting: its
		// exit code says more.
		rep, repErr := results.Get(ctx)
		if err := p.Join(ctx); err != nil {
			return err
		}
		code, _ := p.ExitCode()
		if err := p.Close(); err != nil {
			return err
		}
		if code != 0 {
			return fmt.Errorf("the client process exited with code %d", code)
		}
		if repErr != nil {
			return repErr
		}

		// Closing the listener ends Serve, which then returns nil.
		l.Close()
		if err := server.Join(ctx); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d clients served within %.2f s (%.0f clients/s)\n",
			rep.Clients, rep.Elapsed.Seconds(), float64(rep.Clients)/rep.Elapsed.Seconds())
		fmt.Fprintf(stdout, "server: %d connections echoed\n", echoed)
		return nil
	})
}
