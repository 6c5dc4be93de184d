package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/npti-studio/npti/analysis"
)

// benchFolder writes a PersonalityBench folder with two short
// descriptions per aspect, naming it (so that prompts fit persona-tiny's
// 256 positions), and, per split given, Extraversion questions.
func benchFolder(t *testing.T, splits map[string][]string) string {
	t.Helper()
	dir := t.TempDir()
	var desc strings.Builder
	for _, line := range []string{"You love people and parties.", "You keep to yourself."} {
		var keys []string
		for _, a := range analysis.Aspects() {
			keys = append(keys, `"`+a.Key()+`": "`+line+` (`+a.Key()+`)"`)
		}
		desc.WriteString("{" + strings.Join(keys, ", ") + "}\n")
	}
	os.WriteFile(filepath.Join(dir, analysis.DescriptionsFile), []byte(desc.String()), 0o644)
	for split, qs := range splits {
		os.MkdirAll(filepath.Join(dir, split), 0o755)
		var b strings.Builder
		for _, q := range qs {
			b.WriteString(`{"question": "` + q + `"}` + "\n")
		}
		os.WriteFile(filepath.Join(dir, split, "Extraversion.json"), []byte(b.String()), 0o644)
	}
	return dir
}

// TestIdentifySplit: --split search identifies on the search questions
// (the same statistics as those questions under test/), records the split
// in the resume settings, and is refused where it cannot apply.
func TestIdentifySplit(t *testing.T) {
	model := neuronsShared(t, "models", "persona-tiny")
	search := []string{"What do you do on a free Saturday?", "How do you greet a new neighbour?"}
	test := []string{"Describe your ideal holiday.", "What do you say at a party?"}
	both := benchFolder(t, map[string][]string{"search": search, "test": test})
	asTest := benchFolder(t, map[string][]string{"test": search})
	out := t.TempDir()
	identify := func(name string, extra ...string) (*analysis.StatsSet, error) {
		args := append([]string{"--model", model, "--mode", "prompt", "--traits", "extraversion", "--questions", "2",
			"--out", filepath.Join(out, name)}, extra...)
		var stdout, stderr bytes.Buffer
		if err := runIdentify(context.Background(), args, &stdout, &stderr); err != nil {
			return nil, err
		}
		return analysis.LoadStats(filepath.Join(out, name))
	}
	fromSearch, err := identify("search", "--data", both, "--split", "search")
	if err != nil {
		t.Fatal(err)
	}
	fromTest, err := identify("test", "--data", both)
	if err != nil {
		t.Fatal(err)
	}
	reference, err := identify("reference", "--data", asTest, "--split", "test")
	if err != nil {
		t.Fatal(err)
	}
	eh := analysis.Aspect{Trait: analysis.Extraversion, Pole: analysis.High}
	if s, r := fromSearch.Poles[eh], reference.Poles[eh]; s.Tokens != r.Tokens || !slices.Equal(s.Active, r.Active) {
		t.Error("--split search did not count the search questions")
	}
	if fromTest.Poles[eh].Tokens == fromSearch.Poles[eh].Tokens {
		t.Error("the default split counted the search questions")
	}
	settings, _ := fromSearch.Meta.Progress["settings"].(map[string]any)
	if settings["split"] != "search" || !strings.HasSuffix(fromSearch.Meta.DataSource, " split search") {
		t.Errorf("settings %v, data source %q", settings, fromSearch.Meta.DataSource)
	}
	if s, _ := fromTest.Meta.Progress["settings"].(map[string]any); s["split"] != "test" {
		t.Errorf("default split recorded as %v", s["split"])
	}
	// Resuming the search run with the test split is refused.
	if _, err := identify("search", "--data", both, "--split", "test", "--resume"); err == nil || !strings.Contains(err.Error(), "split") {
		t.Errorf("resume with another split: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", both, "--split", "train"}, `unknown split "train"`},
		{[]string{"--split", "search"}, "--split search needs --data"},
		{[]string{"--data", asTest, "--split", "search"}, "search"},
	} {
		if _, err := identify("bad", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
	// induce takes its questions from the split too.
	answers := filepath.Join(out, "answers.jsonl")
	var stdout, stderr bytes.Buffer
	args := []string{"--model", model, "--neurons", filepath.Join(model, "reference-neurons"), "--induce", "extraversion:high",
		"--data", both, "--split", "search", "--max-new-tokens", "2", "--conditions", "unsteered", "--out", answers}
	if err := runInduce(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	as, err := analysis.ReadAnswers(answers)
	if err != nil {
		t.Fatal(err)
	}
	var qs []string
	for _, a := range as {
		qs = append(qs, a.Question)
	}
	if !slices.Equal(qs, search) {
		t.Errorf("induce --split search answered %q", qs)
	}
}
