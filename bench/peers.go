package main

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Peers: the same workloads on Python gipc+gevent and on Node's
// child_process.fork, when the machine has them. Each peer is a small
// script (peers/) that runs a workload and prints the seconds it took; the
// bench writes it to a temporary directory and runs it like any other
// implementation, interleaved with the others.

//go:embed peers/gipc_peer.py peers/fork_peer.js
var peerScripts embed.FS

type peer struct {
	name   string
	found  bool
	note   string // version when found, why not otherwise
	argv   []string
	dir    string
	counts func(workload string, s sizes) (mode string, count int)
}

// peerCounts bounds the counts that the peers run: their per-message costs
// are of another order, and the rates hardly depend on the count.
func peerCounts(workload string, s sizes) (string, int) {
	switch workload {
	case "oneway-1B":
		return "oneway", min(s.oneway, 50_000)
	case "pingpong-1B":
		return "pingpong", min(s.pingpong, 5_000)
	case "start-join":
		return "start", min(s.starts, 5)
	}
	return "", 0
}

func detectPeers() []*peer {
	py := &peer{name: "python gipc+gevent", counts: peerCounts}
	if path, err := exec.LookPath("python3"); err != nil {
		py.note = "python3 not on PATH"
	} else if out, err := probe(path, "-c", "import gipc, gevent, sys; print(gipc.__version__, gevent.__version__, sys.version.split()[0])"); err != nil {
		py.note = `python3 -c "import gipc, gevent" failed: ` + out
	} else {
		f := strings.Fields(out)
		if len(f) == 3 {
			out = fmt.Sprintf("gipc %s, gevent %s, Python %s", f[0], f[1], f[2])
		}
		py.found, py.note = true, out
		py.argv = []string{path, "gipc_peer.py"}
	}

	node := &peer{name: "node child_process.fork", counts: peerCounts}
	if path, err := exec.LookPath("node"); err != nil {
		node.note = "node not on PATH"
	} else if out, err := probe(path, "--version"); err != nil {
		node.note = "node --version failed: " + out
	} else {
		node.found, node.note = true, "Node "+out
		node.argv = []string{path, "fork_peer.js"}
	}

	peers := []*peer{py, node}
	for _, p := range peers {
		if !p.found {
			continue
		}
		if err := p.install(); err != nil {
			p.found, p.note = false, err.Error()
		}
	}
	return peers
}

// probe runs a command with a short timeout and returns the last line of
// its output (stdout, or stderr when it failed).
func probe(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := stdout.String()
	if err != nil {
		out = stderr.String()
		if strings.TrimSpace(out) == "" {
			out = err.Error()
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), err
}

// install writes the peer's script to a temporary directory.
func (p *peer) install() error {
	dir, err := os.MkdirTemp("", "gipc-bench-peer-")
	if err != nil {
		return err
	}
	p.dir = dir
	script := p.argv[len(p.argv)-1]
	b, err := peerScripts.ReadFile("peers/" + script)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, script)
	p.argv[len(p.argv)-1] = path
	return os.WriteFile(path, b, 0o644)
}

func (p *peer) cleanup() {
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

// impl returns the peer's implementation of a workload, a skipped one
// when the peer is missing, or nil when the peer has none.
func (p *peer) impl(workload string, s sizes) *impl {
	mode, count := p.counts(workload, s)
	if mode == "" {
		return nil
	}
	im := &impl{name: p.name, kind: kindPeer}
	if count != opsOf(workload, s) {
		im.note = fmt.Sprintf("runs %d, not %d", count, opsOf(workload, s))
	}
	if !p.found {
		im.skip = p.note
		return im
	}
	im.run = func() (time.Duration, error) {
		secs, err := p.run(mode, count)
		if err != nil {
			return 0, err
		}
		// The workload's value counts its own ops; the peer ran count.
		return time.Duration(secs / float64(count) * float64(opsOf(workload, s)) * 1e9), nil
	}
	return im
}

func opsOf(workload string, s sizes) int {
	switch workload {
	case "oneway-1B":
		return s.oneway
	case "pingpong-1B":
		return s.pingpong
	case "start-join":
		return s.starts
	}
	return 1
}

func (p *peer) run(mode string, count int) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), measureTimeout)
	defer cancel()
	args := append(p.argv[1:len(p.argv):len(p.argv)], mode, strconv.Itoa(count))
	cmd := exec.CommandContext(ctx, p.argv[0], args...)
	cmd.Dir = p.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s %s %d: %v: %s", filepath.Base(p.argv[0]), mode, count, err, strings.TrimSpace(stderr.String()))
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(stdout.String()), 64)
	if err != nil || secs <= 0 {
		return 0, fmt.Errorf("%s %s %d: unexpected output %q", filepath.Base(p.argv[0]), mode, count, stdout.String())
	}
	return secs, nil
}
