package hook

import (
	"math"
	"testing"
)

func TestBinOf(t *testing.T) {
	cases := []struct {
		a    float32
		want int
	}{
		{-1, 0}, {0, 0}, {1e-9, 1}, {0.01, 1}, {0.0100001, 2}, {0.5, 50}, {0.505, 51},
		{2.99, 299}, {2.9900002, 300}, {100, 300},
	}
	for _, c := range cases {
		if got := BinOf(c.a); got != c.want {
			t.Errorf("BinOf(%v) = %d, want %d", c.a, got, c.want)
		}
	}
}

func TestHistQuantile(t *testing.T) {
	h := make([]uint32, Bins)
	h[0] = 96
	h[10] = 4
	if q := HistQuantile(h, 0.95); q != 0 {
		t.Errorf("mostly inactive neuron: q95 = %v, want 0", q)
	}
	h[0] = 50
	h[10] = 45
	h[20] = 5
	if q := HistQuantile(h, 0.95); q != 0.09 {
		t.Errorf("q95 = %v, want 0.09 (left edge of bin 10)", q)
	}
}

func TestStatsAdd(t *testing.T) {
	a := NewStats(2, 3, true)
	b := NewStats(2, 3, true)
	a.Tokens, b.Tokens = 2, 3
	a.Active[4], b.Active[4] = 1, 2
	if err := a.Add(b); err != nil {
		t.Fatal(err)
	}
	if a.Tokens != 5 || a.Active[4] != 3 {
		t.Fatalf("got tokens %d active %d", a.Tokens, a.Active[4])
	}
	if p := a.PActive(); p[1][1] != 0.6 {
		t.Fatalf("p = %v", p[1][1])
	}
	if err := a.Add(NewStats(1, 3, false)); err == nil {
		t.Fatal("adding mismatched shapes must fail")
	}
	// uint32 histogram counts: no more positions than they can count.
	big := NewStats(2, 3, true)
	big.Tokens = MaxHistTokens - 4
	if err := a.Add(big); err == nil || a.Tokens != 5 {
		t.Fatalf("adding past MaxHistTokens: err %v, tokens %d (want an error and no change)", err, a.Tokens)
	}
	big.Tokens = MaxHistTokens - 5
	if err := a.Add(big); err != nil || a.Tokens != MaxHistTokens {
		t.Fatalf("adding up to MaxHistTokens: err %v, tokens %d", err, a.Tokens)
	}
	if err := a.CheckRoom(1); err == nil {
		t.Fatal("CheckRoom(1) at MaxHistTokens must fail")
	}
	if err := NewStats(2, 3, false).CheckRoom(1 << 40); err != nil {
		t.Fatalf("without histograms there is no limit: %v", err)
	}
}

// binOfLinear is the definition of BinOf by linear search over the edges.
func binOfLinear(a float32) int {
	if !(a > 0) {
		return 0
	}
	e := BinEdges()
	for j := 2; j < Bins; j++ {
		if a <= e[j] {
			return j - 1
		}
	}
	return Bins - 1
}

// TestBinOfEdges: BinOf's arithmetic guess and correction agree with the
// linear search at, just below and just above every edge, and on a dense
// sweep of (0, 3.1].
func TestBinOfEdges(t *testing.T) {
	var vals []float32
	for _, e := range BinEdges()[1:Bins] {
		vals = append(vals, e, math.Nextafter32(e, -1), math.Nextafter32(e, 2), math.Nextafter32(math.Nextafter32(e, 2), 2))
	}
	for i := 1; i <= 310000; i++ {
		vals = append(vals, float32(i)*1e-5)
	}
	for _, a := range vals {
		if got, want := BinOf(a), binOfLinear(a); got != want {
			t.Fatalf("BinOf(%v) = %d, the edges say %d", a, got, want)
		}
	}
}

func BenchmarkBinOf(b *testing.B) {
	vals := make([]float32, 4096)
	for i := range vals {
		vals[i] = float32(i%400)*0.0077 - 0.5
	}
	s := 0
	for b.Loop() {
		for _, a := range vals {
			s += BinOf(a)
		}
	}
	_ = s
}
