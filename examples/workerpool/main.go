// Workerpool spreads CPU-bound jobs over a pool of child processes, one
// per core by default, and shows them all busy: it counts the primes below
// a bound by trial division, in ranges, and prints how many jobs each
// worker did, the total, and how much CPU time the children used against
// the wall time.
//
//	go run ./examples/workerpool -workers 2 -jobs 64
//
// prints something like (on a machine where other work took some of the
// second core)
//
//	worker-1: 32 jobs
//	worker-2: 32 jobs
//	total: 64 jobs, 664579 primes below 10000000
//	cpu: 2.09 s of the workers' time in 1.33 s: 1.58 of 2 cores busy
//
// Workers pull their jobs. A pipe end belongs to one process (Start moves
// it to the child), and readers in several processes on one pipe would
// split its messages between them, so the jobs wait in one coro.Queue
// here, and each worker has a pipe of its own: a feeder coroutine moves a
// job from the queue into that pipe whenever the worker has room for one
// (a credit, given back with each result). A fast worker takes more jobs,
// and none waits for work while the queue holds some.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"
	"time"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

type job struct {
	ID     int
	Lo, Hi int // count the primes in [Lo, Hi)
}

type result struct {
	ID     int
	Primes int
}

type workerArgs struct {
	Jobs    *gipc.Reader[job]
	Results *gipc.Writer[result]
}

// worker computes jobs until its job pipe is closed.
var worker = gipc.NewTarget("workerpool-worker", func(ctx context.Context, a workerArgs) error {
	defer a.Jobs.Close()
	defer a.Results.Close()
	for {
		j, err := a.Jobs.Get(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		// countPrimes holds this child's hub for the whole job, which
		// is fine: nothing else runs on it.
		if err := a.Results.Put(ctx, result{ID: j.ID, Primes: countPrimes(j.Lo, j.Hi)}); err != nil {
			return err
		}
	}
})

// countPrimes counts the primes in [lo, hi) by trial division: slow on
// purpose, so that the jobs are CPU-bound.
func countPrimes(lo, hi int) int {
	n := 0
	for x := max(lo, 2); x < hi; x++ {
		if isPrime(x) {
			n++
		}
	}
	return n
}

func isPrime(x int) bool {
	if x < 4 {
		return x >= 2
	}
	if x%2 == 0 {
		return false
	}
	for d := 3; d*d <= x; d += 2 {
		if x%d == 0 {
			return false
		}
	}
	return true
}

func main() {
	gipc.Init()
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "workerpool:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("workerpool", flag.ContinueOnError)
	workers := fs.Int("workers", runtime.NumCPU(), "number of worker processes")
	njobs := fs.Int("jobs", 64, "number of jobs (ranges of numbers)")
	below := fs.Int("below", 10_000_000, "count the primes below this")
	credits := fs.Int("prefetch", 2, "jobs a worker may hold at once (one it computes, the others queued in its pipe)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *workers < 1 || *njobs < 1 || *below < 0 || *credits < 1 {
		return errors.New("-workers, -jobs and -prefetch must be at least 1, -below at least 0")
	}

	cpu0 := childrenCPU()
	start := time.Now()
	var done []int // jobs per worker
	var primes int
	err := coro.Run(func(ctx context.Context) error {
		var err error
		done, primes, err = pool(ctx, *workers, *credits, split(*below, *njobs))
		return err
	})
	if err != nil {
		return err
	}
	wall := time.Since(start)
	cpu := childrenCPU() - cpu0

	total := 0
	for i, n := range done {
		fmt.Fprintf(stdout, "worker-%d: %d jobs\n", i+1, n)
		total += n
	}
	fmt.Fprintf(stdout, "total: %d jobs, %d primes below %d\n", total, primes, *below)
	fmt.Fprintf(stdout, "cpu: %.2f s of the workers' time in %.2f s: %.2f of %d cores busy\n",
		cpu.Seconds(), wall.Seconds(), cpu.Seconds()/wall.Seconds(), runtime.NumCPU())
	return nil
}

// split cuts [0, below) into n ranges.
func split(below, n int) []job {
	jobs := make([]job, n)
	for i := range jobs {
		jobs[i] = job{ID: i, Lo: below * i / n, Hi: below * (i + 1) / n}
	}
	return jobs
}

// pool runs the jobs on n worker processes and returns how many jobs each
// did and the sum of their results.
func pool(ctx context.Context, n, credits int, jobs []job) (done []int, primes int, err error) {
	queue := coro.NewQueue[job](0)
	defer queue.Close()

	var procs []*gipc.Process
	// Whatever happens, no worker outlives the pool: on an error, the
	// ones still running are killed; all are joined (reaped).
	defer func() {
		for _, p := range procs {
			if err != nil {
				p.Kill()
			}
			p.Join(ctx)
			p.Close()
		}
	}()

	// The first failure cancels the others' waits.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g coro.Group
	spawn := func(fn func(ctx context.Context) error) {
		g.Go(wctx, func(ctx context.Context) error {
			err := fn(ctx)
			if err != nil {
				cancel()
			}
			return err
		})
	}

	done = make([]int, n)
	for i := range n {
		jobsR, jobsW, err := gipc.Pipe[job]()
		if err != nil {
			return nil, 0, err
		}
		resultsR, resultsW, err := gipc.Pipe[result]()
		if err != nil {
			jobsR.Close()
			jobsW.Close()
			return nil, 0, err
		}
		name := fmt.Sprintf("worker-%d", i+1)
		p, err := worker.Start(ctx, workerArgs{Jobs: jobsR, Results: resultsW}, gipc.WithName(name))
		if err != nil {
			for _, h := range []interface{ Close() error }{jobsR, jobsW, resultsR, resultsW} {
				h.Close()
			}
			return nil, 0, err
		}
		procs = append(procs, p)

		room := coro.NewSemaphore(credits)
		sent := 0
		spawn(func(ctx context.Context) error { // the feeder
			// Closing the job pipe is how the worker learns that the
			// work is over.
			defer jobsW.Close()
			for {
				if err := room.Acquire(ctx); err != nil {
					return err
				}
				j, err := queue.Get(ctx)
				if errors.Is(err, coro.ErrQueueClosed) {
					return nil
				}
				if err != nil {
					return err
				}
				if err := jobsW.Put(ctx, j); err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				sent++
			}
		})
		spawn(func(ctx context.Context) error { // the collector
			defer resultsR.Close()
			for {
				r, err := resultsR.Get(ctx)
				if errors.Is(err, io.EOF) && done[i] == sent {
					return nil // the worker finished its last job and left
				}
				if err != nil {
					return fmt.Errorf("%s, with %d of its jobs unfinished: %w", name, sent-done[i], err)
				}
				room.Release()
				done[i]++
				primes += r.Primes
			}
		})
	}
	// Every worker is up: let the jobs go. Feeding them only now keeps
	// the first workers from taking everything while the last ones
	// start.
	for _, j := range jobs {
		queue.Put(ctx, j) // unbounded: never waits
	}
	// The feeders drain what is left, then get ErrQueueClosed.
	queue.Close()
	if err := g.Wait(ctx); err != nil {
		return nil, 0, err
	}
	for _, p := range procs {
		if err := p.Join(ctx); err != nil {
			return nil, 0, err
		}
		if code, _ := p.ExitCode(); code != 0 {
			return nil, 0, fmt.Errorf("%s exited with code %d", p.Name(), code)
		}
	}
	return done, primes, nil
}

// childrenCPU returns the CPU time (user and system) of this process's
// reaped children so far.
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
