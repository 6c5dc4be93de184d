package app

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/npti-studio/npti/analysis"
)

// TestWriteScoredAtomic: a failed write of `score --out` leaves the
// previous file as it was (os.Create truncated it first).
func TestWriteScoredAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scored.jsonl")
	good := []analysis.Scored{{Answer: analysis.Answer{Question: "q", Condition: analysis.CondUnsteered}, PHigh: 0.25}}
	if err := writeScored(path, good); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if !strings.Contains(string(before), `"p_high":0.25`) {
		t.Fatalf("scored file %s", before)
	}
	bad := []analysis.Scored{{Answer: good[0].Answer, PHigh: 0.75}, {Answer: good[0].Answer, PHigh: math.NaN()}}
	if err := writeScored(path, bad); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("unencodable answer: error %v", err)
	}
	after, _ := os.ReadFile(path)
	entries, _ := os.ReadDir(filepath.Dir(path))
	if !bytes.Equal(before, after) || len(entries) != 1 {
		t.Errorf("failed write changed the file (%q) or left %d files", after, len(entries))
	}
}

// TestScoreMultiTraitAndScopes is the audit's repro: a two-trait plan
// induced with --scope generated and then --scope all --resume into one
// answers file. score rates every answer on both traits and keeps the two
// scopes in rows of their own (it used to show one row of the first trait
// with n=4 mixing both).
func TestScoreMultiTraitAndScopes(t *testing.T) {
	model := neuronsShared(t, "models", "persona-tiny")
	data := benchFolder(t, map[string][]string{"test": {"How are you?"}})
	answers := filepath.Join(t.TempDir(), "answers.jsonl")
	for _, scope := range []string{"generated", "all"} {
		args := []string{"--model", model, "--neurons", filepath.Join(model, "reference-neurons"), "--data", data, "--openings",
			"--limit", "2", "--max-new-tokens", "4", "--induce", "extraversion:high,neuroticism:low", "--scope", scope,
			"--conditions", "unsteered,induced", "--out", answers, "--resume"}
		var stdout, stderr bytes.Buffer
		if err := runInduce(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatal(err, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if err := runScore(context.Background(), []string{"--answers", answers, "--data", data, "--json"}, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	var got scoreOutput
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Answers != 6 {
		t.Errorf("%d answers scored, want 2 unsteered + 2 × 2 induced", got.Answers)
	}
	scopes := map[string]map[string]int{} // trait -> scope -> n of induced rows
	unsteered := map[string]int{}
	for _, r := range got.Summary {
		switch r.Condition {
		case analysis.CondInduced:
			if scopes[r.Trait] == nil {
				scopes[r.Trait] = map[string]int{}
			}
			scopes[r.Trait][r.Scope] += r.N
			if r.Plan != "extraversion:high:1.4,neuroticism:low:1.4" {
				t.Errorf("induced row names plan %q", r.Plan)
			}
			if r.Trait == "Neuroticism" && r.Pole != "low" {
				t.Errorf("neuroticism row with pole %q", r.Pole)
			}
		case analysis.CondUnsteered:
			unsteered[r.Trait] += r.N
		}
	}
	want := map[string]int{"generated": 2, "all": 2}
	for _, tr := range []string{"Extraversion", "Neuroticism"} {
		if len(scopes[tr]) != 2 || scopes[tr]["generated"] != want["generated"] || scopes[tr]["all"] != want["all"] || unsteered[tr] != 2 {
			t.Errorf("%s: induced n per scope %v, unsteered n %d; want 2 per scope and 2 unsteered", tr, scopes[tr], unsteered[tr])
		}
	}
	stdout.Reset()
	if err := runScore(context.Background(), []string{"--answers", answers, "--data", data}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "Neuroticism") || !strings.Contains(stdout.String(), "scope=all") {
		t.Errorf("table:\n%s", stdout.String())
	}
}
