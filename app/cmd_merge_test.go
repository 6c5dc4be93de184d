package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference/hook"
)

// saveShard writes a small stats folder as `npti identify --shard` would
// record it (mode and shard in its resume settings).
func saveShard(t *testing.T, dir, mode, shard string) {
	t.Helper()
	st := hook.NewStats(2, 3, true)
	st.Tokens = 4
	for i := range st.Active {
		st.Active[i] = int64(i % 3)
		st.Hist[i*hook.Bins] = uint32(st.Tokens - st.Active[i])
		st.Hist[i*hook.Bins+5] = uint32(st.Active[i])
	}
	settings := map[string]any{"mode": mode, "shard": shard, "seed": "0", "data_source": "probes", "batch": 8,
		"aspects": []any{"Extraversion"}, "lines": "0-0", "questions": 0, "chat": 0, "model_hash": "h", "shape": "2x3"}
	s := &analysis.StatsSet{Meta: analysis.Meta{Model: "m", ModelHash: "h", Mode: analysis.CountTeacherForced,
		Progress: map[string]any{"settings": settings, "complete": true}},
		Poles: map[analysis.Aspect]*hook.Stats{{Trait: analysis.Extraversion, Pole: analysis.High}: st}}
	if err := analysis.SaveStats(dir, s); err != nil {
		t.Fatal(err)
	}
}

func TestMergeCLIRefusals(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	saveShard(t, p("s0"), analysis.IdentifyTeacher, "0/2")
	saveShard(t, p("s1"), analysis.IdentifyTeacher, "1/2")
	saveShard(t, p("prompt1"), analysis.IdentifyPrompt, "1/2")
	saveShard(t, p("other0"), analysis.IdentifyTeacher, "0/3")
	before, _ := os.ReadFile(p("s0/meta.json"))
	t.Chdir(dir)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", p("m"), p("s0"), p("s0")}, "is given twice"},
		{[]string{"--out", p("m"), "s0", p("s0") + "/"}, "is given twice"},
		{[]string{"--out", p("m"), "./s1/../s0", "s0"}, "is given twice"},
		{[]string{"--out", p("s0"), "s0", "s1"}, "--out " + p("s0") + " is also an input"},
		{[]string{"--out", "./s1/", "s0", "s1"}, "is also an input"},
		{[]string{"--out", p("other0"), "s0", "s1"}, "already holds statistics"},
		{[]string{"--out", p("m"), "s0", "prompt1"}, `s0 was identified in mode "teacher" and prompt1 in mode "prompt"`},
		{[]string{"--out", p("m"), "s0", "other0"}, "s0 (shard 0/2) and other0 (shard 0/3)"},
	} {
		var stdout, stderr bytes.Buffer
		err := runMerge(context.Background(), tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("merge %v: error %v, want %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(p("m")); err == nil {
		t.Error("a refused merge wrote its --out")
	}
	if after, _ := os.ReadFile(p("s0/meta.json")); !bytes.Equal(before, after) {
		t.Error("a refused merge changed an input folder")
	}
	var stdout, stderr bytes.Buffer
	if err := runMerge(context.Background(), []string{"--out", p("m"), "s0", "s1"}, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	m, err := analysis.LoadStats(p("m"))
	if err != nil {
		t.Fatal(err)
	}
	if st := m.Poles[analysis.Aspect{Trait: analysis.Extraversion, Pole: analysis.High}]; st.Tokens != 8 || len(m.Runs()) != 2 {
		t.Errorf("merged %d tokens, runs %v", st.Tokens, m.Runs())
	}
	// The merged folder remembers its shards: adding one again is refused.
	err = runMerge(context.Background(), []string{"--out", p("m2"), "m", "s1"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "m and s1 hold the same run") {
		t.Errorf("merge of a merged folder with its own shard: %v", err)
	}
}
