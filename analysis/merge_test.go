package analysis

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestMergeRefusesDoubleCounting: sets whose runs count the same items
// (the same run, overlapping shards, overlapping description lines or
// question prefixes) or come from different identification modes are
// refused, from their recorded settings; disjoint parts merge.
func TestMergeRefusesDoubleCounting(t *testing.T) {
	bench := probeBench(t)
	teacher := IdentifyRequest{Mode: IdentifyTeacher, Bench: bench, DataSource: "probes", Batch: 4,
		Aspects: []Aspect{{Extraversion, High}, {Extraversion, Low}}}
	npti := IdentifyRequest{Mode: IdentifyNPTI, Bench: bench, DataSource: "probes", Questions: 6, MaxNewTokens: 4, Batch: 2,
		Aspects: []Aspect{{Extraversion, High}}}
	run := func(q IdentifyRequest, edit func(*IdentifyRequest)) *StatsSet {
		t.Helper()
		if edit != nil {
			edit(&q)
		}
		s, err := Identify(context.Background(), newFake(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	shard := func(i, n int) func(*IdentifyRequest) {
		return func(q *IdentifyRequest) { q.Shard, q.Shards = i, n }
	}
	lines := func(lo, hi int) func(*IdentifyRequest) {
		return func(q *IdentifyRequest) { q.Lines = [2]int{lo, hi} }
	}
	for _, tt := range []struct {
		name string
		a, b *StatsSet
		want string // "" = merges
	}{
		{"same run", run(teacher, nil), run(teacher, nil), "hold the same run (identical settings)"},
		{"same shard, other batch", run(teacher, shard(1, 2)), run(teacher, func(q *IdentifyRequest) { q.Shard, q.Shards, q.Batch = 1, 2, 3 }),
			"are the same shard 1/2"},
		{"shard counts", run(teacher, shard(0, 2)), run(teacher, shard(1, 3)), "different shard counts"},
		{"disjoint shards", run(teacher, shard(0, 3)), run(teacher, shard(2, 3)), ""},
		{"modes", run(teacher, nil), run(teacher, func(q *IdentifyRequest) { q.Mode = IdentifyPrompt }), `mode "teacher" and set 2 in mode "prompt"`},
		{"overlapping lines", run(teacher, lines(0, 10)), run(teacher, lines(5, 15)), "count some of the same descriptions"},
		{"overlapping shifted shards", run(teacher, func(q *IdentifyRequest) { q.Lines, q.Shard, q.Shards = [2]int{0, 10}, 0, 2 }),
			run(teacher, func(q *IdentifyRequest) { q.Lines, q.Shard, q.Shards = [2]int{1, 11}, 1, 2 }), "count some of the same descriptions"},
		{"disjoint shifted shards", run(teacher, func(q *IdentifyRequest) { q.Lines, q.Shard, q.Shards = [2]int{0, 10}, 0, 2 }),
			run(teacher, func(q *IdentifyRequest) { q.Lines, q.Shard, q.Shards = [2]int{1, 11}, 0, 2 }), ""},
		{"adjacent lines", run(teacher, lines(0, 10)), run(teacher, lines(10, 20)), ""},
		{"other aspects", run(teacher, func(q *IdentifyRequest) { q.Aspects = []Aspect{{Openness, High}} }), run(teacher, nil), ""},
		{"question prefix", run(npti, nil), run(npti, func(q *IdentifyRequest) { q.Questions = 3 }), "are the same shard 0/1"},
		{"other seeds", run(npti, nil), run(npti, func(q *IdentifyRequest) { q.Seed = 9 }), ""},
		// Teacher forcing counts the descriptions, whatever the seed or
		// the question split.
		{"teacher, other seed", run(teacher, nil), run(teacher, func(q *IdentifyRequest) { q.Seed = 9 }), "are the same shard 0/1"},
		{"teacher, other split", run(teacher, nil), run(teacher, func(q *IdentifyRequest) { q.Split, q.DataSource = SplitSearch, "probes split search" }),
			"are the same shard 0/1"},
	} {
		_, err := MergeStats(tt.a, tt.b)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestMergeKeepsRunSettings: a merged set records the settings of every
// run (flattened), on disk too, and a later merge checks them.
func TestMergeKeepsRunSettings(t *testing.T) {
	req := IdentifyRequest{Mode: IdentifyTeacher, Bench: probeBench(t), DataSource: "probes", Batch: 4, Shards: 3,
		Aspects: []Aspect{{Neuroticism, Low}}}
	var parts []*StatsSet
	for i := range 3 {
		q := req
		q.Shard = i
		s, err := Identify(context.Background(), newFake(), q, nil)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, s)
	}
	dir := t.TempDir()
	m01, err := MergeStats(parts[0], parts[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveStats(filepath.Join(dir, "m01"), m01); err != nil {
		t.Fatal(err)
	}
	m01, err = LoadStats(filepath.Join(dir, "m01"))
	if err != nil {
		t.Fatal(err)
	}
	if runs := m01.Runs(); len(runs) != 2 || runs[0]["shard"] != "0/3" || runs[1]["shard"] != "1/3" || runs[0]["mode"] != IdentifyTeacher {
		t.Fatalf("merged runs %v", runs)
	}
	if _, err := MergeStatsNamed([]string{"m01", "shard1"}, m01, parts[1]); err == nil ||
		!strings.Contains(err.Error(), "m01 and shard1 hold the same run") {
		t.Errorf("merged set with one of its own shards: %v", err)
	}
	all, err := MergeStats(m01, parts[2])
	if err != nil {
		t.Fatal(err)
	}
	if runs := all.Runs(); len(runs) != 3 || runs[2]["shard"] != "2/3" {
		t.Errorf("nested merge runs %v", runs)
	}
	if _, err := MergeStats(all, m01); err == nil {
		t.Error("a merge with a merge it contains succeeded")
	}
	whole, err := Identify(context.Background(), newFake(), IdentifyRequest{Mode: IdentifyTeacher, Bench: req.Bench, DataSource: "probes",
		Batch: 4, Aspects: req.Aspects}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameStats(t, "three shards merged in two steps", all, whole)
	if _, err := MergeStats(all, whole); err == nil || !strings.Contains(err.Error(), "different shard counts") {
		t.Errorf("shards with the whole run: %v", err)
	}
}
