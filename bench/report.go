package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"unicode/utf8"
)

// report is everything one run measured; it is also the JSON output.
type report struct {
	Machine   machine          `json:"machine"`
	Flags     string           `json:"flags"`
	Suite     string           `json:"suite"` // quick, full or tiny
	Reps      int              `json:"reps"`
	Warmup    int              `json:"warmup"`
	Started   string           `json:"started"`
	Seconds   float64          `json:"seconds"`
	Peers     []peerStatus     `json:"peers"`
	Workloads []workloadResult `json:"workloads"`
	Failures  int              `json:"failures"`
}

type peerStatus struct {
	Name  string `json:"name"`
	Found bool   `json:"found"`
	Note  string `json:"note,omitempty"`
}

type workloadResult struct {
	Name           string         `json:"name"`
	Title          string         `json:"title"`
	Unit           string         `json:"unit"`
	HigherIsBetter bool           `json:"higher_is_better"`
	Ops            float64        `json:"ops_per_run"`
	Baseline       string         `json:"baseline"`
	Results        []implResult   `json:"results"`
	Targets        []targetResult `json:"targets,omitempty"`
}

type implResult struct {
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Baseline bool      `json:"baseline,omitempty"`
	Skipped  string    `json:"skipped,omitempty"`
	Note     string    `json:"note,omitempty"`
	Error    string    `json:"error,omitempty"`
	Samples  []float64 `json:"samples"`
	Median   float64   `json:"median"`
	Min      float64   `json:"min"`
	Max      float64   `json:"max"`
	// Ratio is Median divided by the baseline's median; 0 when either is
	// missing.
	Ratio float64 `json:"ratio"`
}

type targetResult struct {
	Impl  string  `json:"impl"`
	Ref   string  `json:"ref"`
	Rule  string  `json:"rule"`
	Ratio float64 `json:"ratio"`
	Pass  bool    `json:"pass"`
	// Goal reports the stretch goal, when the target has one.
	Goal *bool `json:"goal,omitempty"`
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func summarize(w *workload, samples [][]float64, errs []string) workloadResult {
	wr := workloadResult{Name: w.name, Title: w.title, Unit: w.unit, HigherIsBetter: w.rate, Ops: w.ops}
	medians := map[string]float64{}
	var base float64
	for i, im := range w.impls {
		r := implResult{Name: im.name, Kind: im.kind, Baseline: im.base, Skipped: im.skip, Note: im.note, Error: errs[i], Samples: samples[i]}
		if r.Samples == nil {
			r.Samples = []float64{}
		}
		if len(samples[i]) > 0 {
			r.Median = median(samples[i])
			r.Min = slices.Min(samples[i])
			r.Max = slices.Max(samples[i])
			medians[im.name] = r.Median
		}
		if im.base {
			wr.Baseline = im.name
			base = r.Median
		}
		wr.Results = append(wr.Results, r)
	}
	for i := range wr.Results {
		if base > 0 && wr.Results[i].Median > 0 {
			wr.Results[i].Ratio = wr.Results[i].Median / base
		}
	}
	for _, t := range w.targets {
		a, b := medians[t.impl], medians[t.ref]
		if a == 0 || b == 0 {
			continue
		}
		tr := targetResult{Impl: t.impl, Ref: t.ref, Rule: t.rule(), Ratio: a / b, Pass: t.pass(a / b)}
		if t.goal != 0 {
			g := t
			g.bound = t.goal
			ok := g.pass(a / b)
			tr.Goal = &ok
		}
		wr.Targets = append(wr.Targets, tr)
	}
	return wr
}

// formatValue prints 3 or 4 significant digits without exponent.
func formatValue(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 10:
		return fmt.Sprintf("%.2f", v)
	case a >= 1:
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func (wr *workloadResult) direction() string {
	if wr.HigherIsBetter {
		return "higher is better"
	}
	return "lower is better"
}

// better reports whether ratio (a median over the baseline's) is better
// than the baseline.
func (wr *workloadResult) better(ratio float64) bool {
	if wr.HigherIsBetter {
		return ratio > 1
	}
	return ratio < 1
}

func writeTable(out io.Writer, rep *report) {
	m := rep.Machine
	fmt.Fprintf(out, "gipc for Go: coro+gipc (libev) against Go's netpoller and raw syscall loops\n\n")
	fmt.Fprintf(out, "CPU         %s\n", m.CPU)
	fmt.Fprintf(out, "cores       %d\n", m.Cores)
	fmt.Fprintf(out, "kernel      %s\n", m.Kernel)
	fmt.Fprintf(out, "Go          %s %s/%s\n", m.GoVersion, m.GOOS, m.GOARCH)
	fmt.Fprintf(out, "GOMAXPROCS  %d\n", m.GOMAXPROCS)
	fmt.Fprintf(out, "command     go run ./bench %s\n", rep.Flags)
	fmt.Fprintf(out, "suite       %s: %d repetition(s) per implementation, interleaved, after %d warm-up round(s); %.0f s in all\n",
		rep.Suite, rep.Reps, rep.Warmup, rep.Seconds)
	for _, p := range rep.Peers {
		state := "found"
		if !p.Found {
			state = "skipped"
		}
		fmt.Fprintf(out, "peer        %s: %s", p.Name, state)
		if p.Note != "" {
			fmt.Fprintf(out, " (%s)", p.Note)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "\nmedian, min and max of the repetitions; \"x netpoller\" is the median over the netpoller row's median.\n")
	for _, wr := range rep.Workloads {
		fmt.Fprintf(out, "\n== %s: %s\n   unit: %s, %s\n", wr.Name, wr.Title, wr.Unit, wr.direction())
		rows := [][]string{{"implementation", "median", "min", "max", "x netpoller", "target"}}
		for _, r := range wr.Results {
			if r.Skipped != "" {
				rows = append(rows, []string{r.Name, "-", "-", "-", "-", "skipped: " + r.Skipped})
				continue
			}
			if len(r.Samples) == 0 {
				rows = append(rows, []string{r.Name, "-", "-", "-", "-", "failed: " + firstLine(r.Error)})
				continue
			}
			ratio := "-"
			switch {
			case r.Baseline:
				ratio = "1.00x"
			case r.Ratio > 0:
				ratio = fmt.Sprintf("%.2fx", r.Ratio)
			}
			note := r.Note
			for _, t := range wr.Targets {
				if t.Impl != r.Name {
					continue
				}
				verdict := "MISS"
				if t.Pass {
					verdict = "PASS"
				}
				note = fmt.Sprintf("%.2fx %s  %s", t.Ratio, t.Rule, verdict)
				if t.Goal != nil {
					if *t.Goal {
						note += ", goal met"
					} else {
						note += ", goal not met"
					}
				}
			}
			if r.Error != "" {
				note = strings.TrimSpace(note + "  (some runs failed: " + firstLine(r.Error) + ")")
			}
			rows = append(rows, []string{r.Name, formatValue(r.Median), formatValue(r.Min), formatValue(r.Max), ratio, note})
		}
		writeRows(out, rows)
	}
	var pass, miss []string
	for _, wr := range rep.Workloads {
		for _, t := range wr.Targets {
			s := fmt.Sprintf("%s: %s %.2fx %s", wr.Name, t.Impl, t.Ratio, t.Rule)
			if t.Pass {
				pass = append(pass, s)
			} else {
				miss = append(miss, s)
			}
		}
	}
	if len(pass)+len(miss) > 0 {
		fmt.Fprintf(out, "\ntargets: %d PASS, %d MISS\n", len(pass), len(miss))
		for _, s := range pass {
			fmt.Fprintf(out, "  PASS  %s\n", s)
		}
		for _, s := range miss {
			fmt.Fprintf(out, "  MISS  %s\n", s)
		}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func writeJSON(path string, rep *report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// writeRows prints rows as columns: the first and the last left-aligned,
// the numbers between them right-aligned.
func writeRows(out io.Writer, rows [][]string) {
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case i == 0:
				b.WriteString("   " + c + pad)
			case i == len(row)-1:
				b.WriteString("   " + c)
			default:
				b.WriteString("  " + pad + c)
			}
		}
		fmt.Fprintln(out, strings.TrimRight(b.String(), " "))
	}
}
