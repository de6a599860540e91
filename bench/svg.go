package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"os"
)

// writeSVG draws the ratios of the report as horizontal bars on a log
// scale around 1x (the netpoller implementation of each workload): one
// group per workload, one bar per implementation, green where it beats the
// netpoller and red where it does not, whichever way the workload counts.
func writeSVG(path string, rep *report) error {
	const (
		width   = 980
		labelW  = 250 // implementation names
		chartX0 = labelW + 20
		chartX1 = width - 110 // room for the ratio text on the right
		rowH    = 20
		headH   = 26
		top     = 84
	)
	// The axis: powers of two around every ratio, at least 1/2x..2x, with
	// an octave of room for the text beside the bars.
	lo, hi := 0.5, 2.0
	for _, wr := range rep.Workloads {
		for _, r := range wr.Results {
			if r.Ratio > 0 {
				lo = math.Min(lo, r.Ratio/2)
				hi = math.Max(hi, r.Ratio*1.5)
			}
		}
	}
	lo = math.Max(math.Pow(2, math.Floor(math.Log2(lo))), 1.0/256)
	hi = math.Min(math.Pow(2, math.Ceil(math.Log2(hi))), 256)
	x := func(r float64) float64 {
		r = math.Min(math.Max(r, lo), hi)
		return chartX0 + (math.Log2(r)-math.Log2(lo))/(math.Log2(hi)-math.Log2(lo))*(chartX1-chartX0)
	}

	var body bytes.Buffer
	y := float64(top)
	for _, wr := range rep.Workloads {
		y += headH
		fmt.Fprintf(&body, `<text x="10" y="%.0f" class="head">%s</text>`+"\n", y-8,
			esc(fmt.Sprintf("%s — %s, %s", wr.Name, wr.Unit, wr.direction())))
		for _, r := range wr.Results {
			y += rowH
			fmt.Fprintf(&body, `<text x="%d" y="%.0f" class="label">%s</text>`+"\n", labelW, y-6, esc(r.Name))
			switch {
			case r.Skipped != "":
				fmt.Fprintf(&body, `<text x="%d" y="%.0f" class="note">skipped (not on this machine)</text>`+"\n", chartX0+4, y-6)
				continue
			case r.Ratio == 0:
				fmt.Fprintf(&body, `<text x="%d" y="%.0f" class="note">no result</text>`+"\n", chartX0+4, y-6)
				continue
			case r.Baseline:
				fmt.Fprintf(&body, `<circle cx="%.1f" cy="%.0f" r="4" class="base"/>`+"\n", x(1), y-10)
				fmt.Fprintf(&body, `<text x="%.1f" y="%.0f" class="note">1x (%s %s)</text>`+"\n", x(1)+8, y-6, formatValue(r.Median), esc(wr.Unit))
				continue
			}
			x0, x1 := x(1), x(r.Ratio)
			class := "worse"
			if wr.better(r.Ratio) {
				class = "better"
			}
			fmt.Fprintf(&body, `<rect x="%.1f" y="%.0f" width="%.1f" height="12" class="%s"/>`+"\n",
				math.Min(x0, x1), y-16, math.Max(math.Abs(x1-x0), 1), class)
			text := fmt.Sprintf("%.2fx", r.Ratio)
			for _, t := range wr.Targets {
				if t.Impl != r.Name {
					continue
				}
				verdict := "MISS"
				if t.Pass {
					verdict = "PASS"
				}
				if t.Ref == wr.Baseline {
					text += " " + verdict
				} else {
					text += fmt.Sprintf(" (%.2fx %s: %s)", t.Ratio, t.Ref, verdict)
				}
			}
			if x1 >= x0 {
				fmt.Fprintf(&body, `<text x="%.1f" y="%.0f" class="value">%s</text>`+"\n", x1+4, y-6, esc(text))
			} else {
				fmt.Fprintf(&body, `<text x="%.1f" y="%.0f" class="value" text-anchor="end">%s</text>`+"\n", x1-4, y-6, esc(text))
			}
		}
	}
	bottom := y + 10

	var svg bytes.Buffer
	height := bottom + 40
	fmt.Fprintf(&svg, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f">`+"\n", width, height, width, height)
	svg.WriteString(`<style>
text { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; font-size: 12px; fill: #222; }
.title { font-size: 16px; font-weight: bold; }
.sub { font-size: 11px; fill: #555; }
.head { font-weight: bold; }
.label { text-anchor: end; }
.note { fill: #777; font-style: italic; }
.tick { font-size: 10px; fill: #555; text-anchor: middle; }
.grid { stroke: #ddd; stroke-width: 1; }
.one { stroke: #333; stroke-width: 1.5; }
.better { fill: #2e7d32; }
.worse { fill: #c62828; }
.base { fill: #555; }
</style>
`)
	fmt.Fprintf(&svg, `<rect width="%d" height="%.0f" fill="white"/>`+"\n", width, height)
	m := rep.Machine
	fmt.Fprintf(&svg, `<text x="10" y="22" class="title">%s</text>`+"\n",
		esc(fmt.Sprintf("gipc for Go: ratio of each median to the netpoller implementation's (%s suite, %d reps)", rep.Suite, rep.Reps)))
	fmt.Fprintf(&svg, `<text x="10" y="40" class="sub">%s</text>`+"\n",
		esc(fmt.Sprintf("%s, %d cores, %s, %s, GOMAXPROCS %d", m.CPU, m.Cores, shortKernel(m.Kernel), m.GoVersion, m.GOMAXPROCS)))
	fmt.Fprintf(&svg, `<text x="10" y="56" class="sub">%s</text>`+"\n",
		esc("log scale; green: better than the netpoller implementation, red: worse (for times lower is better, for rates higher)"))
	// Grid and ticks.
	for p := math.Log2(lo); p <= math.Log2(hi)+1e-9; p++ {
		r := math.Pow(2, p)
		gx := x(r)
		class := "grid"
		if r == 1 {
			class = "one"
		}
		fmt.Fprintf(&svg, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.0f" class="%s"/>`+"\n", gx, top, gx, bottom, class)
		fmt.Fprintf(&svg, `<text x="%.1f" y="%d" class="tick">%s</text>`+"\n", gx, top-6, tickLabel(r))
		fmt.Fprintf(&svg, `<text x="%.1f" y="%.0f" class="tick">%s</text>`+"\n", gx, bottom+14, tickLabel(r))
	}
	svg.Write(body.Bytes())
	svg.WriteString("</svg>\n")
	return os.WriteFile(path, svg.Bytes(), 0o644)
}

func tickLabel(r float64) string {
	if r >= 1 {
		return fmt.Sprintf("%gx", r)
	}
	return fmt.Sprintf("1/%gx", 1/r)
}

// shortKernel keeps uname's system name and release.
func shortKernel(k string) string {
	var sys, rel string
	fmt.Sscan(k, &sys, &rel)
	if rel == "" {
		return k
	}
	return sys + " " + rel
}

func esc(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
