package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"gipc.dev/examples/internal/children"
	"gipc.dev/gipc"
)

// The test binary is its own child: Init runs the target in a child and
// returns at once in the test process.
func TestMain(m *testing.M) {
	gipc.Init()
	os.Exit(m.Run())
}

// runQuickstart runs the example with args and returns what the parent and
// the child printed. The output goes to a file, not a buffer, because the
// child writes to it too.
func runQuickstart(t *testing.T, args ...string) string {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, run(args, f))
	b, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	children.Check(t)
	return string(b)
}

func TestChildPrintsEveryMessageThenTheParentTheExitCode(t *testing.T) {
	require.Equal(t, `child: got "hello 0"
child: got "hello 1"
child: got "hello 2"
child: end of the pipe after 3 messages
parent: child exited with code 0
`, runQuickstart(t, "-n", "3"))
}

func TestNoMessages(t *testing.T) {
	require.Equal(t, "child: end of the pipe after 0 messages\nparent: child exited with code 0\n",
		runQuickstart(t, "-n", "0"))
}

// More messages than a pipe holds: the writer parks while the child reads.
func TestMoreMessagesThanThePipeHolds(t *testing.T) {
	out := runQuickstart(t, "-n", "20000")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 20002)
	require.Equal(t, `child: got "hello 19999"`, lines[19999])
	require.Equal(t, "child: end of the pipe after 20000 messages", lines[20000])
}
