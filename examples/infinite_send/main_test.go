package main

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"gipc.dev/examples/internal/children"
	"gipc.dev/gipc"
)

func TestMain(m *testing.M) {
	gipc.Init()
	os.Exit(m.Run())
}

// The whole conversation, with the count of messages sent equal to the
// count the child drained: the shutdown lost nothing.
var conversation = regexp.MustCompile(`^child: received (\d+) messages
parent: sending SIGINT
child: SIGINT: shutting down, draining the pipe
parent: stopped sending after (\d+) messages; sending SIGINT again
child: SIGINT again: ignored, the shutdown goes on
parent: closed the pipe
child: drained the pipe: (\d+) messages in all
parent: child exited with code 0
$`)

func TestTwoSIGINTsAndACleanExit(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{name: "paced", args: []string{"-before", "3", "-interval", "1ms"}},
		{name: "flat out", args: []string{"-before", "1000", "-interval", "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, run(tc.args, &out))
			children.Check(t)
			m := conversation.FindStringSubmatch(out.String())
			require.NotNil(t, m, out.String())
			require.Equal(t, tc.args[1], m[1])
			require.Equal(t, m[2], m[3], "sent and drained differ")
		})
	}
}
