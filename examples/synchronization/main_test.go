package main

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"gipc.dev/examples/internal/children"
	"gipc.dev/gipc"
)

func TestMain(m *testing.M) {
	gipc.Init()
	os.Exit(m.Run())
}

var roundLine = regexp.MustCompile(`^round (\d+): time delta (\d+\.\d{6}) s$`)

func TestRoundsPrintDeltasAndTheSmallest(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"-rounds", "4"}, &out))
	children.Check(t)

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 5, out.String())
	smallest := 1e9
	for i, line := range lines[:4] {
		m := roundLine.FindStringSubmatch(line)
		require.NotNil(t, m, "line %q", line)
		require.Equal(t, strconv.Itoa(i+1), m[1])
		d, err := strconv.ParseFloat(m[2], 64)
		require.NoError(t, err)
		// One message through a pipe takes microseconds; a second
		// would mean the clocks are not being compared at all.
		require.Less(t, d, 1.0)
		smallest = min(smallest, d)
	}
	require.Equal(t, "smallest time delta in 4 rounds: "+strconv.FormatFloat(smallest, 'f', 6, 64)+" s", lines[4])
}

func TestZeroRoundsIsAnError(t *testing.T) {
	require.Error(t, run([]string{"-rounds", "0"}, &bytes.Buffer{}))
}
