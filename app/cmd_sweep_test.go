package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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

// TestSweepCLIResume: --resume reuses the recorded runs (adding a γ runs
// only that γ) and refuses a checkpoint made with other settings; the
// outputs are written whole, with no temporary file left.
func TestSweepCLIResume(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sweep")
	run := func(extra ...string) error {
		var stdout, stderr bytes.Buffer
		return runSweep(context.Background(), sweepArgs(t, out, extra...), &stdout, &stderr)
	}
	if err := run(); err != nil {
		t.Fatal(err)
	}
	first := readSweepJSON(t, out)
	if err := run("--resume", "--gammas", "1,0.5"); err != nil {
		t.Fatal(err)
	}
	second := readSweepJSON(t, out)
	p1, p2 := first["points"].([]any), second["points"].([]any)
	if len(p1) != 1 || len(p2) != 2 || !reflect.DeepEqual(p1[0], p2[0]) || !reflect.DeepEqual(first["unsteered"], second["unsteered"]) {
		t.Errorf("resumed sweep points %v, first run %v", p2, p1)
	}
	if err := run("--resume", "--max-new-tokens", "5"); err == nil || !strings.Contains(err.Error(), `setting "max_new_tokens" was 6, this sweep has 5`) {
		t.Errorf("resume with another token budget: %v", err)
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"sweep-checkpoint.json", "sweep.csv", "sweep.json", "sweep.pdf", "sweep.png", "sweep.svg"}
	if !slices.Equal(names, want) {
		t.Errorf("--out holds %v, want %v", names, want)
	}
}
