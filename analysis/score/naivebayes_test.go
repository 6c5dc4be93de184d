package score

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// toy is trained on high = "good good" and low = "bad": vocabulary
// {good, bad}, 2 high tokens, 1 low token.
func toy(opts Options) *NaiveBayes {
	return TrainNaiveBayes([]string{"Good good"}, []string{"bad"}, opts)
}

func TestPHighMaths(t *testing.T) {
	// Laplace, V = 2: P(good|H) = 3/4, P(good|L) = 1/3,
	// P(bad|H) = 1/4, P(bad|L) = 2/3.
	odds := func(prior, lr float64) float64 { o := prior / (1 - prior) * lr; return o / (1 + o) }
	tests := []struct {
		name string
		opts Options
		text string
		want float64
	}{
		{"one good", Options{}, "good", odds(0.5, (3.0/4)/(1.0/3))},
		{"one bad", Options{}, "bad", odds(0.5, (1.0/4)/(2.0/3))},
		{"good bad", Options{}, "good, BAD!", odds(0.5, (3.0/4)/(1.0/3)*(1.0/4)/(2.0/3))},
		{"unknown only", Options{}, "neutral words", 0.5},
		{"empty", Options{}, "", 0.5},
		{"prior", Options{PriorHigh: 0.8}, "", 0.8},
		{"prior and word", Options{PriorHigh: 0.2}, "good", odds(0.2, (3.0/4)/(1.0/3))},
		// alpha 0.5: P(good|H) = 2.5/3, P(good|L) = 0.5/2.
		{"alpha", Options{Alpha: 0.5}, "good", odds(0.5, (2.5/3)/(0.5/2))},
		{"bad options fall back", Options{Alpha: math.NaN(), PriorHigh: 1}, "good", odds(0.5, (3.0/4)/(1.0/3))},
	}
	for _, tt := range tests {
		if got := toy(tt.opts).PHigh(tt.text); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: PHigh(%q) = %v, want %v", tt.name, tt.text, got, tt.want)
		}
	}
}

func TestPHighSaturatesWithoutNaN(t *testing.T) {
	nb := toy(Options{})
	long := strings.Repeat("good ", 100000)
	if got := nb.PHigh(long); got != 1 {
		t.Errorf("PHigh(100000 x good) = %v, want 1", got)
	}
	if got := nb.PHigh(strings.Repeat("bad ", 100000)); got != 0 {
		t.Errorf("PHigh(100000 x bad) = %v, want 0", got)
	}
}

func TestTopWords(t *testing.T) {
	nb := TrainNaiveBayes(
		[]string{"warm warm warm kind the"},
		[]string{"cold cold cold harsh the"}, Options{})
	high, low := nb.TopWords(2)
	if len(high) != 2 || high[0].Word != "warm" || high[1].Word != "kind" {
		t.Fatalf("high = %+v, want warm, kind", high)
	}
	if len(low) != 2 || low[0].Word != "cold" || low[1].Word != "harsh" {
		t.Fatalf("low = %+v, want cold, harsh", low)
	}
	// V = 5, 5 tokens per class: LLR(warm) = log(4/10) - log(1/10).
	if want := math.Log(4); math.Abs(high[0].LLR-want) > 1e-12 || high[0].HighCount != 3 || high[0].LowCount != 0 {
		t.Errorf("high[0] = %+v, want LLR %v, counts 3/0", high[0], want)
	}
	if h, l := nb.TopWords(100); len(h) != 5 || len(l) != 5 {
		t.Errorf("TopWords(100) lengths %d/%d, want 5/5", len(h), len(l))
	}
	if h, l := nb.TopWords(-1); len(h) != 0 || len(l) != 0 {
		t.Errorf("TopWords(-1) lengths %d/%d, want 0/0", len(h), len(l))
	}
}

func TestJSONRoundTrip(t *testing.T) {
	nb := TrainNaiveBayes([]string{"You love new ideas and art."},
		[]string{"You prefer the familiar and the practical."}, Options{Alpha: 0.7, PriorHigh: 0.3})
	data, err := json.Marshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	var back NaiveBayes
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
	for _, text := range []string{"", "art and ideas", "the familiar", "unknown"} {
		if a, b := nb.PHigh(text), back.PHigh(text); a != b {
			t.Errorf("PHigh(%q): %v before, %v after round trip", text, a, b)
		}
	}
	if back.VocabularySize() != nb.VocabularySize() {
		t.Errorf("vocabulary %d after round trip, want %d", back.VocabularySize(), nb.VocabularySize())
	}
}

func TestUnmarshalRejects(t *testing.T) {
	const ok = `"format":"npti-naive-bayes/1","alpha":1,"prior_high":0.5`
	tests := map[string]string{
		"format":      `{"format":"x","alpha":1,"prior_high":0.5}`,
		"alpha":       `{"format":"npti-naive-bayes/1","alpha":0,"prior_high":0.5}`,
		"prior":       `{"format":"npti-naive-bayes/1","alpha":1,"prior_high":1}`,
		"negative":    `{` + ok + `,"high_tokens":-1,"low_tokens":1,"words":{"a":[-1,1]}}`,
		"totals":      `{` + ok + `,"high_tokens":5,"low_tokens":1,"words":{"a":[1,1]}}`,
		"not a token": `{` + ok + `,"high_tokens":1,"low_tokens":0,"words":{"Two words":[1,0]}}`,
		"zero counts": `{` + ok + `,"high_tokens":0,"low_tokens":0,"words":{"a":[0,0]}}`,
		"huge count":  `{` + ok + `,"high_tokens":0,"low_tokens":0,"words":{"a":[9000000000000000000,0]}}`,
		"wrong type":  `{` + ok + `,"words":{"a":"x"}}`,
	}
	for name, data := range tests {
		var nb NaiveBayes
		err := json.Unmarshal([]byte(data), &nb)
		if err == nil {
			t.Errorf("%s: unmarshal %s succeeded, want error", name, data)
		} else if !strings.HasPrefix(err.Error(), "naive bayes model:") {
			t.Errorf("%s: error %q does not name the model", name, err)
		}
	}
}

func FuzzPHigh(f *testing.F) {
	nb := TrainNaiveBayes([]string{"You are warm and kind to others."},
		[]string{"You are cold and harsh to others."}, Options{})
	for _, s := range []string{"", "warm", "cold cold", "don’t\x00\xff", strings.Repeat("kind ", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p := nb.PHigh(text)
		if math.IsNaN(p) || p < 0 || p > 1 {
			t.Fatalf("PHigh(%q) = %v, want a probability", text, p)
		}
	})
}

func FuzzUnmarshal(f *testing.F) {
	good, _ := json.Marshal(toy(Options{}))
	f.Add(good)
	f.Add([]byte(`{"format":"npti-naive-bayes/1","alpha":1e308,"prior_high":1e-300,"words":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var nb NaiveBayes
		if err := json.Unmarshal(data, &nb); err != nil {
			return
		}
		if p := nb.PHigh("good bad something"); math.IsNaN(p) || p < 0 || p > 1 {
			t.Fatalf("loaded model gives PHigh %v", p)
		}
	})
}
