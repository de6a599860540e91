package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// roleEnv names the role of a child started by the netpoller and raw
// implementations: "np-sink:COUNT:SIZE:BUFIO", "np-echo:COUNT",
// "raw-sink:COUNT:SIZE", "raw-echo:COUNT" or "empty". (gipc's children
// need no such thing: gipc.Init runs their target.)
const roleEnv = "GIPC_BENCH_ROLE"

// runChildRole runs this process's role and exits, when it has one; it
// returns at once otherwise. It comes right after gipc.Init in main (and in
// the tests' TestMain).
func runChildRole() {
	role, ok := os.LookupEnv(roleEnv)
	if !ok {
		return
	}
	if err := childRole(role); err != nil {
		fmt.Fprintf(os.Stderr, "bench child %s: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func childRole(role string) error {
	fields := strings.Split(role, ":")
	args := make([]int, len(fields)-1)
	for i, f := range fields[1:] {
		n, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		args[i] = n
	}
	want := map[string]int{"np-sink": 3, "np-echo": 1, "raw-sink": 2, "raw-echo": 1, "empty": 0}
	n, known := want[fields[0]]
	if !known || n != len(args) {
		return errUsage
	}
	switch fields[0] {
	case "np-sink":
		return npSinkChild(args[0], args[1], args[2] != 0)
	case "np-echo":
		return npEchoChild(args[0])
	case "raw-sink":
		return rawSinkChild(args[0], args[1])
	case "raw-echo":
		return rawEchoChild(args[0])
	}
	return nil // empty
}
