package analysis

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/npti-studio/npti/inference/hook"
	"github.com/npti-studio/npti/resources"
)

func probeBench(t *testing.T) *Bench {
	t.Helper()
	b, err := LoadBench(resources.Probes(), ".")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameStats(t *testing.T, what string, got, want *StatsSet) {
	t.Helper()
	if len(got.Poles) != len(want.Poles) {
		t.Fatalf("%s: %d aspects, want %d", what, len(got.Poles), len(want.Poles))
	}
	for a, w := range want.Poles {
		g := got.Poles[a]
		if g == nil || g.Tokens != w.Tokens || !slices.Equal(g.Active, w.Active) || !slices.Equal(g.Hist, w.Hist) {
			t.Fatalf("%s: statistics of %s differ (tokens %v vs %d)", what, a.Key(), g != nil && g.Tokens == w.Tokens, w.Tokens)
		}
	}
}

func TestIdentifyResumeAfterCancel(t *testing.T) {
	for _, mode := range []string{IdentifyNPTI, IdentifyPrompt, IdentifyTeacher} {
		t.Run(mode, func(t *testing.T) {
			req := IdentifyRequest{Mode: mode, Bench: probeBench(t), DataSource: "probes", Questions: 10, MaxNewTokens: 12,
				Batch: 3, Seed: 7, CheckpointEvery: 2, Aspects: []Aspect{{Extraversion, High}, {Extraversion, Low}, {Openness, Low}}}
			full, err := Identify(context.Background(), newFake(), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			if full.Poles[Aspect{Extraversion, High}].Tokens == 0 {
				t.Fatal("nothing counted")
			}
			req.Out = filepath.Join(t.TempDir(), "stats")
			// Interrupt the sixth batch midway (mid second aspect, between
			// checkpoints): its partial counts must not be kept.
			ctx, cancel := context.WithCancel(context.Background())
			r := newFake()
			r.failAt, r.cancel = 6, cancel
			stopAt := 0
			_, err = Identify(ctx, r, req, func(p Progress) { stopAt = p.Done })
			if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled run: error %v", err)
			}
			mid, err := LoadStats(req.Out)
			if err != nil {
				t.Fatal(err)
			}
			if mid.Meta.Progress[progressComplete] != false {
				t.Fatalf("checkpoint claims to be complete after %d items", stopAt)
			}
			if _, err := Identify(context.Background(), newFake(), req, nil); err == nil {
				t.Fatal("a second run into the same folder without Resume must fail")
			}
			req.Resume = true
			var first Progress
			resumed, err := Identify(context.Background(), newFake(), req, func(p Progress) {
				if first.Total == 0 {
					first = p
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if first.Skipped != stopAt || stopAt < 10 {
				t.Errorf("resume skipped %d items, the interrupted run had done %d", first.Skipped, stopAt)
			}
			sameStats(t, "resumed", resumed, full)
			onDisk, err := LoadStats(req.Out)
			if err != nil {
				t.Fatal(err)
			}
			sameStats(t, "saved", onDisk, full)
			if onDisk.Meta.Model != "fake" || onDisk.Meta.ModelHash != "hash1" || onDisk.Meta.Progress[progressComplete] != true {
				t.Errorf("meta = %+v", onDisk.Meta)
			}
		})
	}
}

func TestIdentifyResumeRejectsOtherSettings(t *testing.T) {
	req := IdentifyRequest{Mode: IdentifyTeacher, Bench: probeBench(t), Batch: 4, Out: filepath.Join(t.TempDir(), "s"),
		Aspects: []Aspect{{Neuroticism, High}}}
	if _, err := Identify(context.Background(), newFake(), req, nil); err != nil {
		t.Fatal(err)
	}
	req.Resume, req.Batch = true, 5
	if _, err := Identify(context.Background(), newFake(), req, nil); err == nil {
		t.Fatal("resuming with another batch size must fail")
	}
}

func TestIdentifyShardsMerge(t *testing.T) {
	base := IdentifyRequest{Mode: IdentifyNPTI, Bench: probeBench(t), Questions: 9, MaxNewTokens: 8, Batch: 2, Seed: 3,
		Aspects: []Aspect{{Agreeableness, High}, {Agreeableness, Low}}}
	full, err := Identify(context.Background(), newFake(), base, nil)
	if err != nil {
		t.Fatal(err)
	}
	var parts []*StatsSet
	for i := 0; i < 2; i++ {
		r := base
		r.Shard, r.Shards = i, 2
		s, err := Identify(context.Background(), newFake(), r, nil)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, s)
	}
	if parts[0].Poles[Aspect{Agreeableness, High}].Tokens == full.Poles[Aspect{Agreeableness, High}].Tokens {
		t.Fatal("a shard counted as much as the whole run")
	}
	merged, err := MergeStats(parts...)
	if err != nil {
		t.Fatal(err)
	}
	sameStats(t, "merged shards", merged, full)
}

func TestIdentifyTeacherSequences(t *testing.T) {
	b := &Bench{Descriptions: map[Aspect][]string{{Openness, High}: {"ab", "cde", "f"}}}
	r := newFake()
	set, err := Identify(context.Background(), r, IdentifyRequest{Mode: IdentifyTeacher, Bench: b, Lines: [2]int{1, 3}, Batch: 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Lines 1-2: BOS + "cde" + EOS and BOS + "f" + EOS = 5 + 3 tokens, one batch.
	if got := set.Poles[Aspect{Openness, High}].Tokens; got != 8 || !slices.Equal(r.batchSizes, []int{2}) {
		t.Errorf("tokens %d, batches %v; want 8 tokens in one batch of 2", got, r.batchSizes)
	}
	want := hook.NewStats(2, 5, true)
	for _, tok := range []int{1, 3 + 'c', 3 + 'd', 3 + 'e', fakeEOS, 1, 3 + 'f', fakeEOS} {
		r.count(want, tok)
	}
	if !slices.Equal(set.Poles[Aspect{Openness, High}].Active, want.Active) {
		t.Error("teacher mode did not count BOS + description + EOS")
	}
	for _, bad := range []IdentifyRequest{{Mode: "x", Bench: b}, {Bench: b, Shard: 2, Shards: 2}, {Bench: b, Lines: [2]int{3, 2}}, {}} {
		if _, err := Identify(context.Background(), r, bad, nil); err == nil {
			t.Errorf("request %+v: no error", bad)
		}
	}
}

func TestProgress(t *testing.T) {
	cases := []struct {
		p         Progress
		rate, tps float64
		eta       time.Duration
	}{
		{Progress{Done: 10, Total: 40, Tokens: 600, Elapsed: time.Minute}, 10, 10, 3 * time.Minute},
		{Progress{Done: 5, Skipped: 30, Total: 40, Tokens: 60, Elapsed: 30 * time.Second}, 10, 2, 30 * time.Second},
		{Progress{Total: 40}, 0, 0, -1},
		{Progress{Done: 4, Total: 4, Elapsed: time.Second}, 240, 0, 0},
	}
	for _, c := range cases {
		if c.p.Rate() != c.rate || c.p.TokensPerSecond() != c.tps || c.p.ETA() != c.eta {
			t.Errorf("%+v: rate %v tok/s %v eta %v", c.p, c.p.Rate(), c.p.TokensPerSecond(), c.p.ETA())
		}
	}
	bar := Progress{Aspect: Aspect{Extraversion, Low}, Done: 5, Total: 10, Elapsed: time.Minute}.Bar(10)
	if bar[:12] != "[#####.....]" || !contains(bar, "5/10") || !contains(bar, "Extraversion low") || !contains(bar, "ETA 1m0s") {
		t.Errorf("bar = %q", bar)
	}
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && (s == sub || len(sub) == 0 || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestIdentifySplitSetting: the split is a resume setting; a checkpoint
// of an older version, which recorded no split, resumes as the test split.
func TestIdentifySplitSetting(t *testing.T) {
	req := IdentifyRequest{Mode: IdentifyPrompt, Bench: probeBench(t), Questions: 4, Batch: 2, Out: filepath.Join(t.TempDir(), "s"),
		Aspects: []Aspect{{Openness, High}}}
	if _, err := Identify(context.Background(), newFake(), req, nil); err != nil {
		t.Fatal(err)
	}
	set, err := LoadStats(req.Out)
	if err != nil {
		t.Fatal(err)
	}
	if s := set.Meta.Progress[progressSettings].(map[string]any); s["split"] != SplitTest {
		t.Fatalf("settings %v", s)
	}
	req.Resume, req.Split = true, SplitSearch
	if _, err := Identify(context.Background(), newFake(), req, nil); err == nil || !strings.Contains(err.Error(), `setting "split" was "test", this run has "search"`) {
		t.Errorf("resume with another split: %v", err)
	}
	delete(set.Meta.Progress[progressSettings].(map[string]any), "split")
	if err := SaveStats(req.Out, set); err != nil {
		t.Fatal(err)
	}
	req.Split = ""
	if _, err := Identify(context.Background(), newFake(), req, nil); err != nil {
		t.Errorf("resume of a checkpoint without a split: %v", err)
	}
	req.Split = "train"
	if _, err := Identify(context.Background(), newFake(), req, nil); err == nil || !strings.Contains(err.Error(), `unknown split "train"`) {
		t.Errorf("unknown split: %v", err)
	}
}

// TestIdentifyCheckpointInterval: with CheckpointInterval set, a batch
// that ends that long after the last checkpoint saves one, whatever
// CheckpointEvery says; a pole finished earlier keeps the file of the save
// that finished it (SaveStats rewrites only changed poles).
func TestIdentifyCheckpointInterval(t *testing.T) {
	aspects := []Aspect{{Extraversion, High}, {Extraversion, Low}, {Openness, Low}}
	run := func(interval time.Duration) (*StatsSet, int) {
		t.Helper()
		req := IdentifyRequest{Mode: IdentifyTeacher, Bench: probeBench(t), DataSource: "probes", Batch: 8, Seed: 7,
			CheckpointEvery: 1000, CheckpointInterval: interval, Aspects: aspects, Out: filepath.Join(t.TempDir(), "stats")}
		batches := 0
		if _, err := Identify(context.Background(), newFake(), req, func(Progress) { batches++ }); err != nil {
			t.Fatal(err)
		}
		s, err := LoadStats(req.Out)
		if err != nil {
			t.Fatal(err)
		}
		return s, batches
	}
	byBatches, batches := run(0)
	if batches <= len(aspects) {
		t.Fatalf("%d batches: too few to tell the checkpoints apart", batches)
	}
	if g := byBatches.Meta.Generation; g != len(aspects)+1 {
		t.Errorf("without an interval: %d saves, want one per aspect and the final one (%d)", g, len(aspects)+1)
	}
	byTime, _ := run(time.Nanosecond)
	if g := byTime.Meta.Generation; g != batches+1 {
		t.Errorf("with a 1ns interval: %d saves, want one per batch (%d) and the final one", g, batches)
	}
	sameStats(t, "checkpointed by time", byTime, byBatches)
	if f := byTime.Meta.Files["Extraversion"]; f == fmt.Sprintf("Extraversion.g%d.safetensors", byTime.Meta.Generation) {
		t.Errorf("the first pole's file %s was rewritten by every later save", f)
	}
	if _, err := Identify(context.Background(), newFake(), IdentifyRequest{Mode: IdentifyTeacher, Bench: probeBench(t),
		CheckpointInterval: -time.Second, Aspects: aspects}, nil); err == nil || !strings.Contains(err.Error(), "checkpoint interval") {
		t.Errorf("negative interval: %v", err)
	}
}
