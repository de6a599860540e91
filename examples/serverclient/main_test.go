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

func TestEveryClientIsServed(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"-clients", "50", "-msg", "hello, server"}, &out))
	children.Check(t)
	require.Regexp(t, regexp.MustCompile(`^50 clients served within \d+\.\d\d s \(\d+ clients/s\)
server: 50 connections echoed
$`), out.String())
}

func TestOneClient(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"-clients", "1"}, &out))
	children.Check(t)
	require.Contains(t, out.String(), "server: 1 connections echoed\n")
}
