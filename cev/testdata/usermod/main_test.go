package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRunFiresTimer(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	require.Equal(t, "timer fired on epoll (libev 4.33)\n", out.String())
}
