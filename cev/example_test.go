package cev_test

import (
	"fmt"
	"log"
	"time"

	"gipc.dev/cev"
)

// A timer on a loop. Run(Once) reports whether a watcher is still active,
// so the loop runs until the one-shot timer has fired.
func ExampleTimer() {
	l, err := cev.NewLoop()
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	tm := l.NewTimer(func(ev cev.Events) {
		fmt.Println("timer fired:", ev == cev.Timeout)
	})
	tm.Start(10*time.Millisecond, 0)
	for l.Run(cev.Once) {
	}
	fmt.Println("active:", tm.Active())
	// Output:
	// timer fired: true
	// active: false
}

// Another goroutine hands a result to the loop and wakes it with Send, the
// one call that is safe from any goroutine. The handler runs on the loop's
// goroutine, after Run has returned from libev.
func ExampleAsync() {
	l, err := cev.NewLoop()
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	results := make(chan string, 1)
	var a *cev.Async
	a = l.NewAsync(func(cev.Events) {
		fmt.Println("got:", <-results)
		a.Stop() // the last active watcher: Run reports false
	})
	a.Start()

	go func() {
		results <- "hello from another goroutine"
		a.Send()
	}()
	for l.Run(cev.Once) {
	}
	// Output:
	// got: hello from another goroutine
}
