// Package leak checks that a test leaves no goroutine and no file
// descriptor behind, as Python gipc's suite fails any test that leaves a
// handle open.
package leak

import (
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// Check snapshots the goroutines and fds of the process and registers a
// cleanup that fails t if, once everything else has been cleaned up, new
// goroutines or fds remain. Call it first in a test, so that its cleanup
// runs last. It must not be used by parallel tests.
func Check(t testing.TB) {
	t.Helper()
	gs := goroutines()
	fds := openFds()
	t.Cleanup(func() {
		t.Helper()
		// Goroutines that are ending (a coroutine's last switch, a
		// posting goroutine) get a moment to finish.
		var extraG []string
		var extraF []string
		for deadline := time.Now().Add(5 * time.Second); ; {
			extraG = diff(goroutines(), gs)
			extraF = fdDiff(openFds(), fds)
			if len(extraG) == 0 && len(extraF) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if len(extraG) > 0 {
			t.Errorf("leaked goroutines:\n%s", strings.Join(extraG, "\n\n"))
		}
		if len(extraF) > 0 {
			t.Errorf("leaked fds: %s", strings.Join(extraF, ", "))
		}
	})
}

var goid = regexp.MustCompile(`^goroutine (\d+) `)

// goroutines maps goroutine ids to their stacks, leaving out the runtime's
// and the testing package's own.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		m := goid.FindStringSubmatch(g)
		if m == nil || ignorable(g) {
			continue
		}
		out[m[1]] = g
	}
	return out
}

func ignorable(stack string) bool {
	for _, s := range []string{
		"testing.(*T).Run(",
		"testing.tRunner(",
		"testing.(*M).",
		"testing.runTests",
		"runtime.goexit0",
		"os/signal.signal_recv",
		"os/signal.loop",
		"created by runtime.gc",
		"runtime.ensureSigM",
		"leak.goroutines(",
	} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return false
}

func diff(now, before map[string]string) []string {
	var out []string
	for id, g := range now {
		if _, ok := before[id]; !ok {
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out
}

// openFds maps fd numbers to what they point at.
func openFds() map[string]string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the directory listing's own fd
		}
		out[e.Name()] = target
	}
	return out
}

func fdDiff(now, before map[string]string) []string {
	var out []string
	for fd, target := range now {
		if before[fd] != target {
			out = append(out, fd+" -> "+target)
		}
	}
	sort.Strings(out)
	return out
}
