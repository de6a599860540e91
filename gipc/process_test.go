package gipc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gipc.dev/coro"
	"gipc.dev/gipc"
)

// The test binary is its own child: Init runs the target in a child and
// returns at once in the test process itself.
func TestMain(m *testing.M) {
	gipc.Init()
	os.Exit(m.Run())
}

type codeArgs struct{ Code int }

var (
	exitWith = gipc.NewTarget("exit-with", func(ctx context.Context, a codeArgs) error {
		if a.Code == 1 {
			return errors.New("failing on purpose")
		}
		os.Exit(a.Code)
		return nil
	})
	sleeper = gipc.NewTarget("sleeper", func(ctx context.Context, d time.Duration) error {
		return coro.Sleep(ctx, d)
	})
	panicker = gipc.NewTarget("panicker", func(ctx context.Context, _ struct{}) error {
		panic("on purpose")
	})
	echoer = gipc.NewTarget("echoer", func(ctx context.Context, a echoArgs) error {
		for {
			s, err := a.In.Get(ctx)
			if errors.Is(err, io.EOF) {
				return a.Out.Close()
			}
			if err != nil {
				return err
			}
			if err := a.Out.Put(ctx, s); err != nil {
				return err
			}
		}
	})
	fdCounter = gipc.NewTarget("fd-counter", func(ctx context.Context, a fdArgs) error {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			return err
		}
		var fds []string
		for _, e := range ents {
			if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
				fds = append(fds, e.Name()+"="+target)
			}
		}
		return a.W.Put(ctx, strings.Join(fds, " "))
	})
)

type echoArgs struct {
	In  *gipc.Reader[string]
	Out *gipc.Writer[string]
}

type fdArgs struct{ W *gipc.Writer[string] }

func start[A any](t *testing.T, ctx context.Context, tg *gipc.Target[A], args A, opts ...gipc.StartOption) *gipc.Process {
	t.Helper()
	p, err := tg.Start(ctx, args, opts...)
	require.NoError(t, err)
	return p
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		want int
	}{
		{name: "zero", code: 0, want: 0},
		{name: "error is 1", code: 1, want: 1},
		{name: "five", code: 5, want: 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				p, err := exitWith.Start(ctx, codeArgs{Code: tc.code}, gipc.WithStderr(nil))
				if err != nil {
					return err
				}
				assert.Greater(t, p.Pid(), 0)
				assert.NoError(t, p.Join(ctx))
				code, exited := p.ExitCode()
				assert.True(t, exited)
				assert.Equal(t, tc.want, code)
				assert.False(t, p.IsAlive())
				assert.NoError(t, p.Close())
				assert.NoError(t, p.Close(), "a second Close returns nil")
				assert.ErrorIs(t, p.Join(ctx), gipc.ErrProcessClosed)
				code, exited = p.ExitCode()
				assert.True(t, exited, "ExitCode keeps answering after Close")
				assert.Equal(t, tc.want, code)
				return nil
			})
		})
	}
}

func TestPanickingTargetExitsTwo(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p, err := panicker.Start(ctx, struct{}{}, gipc.WithStderr(nil))
		if err != nil {
			return err
		}
		assert.NoError(t, p.Join(ctx))
		code, _ := p.ExitCode()
		assert.Equal(t, 2, code)
		return p.Close()
	})
}

func TestTerminateKillAndSignals(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(p *gipc.Process) error
		want int
	}{
		{name: "terminate", stop: (*gipc.Process).Terminate, want: -15},
		{name: "kill", stop: (*gipc.Process).Kill, want: -9},
		{name: "SIGINT", stop: func(p *gipc.Process) error { return p.Signal(syscall.SIGINT) }, want: -2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				p := start(t, ctx, sleeper, time.Hour)
				assert.True(t, p.IsAlive())
				assert.ErrorIs(t, p.Close(), gipc.ErrStillRunning)
				assert.NoError(t, tc.stop(p))
				assert.NoError(t, p.Join(ctx))
				code, _ := p.ExitCode()
				assert.Equal(t, tc.want, code)
				assert.NoError(t, p.Terminate(), "after exit: nil, nothing sent")
				assert.NoError(t, p.Kill())
				assert.Contains(t, p.String(), "exit code "+strconv.Itoa(tc.want))
				return p.Close()
			})
		})
	}
}

func TestJoinTimeoutThenJoinAgain(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := start(t, ctx, sleeper, 50*time.Millisecond, gipc.WithName("napper"))
		assert.Equal(t, "napper", p.Name())
		tctx, cancel := coro.WithTimeout(ctx, 5*time.Millisecond)
		err := p.Join(tctx)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.True(t, p.IsAlive())
		assert.NoError(t, p.Join(ctx))
		assert.False(t, p.IsAlive())
		return p.Close()
	})
}

func TestExitCodeSetWithoutJoin(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p := start(t, ctx, exitWith, codeArgs{Code: 7})
		tctx, cancel := coro.WithTimeout(ctx, 10*time.Second) // fail-safe
		defer cancel()
		for {
			if _, exited := p.ExitCode(); exited {
				break
			}
			if err := coro.Sleep(tctx, time.Millisecond); err != nil {
				return err
			}
		}
		code, _ := p.ExitCode()
		assert.Equal(t, 7, code)
		return p.Close()
	})
}

func TestEchoThroughChildAndHandlesClosedInParent(t *testing.T) {
	toChild, fromParent := pipe[string](t)
	toParent, fromChild := pipe[string](t)
	_ = toChild
	run(t, func(ctx context.Context) error {
		// toChild is the reader the child gets; fromParent the writer we keep.
		p := start(t, ctx, echoer, echoArgs{In: toChild, Out: fromChild})
		_, err := toChild.Get(ctx)
		assert.ErrorIs(t, err, gipc.ErrClosed, "a transferred handle is closed in the parent")
		assert.ErrorIs(t, fromChild.Put(ctx, "x"), gipc.ErrClosed)
		for i := range 100 {
			msg := fmt.Sprintf("message %d", i)
			if err := fromParent.Put(ctx, msg); err != nil {
				return err
			}
			got, err := toParent.Get(ctx)
			if err != nil {
				return err
			}
			assert.Equal(t, msg, got)
		}
		assert.NoError(t, fromParent.Close())
		_, err = toParent.Get(ctx)
		assert.ErrorIs(t, err, io.EOF)
		assert.NoError(t, p.Join(ctx))
		code, _ := p.ExitCode()
		assert.Equal(t, 0, code)
		return p.Close()
	})
}

func TestReaderTakesItsBufferedBytesAlong(t *testing.T) {
	r, w := pipe[string](t)
	back, fromChild := pipe[string](t)
	run(t, func(ctx context.Context) error {
		for _, s := range []string{"one", "two", "three"} {
			if err := w.Put(ctx, s); err != nil {
				return err
			}
		}
		got, err := r.Get(ctx) // reads all three into the buffer, returns one
		if err != nil {
			return err
		}
		assert.Equal(t, "one", got)
		p := start(t, ctx, echoer, echoArgs{In: r, Out: fromChild})
		assert.NoError(t, w.Close())
		for _, want := range []string{"two", "three"} {
			got, err := back.Get(ctx)
			if err != nil {
				return err
			}
			assert.Equal(t, want, got)
		}
		_, err = back.Get(ctx)
		assert.ErrorIs(t, err, io.EOF)
		assert.NoError(t, p.Join(ctx))
		return p.Close()
	})
}

func TestOnlyTransferredHandlesAreOpenInChild(t *testing.T) {
	r, w := pipe[string](t)
	other, otherW := pipe[string](t) // stays in the parent
	_, _ = other, otherW
	parent := map[string]string{}
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
			parent[e.Name()] = target
		}
	}
	run(t, func(ctx context.Context) error {
		p := start(t, ctx, fdCounter, fdArgs{W: w})
		fds, err := r.Get(ctx)
		if err != nil {
			return err
		}
		assert.NoError(t, p.Join(ctx))
		// Pipes and sockets of the child, leaving out stdio and the fds
		// the test process itself inherited without close-on-exec (from
		// the test runner): only the transferred writer, at fd 4, remains.
		var extra []string
		for _, f := range strings.Fields(fds) {
			n, target, _ := strings.Cut(f, "=")
			fd, _ := strconv.Atoi(n)
			if fd <= 2 || parent[n] == target {
				continue
			}
			if strings.HasPrefix(target, "pipe:") || strings.HasPrefix(target, "socket:") {
				extra = append(extra, n)
			}
		}
		assert.Equal(t, []string{"4"}, extra, "child fds: %s", fds)
		return p.Close()
	})
}

// parentOnly is registered in the test process but not in its children
// (they get the environment variable), so a child cannot find it.
var parentOnly = func() *gipc.Target[*gipc.Writer[string]] {
	if os.Getenv("GIPC_TEST_NO_PARENT_ONLY") != "" {
		return nil
	}
	return gipc.NewTarget("parent-only", func(ctx context.Context, w *gipc.Writer[string]) error { return nil })
}()

func TestStartUnknownTargetFailsAndKeepsHandles(t *testing.T) {
	r, w := pipe[string](t)
	run(t, func(ctx context.Context) error {
		p, err := parentOnly.Start(ctx, w, gipc.WithEnv(append(os.Environ(), "GIPC_TEST_NO_PARENT_ONLY=1")))
		assert.Nil(t, p)
		assert.ErrorContains(t, err, `unknown target "parent-only"`)
		// The handle stays usable in the parent.
		if err := w.Put(ctx, "still mine"); err != nil {
			return err
		}
		got, err := r.Get(ctx)
		assert.Equal(t, "still mine", got)
		return err
	})
	assert.Empty(t, zombies(t))
}

// undecodable fails to decode in the child.
type undecodable struct{}

func (undecodable) GobEncode() ([]byte, error) { return []byte("x"), nil }
func (*undecodable) GobDecode([]byte) error    { return errors.New("undecodable on purpose") }

var badArgs = gipc.NewTarget("bad-args", func(ctx context.Context, a undecodable) error { return nil })

func TestStartUndecodableArgsFails(t *testing.T) {
	run(t, func(ctx context.Context) error {
		p, err := badArgs.Start(ctx, undecodable{})
		assert.Nil(t, p)
		assert.ErrorContains(t, err, "undecodable on purpose")
		return nil
	})
}

func TestStartWithUnencodableArgsFailsBeforeForking(t *testing.T) {
	r, w := pipe[string](t)
	run(t, func(ctx context.Context) error {
		assert.NoError(t, r.Close())
		p, err := fdCounter.Start(ctx, fdArgs{W: w}, gipc.WithStderr(nil)) // its Put fails: EPIPE
		assert.NoError(t, err, "a writer whose reader is closed can travel")
		assert.NoError(t, p.Join(ctx))
		assert.NoError(t, p.Close())
		p, err = fdCounter.Start(ctx, fdArgs{W: w})
		assert.Nil(t, p)
		assert.ErrorIs(t, err, gipc.ErrClosed, "a transferred handle cannot travel twice")
		return nil
	})
}

func TestStartNeedsCoroutineCtx(t *testing.T) {
	_, err := sleeper.Start(context.Background(), time.Millisecond)
	require.ErrorIs(t, err, coro.ErrNotCoroutine)
}

func TestTargetDeclarationPanics(t *testing.T) {
	require.PanicsWithValue(t, `gipc: NewTarget("sleeper") after Init: declare targets at package level`, func() {
		gipc.NewTarget("sleeper", func(ctx context.Context, _ struct{}) error { return nil })
	})
}

func TestManyStartJoinCyclesLeaveNoZombieNorFd(t *testing.T) {
	run(t, func(ctx context.Context) error {
		for range 200 {
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
	assert.Empty(t, zombies(t))
}

func TestNeverJoinedChildIsReaped(t *testing.T) {
	var pid int
	run(t, func(ctx context.Context) error {
		p := start(t, ctx, exitWith, codeArgs{Code: 0})
		pid = p.Pid()
		// Wait for the exit without Join: the hub reaps by itself.
		tctx, cancel := coro.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		for p.IsAlive() {
			if err := coro.Sleep(tctx, time.Millisecond); err != nil {
				return err
			}
		}
		return p.Close()
	})
	require.NotContains(t, zombies(t), pid)
}

// zombies lists the zombie children of this process.
func zombies(t *testing.T) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	require.NoError(t, err)
	me := strconv.Itoa(os.Getpid())
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) >= 2 && f[0] == "Z" && f[1] == me {
			out = append(out, pid)
		}
	}
	return out
}
