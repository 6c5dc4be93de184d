package analysis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/npti-studio/npti/inference/hook"
)

// FuzzParseQuestions: any bytes give questions, all non-blank, or an error
// naming the file.
func FuzzParseQuestions(f *testing.F) {
	f.Add([]byte(`{"question": "Do you like parties?"}` + "\n" + `{"question": "Why?"}`))
	f.Add([]byte(`{"question": ""}`))
	f.Add([]byte("\n\n{\"q\":1}\n"))
	f.Add([]byte(`{"question": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		qs, err := ParseQuestions("Openness.json", strings.NewReader(string(data)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "Openness.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(qs) == 0 {
			t.Fatal("no questions and no error")
		}
		for i, q := range qs {
			if strings.TrimSpace(q) == "" {
				t.Fatalf("question %d is blank", i+1)
			}
		}
	})
}

// FuzzLoadStatsMeta: a stats folder whose meta.json is any bytes loads
// as a set of the shape it declares, or fails with an error naming the
// file, never a panic.
func FuzzLoadStatsMeta(f *testing.F) {
	dir := f.TempDir()
	set := &StatsSet{Meta: Meta{Model: "m", Mode: CountTeacherForced, Layers: 2, Neurons: 3},
		Poles: map[Aspect]*hook.Stats{{Trait: Openness, Pole: High}: hook.NewStats(2, 3, true)}}
	set.Poles[Aspect{Trait: Openness, Pole: High}].Tokens = 4
	if err := SaveStats(dir, set); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(strings.Replace(string(good), `"layers": 2`, `"layers": -2`, 1)))
	f.Add([]byte(`{"format": 1, "layers": 4611686018427387904, "neurons": 4}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, meta []byte) {
		d := t.TempDir()
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			os.WriteFile(filepath.Join(d, e.Name()), b, 0o644)
		}
		os.WriteFile(filepath.Join(d, MetaFile), meta, 0o644)
		s, err := LoadStats(d)
		if err != nil {
			if !strings.Contains(err.Error(), d) {
				t.Fatalf("error does not name the folder's file: %v", err)
			}
			return
		}
		for a, st := range s.Poles {
			if st.Layers != s.Meta.Layers || st.Neurons != s.Meta.Neurons || len(st.Active) != st.Layers*st.Neurons {
				t.Fatalf("%s: %dx%d statistics (%d counts) in a %dx%d set", a.Key(), st.Layers, st.Neurons, len(st.Active), s.Meta.Layers, s.Meta.Neurons)
			}
		}
	})
}
