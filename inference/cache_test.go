package inference

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// TestCacheWrites feeds two rows through steps that take each way of
// writing the KV cache — a multi-token step whose rows each write one slice
// (rows of unequal length: padding lands after the shorter row's tokens), a
// multi-token step with a row that brings no tokens (the one-hot write,
// which must leave that row's cache alone), and one-token steps — and
// checks each row's last logits against the row run alone in one step.
func TestCacheWrites(t *testing.T) {
	m, err := Synthesize("persona-tiny", 7, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	seq := func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = rng.IntN(m.Config.VocabSize)
		}
		return s
	}
	a, b := seq(9), seq(5)
	ctx := context.Background()
	bt := m.newBatch(2, 32)
	defer bt.free()
	steps := []struct {
		rows    [][]int
		oneHot  bool // expected write path
		compare []int
	}{
		{rows: [][]int{a[:5], b[:3]}},                         // one slice a row
		{rows: [][]int{a[5:7], nil}, oneHot: true},            // row 1 idle: one-hot
		{rows: [][]int{a[7:8], b[3:4]}},                       // one token a row
		{rows: [][]int{a[8:9], b[4:5]}, compare: []int{9, 5}}, // one token a row
	}
	for i, st := range steps {
		S := 0
		for _, r := range st.rows {
			S = max(S, len(r))
		}
		rows := st.rows
		if rows[1] == nil {
			rows = [][]int{rows[0], {}}
		}
		// The step runs the expected graph variant: compiled by it if new,
		// and no other variant compiled (a later step of an already
		// compiled variant compiles nothing).
		wantV := variant{rowWrites: S > 1 && !st.oneHot}
		m.mu.Lock()
		_, had := m.execs[wantV]
		before := len(m.execs)
		m.mu.Unlock()
		out, err := m.step(ctx, bt, stepIn{rows: rows, S: S})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		defer out.release()
		m.mu.Lock()
		_, has := m.execs[wantV]
		grew := len(m.execs) - before
		m.mu.Unlock()
		if !has || grew != map[bool]int{true: 0, false: 1}[had] {
			t.Fatalf("step %d: the %+v graph compiled %v, %d new variants (it was compiled before: %v)", i, wantV, has, grew, had)
		}
		if st.compare == nil {
			continue
		}
		for r, full := range [][]int{a, b} {
			solo := m.newBatch(1, 32)
			want, err := m.step(ctx, solo, stepIn{rows: [][]int{full}, S: len(full)})
			solo.free()
			if err != nil {
				t.Fatal(err)
			}
			for j, w := range want.logits[0] {
				if g := out.logits[r][j]; math.Abs(float64(g-w)) > 1e-4*(1+math.Abs(float64(w))) {
					t.Fatalf("row %d logit %d: %g after the steps, %g in one step", r, j, g, w)
				}
			}
			want.release()
		}
	}
}

// TestLengthBucket: compiled lengths cover the sequence, stay within its
// power of two (so a generation's cache, a power of two past the prompt,
// holds the padded prompt) and come in the documented steps.
func TestLengthBucket(t *testing.T) {
	for n, want := range map[int]int{1: 8, 8: 8, 9: 16, 16: 16, 17: 32, 40: 48, 48: 48, 49: 64, 250: 256, 256: 256,
		257: 320, 1000: 1024, 1024: 1024, 1025: 2048} {
		if got := lengthBucket(n); got != want {
			t.Errorf("lengthBucket(%d) = %d, want %d", n, got, want)
		}
	}
	for n := 1; n <= 5000; n++ {
		if b := lengthBucket(n); b < n || b > bucket(n, 8) {
			t.Fatalf("lengthBucket(%d) = %d, outside [%d, %d]", n, b, n, bucket(n, 8))
		}
	}
}
