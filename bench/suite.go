package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// sizes are the counts and sizes of one suite.
type sizes struct {
	oneway     int // 1-byte messages, one Put each
	batched    int // 1-byte messages sent in batches
	batchLen   int // messages per PutBatch (and per raw write)
	medium     int // 64 000-byte messages
	mediumSize int
	bigSize    int // bytes of the one big message
	pingpong   int // round trips
	starts     int // start+join of an empty child
	tcpClients int
	tcpRounds  int // echo round trips per client
	tcpMsg     int // bytes per echo
	switches   int // hand-offs between two coroutines (goroutines)
}

func suiteSizes(cfg config) sizes {
	s := sizes{
		oneway:     200_000,
		batched:    2_000_000,
		batchLen:   1024,
		medium:     4000,
		mediumSize: 64_000,
		bigSize:    190 << 20,
		pingpong:   10_000,
		starts:     20,
		tcpClients: 1000,
		tcpRounds:  10,
		tcpMsg:     64,
		switches:   1_000_000,
	}
	switch {
	case cfg.tiny:
		s.oneway, s.batched, s.medium, s.bigSize = 2000, 20_000, 20, 1<<20
		s.pingpong, s.starts, s.tcpClients, s.tcpRounds, s.switches = 200, 2, 50, 2, 10_000
	case !cfg.quick:
		s.oneway *= 5
		s.batched *= 5
		s.medium *= 5
		s.pingpong *= 5
		s.starts *= 5
		s.tcpRounds *= 5
		s.switches *= 5
	}
	return s
}

// An impl is one implementation of a workload. run performs the workload
// once and returns the time it took, child start-up excluded where the
// workload is not about start-up.
type impl struct {
	name string
	kind string // kindCoro, kindNetpoller, kindRaw or kindPeer
	base bool   // the netpoller implementation that ratios refer to
	skip string // why it does not run (a peer missing on this machine)
	note string // shown beside the row
	run  func() (time.Duration, error)
}

const (
	kindCoro      = "coro+gipc"
	kindNetpoller = "netpoller"
	kindRaw       = "raw"
	kindPeer      = "peer"
)

// A target is a goal from the project's issues: the median of impl
// divided by the median of ref must be at least (atLeast) or at most bound.
type target struct {
	impl, ref string
	atLeast   bool
	bound     float64
	goal      float64 // a stretch goal in the same direction; 0: none
}

func (t target) rule() string {
	op := "<="
	if t.atLeast {
		op = ">="
	}
	s := fmt.Sprintf("%s %.2gx %s", op, t.bound, t.ref)
	if t.goal != 0 {
		s += fmt.Sprintf(" (goal %.2gx)", t.goal)
	}
	return s
}

func (t target) pass(ratio float64) bool {
	if t.atLeast {
		return ratio >= t.bound
	}
	return ratio <= t.bound
}

// A workload is one table of the report.
type workload struct {
	name    string
	title   string
	unit    string  // how values are shown
	scale   float64 // a value in base units (ops/s or s/op) divided by scale is shown in unit
	rate    bool    // values are ops per second (higher is better); else seconds per op
	ops     float64 // operations per run
	impls   []*impl
	targets []target
}

// value turns one run's elapsed time into a value in w.unit.
func (w *workload) value(d time.Duration) float64 {
	s := d.Seconds()
	if s <= 0 {
		s = 1e-9
	}
	if w.rate {
		return w.ops / s / w.scale
	}
	return s / w.ops / w.scale
}

func workloads(cfg config, s sizes, peers []*peer) []*workload {
	ws := []*workload{
		{
			name:  "oneway-1B",
			title: fmt.Sprintf("1-byte messages one-way, parent to child, one Put (write) per message; %d messages", s.oneway),
			unit:  "M msg/s", scale: 1e6, rate: true, ops: float64(s.oneway),
			impls: []*impl{
				{name: "coro+gipc Put", kind: kindCoro, run: func() (time.Duration, error) { return coroOneway(s.oneway, 1, 0) }},
				{name: "netpoller naive", kind: kindNetpoller, base: true, run: func() (time.Duration, error) { return npOneway(s.oneway, 1, false) }},
				{name: "netpoller bufio", kind: kindNetpoller, run: func() (time.Duration, error) { return npOneway(s.oneway, 1, true) }},
				{name: "raw loop, 1 write/msg", kind: kindRaw, run: func() (time.Duration, error) { return rawOneway(s.oneway, 1, 1) }},
			},
			targets: []target{{impl: "coro+gipc Put", ref: "netpoller naive", atLeast: true, bound: 1.5}},
		},
		{
			name:  "oneway-1B-batch",
			title: fmt.Sprintf("1-byte messages one-way, batched (PutBatch of %d%s, bufio, raw writes of %d); %d messages", s.batchLen, getBatchNote, s.batchLen, s.batched),
			unit:  "M msg/s", scale: 1e6, rate: true, ops: float64(s.batched),
			impls: []*impl{
				{name: batchedName, kind: kindCoro, run: func() (time.Duration, error) { return coroOneway(s.batched, 1, s.batchLen) }},
				{name: "netpoller bufio", kind: kindNetpoller, base: true, run: func() (time.Duration, error) { return npOneway(s.batched, 1, true) }},
				{name: "raw loop, batched writes", kind: kindRaw, run: func() (time.Duration, error) { return rawOneway(s.batched, 1, s.batchLen) }},
			},
			targets: []target{{impl: batchedName, ref: "netpoller bufio", atLeast: true, bound: 2}},
		},
		{
			name:  "oneway-64000B",
			title: fmt.Sprintf("%d-byte messages one-way; %d messages (%d MB)", s.mediumSize, s.medium, s.medium*s.mediumSize/1e6),
			unit:  "MB/s", scale: 1e6, rate: true, ops: float64(s.medium * s.mediumSize),
			impls: []*impl{
				{name: "coro+gipc Put", kind: kindCoro, run: func() (time.Duration, error) { return coroOneway(s.medium, s.mediumSize, 0) }},
				{name: "netpoller naive", kind: kindNetpoller, base: true, run: func() (time.Duration, error) { return npOneway(s.medium, s.mediumSize, false) }},
				{name: "raw loop", kind: kindRaw, run: func() (time.Duration, error) { return rawOneway(s.medium, s.mediumSize, 1) }},
			},
			targets: []target{{impl: "coro+gipc Put", ref: "raw loop", atLeast: true, bound: 0.95}},
		},
		{
			name:  "oneway-big",
			title: fmt.Sprintf("one %s message one-way", byteSize(s.bigSize)),
			unit:  "MB/s", scale: 1e6, rate: true, ops: float64(s.bigSize),
			impls: []*impl{
				{name: "coro+gipc Put", kind: kindCoro, run: func() (time.Duration, error) { return coroOneway(1, s.bigSize, 0) }},
				{name: "netpoller naive", kind: kindNetpoller, base: true, run: func() (time.Duration, error) { return npOneway(1, s.bigSize, false) }},
				{name: "raw loop", kind: kindRaw, run: func() (time.Duration, error) { return rawOneway(1, s.bigSize, 1) }},
			},
		},
		{
			name:  "pingpong-1B",
			title: fmt.Sprintf("round trip of a 1-byte message, parent to child and back; %d round trips", s.pingpong),
			unit:  "µs/rt", scale: 1e-6, rate: false, ops: float64(s.pingpong),
			impls: []*impl{
				{name: "coro+gipc", kind: kindCoro, run: func() (time.Duration, error) { return coroPingPong(s.pingpong) }},
				{name: "netpoller", kind: kindNetpoller, base: true, run: func() (time.Duration, error) { return npPingPong(s.pingpong) }},
				{name: "raw loop", kind: kindRaw, run: func() (time.Duration, error) { return rawPingPong(s.pingpong) }},
			},
			targets: []target{{impl: "coro+gipc", ref: "netpoller", atLeast: false, bound: 1, goal: 0.7}},
		},
		{
			name:  "start-join",
			title: fmt.Sprintf("start and join a child that does nothing (this executable re-executed); %d children", s.starts),
			unit:  "ms/child", scale: 1e-3, rate: false, ops: float64(s.starts),
			impls: []*impl{
				{name: "coro+gipc Start+Join", kind: kindCoro, run: func() (time.Duration, error) { return coroStartJoin(s.starts) }},
				{name: "os/exec Run", kind: kindNetpoller, base: true, run: func() (time.Duration, error) { return execStartJoin(s.starts) }},
				{name: "raw ForkExec+Wait4", kind: kindRaw, run: func() (time.Duration, error) { return rawStartJoin(s.starts) }},
			},
			targets: []target{{impl: "coro+gipc Start+Join", ref: "os/exec Run", atLeast: false, bound: 1.1}},
		},
		{
			name: "tcp-echo",
			title: fmt.Sprintf("%d TCP clients against one echo server in this process: connect, %d round trips of %d bytes, close",
				s.tcpClients, s.tcpRounds, s.tcpMsg),
			unit: "k rt/s", scale: 1e3, rate: true, ops: float64(s.tcpClients * s.tcpRounds),
			impls: []*impl{
				{name: "coro (one hub)", kind: kindCoro, run: func() (time.Duration, error) { return coroEcho(s.tcpClients, s.tcpRounds, s.tcpMsg) }},
				{name: "net (goroutines)", kind: kindNetpoller, base: true, run: func() (time.Duration, error) { return netEcho(s.tcpClients, s.tcpRounds, s.tcpMsg) }},
			},
		},
		{
			name:  "switch",
			title: fmt.Sprintf("in-process hand-off between two coroutines (coro.Yield loop) or two goroutines (unbuffered channels); %d hand-offs", s.switches),
			unit:  "ns/switch", scale: 1e-9, rate: false, ops: float64(s.switches),
			impls: []*impl{
				{name: "coro Yield", kind: kindCoro, run: func() (time.Duration, error) { return coroSwitch(s.switches) }},
				{name: "goroutines+channels", kind: kindNetpoller, base: true, run: func() (time.Duration, error) { return chanSwitch(s.switches) }},
			},
		},
	}
	for _, p := range peers {
		for _, w := range ws {
			if im := p.impl(w.name, s); im != nil {
				w.impls = append(w.impls, im)
			}
		}
	}
	var out []*workload
	for _, w := range ws {
		if cfg.only == nil || cfg.only.MatchString(w.name) {
			out = append(out, w)
		}
	}
	return out
}

var getBatchNote = func() string {
	if hasGetBatch {
		return " read with GetBatch"
	}
	return ""
}()

func byteSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}

// measureTimeout bounds one run; the implementations kill their children
// when it passes.
var measureTimeout = 2 * time.Minute

// runSuite runs every selected workload, interleaving the implementations,
// and returns the report. Progress goes to progress, one line per run.
func runSuite(cfg config, progress io.Writer) (*report, error) {
	measureTimeout = cfg.timeout
	start := time.Now()
	s := suiteSizes(cfg)
	var peers []*peer
	if cfg.peers {
		peers = detectPeers()
		defer func() {
			for _, p := range peers {
				p.cleanup()
			}
		}()
	}
	ws := workloads(cfg, s, peers)
	if len(ws) == 0 {
		return nil, fmt.Errorf("no workload matches -only %v", cfg.only)
	}
	rep := &report{
		Machine: machineFacts(),
		Flags:   strings.Join(cfg.args, " "),
		Suite:   suiteName(cfg),
		Reps:    cfg.reps,
		Warmup:  cfg.warmup,
		Started: start.UTC().Format(time.RFC3339),
	}
	for _, p := range peers {
		rep.Peers = append(rep.Peers, peerStatus{Name: p.name, Found: p.found, Note: p.note})
	}
	total := 0
	for _, w := range ws {
		for _, im := range w.impls {
			if im.skip == "" {
				total += cfg.reps + cfg.warmup
			}
		}
	}
	done := 0
	for _, w := range ws {
		samples := make([][]float64, len(w.impls))
		errs := make([]string, len(w.impls))
		rounds := cfg.warmup + cfg.reps
		for round := range rounds {
			warm := round < cfg.warmup
			for i, im := range w.impls {
				if im.skip != "" {
					continue
				}
				done++
				d, err := im.run()
				label := fmt.Sprintf("rep %d/%d", round-cfg.warmup+1, cfg.reps)
				if warm {
					label = "warm-up"
				}
				if err != nil {
					fmt.Fprintf(progress, "[%3d/%d] %-16s %-9s %-26s FAILED: %v\n", done, total, w.name, label, im.name, err)
					if errs[i] == "" {
						errs[i] = err.Error()
					}
					rep.Failures++
					continue
				}
				v := w.value(d)
				fmt.Fprintf(progress, "[%3d/%d] %-16s %-9s %-26s %s %s\n", done, total, w.name, label, im.name, formatValue(v), w.unit)
				if !warm {
					samples[i] = append(samples[i], v)
				}
			}
		}
		rep.Workloads = append(rep.Workloads, summarize(w, samples, errs))
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

func suiteName(cfg config) string {
	switch {
	case cfg.tiny:
		return "tiny"
	case cfg.quick:
		return "quick"
	}
	return "full"
}

// exe is this executable, which the netpoller and raw implementations
// start as their child.
var exe = func() string {
	p, err := os.Executable()
	if err != nil {
		return "/proc/self/exe"
	}
	return p
}()
