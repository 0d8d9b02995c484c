package bench

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// Figures are one side's measurement of one workload.
type Figures struct {
	// Rate is the workload's figure: operations or rows per second.
	Rate float64 `json:"rate"`
	// Count is the number of operations or rows measured.
	Count int64 `json:"count"`
	// Seconds is the measured wall-clock time.
	Seconds float64 `json:"seconds"`
	// P50Ms and P99Ms are latency percentiles of one operation (a poll, a
	// transition), in milliseconds; zero where not measured.
	P50Ms float64 `json:"p50_ms,omitempty"`
	P99Ms float64 `json:"p99_ms,omitempty"`
	// PeakRSSMB is the process's peak resident set size during the
	// workload, in MiB; zero where not measured.
	PeakRSSMB float64 `json:"peak_rss_mb,omitempty"`
	// RunsPerPoll is the average number of runs a poll returned.
	RunsPerPoll float64 `json:"runs_per_poll,omitempty"`
}

// Round is one measurement of a workload on both sides.
type Round struct {
	Prefectdb Figures `json:"prefectdb"`
	Baseline  Figures `json:"baseline"`
}

// ratio is the round's prefectdb rate over the baseline's (0 if the
// baseline measured nothing).
func (r Round) ratio() float64 {
	if r.Baseline.Rate <= 0 {
		return 0
	}
	return r.Prefectdb.Rate / r.Baseline.Rate
}

// Result is one workload on one database: prefectdb's figures, the
// baseline's, and their ratio, from the round with the median ratio.
type Result struct {
	// Database is "sqlite" or "postgres".
	Database string `json:"database"`
	// Workload names the workload: schedule, poll, transition, logs,
	// logs-copy or events.
	Workload string `json:"workload"`
	// Unit is the unit of Rate, e.g. "runs/s".
	Unit string `json:"unit"`
	// Prefectdb is prefectdb's measurement.
	Prefectdb Figures `json:"prefectdb"`
	// Baseline is the hand-written SQL's measurement.
	Baseline Figures `json:"baseline"`
	// Ratio is Prefectdb.Rate / Baseline.Rate: above 1, prefectdb was
	// faster. With several rounds, Prefectdb and Baseline are the figures
	// of the round whose ratio is the median (the lower middle one for an
	// even number of rounds).
	Ratio float64 `json:"ratio"`
	// RatioMin and RatioMax are the lowest and highest ratio of the rounds.
	RatioMin float64 `json:"ratio_min"`
	RatioMax float64 `json:"ratio_max"`
	// Rounds are every round's figures, in the order measured.
	Rounds []Round `json:"rounds"`
}

// ScalePoint is the poll latency at one table size.
type ScalePoint struct {
	// Rows is the number of flow runs in the table.
	Rows int `json:"rows"`
	// Scheduled is how many of them are SCHEDULED.
	Scheduled int `json:"scheduled"`
	// Prefectdb and Baseline are the polls' figures at this size.
	Prefectdb Figures `json:"prefectdb"`
	Baseline  Figures `json:"baseline"`
}

// ScaleResult is the poll latency as the flow_run table grows.
type ScaleResult struct {
	// Database is "sqlite" or "postgres".
	Database string `json:"database"`
	// Points are the measurements, smallest table first.
	Points []ScalePoint `json:"points"`
	// Growth is prefectdb's p99 at the largest size divided by its p99 at
	// the smallest; BaselineGrowth is the same for the baseline.
	Growth         float64 `json:"p99_growth"`
	BaselineGrowth float64 `json:"baseline_p99_growth"`

	server string
}

// MinRatio names the lowest ratio of a report.
type MinRatio struct {
	// Ratio is the lowest ratio; Workload and Database say where it is.
	Ratio    float64 `json:"ratio"`
	Workload string  `json:"workload"`
	Database string  `json:"database"`
}

// Report is the outcome of one benchmark run.
type Report struct {
	// Command is the command line that produced the report.
	Command string `json:"command"`
	// Started is when the run began.
	Started time.Time `json:"started"`
	// Database is the kind of database; Server its version.
	Database string `json:"database"`
	Server   string `json:"server"`
	// Host describes the machine: Go version, OS/architecture, CPUs.
	Host string `json:"host"`
	// Config is the configuration the run used.
	Config Config `json:"config"`
	// Results are the workloads with their baselines, in the order run.
	Results []Result `json:"results"`
	// Scale is the scale workload's outcome, if it ran.
	Scale *ScaleResult `json:"scale,omitempty"`
	// Min is the lowest ratio among Results.
	Min *MinRatio `json:"min_ratio,omitempty"`
}

// units of the workloads' figures.
var units = map[string]string{
	"schedule": "runs/s", "poll": "polls/s", "transition": "transitions/s",
	"logs": "rows/s", "logs-copy": "rows/s", "events": "rows/s",
}

// add appends the result of a workload's rounds (at least one) and updates
// the minimum ratio.
func (r *Report) add(workload string, rounds []Round) Result {
	byRatio := slices.Clone(rounds)
	slices.SortStableFunc(byRatio, func(a, b Round) int { return cmp.Compare(a.ratio(), b.ratio()) })
	median := byRatio[(len(byRatio)-1)/2]
	res := Result{Database: r.Database, Workload: workload, Unit: units[workload],
		Prefectdb: median.Prefectdb, Baseline: median.Baseline, Ratio: median.ratio(),
		RatioMin: byRatio[0].ratio(), RatioMax: byRatio[len(byRatio)-1].ratio(), Rounds: rounds}
	r.Results = append(r.Results, res)
	if r.Min == nil || res.Ratio < r.Min.Ratio {
		r.Min = &MinRatio{Ratio: res.Ratio, Workload: workload, Database: r.Database}
	}
	return res
}

// WriteTable writes the report as text: the workloads table, the scale
// table, and last the line "min ratio: X.XX (workload, database)".
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s, %s; %s\n", r.Server, r.Host, r.Config.summary())
	fmt.Fprintf(w, "ratio = prefectdb / baseline (higher is better); notes give prefectdb/baseline\n\n")
	fmt.Fprintf(w, "%-9s %-10s %-14s %11s %11s %6s  %s\n", "database", "workload", "figure", "prefectdb", "baseline", "ratio", "notes")
	for _, res := range r.Results {
		line := fmt.Sprintf("%-9s %-10s %-14s %11s %11s %6.2f  %s", res.Database, res.Workload, res.Unit,
			formatCount(res.Prefectdb.Rate), formatCount(res.Baseline.Rate), res.Ratio, notes(res))
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	if s := r.Scale; s != nil && len(s.Points) > 0 {
		fmt.Fprintf(w, "\nscale: poll latency as flow_run grows (%s of the runs scheduled, the rest finished; %d pollers)\n",
			formatCount(float64(s.Points[0].Scheduled)), r.Config.Concurrency)
		fmt.Fprintf(w, "%-9s %10s %17s %17s %17s %17s\n", "database", "flow runs", "prefectdb p50 ms", "prefectdb p99 ms",
			"baseline p50 ms", "baseline p99 ms")
		for _, p := range s.Points {
			fmt.Fprintf(w, "%-9s %10s %17s %17s %17s %17s\n", s.Database, formatCount(float64(p.Rows)),
				ms(p.Prefectdb.P50Ms), ms(p.Prefectdb.P99Ms), ms(p.Baseline.P50Ms), ms(p.Baseline.P99Ms))
		}
		last := s.Points[len(s.Points)-1].Rows
		fmt.Fprintf(w, "%-9s p99 growth %s → %s runs: prefectdb %.2fx, baseline %.2fx (target ≤ 2x)\n", s.Database,
			formatCount(float64(s.Points[0].Rows)), formatCount(float64(last)), s.Growth, s.BaselineGrowth)
	}
	if r.Min != nil {
		_, err := fmt.Fprintf(w, "\nmin ratio: %.2f (%s, %s)\n", r.Min.Ratio, r.Min.Workload, r.Min.Database)
		return err
	}
	return nil
}

// notes are the secondary figures of a result, prefectdb/baseline.
func notes(res Result) string {
	var parts []string
	l, b := res.Prefectdb, res.Baseline
	if l.P50Ms > 0 || b.P50Ms > 0 {
		parts = append(parts, fmt.Sprintf("p50 %s/%s ms", ms(l.P50Ms), ms(b.P50Ms)),
			fmt.Sprintf("p99 %s/%s ms", ms(l.P99Ms), ms(b.P99Ms)))
	}
	if l.RunsPerPoll > 0 || b.RunsPerPoll > 0 {
		parts = append(parts, fmt.Sprintf("runs/poll %.1f/%.1f", l.RunsPerPoll, b.RunsPerPoll))
	}
	if l.PeakRSSMB > 0 || b.PeakRSSMB > 0 {
		parts = append(parts, fmt.Sprintf("peak RSS %.0f/%.0f MiB", l.PeakRSSMB, b.PeakRSSMB))
	}
	if len(res.Rounds) > 1 {
		parts = append(parts, fmt.Sprintf("ratio %.2f–%.2f over %d rounds", res.RatioMin, res.RatioMax, len(res.Rounds)))
	}
	return strings.Join(parts, ", ")
}

func ms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// WriteJSON writes the report as indented JSON to path.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// percentile returns the q-quantile (0 < q ≤ 1) of sorted durations in
// milliseconds (nearest rank).
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}
