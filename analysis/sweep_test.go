package analysis

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestSweepResume: a sweep killed in its fourth run resumes from its
// checkpoint with the finished runs skipped, to the result of an
// uninterrupted sweep; a resume with other settings, or a fresh sweep over
// an unfinished checkpoint, is refused; a resume with one more γ runs only
// that γ.
func TestSweepResume(t *testing.T) {
	sc, err := TrainScorers(probeBench(t))
	if err != nil {
		t.Fatal(err)
	}
	req := SweepRequest{Induce: fakeInduce(t), Gammas: []float64{0.5, 1}, Scorers: sc, Baselines: true,
		Variants: []Variant{{Name: "npti"}, {Name: "add-only", NoClamp: true}}}
	full, err := Sweep(context.Background(), newFake(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Generate calls: 6 for the baselines (two batches per question),
	// then 3 per variant and γ.
	req.Checkpoint = filepath.Join(t.TempDir(), "sweep-checkpoint.json")
	ctx, cancel := context.WithCancel(context.Background())
	r := newFake()
	r.failAt, r.cancel = 11, cancel // mid npti at γ 1
	if _, err := Sweep(ctx, r, req, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted sweep: %v", err)
	}
	if _, err := Sweep(context.Background(), newFake(), req, nil); err == nil || !strings.Contains(err.Error(), "unfinished sweep") {
		t.Errorf("fresh sweep over an unfinished checkpoint: %v", err)
	}
	other := req
	other.Resume = true
	other.Induce.MaxNewTokens = 5
	if _, err := Sweep(context.Background(), newFake(), other, nil); err == nil || !strings.Contains(err.Error(), `setting "max_new_tokens" was 6, this sweep has 5`) {
		t.Errorf("resume with other settings: %v", err)
	}
	other = req
	other.Resume = true
	other.Induce.Questions = []string{"q one", "q two", "q four"}
	if _, err := Sweep(context.Background(), newFake(), other, nil); err == nil || !strings.Contains(err.Error(), `setting "questions"`) {
		t.Errorf("resume with other questions: %v", err)
	}
	req.Resume = true
	r = newFake()
	var last Progress
	got, err := Sweep(context.Background(), r, req, func(p Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if len(r.generateCalls) != 9 || last.Skipped != 2 || last.Done != 3 || last.Total != 5 {
		t.Errorf("resumed sweep: %d Generate calls, progress %+v; want 9 calls, 2 runs skipped and 3 done", len(r.generateCalls), last)
	}
	if !reflect.DeepEqual(got, full) {
		t.Errorf("resumed sweep differs from an uninterrupted one:\n%+v\n%+v", got, full)
	}
	// One more γ: only its two runs (one per variant) are new.
	req.Gammas = []float64{0.5, 1, 1.5}
	r = newFake()
	got, err = Sweep(context.Background(), r, req, nil)
	if err != nil || len(r.generateCalls) != 6 || len(got.Points) != 6 {
		t.Errorf("resume with an added γ: %d Generate calls, %d points, err %v", len(r.generateCalls), len(got.Points), err)
	}
	// A finished checkpoint is replaced by a fresh sweep.
	req.Resume = false
	r = newFake()
	if _, err := Sweep(context.Background(), r, req, nil); err != nil || len(r.generateCalls) != 6+3*6 {
		t.Errorf("fresh sweep over a finished checkpoint: %d Generate calls, err %v", len(r.generateCalls), err)
	}
	os.WriteFile(req.Checkpoint, []byte("{"), 0o644)
	req.Resume = true
	if _, err := Sweep(context.Background(), newFake(), req, nil); err == nil || !strings.Contains(err.Error(), req.Checkpoint) {
		t.Errorf("unreadable checkpoint: %v", err)
	}
}
