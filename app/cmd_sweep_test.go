package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sweepArgs are a small sweep of persona-tiny from two openings.
func sweepArgs(t *testing.T, out string, extra ...string) []string {
	model := neuronsShared(t, "models", "persona-tiny")
	return append([]string{"--model", model, "--neurons", filepath.Join(model, "reference-neurons"), "--openings", "--limit", "2",
		"--max-new-tokens", "6", "--induce", "extraversion:high", "--gammas", "1", "--baselines=false", "--out", out}, extra...)
}

func readSweepJSON(t *testing.T, dir string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSweepCLIFluencyBound: --max-fluency-cost 0 means 0 (it was read as
// the default 1.0); negative, NaN and infinite bounds are refused before
// the model loads.
func TestSweepCLIFluencyBound(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range []string{"-1", "NaN", "+Inf"} {
		var stdout, stderr bytes.Buffer
		err := runSweep(context.Background(), []string{"--max-fluency-cost", bad, "--out", dir}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "bad --max-fluency-cost") {
			t.Errorf("--max-fluency-cost %s: error %v", bad, err)
		}
	}
	for _, tc := range []struct {
		args []string
		want float64
	}{{[]string{"--max-fluency-cost", "0"}, 0}, {nil, 1}} {
		out := filepath.Join(dir, "s"+strings.Join(tc.args, ""))
		var stdout, stderr bytes.Buffer
		if err := runSweep(context.Background(), sweepArgs(t, out, tc.args...), &stdout, &stderr); err != nil {
			t.Fatal(err, stderr.String())
		}
		if got := readSweepJSON(t, out)["max_fluency_cost"]; got != tc.want {
			t.Errorf("%v: sweep.json max_fluency_cost %v, want %v", tc.args, got, tc.want)
		}
	}
}
