package score

import (
	"math"
	"slices"
	"testing"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"You are calm.", []string{"you", "are", "calm"}},
		{"others' needs, don't", []string{"others'", "needs", "don't"}},
		{"you’re", []string{"you're"}},
		{"self-doubt", []string{"self", "doubt"}},
		{"life's 2nd-best ROUTE", []string{"life's", "2nd", "best", "route"}},
		{"Éclair naïve", []string{"éclair", "naïve"}},
		{"a\tb\nc", []string{"a", "b", "c"}},
		{"<s>You", []string{"s", "you"}},
	}
	for _, tt := range tests {
		if got := Tokenize(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDistinctN(t *testing.T) {
	tests := []struct {
		name  string
		texts []string
		n     int
		want  float64
	}{
		{"empty", nil, 1, 0},
		{"n zero", []string{"a b"}, 0, 0},
		{"all distinct", []string{"a b c"}, 1, 1},
		{"repeats", []string{"the the the cat"}, 1, 2.0 / 4},
		{"case folded", []string{"The the"}, 1, 1.0 / 2},
		{"bigrams", []string{"a b a b"}, 2, 2.0 / 3},
		{"per text, not pooled", []string{"a b", "a b"}, 2, 1},
		{"mean of texts", []string{"the the the cat", "a b c"}, 1, (2.0/4 + 1) / 2},
		{"short texts left out", []string{"a", "x y x"}, 2, 1},
		{"no span across texts", []string{"a", "b"}, 2, 0},
		{"too short", []string{"a b"}, 3, 0},
	}
	for _, tt := range tests {
		if got := DistinctN(tt.texts, tt.n); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: DistinctN(%q, %d) = %v, want %v", tt.name, tt.texts, tt.n, got, tt.want)
		}
	}
}

func TestMeanNLL(t *testing.T) {
	tests := []struct {
		name string
		lps  [][]float64
		want float64
	}{
		{"none", nil, 0},
		{"empty texts", [][]float64{{}, {}}, 0},
		{"certain", [][]float64{{0, 0}}, 0},
		{"one text", [][]float64{{math.Log(0.5), math.Log(0.25)}}, (math.Ln2 + 2*math.Ln2) / 2},
		// Token-weighted: 3 tokens of NLL 1 and 1 token of NLL 3 -> 6/4.
		{"token weighted", [][]float64{{-1, -1, -1}, {-3}}, 1.5},
	}
	for _, tt := range tests {
		if got := MeanNLL(tt.lps); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: MeanNLL = %v, want %v", tt.name, got, tt.want)
		}
	}
}
