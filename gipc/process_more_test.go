package gipc_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"gipc.dev/gipc"
)

// The four "simple use cases" of Python gipc's test suite.

var (
	printer = gipc.NewTarget("printer", func(ctx context.Context, r *gipc.Reader[string]) error {
		for {
			s, err := r.Get(ctx)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if s == "exit 5" {
				os.Exit(5)
			}
		}
	})
	producer = gipc.NewTarget("producer", func(ctx context.Context, w *gipc.Writer[string]) error {
		return w.Put(ctx, "from the child")
	})
	eofExit = gipc.NewTarget("eof-exit", func(ctx context.Context, r *gipc.Reader[string]) error {
		for {
			_, err := r.Get(ctx)
			if errors.Is(err, io.EOF) {
				os.Exit(5)
			}
			if err != nil {
				return err
			}
		}
	})
	envDir = gipc.NewTarget("env-dir", func(ctx context.Context, w *gipc.Writer[[]string]) error {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		os.Stdout.WriteString("to stdout\n")
		return w.Put(ctx, []string{os.Getenv("GIPC_TEST_VAR"), wd, os.Getenv("HOME")})
	})
)

func TestSimpleUseCaseParentWritesChildReads(t *testing.T) {
	r, w := pipe[string](t)
	run(t, func(ctx context.Context) error {
		p := start(t, ctx, printer, r)
		for _, s := range []string{"a", "b"} {
			if err := w.Put(ctx, s); err != nil {
				return err
			}
		}
		assert.NoError(t, w.Close())
		joinClose(t, ctx, p, 0)
		return nil
	})
}

func TestSimpleUseCaseChildWritesParentReads(t *testing.T) {
	r, w := pipe[string](t)
	run(t, func(ctx context.Context) error {
		p := start(t, ctx, producer, w)
		s, err := r.Get(ctx)
		assert.Equal(t, "from the child", s)
		joinClose(t, ctx, p, 0)
		return err
	})
}

func TestSimpleUseCaseChildExitsOnMessage(t *testing.T) {
	r, w := pipe[string](t)
	run(t, func(ctx context.Context) error {
		p := start(t, ctx, printer, r)
		if err := w.Put(ctx, "exit 5"); err != nil {
			return err
		}
		joinClose(t, ctx, p, 5)
		return nil
	})
}

func TestSimpleUseCaseChildExitsFiveAfterEOF(t *testing.T) {
	r, w := pipe[string](t)
	run(t, func(ctx context.Context) error {
		p := start(t, ctx, eofExit, r)
		if err := w.Put(ctx, "x"); err != nil {
			return err
		}
		assert.NoError(t, w.Close())
		joinClose(t, ctx, p, 5)
		return nil
	})
}

func TestStartOptionsEnvDirStdout(t *testing.T) {
	r, w := pipe[[]string](t)
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "out"))
	require.NoError(t, err)
	defer out.Close()
	run(t, func(ctx context.Context) error {
		p := start(t, ctx, envDir, w,
			gipc.WithEnv([]string{"GIPC_TEST_VAR=set", "GORACE=atexit_sleep_ms=0"}),
			gipc.WithDir(dir), gipc.WithStdout(out))
		got, err := r.Get(ctx)
		if err != nil {
			return err
		}
		assert.Equal(t, []string{"set", dir, ""}, got, "env replaced, not extended")
		joinClose(t, ctx, p, 0)
		return nil
	})
	b, err := os.ReadFile(filepath.Join(dir, "out"))
	require.NoError(t, err)
	require.Equal(t, "to stdout\n", string(b))
}

// buildNoInit builds testdata/noinit (the go command caches the work).
func buildNoInit(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "noinit")
	build := exec.Command("go", "build", "-o", bin, "./testdata/noinit")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

func TestChildThatSkipsInitCannotStartChildren(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := buildNoInit(t)
	cmd := exec.Command(bin)
	outb, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", outb)
	out := string(outb)
	// The child skipped Init, so its own Start was refused...
	assert.Contains(t, out, "child: gipc: this process was started by gipc but its main did not call gipc.Init")
	// ...and the parent's Start failed clearly instead of hanging.
	assert.Contains(t, out, "parent: gipc: Start again: the child exited before taking its target (does its main call gipc.Init first?)")
	assert.Equal(t, 2, strings.Count(out, "\n"), "exactly one child ran: %s", out)
}

// A child whose main never calls Init and never ends is stopped by the
// watchdog, which tells its parent why over the bootstrap socket. The test
// plays the parent: it starts the program with the child marker (a short
// watchdog) and its end of a socketpair as fd 3.
func TestWatchdogEndsChildThatNeverCallsInit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := buildNoInit(t)
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	parent := os.NewFile(uintptr(sp[0]), "parent")
	child := os.NewFile(uintptr(sp[1]), "child")
	defer parent.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "GIPC_GO_CHILD=1:200", "NOINIT_HANG=1")
	cmd.ExtraFiles = []*os.File{child} // fd 3
	require.NoError(t, cmd.Start())
	child.Close()
	msg, err := io.ReadAll(parent)
	require.NoError(t, err)
	err = cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 3, exit.ExitCode())
	assert.Contains(t, string(msg), "the child's main did not call gipc.Init within 200ms")
}
