// Package children lets the tests of the examples check that a run leaves
// no child process behind: every child an example starts must have been
// joined, and so reaped, by the time the example returns.
package children

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// Check fails t if this process has children, running or zombie, and
// names them with their state letter from /proc (R, S, Z, ...).
func Check(t testing.TB) {
	t.Helper()
	if left := List(); len(left) > 0 {
		t.Errorf("child processes left behind: %s", strings.Join(left, ", "))
	}
}

// List describes the children of this process as "pid (name) state".
func List() []string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return []string{"cannot read /proc: " + err.Error()}
	}
	me := strconv.Itoa(os.Getpid())
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone in the meantime
		}
		// "pid (comm) state ppid ...": comm may hold spaces and
		// parentheses, so split after the last ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[1] != me {
			continue
		}
		out = append(out, s[:i+1]+" "+f[0])
	}
	return out
}
