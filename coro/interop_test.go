package coro

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gipc.dev/internal/leak"
)

func TestOffloadLetsOtherCoroutinesProgress(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		progress := 0
		stop := false
		var g Group
		for range 100 {
			g.Go(ctx, func(ctx context.Context) error {
				for !stop {
					progress++
					if err := Sleep(ctx, time.Millisecond); err != nil {
						return err
					}
				}
				return nil
			})
		}
		v, err := Offload(ctx, func() (int, error) {
			time.Sleep(100 * time.Millisecond)
			return 7, nil
		})
		stop = true
		assert.NoError(t, err)
		assert.Equal(t, 7, v)
		// Every coroutine slept at least once while the hub was free.
		assert.Greater(t, progress, 100)
		return g.Wait(ctx)
	})
	require.NoError(t, err)
}

func TestOffloadReturnsFnError(t *testing.T) {
	boom := errors.New("boom")
	err := run(t, func(ctx context.Context) error {
		_, err := Offload(ctx, func() (struct{}, error) { return struct{}{}, boom })
		return err
	})
	require.Same(t, boom, err)
}

func TestOffloadKilledReturnsAtOnce(t *testing.T) {
	release := make(chan struct{})
	err := run(t, func(ctx context.Context) error {
		var got error
		c := Spawn(ctx, func(ctx context.Context) error {
			_, got = Offload(ctx, func() (int, error) { <-release; return 1, nil })
			return nil
		})
		_ = Yield(ctx)
		c.Kill()
		_ = c.Join(ctx)
		assert.ErrorIs(t, got, ErrKilled)
		close(release)
		return nil
	})
	require.NoError(t, err)
}

func TestCallFromManyGoroutines(t *testing.T) {
	leak.Check(t)
	h, err := NewHub()
	require.NoError(t, err)
	const n = 50
	var wg sync.WaitGroup
	results := make([]error, n)
	counter := 0 // touched by coroutines only: no race
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = h.Call(context.Background(), func(ctx context.Context) error {
				if err := Sleep(ctx, time.Millisecond); err != nil {
					return err
				}
				counter++
				return nil
			})
		}()
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	runErr := h.Run(func(ctx context.Context) error {
		q := NotifySignal(ctx, syscall.SIGUSR2) // keeps main waiting, not deadlocked
		defer q.Close()
		for counter < n {
			if err := Sleep(ctx, time.Millisecond); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, runErr)
	<-allDone
	for _, err := range results {
		require.NoError(t, err)
	}
	require.Equal(t, n, counter)
	require.ErrorIs(t, h.Call(context.Background(), func(context.Context) error { return nil }), ErrHubClosed)
}

func TestCallCallerCtxDoneKillsCoroutine(t *testing.T) {
	leak.Check(t)
	h, err := NewHub()
	require.NoError(t, err)
	started := make(chan struct{})
	var waitErr error
	res := make(chan error, 1)
	cctx, cancel := context.WithCancel(context.Background())
	go func() {
		res <- h.Call(cctx, func(ctx context.Context) error {
			close(started)
			waitErr = Sleep(ctx, time.Hour)
			return waitErr
		})
	}()
	go func() { <-started; cancel() }()
	require.NoError(t, h.Run(func(ctx context.Context) error {
		tctx, c := WithTimeout(ctx, 10*time.Second) // fail-safe
		defer c()
		for {
			select {
			case err := <-res:
				assert.ErrorIs(t, err, context.Canceled)
				assert.ErrorIs(t, waitErr, ErrKilled)
				return nil
			default:
			}
			if err := Sleep(tctx, time.Millisecond); err != nil {
				return err
			}
		}
	}))
	require.NoError(t, h.Close())
}

func TestCallFromCoroutineOfSameHubIsRefused(t *testing.T) {
	leak.Check(t)
	h, err := NewHub()
	require.NoError(t, err)
	require.NoError(t, h.Run(func(ctx context.Context) error {
		err := h.Call(ctx, func(context.Context) error { return nil })
		assert.ErrorIs(t, err, ErrDeadlock)
		return nil
	}))
}

func TestCloseBeforeRun(t *testing.T) {
	leak.Check(t)
	h, err := NewHub()
	require.NoError(t, err)
	require.NoError(t, h.Close())
	require.NoError(t, h.Close())
	require.ErrorIs(t, h.Run(func(context.Context) error { return nil }), ErrHubClosed)
	require.ErrorIs(t, h.Call(context.Background(), func(context.Context) error { return nil }), ErrHubClosed)
}

func TestCloseDuringRunKillsEverything(t *testing.T) {
	leak.Check(t)
	h, err := NewHub()
	require.NoError(t, err)
	running := make(chan struct{})
	var mainErr, otherErr error
	go func() {
		<-running
		require.NoError(t, h.Close())
		require.NoError(t, h.Close())
	}()
	runErr := h.Run(func(ctx context.Context) error {
		c := Spawn(ctx, func(ctx context.Context) error {
			otherErr = Sleep(ctx, time.Hour)
			return nil
		})
		_ = c
		_ = Yield(ctx) // c starts and parks before anyone closes the hub
		close(running)
		mainErr = Sleep(ctx, time.Hour)
		return mainErr
	})
	require.ErrorIs(t, runErr, ErrHubClosed)
	require.ErrorIs(t, mainErr, ErrKilled)
	require.ErrorIs(t, otherErr, ErrKilled)
}

func TestCallBeforeRunWaitsForRun(t *testing.T) {
	leak.Check(t)
	h, err := NewHub()
	require.NoError(t, err)
	res := make(chan error, 1)
	go func() { res <- h.Call(context.Background(), func(ctx context.Context) error { return Yield(ctx) }) }()
	require.NoError(t, h.Run(func(ctx context.Context) error {
		tctx, cancel := WithTimeout(ctx, 10*time.Second) // fail-safe
		defer cancel()
		for h.Stats().Posts == 0 {
			if err := Sleep(tctx, time.Millisecond); err != nil {
				return err
			}
		}
		return Sleep(tctx, 5*time.Millisecond)
	}))
	require.NoError(t, <-res)
}

func TestNotifySignalReceivesSIGINT(t *testing.T) {
	err := run(t, func(ctx context.Context) error {
		q := NotifySignal(ctx, os.Interrupt)
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			return err
		}
		tctx, cancel := WithTimeout(ctx, 10*time.Second) // fail-safe
		defer cancel()
		s, err := q.Get(tctx)
		if err != nil {
			return err
		}
		assert.Equal(t, os.Interrupt, s)
		q.Close()
		_, err = q.Get(ctx)
		assert.ErrorIs(t, err, ErrQueueClosed)
		return nil
	})
	require.NoError(t, err)
}

func TestStats(t *testing.T) {
	leak.Check(t)
	h, err := NewHub()
	require.NoError(t, err)
	require.NoError(t, h.Run(func(ctx context.Context) error {
		Spawn(ctx, func(ctx context.Context) error { return Sleep(ctx, time.Millisecond) })
		assert.Equal(t, 2, h.Stats().Coroutines)
		if err := Sleep(ctx, 2*time.Millisecond); err != nil {
			return err
		}
		assert.GreaterOrEqual(t, h.Stats().Watchers, 1, "the hub's async watcher at least")
		return nil
	}))
	s := h.Stats()
	require.Equal(t, 0, s.Coroutines)
	require.GreaterOrEqual(t, s.Switches, uint64(3))
	require.GreaterOrEqual(t, s.LoopIterations, uint64(1))
	require.GreaterOrEqual(t, s.Events, uint64(2), "two timers fired")
}

func TestBlockingReportNamesTheHog(t *testing.T) {
	leak.Check(t)
	h, err := NewHub()
	require.NoError(t, err)
	var buf syncBuffer
	h.SetBlockingReport(20*time.Millisecond, &buf)
	require.NoError(t, h.Run(func(ctx context.Context) error {
		c := Spawn(ctx, func(ctx context.Context) error {
			hogTheHub(100 * time.Millisecond)
			return nil
		})
		return c.Join(ctx)
	}))
	out := buf.String()
	require.Contains(t, out, "coro: coroutine 2 has held the hub for")
	require.Contains(t, out, "hogTheHub")
}

func hogTheHub(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
