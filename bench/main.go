// Command bench compares this stack (coro + gipc on libev) with idiomatic Go
// on the runtime's netpoller and with plain blocking syscall loops, on the
// same machine in the same run.
//
// Each workload runs on every implementation in turn, interleaved (A B C A
// B C ...), for several repetitions; the table shows the median, the
// minimum and the maximum of the repetitions and the ratio of each median
// to the netpoller implementation's. See README.md in this directory.
//
// Usage:
//
//	go run ./bench [-quick] [-reps N] [-only REGEXP] [-json FILE] [-svg FILE]
//
// Children are this executable started again: gipc children through
// gipc.Init, the netpoller and raw children through the role named in the
// GIPC_BENCH_ROLE environment variable (see roles.go).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"gipc.dev/gipc"
)

func main() {
	gipc.Init()
	runChildRole()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags select.
type config struct {
	quick   bool
	tiny    bool
	reps    int
	warmup  int
	only    *regexp.Regexp
	peers   bool
	timeout time.Duration
	jsonOut string
	svgOut  string
	args    []string
}

// run is the whole program but the child roles: it parses args, runs the
// suite and writes the table to stdout, the progress to stderr, and the
// JSON and SVG files. It returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var only string
	fs.BoolVar(&cfg.quick, "quick", true, "the quick suite (the default, about 2 minutes on 2 cores); -quick=false runs 5x larger counts and 9 repetitions")
	fs.BoolVar(&cfg.tiny, "tiny", false, "tiny counts and sizes, to check that everything runs (the tests use it); not for numbers")
	fs.IntVar(&cfg.reps, "reps", 0, "repetitions per implementation (default 7, 9 without -quick, 1 with -tiny)")
	fs.IntVar(&cfg.warmup, "warmup", -1, "unrecorded warm-up rounds per workload before the repetitions (default 1, 0 with -tiny)")
	fs.StringVar(&only, "only", "", "run only the workloads whose name matches this regular expression")
	fs.BoolVar(&cfg.peers, "peers", true, "add rows for the peers found on the machine (Python gipc+gevent, Node child_process.fork)")
	fs.DurationVar(&cfg.timeout, "timeout", 2*time.Minute, "give up on one measurement after this long")
	fs.StringVar(&cfg.jsonOut, "json", "", "write the results as JSON to this file")
	fs.StringVar(&cfg.svgOut, "svg", "", "write a bar chart of the ratios as SVG to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return 2
	}
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			fmt.Fprintf(stderr, "bench: -only: %v\n", err)
			return 2
		}
		cfg.only = re
	}
	switch {
	case cfg.reps > 0:
	case cfg.tiny:
		cfg.reps = 1
	case cfg.quick:
		cfg.reps = 7
	default:
		cfg.reps = 9
	}
	if cfg.warmup < 0 {
		cfg.warmup = 1
		if cfg.tiny {
			cfg.warmup = 0
		}
	}
	cfg.args = args

	rep, err := runSuite(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	writeTable(stdout, rep)
	if cfg.jsonOut != "" {
		if err := writeJSON(cfg.jsonOut, rep); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
	}
	if cfg.svgOut != "" {
		if err := writeSVG(cfg.svgOut, rep); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
	}
	if rep.Failures > 0 {
		fmt.Fprintf(stderr, "bench: %d measurement(s) failed; see above\n", rep.Failures)
		return 1
	}
	return 0
}
