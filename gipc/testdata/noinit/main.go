// Command noinit is a program whose main forgets gipc.Init in children: a
// test starts it as a parent (which calls Init); its child skips Init,
// as a program that forgets it would, and tries to start a child of its
// own. gipc must refuse that (no fork bomb) and the parent's Start must
// fail clearly.
package main

import (
	"context"
	"fmt"
	"os"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

var again = gipc.NewTarget("again", func(ctx context.Context, _ struct{}) error { return nil })

func main() {
	if os.Getenv("NOINIT_HANG") != "" {
		// A main that neither calls Init nor ends: only gipc's watchdog
		// can tell the parent and end it.
		select {}
	}
	if os.Getenv("NOINIT_CHILD") == "" {
		gipc.Init()
	}
	err := coro.Run(func(ctx context.Context) error {
		env := append(os.Environ(), "NOINIT_CHILD=1")
		p, err := again.Start(ctx, struct{}{}, gipc.WithEnv(env))
		if err != nil {
			return err
		}
		return p.Join(ctx)
	})
	if os.Getenv("NOINIT_CHILD") != "" {
		fmt.Println("child:", err)
		os.Exit(0)
	}
	fmt.Println("parent:", err)
}
