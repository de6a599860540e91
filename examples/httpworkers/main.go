// Httpworkers is a net/http server whose handlers hand their CPU-heavy
// work to a pool of child processes: the idea of Python gipc's
// wsgimultiprocessing example, the Go way. The handlers run on net/http's
// goroutines as usual; each one enters the hub with Hub.Call, queues a
// task and waits for it, and a coroutine per worker process moves the
// tasks through that worker's duplex pipe. The work is key stretching:
// SHA-256 applied to a text many times over, as password hashing does.
//
//	go run ./examples/httpworkers
//
// serves until SIGINT or SIGTERM (try the curl command it prints), and
//
//	go run ./examples/httpworkers -requests 40
//
// also runs a built-in client that sends 40 requests, then shuts down,
// printing something like
//
//	listening on http://127.0.0.1:40267 with 2 worker processes
//	client: 40 requests, 40 ok, 21.7 requests/s
//	worker-1: 20 requests
//	worker-2: 20 requests
//	total: 40 requests
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

// hashJob goes to a worker with Text and Rounds and comes back with
// Digest.
type hashJob struct {
	Text   string
	Rounds int
	Digest string
}

// maxRounds keeps one request from holding a worker for minutes.
const maxRounds = 10_000_000

// worker stretches texts until the parent closes its end of the pipe.
var worker = gipc.NewTarget("httpworkers-worker", func(ctx context.Context, d *gipc.Duplex[hashJob]) error {
	defer d.Close()
	for {
		j, err := d.Get(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		j.Digest = stretch(j.Text, j.Rounds)
		if err := d.Put(ctx, j); err != nil {
			return err
		}
	}
})

// stretch applies SHA-256 rounds times, first to text, then to the
// previous digest.
func stretch(text string, rounds int) string {
	sum := sha256.Sum256([]byte(text))
	for range rounds - 1 {
		sum = sha256.Sum256(sum[:])
	}
	return hex.EncodeToString(sum[:])
}

func main() {
	gipc.Init()
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "httpworkers:", err)
		os.Exit(1)
	}
}

type config struct {
	workers     int
	requests    int // 0: no client, serve until a signal
	concurrency int
	rounds      int
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("httpworkers", flag.ContinueOnError)
	var c config
	fs.IntVar(&c.workers, "workers", runtime.NumCPU(), "number of worker processes")
	fs.IntVar(&c.requests, "requests", 0, "send this many requests from a built-in client, then exit (0: serve until SIGINT or SIGTERM)")
	fs.IntVar(&c.concurrency, "concurrency", 8, "requests the built-in client has in flight at once")
	fs.IntVar(&c.rounds, "rounds", 100_000, "SHA-256 rounds per request of the built-in client")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.workers < 1 || c.requests < 0 || c.concurrency < 1 || c.rounds < 1 || c.rounds > maxRounds {
		return fmt.Errorf("-workers and -concurrency must be at least 1, -requests at least 0, -rounds in 1..%d", maxRounds)
	}
	hub, err := coro.NewHub()
	if err != nil {
		return err
	}
	defer hub.Close()
	return hub.Run(func(ctx context.Context) error { return serve(ctx, hub, c, stdout) })
}

// task is one request's work, from the handler that queues it to the
// coroutine that runs it on a worker. Only coroutines of the hub touch it
// until done is set; the handler reads it once its Call has returned.
type task struct {
	job    hashJob
	worker string
	err    error
	done   coro.Event
}

func serve(ctx context.Context, hub *coro.Hub, c config, stdout io.Writer) error {
	tasks := coro.NewQueue[*task](0)
	defer tasks.Close()

	// The worker processes, each with a coroutine here that feeds it
	// tasks one at a time.
	var procs []*gipc.Process
	defer func() {
		// On an early return, leave no worker behind. (Closing its
		// pipe would do too, but a worker may be busy for a while.)
		for _, p := range procs {
			if p.IsAlive() {
				p.Kill()
			}
			p.Join(ctx)
			p.Close()
		}
	}()
	var feeders coro.Group
	served := make([]int, c.workers)
	for i := range c.workers {
		childEnd, d, err := gipc.DuplexPipe[hashJob]()
		if err != nil {
			return err
		}
		name := fmt.Sprintf("worker-%d", i+1)
		p, err := worker.Start(ctx, childEnd, gipc.WithName(name))
		if err != nil {
			childEnd.Close()
			d.Close()
			return err
		}
		procs = append(procs, p)
		feeders.Go(ctx, func(ctx context.Context) error {
			// Closing our end makes the worker's Get return io.EOF:
			// it exits.
			defer d.Close()
			for {
				t, err := tasks.Get(ctx)
				if errors.Is(err, coro.ErrQueueClosed) {
					return nil
				}
				if err != nil {
					return err
				}
				t.worker = name
				if t.err = d.Put(ctx, t.job); t.err == nil {
					t.job, t.err = d.Get(ctx)
				}
				t.done.Set()
				if t.err != nil {
					return fmt.Errorf("%s: %w", name, t.err)
				}
				served[i]++
			}
		})
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /hash", func(w http.ResponseWriter, r *http.Request) {
		rounds, err := strconv.Atoi(r.FormValue("rounds"))
		if err != nil || rounds < 1 || rounds > maxRounds {
			http.Error(w, fmt.Sprintf("rounds: a number in 1..%d, please", maxRounds), http.StatusBadRequest)
			return
		}
		t := &task{job: hashJob{Text: r.FormValue("text"), Rounds: rounds}}
		// This is a goroutine of net/http, not a coroutine: Call runs
		// the function as a coroutine of the hub and waits for it. If
		// the client goes away, the wait ends; the worker still
		// finishes the task, and nobody reads it.
		err = hub.Call(r.Context(), func(ctx context.Context) error {
			if err := tasks.Put(ctx, t); err != nil {
				return err
			}
			return t.done.Wait(ctx)
		})
		if err == nil {
			err = t.err
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("X-Worker", t.worker)
		fmt.Fprintln(w, t.job.Digest)
	})

	// Loopback only: this is a demonstration, not a service.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served1 := make(chan error, 1)
	go func() { served1 <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "listening on %s with %d worker processes\n", base, c.workers)

	// The hub must wait on something that can wake it, or it would
	// report a deadlock: a signal queue. SIGINT or SIGTERM ends the
	// serving, and so does the built-in client, by closing the queue.
	stop := coro.NotifySignal(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop.Close()
	var report string
	var clientErr error
	if c.requests > 0 {
		go func() {
			rep, err := client(base, c)
			hub.Call(context.Background(), func(ctx context.Context) error {
				report, clientErr = rep, err
				stop.Close()
				return nil
			})
		}()
	} else {
		fmt.Fprintf(stdout, "try: curl '%s/hash?text=hello&rounds=100000'\n", base)
	}
	if sig, err := stop.Get(ctx); err == nil {
		fmt.Fprintf(stdout, "%v: shutting down\n", sig)
	} else if !errors.Is(err, coro.ErrQueueClosed) {
		return err
	}

	// Shutdown waits for the handlers in flight, and they need the hub
	// for their Calls: it runs on another goroutine while this
	// coroutine waits.
	if _, err := coro.Offload(ctx, func() (struct{}, error) {
		err := srv.Shutdown(context.Background())
		<-served1 // http.ErrServerClosed
		return struct{}{}, err
	}); err != nil {
		return err
	}
	tasks.Close()
	if err := feeders.Wait(ctx); err != nil {
		return err
	}
	for _, p := range procs {
		if err := p.Join(ctx); err != nil {
			return err
		}
		if code, _ := p.ExitCode(); code != 0 {
			return fmt.Errorf("%s exited with code %d", p.Name(), code)
		}
	}
	if clientErr != nil {
		return clientErr
	}
	if report != "" {
		fmt.Fprintln(stdout, report)
	}
	total := 0
	for i, n := range served {
		fmt.Fprintf(stdout, "worker-%d: %d requests\n", i+1, n)
		total += n
	}
	fmt.Fprintf(stdout, "total: %d requests\n", total)
	return nil
}

// client sends c.requests requests, c.concurrency at a time, and checks
// every answer against a digest computed here once. It runs on ordinary
// goroutines with net/http's client.
func client(base string, c config) (string, error) {
	const text = "correct horse battery staple"
	want := stretch(text, c.rounds)
	u := base + "/hash?" + url.Values{"text": {text}, "rounds": {strconv.Itoa(c.rounds)}}.Encode()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c.concurrency}, Timeout: time.Minute}
	defer hc.CloseIdleConnections()

	start := time.Now()
	next := make(chan struct{})
	errs := make(chan error, c.concurrency)
	for range c.concurrency {
		go func() {
			for range next {
				if err := get(hc, u, want); err != nil {
					errs <- err
					for range next {
						// Drain: the others go on.
					}
					return
				}
			}
			errs <- nil
		}()
	}
	for range c.requests {
		next <- struct{}{}
	}
	close(next)
	var failed []error
	for range c.concurrency {
		if err := <-errs; err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return "", fmt.Errorf("client: %w", errors.Join(failed...))
	}
	elapsed := time.Since(start)
	return fmt.Sprintf("client: %d requests, %d ok, %.1f requests/s",
		c.requests, c.requests, float64(c.requests)/elapsed.Seconds()), nil
}

func get(hc *http.Client, u, want string) error {
	resp, err := hc.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	if got := strings.TrimSpace(string(body)); got != want {
		return fmt.Errorf("got digest %s, expected %s", got, want)
	}
	return nil
}
