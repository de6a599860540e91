package gipc_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gipc.dev/coro"
	"gipc.dev/gipc"
	"gipc.dev/internal/leak"
)

// Ports of Python gipc's IPC tests, parent ↔ child and child ↔ child.

type bytesArgs struct {
	R *gipc.Reader[[]byte]
	W *gipc.Writer[[]byte]
}

var (
	// digester reads one message and writes back its sha256.
	digester = gipc.NewTarget("digester", func(ctx context.Context, a bytesArgs) error {
		m, err := a.R.Get(ctx)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(m)
		return a.W.Put(ctx, sum[:])
	})
	// sender and receiver talk child to child.
	sender = gipc.NewTarget("sender", func(ctx context.Context, w *gipc.Writer[int]) error {
		for i := range 100 {
			if err := w.Put(ctx, i); err != nil {
				return err
			}
		}
		return w.Close()
	})
	summer = gipc.NewTarget("summer", func(ctx context.Context, a sumArgs) error {
		sum := 0
		for {
			v, err := a.R.Get(ctx)
			if errors.Is(err, io.EOF) {
				return a.W.Put(ctx, sum)
			}
			if err != nil {
				return err
			}
			sum += v
		}
	})
	// epiper writes until the reader is gone and reports the error.
	epiper = gipc.NewTarget("epiper", func(ctx context.Context, a epipeArgs) error {
		for {
			if err := a.W.Put(ctx, make([]byte, 1024)); err != nil {
				if errors.Is(err, syscall.EPIPE) {
					return a.Report.Put(ctx, "EPIPE")
				}
				return a.Report.Put(ctx, err.Error())
			}
		}
	})
	// earlyReader reads one message and exits.
	earlyReader = gipc.NewTarget("early-reader", func(ctx context.Context, r *gipc.Reader[[]byte]) error {
		_, err := r.Get(ctx)
		return err
	})
	duplexEcho = gipc.NewTarget("duplex-echo", func(ctx context.Context, d *gipc.Duplex[string]) error {
		for {
			s, err := d.Get(ctx)
			if errors.Is(err, io.EOF) {
				return d.Close()
			}
			if err != nil {
				return err
			}
			if err := d.Put(ctx, s); err != nil {
				return err
			}
		}
	})
	clock = gipc.NewTarget("clock", func(ctx context.Context, d *gipc.Duplex[int64]) error {
		for {
			if _, err := d.Get(ctx); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			if err := d.Put(ctx, time.Now().UnixNano()); err != nil {
				return err
			}
		}
	})
	// forward passes n messages from R to W, adding one to each.
	forward = gipc.NewTarget("forward", func(ctx context.Context, a sumArgs) error {
		for {
			v, err := a.R.Get(ctx)
			if errors.Is(err, io.EOF) {
				return a.W.Close()
			}
			if err != nil {
				return err
			}
			if err := a.W.Put(ctx, v+1); err != nil {
				return err
			}
		}
	})
	// bigWriter starts writing one 64 MiB message, which cannot finish
	// while nobody reads (the pipe holds 1 MiB), and reports on Status
	// once part of it is in the pipe.
	bigWriter = gipc.NewTarget("big-writer", func(ctx context.Context, a bigArgs) error {
		put := coro.Spawn(ctx, func(ctx context.Context) error { return a.W.Put(ctx, make([]byte, 64<<20)) })
		for a.W.Stats().Bytes == 0 {
			if err := coro.Yield(ctx); err != nil {
				return err
			}
		}
		if err := a.Status.Put(ctx, "writing"); err != nil {
			return err
		}
		return put.Join(ctx)
	})
	daemonParent = gipc.NewTarget("daemon-parent", func(ctx context.Context, w *gipc.Writer[int]) error {
		p, err := sleeper.Start(ctx, time.Hour, gipc.WithDaemon(true))
		if err != nil {
			return err
		}
		if err := w.Put(ctx, p.Pid()); err != nil {
			return err
		}
		return coro.Sleep(ctx, time.Hour)
	})
)

// nester passes its writer down Depth more levels; the last one writes a
// message. A target that starts itself is declared in an init function:
// a package-level var that refers to itself would be an initialisation
// cycle.
var nester *gipc.Target[nestArgs]

func init() {
	nester = gipc.NewTarget("nester", func(ctx context.Context, a nestArgs) error {
		if a.Depth == 0 {
			return a.W.Put(ctx, fmt.Sprintf("hello from pid %d", os.Getpid()))
		}
		p, err := nester.Start(ctx, nestArgs{W: a.W, Depth: a.Depth - 1})
		if err != nil {
			return err
		}
		if err := p.Join(ctx); err != nil {
			return err
		}
		if code, _ := p.ExitCode(); code != 0 {
			return fmt.Errorf("level %d exited %d", a.Depth-1, code)
		}
		return p.Close()
	})
}

type nestArgs struct {
	W     *gipc.Writer[string]
	Depth int
}

type sumArgs struct {
	R *gipc.Reader[int]
	W *gipc.Writer[int]
}

type epipeArgs struct {
	W      *gipc.Writer[[]byte]
	Report *gipc.Writer[string]
}

func joinClose(t *testing.T, ctx context.Context, p *gipc.Process, wantCode int) {
	t.Helper()
	assert.NoError(t, p.Join(ctx))
	code, _ := p.ExitCode()
	assert.Equal(t, wantCode, code, "exit code of %v", p)
	assert.NoError(t, p.Close())
}

func TestLongMessageParentToChild(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []gipc.Option
	}{
		{name: "gob"},
		{name: "raw", opts: []gipc.Option{gipc.WithCodec(gipc.Raw())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w := pipe[[]byte](t, tc.opts...)
			back, fromChild := pipe[[]byte](t, tc.opts...)
			run(t, func(ctx context.Context) error {
				p := start(t, ctx, digester, bytesArgs{R: r, W: fromChild})
				data := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB
				if err := w.Put(ctx, data); err != nil {
					return err
				}
				sum, err := back.Get(ctx)
				if err != nil {
					return err
				}
				want := sha256.Sum256(data)
				assert.Equal(t, want[:], sum)
				joinClose(t, ctx, p, 0)
				return nil
			})
		})
	}
}

func TestChildInChildInChild(t *testing.T) {
	r, w := pipe[string](t)
	run(t, func(ctx context.Context) error {
		p := start(t, ctx, nester, nestArgs{W: w, Depth: 2})
		msg, err := r.Get(ctx)
		if err != nil {
			return err
		}
		assert.Contains(t, msg, "hello from pid")
		assert.NotContains(t, msg, fmt.Sprint(os.Getpid()))
		joinClose(t, ctx, p, 0)
		_, err = r.Get(ctx)
		assert.ErrorIs(t, err, io.EOF, "every copy of the writer is closed")
		return nil
	})
}

func TestChildToChild(t *testing.T) {
	r, w := pipe[int](t)
	res, resW := pipe[int](t)
	run(t, func(ctx context.Context) error {
		ps := start(t, ctx, sender, w)
		pr := start(t, ctx, summer, sumArgs{R: r, W: resW})
		sum, err := res.Get(ctx)
		if err != nil {
			return err
		}
		assert.Equal(t, 99*100/2, sum)
		joinClose(t, ctx, ps, 0)
		joinClose(t, ctx, pr, 0)
		return nil
	})
}

func TestEarlyReaderExitGivesWriterEPIPE(t *testing.T) {
	t.Run("parent writer", func(t *testing.T) {
		r, w := pipe[[]byte](t)
		run(t, func(ctx context.Context) error {
			p := start(t, ctx, earlyReader, r)
			if err := w.Put(ctx, []byte("one")); err != nil {
				return err
			}
			joinClose(t, ctx, p, 0)
			var err error
			for err == nil {
				err = w.Put(ctx, []byte("more"))
			}
			assert.ErrorIs(t, err, syscall.EPIPE)
			return nil
		})
	})
	t.Run("child writer", func(t *testing.T) {
		r, w := pipe[[]byte](t)
		rep, repW := pipe[string](t)
		run(t, func(ctx context.Context) error {
			p := start(t, ctx, epiper, epipeArgs{W: w, Report: repW})
			if _, err := r.Get(ctx); err != nil {
				return err
			}
			assert.NoError(t, r.Close())
			msg, err := rep.Get(ctx)
			assert.Equal(t, "EPIPE", msg)
			joinClose(t, ctx, p, 0)
			return err
		})
	})
}

func TestDuplexEchoWithChild(t *testing.T) {
	leak.Check(t)
	mine, theirs, err := gipc.DuplexPipe[string]()
	require.NoError(t, err)
	defer mine.Close()
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		p := start(t, ctx, duplexEcho, theirs)
		for i := range 100 {
			s := fmt.Sprint("ping ", i)
			if err := mine.Put(ctx, s); err != nil {
				return err
			}
			got, err := mine.Get(ctx)
			if err != nil {
				return err
			}
			assert.Equal(t, s, got)
		}
		assert.NoError(t, mine.Close())
		joinClose(t, ctx, p, 0)
		return nil
	}))
}

func TestTimeSyncWithChild(t *testing.T) {
	leak.Check(t)
	mine, theirs, err := gipc.DuplexPipe[int64]()
	require.NoError(t, err)
	defer mine.Close()
	require.NoError(t, coro.Run(func(ctx context.Context) error {
		p := start(t, ctx, clock, theirs)
		for range 5 {
			t0 := time.Now().UnixNano()
			if err := mine.Put(ctx, t0); err != nil {
				return err
			}
			tc, err := mine.Get(ctx)
			if err != nil {
				return err
			}
			t1 := time.Now().UnixNano()
			assert.LessOrEqual(t, t0, tc, "the child's clock reads after the request")
			assert.LessOrEqual(t, tc, t1, "and before the reply")
		}
		assert.NoError(t, mine.Close())
		joinClose(t, ctx, p, 0)
		return nil
	}))
}

func TestCircularForwardThroughTwoChildren(t *testing.T) {
	r1, w1 := pipe[int](t)
	r2, w2 := pipe[int](t)
	r3, w3 := pipe[int](t)
	run(t, func(ctx context.Context) error {
		a := start(t, ctx, forward, sumArgs{R: r1, W: w2})
		b := start(t, ctx, forward, sumArgs{R: r2, W: w3})
		for i := range 100 {
			if err := w1.Put(ctx, i); err != nil {
				return err
			}
			v, err := r3.Get(ctx)
			if err != nil {
				return err
			}
			assert.Equal(t, i+2, v)
		}
		assert.NoError(t, w1.Close())
		_, err := r3.Get(ctx)
		assert.ErrorIs(t, err, io.EOF)
		joinClose(t, ctx, a, 0)
		joinClose(t, ctx, b, 0)
		return nil
	})
}

func TestRawPipeAcrossProcesses(t *testing.T) {
	r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
	back, fromChild := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
	run(t, func(ctx context.Context) error {
		p := start(t, ctx, digester, bytesArgs{R: r, W: fromChild})
		if err := w.Put(ctx, []byte("raw")); err != nil {
			return err
		}
		sum, err := back.Get(ctx)
		want := sha256.Sum256([]byte("raw"))
		assert.Equal(t, want[:], sum)
		joinClose(t, ctx, p, 0)
		return err
	})
}

func TestMultiDuplexFromTenCoroutines(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g coro.Group
		for i := range 10 {
			g.Go(ctx, func(ctx context.Context) error {
				mine, theirs, err := gipc.DuplexPipe[string]()
				if err != nil {
					return err
				}
				defer mine.Close()
				p, err := duplexEcho.Start(ctx, theirs)
				if err != nil {
					theirs.Close()
					return err
				}
				for j := range 10 {
					s := fmt.Sprintf("%d/%d", i, j)
					if err := mine.Put(ctx, s); err != nil {
						return err
					}
					got, err := mine.Get(ctx)
					if err != nil {
						return err
					}
					if got != s {
						return fmt.Errorf("got %q, want %q", got, s)
					}
				}
				if err := mine.Close(); err != nil {
					return err
				}
				if err := p.Join(ctx); err != nil {
					return err
				}
				return p.Close()
			})
		}
		return g.Wait(ctx)
	})
}

func TestStartFromSeveralHubsAtOnce(t *testing.T) {
	leak.Check(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = coro.Run(func(ctx context.Context) error {
				for range 5 {
					p, err := exitWith.Start(ctx, codeArgs{Code: 0})
					if err != nil {
						return err
					}
					if err := p.Join(ctx); err != nil {
						return err
					}
					if err := p.Close(); err != nil {
						return err
					}
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

func TestChildKilledMidMessageGivesUnexpectedEOF(t *testing.T) {
	r, w := pipe[[]byte](t, gipc.WithCodec(gipc.Raw()))
	status, statusW := pipe[string](t)
	run(t, func(ctx context.Context) error {
		p := start(t, ctx, bigWriter, bigArgs{W: w, Status: statusW})
		// Once part of the message is in the pipe, kill the writer.
		if s, err := status.Get(ctx); err != nil || s != "writing" {
			return fmt.Errorf("status %q, %v", s, err)
		}
		assert.NoError(t, p.Kill())
		_, err := r.Get(ctx)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		joinClose(t, ctx, p, -9)
		return nil
	})
}

type bigArgs struct {
	W      *gipc.Writer[[]byte]
	Status *gipc.Writer[string]
}

func TestDaemonChildDiesWithItsParent(t *testing.T) {
	r, w := pipe[int](t)
	run(t, func(ctx context.Context) error {
		mid := start(t, ctx, daemonParent, w)
		grandchild, err := r.Get(ctx)
		if err != nil {
			return err
		}
		assert.NoError(t, syscall.Kill(grandchild, 0), "the daemon child runs")
		assert.NoError(t, mid.Kill())
		joinClose(t, ctx, mid, -9)
		// The grandchild is not ours to reap: it goes to init (or a
		// subreaper), so watch for its pid to disappear or turn zombie.
		tctx, cancel := coro.WithTimeout(ctx, 10*time.Second) // fail-safe
		defer cancel()
		for alive(grandchild) {
			if err := coro.Sleep(tctx, 5*time.Millisecond); err != nil {
				return fmt.Errorf("daemon child %d outlived its parent: %w", grandchild, err)
			}
		}
		return nil
	})
}

// alive reports whether pid runs (exists and is not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}
