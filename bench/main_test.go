package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gipc.dev/gipc"
)

// The test binary is its own child, as the bench binary is: gipc.Init runs
// the gipc targets, runChildRole the netpoller and raw roles.
func TestMain(m *testing.M) {
	gipc.Init()
	runChildRole()
	os.Exit(m.Run())
}

// TestTinySuiteWritesTableJSONAndSVG runs the whole suite with tiny counts
// and one repetition, and checks the three outputs.
func TestTinySuiteWritesTableJSONAndSVG(t *testing.T) {
	dir := t.TempDir()
	jsonPath, svgPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.svg")
	var out, progress bytes.Buffer
	code := run([]string{"-tiny", "-json", jsonPath, "-svg", svgPath}, &out, &progress)
	if code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), progress.String())
	}
	table := out.String()
	for _, want := range []string{"CPU ", "cores ", "kernel ", "Go ", "GOMAXPROCS ", "x netpoller", "targets:"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}

	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	names := []string{"oneway-1B", "oneway-1B-batch", "oneway-64000B", "oneway-big", "pingpong-1B", "start-join", "tcp-echo", "switch"}
	if len(rep.Workloads) != len(names) {
		t.Fatalf("%d workloads in the JSON, want %d", len(rep.Workloads), len(names))
	}
	runs := 0
	for i, wr := range rep.Workloads {
		if wr.Name != names[i] {
			t.Errorf("workload %d is %q, want %q", i, wr.Name, names[i])
		}
		if !strings.Contains(table, "== "+wr.Name+":") {
			t.Errorf("the table lacks workload %s", wr.Name)
		}
		kinds := map[string]bool{}
		for _, r := range wr.Results {
			kinds[r.Kind] = true
			if r.Skipped != "" {
				if r.Kind != kindPeer {
					t.Errorf("%s/%s skipped: %s", wr.Name, r.Name, r.Skipped)
				}
				continue
			}
			runs++
			if r.Error != "" || len(r.Samples) != 1 || r.Median <= 0 || r.Ratio <= 0 {
				t.Errorf("%s/%s: error %q, samples %v, ratio %v", wr.Name, r.Name, r.Error, r.Samples, r.Ratio)
			}
			if r.Baseline && r.Ratio != 1 {
				t.Errorf("%s/%s: the baseline's ratio is %v", wr.Name, r.Name, r.Ratio)
			}
		}
		if !kinds[kindCoro] || !kinds[kindNetpoller] || wr.Baseline == "" {
			t.Errorf("%s lacks this stack or its netpoller baseline: %v", wr.Name, kinds)
		}
	}
	if got := strings.Count(progress.String(), "\n"); got != runs {
		t.Errorf("%d progress lines for %d runs:\n%s", got, runs, progress.String())
	}
	if rep.Machine.Cores <= 0 || rep.Machine.GOMAXPROCS <= 0 || rep.Machine.GoVersion == "" || rep.Machine.Kernel == "" {
		t.Errorf("machine facts: %+v", rep.Machine)
	}

	f, err := os.Open(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	root := ""
	rects := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "rect" {
				rects++
			}
		}
	}
	if root != "svg" || rects < len(names) {
		t.Errorf("SVG root %q with %d rects", root, rects)
	}
}

func TestOnlySelectsWorkloads(t *testing.T) {
	var out, progress bytes.Buffer
	if code := run([]string{"-tiny", "-peers=false", "-only", "^switch$"}, &out, &progress); code != 0 {
		t.Fatalf("exit code %d: %s", code, progress.String())
	}
	if strings.Count(out.String(), "\n== ") != 1 || !strings.Contains(out.String(), "== switch:") {
		t.Errorf("-only ^switch$ ran:\n%s", out.String())
	}
	if code := run([]string{"-peers=false", "-only", "no-such-workload"}, io.Discard, io.Discard); code == 0 {
		t.Error("-only matching nothing succeeded")
	}
	if code := run([]string{"-reps"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("a bad flag: exit code %d, want 2", code)
	}
}

func TestMedianAndTargets(t *testing.T) {
	for _, tc := range []struct {
		name string
		xs   []float64
		want float64
	}{
		{name: "odd", xs: []float64{5, 1, 3}, want: 3},
		{name: "even", xs: []float64{4, 1, 3, 2}, want: 2.5},
		{name: "one", xs: []float64{7}, want: 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := median(tc.xs); got != tc.want {
				t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
			}
		})
	}
	atLeast := target{impl: "a", ref: "b", atLeast: true, bound: 1.5}
	atMost := target{impl: "a", ref: "b", bound: 1, goal: 0.7}
	if !atLeast.pass(1.5) || atLeast.pass(1.49) || !atMost.pass(1) || atMost.pass(1.01) {
		t.Error("target bounds are not inclusive as written")
	}
	if got := atMost.rule(); got != "<= 1x b (goal 0.7x)" {
		t.Errorf("rule: %q", got)
	}
}
