package analysis

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestPublishedSets checks the published Llama-3-8B sets against the table
// of NPTI.md §6.
func TestPublishedSets(t *testing.T) {
	s := publishedSets(t)
	if err := s.Validate(32, 14336); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key       string
		count     int
		top       []int
		diffMed   float64
		diffMax   float64
		q95Median float64
		q95Max    float64
	}{
		{"Agreeableness", 21008, []int{31, 30, 29}, .135, .753, .27, 4.24},
		{"Agreeableness_reversed", 21083, []int{18, 19, 20}, .138, .804, .30, 3.28},
		{"Conscientiousness", 10278, []int{31, 15, 18}, .123, .504, .25, 1.92},
		{"Conscientiousness_reversed", 16997, []int{31, 19, 18}, .131, .537, .32, 3.70},
		{"Extraversion", 27427, []int{31, 30, 29}, .139, .701, .28, 3.35},
		{"Extraversion_reversed", 24519, []int{18, 19, 14}, .139, .699, .27, 3.95},
		{"Neuroticism", 19211, []int{18, 31, 19}, .134, .592, .30, 3.24},
		{"Neuroticism_reversed", 16313, []int{19, 18, 31}, .132, .699, .28, 3.89},
	}
	if len(s) != len(tests) {
		t.Errorf("%d sets, want %d", len(s), len(tests))
	}
	for _, tt := range tests {
		a, _ := ParseAspect(tt.key)
		ns := s[a]
		if len(ns) != tt.count {
			t.Errorf("%s: %d neurons, want %d", tt.key, len(ns), tt.count)
		}
		if got := TopLayers(ns, 3); !slices.Equal(got, tt.top) {
			t.Errorf("%s: top layers %v, want %v", tt.key, got, tt.top)
		}
		var diffs, q95s []float64
		for _, n := range ns {
			diffs = append(diffs, n.Diff)
			q95s = append(q95s, n.Q95)
			if n.Diff < 0.1 {
				t.Fatalf("%s: diff %v < 0.1 (low-pole diffs are stored positive)", tt.key, n.Diff)
			}
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"diff median", median(diffs), tt.diffMed}, {"diff max", slices.Max(diffs), tt.diffMax},
			{"q95 median", median(q95s), tt.q95Median}, {"q95 max", slices.Max(q95s), tt.q95Max},
		} {
			if math.Abs(c.got-c.want) > 0.0051 {
				t.Errorf("%s: %s %.4f, table says %.3f", tt.key, c.name, c.got, c.want)
			}
		}
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	return s[len(s)/2]
}

func TestDictRoundTrip(t *testing.T) {
	s := publishedSets(t)
	dir := t.TempDir()
	if err := SaveSets(dir, s); err != nil {
		t.Fatal(err)
	}
	back, err := LoadSets(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range s.Aspects() {
		if !slices.Equal(s[a], back[a]) {
			t.Errorf("%s: records differ after write and read", a.Key())
		}
		// Records keep file order within a layer: the published files list
		// each layer by diff descending.
		first := s[a][0]
		if first.Layer != 0 && s[a][0].Diff < s[a][1].Diff && s[a][0].Layer == s[a][1].Layer {
			t.Errorf("%s: file order lost", a.Key())
		}
	}
}

func TestModelSets(t *testing.T) {
	for _, tt := range []struct{ model, dir string }{
		{"tiny-random-llama", "neurons"},
		{"tiny-random-qwen2", "neurons"},
		{"persona-tiny", "reference-neurons"},
	} {
		layers, neurons := modelShape(t, tt.model)
		s, err := LoadSets(filepath.Join(sharedDir(t, "models", tt.model), tt.dir))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(layers, neurons); err != nil {
			t.Errorf("%s: %v", tt.model, err)
		}
		if err := s.Validate(layers-1, neurons); err == nil {
			t.Errorf("%s: a model with one layer fewer validates", tt.model)
		}
		want := 2
		if tt.model == "persona-tiny" {
			want = 10
		}
		if len(s) != want {
			t.Errorf("%s: %d sets, want %d", tt.model, len(s), want)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	ok := Neuron{Layer: 1, Index: 2, Diff: 0.2, P: 0.5, Q95: 0.3}
	with := func(f func(*Neuron)) []Neuron { n := ok; f(&n); return []Neuron{ok, n} }
	tests := []struct {
		name string
		ns   []Neuron
		want string
	}{
		{"layer", with(func(n *Neuron) { n.Layer, n.Index = 4, 0 }), "record 1 [layer 4, neuron 0]: layer 4 out of range [0, 4)"},
		{"neuron", with(func(n *Neuron) { n.Index = 10 }), "neuron 10 out of range [0, 10)"},
		{"negative", with(func(n *Neuron) { n.Index = -1 }), "neuron -1 out of range"},
		{"nan", with(func(n *Neuron) { n.Index, n.Diff = 3, math.NaN() }), "must be finite"},
		{"inf q95", with(func(n *Neuron) { n.Index, n.Q95 = 3, math.Inf(-1) }), "must be finite"},
		{"q95 zero", with(func(n *Neuron) { n.Index, n.Q95 = 3, 0 }), "q95 0 is not positive"},
		{"duplicate", with(func(n *Neuron) {}), "neuron 2 repeats record 0"},
	}
	for _, tt := range tests {
		err := Sets{{Extraversion, Low}: tt.ns}.Validate(4, 10)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "Extraversion_reversed_dict.json") {
			t.Errorf("%s: error = %v, want file and %q", tt.name, err, tt.want)
		}
	}
	if err := (Sets{{Openness, High}: {ok}}).Validate(4, 10); err != nil {
		t.Error(err)
	}
}

func TestDecodeDictErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"1": [[1, 2, 0.2, 0.5, 0.3]]}`, ""},
		{`{"1": [[1, 2, 0.2, 0.5, 0.3]], "0": [], "2": null}`, ""},
		{`{"1": [[2, 2, 0.2, 0.5, 0.3]]}`, `layer "1": record 0: record is for layer 2`},
		{`{"1": [[1, 2, 0.2, 0.5]]}`, "want 5 numbers"},
		{`{"1": [[1, 2.5, 0.2, 0.5, 0.3]]}`, "neuron 2.5 is not a valid index"},
		{`{"1": [[1, 2, 0.2, 0.5, 0.3]], "1": []}`, `layer "1" appears twice`},
		{`{"x": []}`, `layer key "x"`},
		{`{"-1": []}`, `layer key "-1"`},
		{`{"1": [[1, 2, NaN, 0.5, 0.3]]}`, "NaN and Infinity are not JSON"},
		{`{"1": [[1, 2, 0.2, 0.5, 0.3]]`, "truncated"},
		{`{"1": []} {}`, "data after the closing brace"},
		{`[]`, "want '{', got '['"},
		{`{"1": [[1, 2, 0.2, 0.5, 0]]}`, "q95 0 is not positive"},
		{`{"1": [[1, 2, 0.2, 0.5, 0.3], [1, 2, 0.3, 0.5, 0.3]]}`, "repeats record 0"},
		{`{"1": [["1", 2, 0.2, 0.5, 0.3]]}`, `layer "1": invalid JSON at byte 8: want a number`},
		{` {} `, ""},
		{`{"\u0031": [[1, 2, 2e-1, 0.5, 3E-1]]}`, ""},
		{`{"1": [[1, 2, 0.2, 0.5, 0.3],]}`, "byte 29: want '[', got ']'"},
		{`{"1": [[01, 2, 0.2, 0.5, 0.3]]}`, "byte 8: want a number"},
		{`{"1": [[1, 2, 1e999, 0.5, 0.3]]}`, "out of range"},
		{`{"1": [[1, 2, .5, 0.5, 0.3]]}`, "want a number"},
		{`{"1": [[1, 2, 0.2, 0.5, 0.3, 7]]}`, "record 0: want 5 numbers [layer, neuron, diff, p, q95], got 6"},
		{`{"1": [[1, 2, 0.2, 0.5, 0.3]], }`, `want '"'`},
		{`{"1" [[1, 2, 0.2, 0.5, 0.3]]}`, "want ':'"},
		{`{"1`, "unterminated string"},
		{`{"1": [[1, 2, 0.2, 0.5, -Infinity]]}`, "NaN and Infinity are not JSON"},
		{``, "truncated"},
	}
	for _, tt := range tests {
		_, err := DecodeDict("X_dict.json", strings.NewReader(tt.in))
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "X_dict.json: ") {
			t.Errorf("%s: error = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestLoadSetsNames(t *testing.T) {
	dir := t.TempDir()
	rec := `{"0": [[0, 1, 0.2, 0.5, 0.3]]}`
	for _, name := range []string{"extraversion_REVERSED_dict.json", "neuroticism_dict.json", "notes_dict.json", "README.md"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(rec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := LoadSets(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Aspects(); !slices.Equal(got, []Aspect{{Neuroticism, High}, {Extraversion, Low}}) {
		t.Errorf("aspects = %v", got)
	}
	os.WriteFile(filepath.Join(dir, "Neuroticism_dict.json"), []byte(rec), 0o644)
	if _, err := LoadSets(dir); err == nil || !strings.Contains(err.Error(), "both hold") {
		t.Errorf("two files for one aspect: error = %v", err)
	}
	if _, err := LoadSets(t.TempDir()); err == nil {
		t.Error("empty folder: no error")
	}
}

func TestWriteDictRefusesBadRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Openness_dict.json")
	if err := WriteDict(path, []Neuron{{Layer: 0, Index: 1, Diff: 0.2, P: 0.5, Q95: 0}}); err == nil {
		t.Fatal("q95 0 written")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("file exists after a refused write: %v", err)
	}
	if err := WriteDict(path, nil); err != nil {
		t.Fatal(err)
	}
	if ns, err := ReadDict(path); err != nil || len(ns) != 0 {
		t.Errorf("empty dict read back as %v, %v", ns, err)
	}
}

func FuzzReadDict(f *testing.F) {
	f.Add([]byte(`{"1": [[1, 2, 0.2, 0.5, 0.3]], "0": [[0, 5, 0.11, 0.4, 1.5]]}`))
	f.Add([]byte(`{"1": [[1, 2, 0.2, 0.5]]}`))
	f.Add([]byte(`{"1": [[1, 1e300, 0.2, 0.5, 0.3]]}`))
	f.Add([]byte(`{"99999999999999999999": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ns, err := DecodeDict("F_dict.json", strings.NewReader(string(data)))
		if err == nil && !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "F_dict.json: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// Whatever reads must write and read back the same.
		back, err := DecodeDict("F_dict.json", strings.NewReader(string(encodeDict(ns))))
		if err != nil || !slices.Equal(ns, back) {
			t.Fatalf("round trip: %v\n%v\n%v", err, ns, back)
		}
	})
}

func BenchmarkReadDict(b *testing.B) {
	path := filepath.Join(sharedDir(b, "data", "npti-llama3-8b-instruct"), "Extraversion_dict.json")
	for b.Loop() {
		if _, err := ReadDict(path); err != nil {
			b.Fatal(err)
		}
	}
}
