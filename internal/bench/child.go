package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/google/uuid"

	"github.com/prefectdb/prefectdb/config"
	"github.com/prefectdb/prefectdb/dbiface"
	"github.com/prefectdb/prefectdb/dialects/connect"
)

// ChildCommand returns a command that runs RunChild in a new process (the
// prefectdb binary: "prefectdb bench --child"). With it, the log workloads
// run in a process of their own, whose peak resident set size is then the
// memory the ingestion needs, and nothing else the benchmark did.
type ChildCommand func(ctx context.Context) (*exec.Cmd, error)

// childSpec is what a child process ingests; the parent writes it as JSON
// on the child's standard input (so that the URL, which may carry a
// password, never appears in a process list).
type childSpec struct {
	Side        Side        `json:"side"`
	Kind        config.Kind `json:"kind"`
	URL         string      `json:"url"`
	Copy        bool        `json:"copy"`
	Rows        int         `json:"rows"`
	Concurrency int         `json:"concurrency"`
	Label       string      `json:"label"`
}

// runInChild runs one log ingestion in a child process and returns its
// figures, with the child's peak RSS.
func runInChild(ctx context.Context, child ChildCommand, spec childSpec, progress io.Writer) (Figures, error) {
	cmd, err := child(ctx)
	if err != nil {
		return Figures{}, err
	}
	in, err := json.Marshal(spec)
	if err != nil {
		return Figures{}, err
	}
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout = bytes.NewReader(in), &out
	cmd.Stderr = &errOut
	if progress != nil {
		cmd.Stderr = io.MultiWriter(progress, &errOut)
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errOut.String())
		if i := strings.LastIndexAny(msg, "\r\n"); i >= 0 {
			msg = msg[i+1:]
		}
		return Figures{}, fmt.Errorf("child process: %w: %s", err, msg)
	}
	var f Figures
	if err := json.Unmarshal(out.Bytes(), &f); err != nil {
		return Figures{}, fmt.Errorf("child process: %w", err)
	}
	return f, nil
}

// RunChild is the child side of a log ingestion measured in a process of
// its own: it reads the job from stdin (written by the parent benchmark),
// ingests the log rows into the database named there, writes the figures
// as JSON to stdout, with the process's peak resident set size, and shows
// its progress line on progress.
func RunChild(ctx context.Context, stdin io.Reader, stdout, progressOut io.Writer) error {
	var spec childSpec
	if err := json.NewDecoder(stdin).Decode(&spec); err != nil {
		return fmt.Errorf("bench child: read the job from stdin: %w", err)
	}
	runs, err := runIDs(ctx, spec.URL)
	if err != nil {
		return fmt.Errorf("bench child: %w", err)
	}
	var t Target
	switch {
	case spec.Side == Prefectdb:
		db, err := dbiface.Open(ctx, dbiface.Config{URL: spec.URL, Options: poolOptions(spec.Concurrency)})
		if err != nil {
			return fmt.Errorf("bench child: %w", err)
		}
		t = NewLibTarget(db, &Fixture{})
	default:
		if t, err = openBaseline(ctx, spec.Kind, spec.URL, spec.Concurrency, &Fixture{}); err != nil {
			return fmt.Errorf("bench child: %w", err)
		}
	}
	defer t.Close()
	p := &progress{w: progressOut}
	f, err := withPeakRSS(func() (Figures, error) {
		if spec.Copy {
			return measureCopy(ctx, t, runs, spec.Rows, spec.Concurrency, p, spec.Label)
		}
		return measureLogs(ctx, t, runs, spec.Rows, spec.Concurrency, p, spec.Label)
	})
	p.clear()
	if err != nil {
		return fmt.Errorf("bench child: %w", err)
	}
	return json.NewEncoder(stdout).Encode(f)
}

// runIDs reads the ids of the flow runs of the database at url.
func runIDs(ctx context.Context, url string) ([]uuid.UUID, error) {
	db, err := connect.Open(ctx, url, config.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.DB.QueryContext(ctx, "SELECT id FROM flow_run ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 && rows.Err() == nil {
		return nil, fmt.Errorf("no flow runs in %s", config.Redact(url))
	}
	return ids, rows.Err()
}
