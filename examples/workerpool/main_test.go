package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"gipc.dev/examples/internal/children"
	"gipc.dev/gipc"
)

func TestMain(m *testing.M) {
	gipc.Init()
	os.Exit(m.Run())
}

// sieve counts the primes below n the other way, to check the workers.
func sieve(n int) int {
	composite := make([]bool, n)
	count := 0
	for i := 2; i < n; i++ {
		if composite[i] {
			continue
		}
		count++
		for j := i * i; j < n; j += i {
			composite[j] = true
		}
	}
	return count
}

var workerLine = regexp.MustCompile(`^worker-(\d+): (\d+) jobs$`)

func TestEveryWorkerTakesJobsAndTheTotalIsRight(t *testing.T) {
	for _, tc := range []struct {
		name                           string
		workers, jobs, below, prefetch int
	}{
		{name: "two workers", workers: 2, jobs: 16, below: 300_000, prefetch: 2},
		{name: "more workers than cores", workers: 5, jobs: 40, below: 100_000, prefetch: 1},
		{name: "fewer jobs than credits", workers: 3, jobs: 2, below: 1000, prefetch: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, run([]string{
				"-workers", strconv.Itoa(tc.workers), "-jobs", strconv.Itoa(tc.jobs),
				"-below", strconv.Itoa(tc.below), "-prefetch", strconv.Itoa(tc.prefetch),
			}, &out))
			children.Check(t)

			lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
			require.Len(t, lines, tc.workers+2, out.String())
			sum := 0
			for i, line := range lines[:tc.workers] {
				m := workerLine.FindSubmatch(line)
				require.NotNil(t, m, "line %q", line)
				require.Equal(t, strconv.Itoa(i+1), string(m[1]))
				n, _ := strconv.Atoi(string(m[2]))
				// Every worker gets jobs up to its credits before any
				// worker can ask for more.
				require.GreaterOrEqual(t, n, min(tc.prefetch, tc.jobs/tc.workers), "line %q", line)
				sum += n
			}
			require.Equal(t, tc.jobs, sum)
			require.Equal(t, fmt.Sprintf("total: %d jobs, %d primes below %d", tc.jobs, sieve(tc.below), tc.below), string(lines[tc.workers]))
			require.Regexp(t, `^cpu: \d+\.\d\d s of the workers' time in \d+\.\d\d s: \d+\.\d\d of \d+ cores busy$`, string(lines[tc.workers+1]))
		})
	}
}
