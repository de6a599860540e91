package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"gipc.dev/examples/internal/children"
	"gipc.dev/gipc"
)

func TestMain(m *testing.M) {
	gipc.Init()
	os.Exit(m.Run())
}

var workerLine = regexp.MustCompile(`^worker-(\d+): (\d+) requests$`)

func TestBuiltInClientIsServedByTheWorkers(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"-workers", "2", "-requests", "30", "-concurrency", "4", "-rounds", "2000"}, &out))
	children.Check(t)

	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	require.Len(t, lines, 5, out.String())
	require.Regexp(t, `^listening on http://127\.0\.0\.1:\d+ with 2 worker processes$`, string(lines[0]))
	require.Regexp(t, `^client: 30 requests, 30 ok, \d+\.\d requests/s$`, string(lines[1]))
	sum := 0
	for i, line := range lines[2:4] {
		m := workerLine.FindSubmatch(line)
		require.NotNil(t, m, "line %q", line)
		require.Equal(t, strconv.Itoa(i+1), string(m[1]))
		n, _ := strconv.Atoi(string(m[2]))
		sum += n
	}
	require.Equal(t, 30, sum)
	require.Equal(t, "total: 30 requests", string(lines[4]))
}

func TestStretch(t *testing.T) {
	// One round is plain SHA-256.
	require.Equal(t, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", stretch("hello", 1))
	require.NotEqual(t, stretch("hello", 2), stretch("hello", 1))
}

func TestBadFlags(t *testing.T) {
	require.Error(t, run([]string{"-rounds", "0"}, &bytes.Buffer{}))
	require.Error(t, run([]string{"-workers", "0"}, &bytes.Buffer{}))
}

// lineWatch is the example's stdout in a test that must act on what it
// prints while it runs.
type lineWatch struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	prefix string
	seen   chan string // gets the first line that starts with prefix
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for _, line := range strings.Split(w.buf.String(), "\n") {
		if w.prefix != "" && strings.HasPrefix(line, w.prefix) {
			w.seen <- line
			w.prefix = ""
		}
	}
	return len(p), nil
}

func (w *lineWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

var tryLine = regexp.MustCompile(`^try: curl '(http://127\.0\.0\.1:\d+)/hash\?text=hello&rounds=100000'$`)

// Without -requests the example serves until a signal. It prints the curl
// line once its signal handling is in place, so the test may then send
// SIGTERM to its own process.
func TestServesUntilSIGTERM(t *testing.T) {
	out := &lineWatch{prefix: "try: ", seen: make(chan string, 1)}
	result := make(chan error, 1)
	go func() { result <- run([]string{"-workers", "1"}, out) }()

	var line string
	select {
	case line = <-out.seen:
	case err := <-result:
		t.Fatalf("run returned early: %v\n%s", err, out)
	case <-time.After(10 * time.Second):
		t.Fatalf("no curl line:\n%s", out)
	}
	m := tryLine.FindStringSubmatch(line)
	require.NotNil(t, m, line)

	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(m[1] + "/hash?text=hello&rounds=1")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "worker-1", resp.Header.Get("X-Worker"))
	require.Equal(t, stretch("hello", 1)+"\n", string(body))

	resp, err = hc.Get(m[1] + "/hash?text=hello&rounds=0")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	hc.CloseIdleConnections()

	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	select {
	case err := <-result:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("still serving after SIGTERM:\n%s", out)
	}
	children.Check(t)
	require.True(t, strings.HasSuffix(out.String(), "terminated: shutting down\nworker-1: 1 requests\ntotal: 1 requests\n"), out.String())
}
