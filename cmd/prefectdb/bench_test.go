package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prefectdb/prefectdb/internal/testutil"
)

// TestMain makes the test binary act as prefectdb when bench starts it as a
// child process (benchChild runs os.Executable(), which here is the test
// binary, with benchChildEnv set).
func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// tinyBench are bench flags small enough for a smoke test: every workload
// runs, on a few rows, in two rounds.
var tinyBench = []string{"--runs", "30", "--concurrency", "2", "--logs", "600", "--events", "40",
	"--poll-time", "200ms", "--scale-small", "200", "--scale-large", "600", "--scale-scheduled", "20", "--rounds", "2"}

// TestBenchSmoke runs the bench command with tiny sizes on SQLite and on
// PostgreSQL and checks the shape of its table and of its JSON file, not
// its speed. PostgreSQL is skipped when unreachable, except under CI=true.
func TestBenchSmoke(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			args := append([]string{"bench"}, tinyBench...)
			workloads := []string{"schedule", "poll", "transition", "logs", "events"}
			if db == "postgres" {
				args = append(args, "--url", testutil.RequirePostgres(t))
				workloads = []string{"schedule", "poll", "transition", "logs", "logs-copy", "events"}
			}
			jsonPath := filepath.Join(t.TempDir(), "bench.json")
			args = append(args, "--json", jsonPath)
			var stdout, stderr bytes.Buffer
			// PREFECT_HOME points nowhere: bench must not touch the configured database.
			home := filepath.Join(t.TempDir(), "home")
			env := map[string]string{"PREFECT_HOME": home}
			err := run(context.Background(), args, nil, &stdout, &stderr, func(k string) string { return env[k] })
			if err != nil {
				t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			out := stdout.String()
			t.Logf("\n%s", out)
			if _, err := os.Stat(home); !os.IsNotExist(err) {
				t.Errorf("bench created %s: it must never use the configured database", home)
			}
			if n := strings.Count(out, "peak RSS"); n != len(workloads)-4 {
				t.Errorf("%d rows with the peak RSS of the log ingestion, want %d", n, len(workloads)-4)
			}
			if !strings.Contains(stderr.String(), "\r") {
				t.Errorf("no progress line (\\r updates) on stderr: %q", stderr.String())
			}

			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if last := lines[len(lines)-1]; !regexp.MustCompile(`^min ratio: \d+\.\d\d \([a-z-]+, ` + db + `\)$`).MatchString(last) {
				t.Errorf("last line %q is not `min ratio: X.XX (workload, %s)`", last, db)
			}
			if !regexp.MustCompile(`(?m)^database\s+workload\s+figure\s+prefectdb\s+baseline\s+ratio\s+notes$`).MatchString(out) {
				t.Errorf("no table header in:\n%s", out)
			}
			for _, w := range workloads {
				row := regexp.MustCompile(`(?m)^` + db + `\s+` + w + `\s+\S+/s\s+[\d,.]+\s+[\d,.]+\s+\d+\.\d\d.*ratio \d+\.\d\d–\d+\.\d\d over 2 rounds$`)
				if !row.MatchString(out) {
					t.Errorf("no %s row in:\n%s", w, out)
				}
			}
			if !regexp.MustCompile(`(?m)^`+db+`\s+600\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+$`).MatchString(out) ||
				!strings.Contains(out, "p99 growth 200 → 600 runs") {
				t.Errorf("no scale table in:\n%s", out)
			}

			var rep struct {
				Command  string `json:"command"`
				Database string `json:"database"`
				Results  []struct {
					Database, Workload, Unit string
					Ratio                    float64
					RatioMin                 float64 `json:"ratio_min"`
					RatioMax                 float64 `json:"ratio_max"`
					Prefectdb, Baseline      struct {
						Rate    float64 `json:"rate"`
						Count   int64   `json:"count"`
						Seconds float64 `json:"seconds"`
					}
					Rounds []struct {
						Prefectdb, Baseline struct {
							Rate float64 `json:"rate"`
						}
					} `json:"rounds"`
				} `json:"results"`
				Scale struct {
					Points []struct {
						Rows      int `json:"rows"`
						Prefectdb struct {
							P99 float64 `json:"p99_ms"`
						} `json:"prefectdb"`
					} `json:"points"`
					Growth float64 `json:"p99_growth"`
				} `json:"scale"`
				Min struct {
					Ratio    float64 `json:"ratio"`
					Workload string  `json:"workload"`
					Database string  `json:"database"`
				} `json:"min_ratio"`
			}
			data, err := os.ReadFile(jsonPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &rep); err != nil {
				t.Fatalf("JSON: %v\n%s", err, data)
			}
			if rep.Database != db || !strings.HasPrefix(rep.Command, "prefectdb bench --runs 30") {
				t.Errorf("JSON database %q, command %q", rep.Database, rep.Command)
			}
			if len(rep.Results) != len(workloads) {
				t.Fatalf("JSON has %d results, want %d: %s", len(rep.Results), len(workloads), data)
			}
			for k, r := range rep.Results {
				if r.Workload != workloads[k] || r.Database != db || !strings.HasSuffix(r.Unit, "/s") ||
					r.Prefectdb.Rate <= 0 || r.Baseline.Rate <= 0 || r.Prefectdb.Count <= 0 || r.Baseline.Seconds <= 0 ||
					r.Ratio <= 0 {
					t.Errorf("JSON result %d: %+v", k, r)
				}
				// Two rounds: the reported ratio is the lower one's, and
				// both are kept.
				if len(r.Rounds) != 2 {
					t.Fatalf("JSON result %d: %d rounds, want 2", k, len(r.Rounds))
				}
				ratios := []float64{r.Rounds[0].Prefectdb.Rate / r.Rounds[0].Baseline.Rate, r.Rounds[1].Prefectdb.Rate / r.Rounds[1].Baseline.Rate}
				lo, hi := min(ratios[0], ratios[1]), max(ratios[0], ratios[1])
				if r.Ratio != lo || r.RatioMin != lo || r.RatioMax != hi || r.Prefectdb.Rate/r.Baseline.Rate != lo {
					t.Errorf("JSON result %d: ratio %v (range %v–%v), rounds' ratios %v", k, r.Ratio, r.RatioMin, r.RatioMax, ratios)
				}
			}
			if len(rep.Scale.Points) != 2 || rep.Scale.Points[1].Rows != 600 || rep.Scale.Points[0].Prefectdb.P99 <= 0 || rep.Scale.Growth <= 0 {
				t.Errorf("JSON scale: %+v", rep.Scale)
			}
			if rep.Min.Database != db || rep.Min.Ratio <= 0 || rep.Min.Workload == "" {
				t.Errorf("JSON min ratio: %+v", rep.Min)
			}
		})
	}
}

// TestBenchRefusals: bench refuses what it cannot run safely, before it
// touches any database.
func TestBenchRefusals(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--url", "sqlite:///" + filepath.Join(t.TempDir(), "prefect.db")}, "must be a PostgreSQL server"},
		{[]string{"bench", "--only", "nonsense"}, `unknown workload "nonsense"`},
		{[]string{"bench", "--runs", "-3"}, "runs must be at least 1"},
		{[]string{"bench", "extra"}, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), c.args, nil, &stdout, &stderr, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}
