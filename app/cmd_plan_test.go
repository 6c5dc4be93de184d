package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestPlanPublishedJSON(t *testing.T) {
	dir := neuronsShared(t, "data", "npti-llama3-8b-instruct")
	var stdout, stderr bytes.Buffer
	args := []string{"--neurons", dir, "--induce", "extraversion:high,neuroticism:high", "--json"}
	if err := runPlan(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got["per_layer"] == nil || got["add"] == nil || got["clamp"] == nil {
		t.Errorf("keys of %s", stdout.String())
	}
	// NPTI.md §6: Extraversion high with Neuroticism high conflict on 11,802 neurons.
	if string(got["conflicts"]) != "11802" {
		t.Errorf("conflicts = %s, want 11802", got["conflicts"])
	}
	var perLayer []map[string]int
	json.Unmarshal(got["per_layer"], &perLayer)
	if len(perLayer) != 32 {
		t.Errorf("%d layers, want 32", len(perLayer))
	}
}

func TestPlanTextAndErrors(t *testing.T) {
	dir := neuronsShared(t, "models", "tiny-random-llama", "neurons")
	var stdout, stderr bytes.Buffer
	args := []string{"--neurons", dir, "--induce", "extraversion:low", "--model-shape", "3,160", "--no-clamp"}
	if err := runPlan(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "total       38        0          0") {
		t.Errorf("plan text:\n%s", stdout.String())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--neurons", dir, "--induce", "extraversion:low", "--model-shape", "3,100"}, "neuron 134 out of range [0, 100)"},
		{[]string{"--neurons", dir, "--induce", "openness:high"}, "Openness_dict.json"},
		{[]string{"--neurons", dir, "--induce", "extraversion:up"}, "unknown pole"},
		{[]string{"--neurons", dir, "--induce", "extraversion:high", "--policy", "vote"}, "unknown conflict policy"},
		{[]string{"--neurons", dir, "--induce", "extraversion:high", "--model-shape", "3"}, "bad --model-shape"},
	} {
		err := runPlan(context.Background(), tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error = %v, want %q", tc.args, err, tc.want)
		}
	}
	if err := runPlan(context.Background(), []string{"--induce", "x"}, &stdout, &stderr); !errors.Is(err, errUsage) {
		t.Errorf("missing --neurons: error = %v", err)
	}
}
