package gipc_test

import (
	"context"
	"errors"
	"fmt"
	"io"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

// greeter runs in a child process: this test binary, started again. Its
// TestMain calls gipc.Init first, as main must.
var greeter = gipc.NewTarget("greeter", func(ctx context.Context, a greetArgs) error {
	for {
		name, err := a.Names.Get(ctx)
		if errors.Is(err, io.EOF) {
			return a.Greetings.Close()
		}
		if err != nil {
			return err
		}
		if err := a.Greetings.Put(ctx, "hello, "+name); err != nil {
			return err
		}
	}
})

type greetArgs struct {
	Names     *gipc.Reader[string]
	Greetings *gipc.Writer[string]
}

// A child process that answers over two pipes (gipc's start_process and
// pipe). The pipe ends given to the child are closed in the parent.
func ExampleTarget_Start() {
	names, toChild, _ := gipc.Pipe[string]()
	fromChild, greetings, _ := gipc.Pipe[string]()
	defer toChild.Close()
	defer fromChild.Close()
	err := coro.Run(func(ctx context.Context) error {
		p, err := greeter.Start(ctx, greetArgs{Names: names, Greetings: greetings})
		if err != nil {
			return err
		}
		for _, n := range []string{"gevent", "Go"} {
			if err := toChild.Put(ctx, n); err != nil {
				return err
			}
			g, err := fromChild.Get(ctx)
			if err != nil {
				return err
			}
			fmt.Println(g)
		}
		toChild.Close() // the child sees io.EOF and returns
		if err := p.Join(ctx); err != nil {
			return err
		}
		code, _ := p.ExitCode()
		fmt.Println("exit code", code)
		return p.Close()
	})
	fmt.Println("err:", err)
	// Output:
	// hello, gevent
	// hello, Go
	// exit code 0
	// err: <nil>
}

// Pipes between coroutines of one hub, with the default gob codec.
func ExamplePipe() {
	r, w, _ := gipc.Pipe[map[string]int]()
	defer r.Close()
	coro.Run(func(ctx context.Context) error {
		coro.Spawn(ctx, func(ctx context.Context) error {
			defer w.Close()
			return w.Put(ctx, map[string]int{"answer": 42})
		})
		for {
			m, err := r.Get(ctx)
			if errors.Is(err, io.EOF) {
				fmt.Println("EOF")
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Println(m)
		}
	})
	// Output:
	// map[answer:42]
	// EOF
}
