package app

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/npti-studio/npti/analysis"
)

// TestInduceResumeOtherPlan is the repro of issue 3: resuming into the
// same answers file with neuroticism:low instead of neuroticism:high must
// answer the prompt baselines again (their prompts name the plan's
// poles), while the same command again adds nothing.
func TestInduceResumeOtherPlan(t *testing.T) {
	model := neuronsShared(t, "models", "persona-tiny")
	data := benchFolder(t, map[string][]string{"test": {"How are you?"}})
	answers := filepath.Join(t.TempDir(), "answers.jsonl")
	induce := func(plan string) int {
		t.Helper()
		args := []string{"--model", model, "--neurons", filepath.Join(model, "reference-neurons"), "--data", data, "--openings",
			"--limit", "2", "--max-new-tokens", "3", "--induce", plan, "--conditions", "adjective,persona", "--out", answers, "--resume"}
		var stdout, stderr bytes.Buffer
		if err := runInduce(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatal(err, stderr.String())
		}
		as, err := analysis.ReadAnswers(answers)
		if err != nil {
			t.Fatal(err)
		}
		return len(as)
	}
	if n := induce("extraversion:high,neuroticism:high"); n != 4 {
		t.Fatalf("first run wrote %d answers, want 2 openings × 2 conditions", n)
	}
	if n := induce("extraversion:high,neuroticism:high"); n != 4 {
		t.Errorf("the same run again: %d answers in the file, want 4", n)
	}
	if n := induce("extraversion:high,neuroticism:low"); n != 8 {
		t.Errorf("resume with neuroticism:low: %d answers in the file, want 4 new ones (8)", n)
	}
}
