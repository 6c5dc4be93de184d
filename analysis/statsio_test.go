package analysis

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/npti-studio/npti/inference/hook"
	"github.com/npti-studio/npti/inference/safetensors"
)

// randomStats fills statistics with consistent random counts.
func randomStats(r *rand.Rand, layers, neurons int, withHist bool) *hook.Stats {
	s := hook.NewStats(layers, neurons, withHist)
	s.Tokens = 50 + r.Int64N(50)
	for i := range s.Active {
		s.Active[i] = r.Int64N(s.Tokens + 1)
		if withHist {
			h := s.Hist[i*hook.Bins : (i+1)*hook.Bins]
			h[0] = uint32(s.Tokens - s.Active[i])
			for k := int64(0); k < s.Active[i]; k++ {
				h[1+r.IntN(hook.Bins-1)]++
			}
		}
	}
	return s
}

func testSet(seed uint64) *StatsSet {
	r := rand.New(rand.NewPCG(seed, 7))
	return &StatsSet{
		Meta: Meta{Model: "models/tiny", ModelHash: "sha256:abc", DataSource: "personalitybench:test", Mode: CountGenerated,
			Seeds: []uint64{seed}, Sampling: Sampling{Greedy: true, RepetitionPenalty: 1.1, MaxNewTokens: 500},
			ToolVersion: "test", Progress: map[string]any{"prompts_done": 3.0}},
		Poles: map[Aspect]*hook.Stats{
			{Extraversion, High}: randomStats(r, 3, 5, true),
			{Extraversion, Low}:  randomStats(r, 3, 5, true),
			{Openness, Low}:      randomStats(r, 3, 5, false),
		},
	}
}

func TestStatsRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stats")
	s := testSet(1)
	if err := SaveStats(dir, s); err != nil {
		t.Fatal(err)
	}
	got, err := LoadStats(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.Layers != 3 || got.Meta.Neurons != 5 || got.Meta.Model != "models/tiny" || got.Meta.Generation != 1 ||
		got.Meta.Progress["prompts_done"] != 3.0 || !slices.Equal(got.Meta.Traits, []string{"Extraversion", "Openness_reversed", "Extraversion_reversed"}) {
		t.Errorf("meta = %+v", got.Meta)
	}
	for a, want := range s.Poles {
		g := got.Poles[a]
		if g == nil || g.Tokens != want.Tokens || !slices.Equal(g.Active, want.Active) || !slices.Equal(g.Hist, want.Hist) || (g.Hist == nil) != (want.Hist == nil) {
			t.Errorf("%s differs after save and load", a.Key())
		}
	}
	// Python users read plain int64 tensors named <Key>.active etc.
	f, err := safetensors.Open(filepath.Join(dir, got.Meta.Files["Extraversion"]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if names := f.Names(); !slices.Equal(names, []string{"Extraversion.active", "Extraversion.hist", "Extraversion.tokens"}) {
		t.Errorf("tensor names %v", names)
	}
	if tt := f.Tensors()["Extraversion.hist"]; tt.DType != safetensors.I64 || !slices.Equal(tt.Shape, []int{3, 5, 301}) {
		t.Errorf("hist tensor %s %v", tt.DType, tt.Shape)
	}
}

// TestStatsInterruptedSave: a save that dies before meta.json is renamed
// leaves the previous save loadable; a second save removes old files.
func TestStatsInterruptedSave(t *testing.T) {
	dir := t.TempDir()
	first, second := testSet(1), testSet(2)
	if err := SaveStats(dir, first); err != nil {
		t.Fatal(err)
	}
	// Simulate the crash: the new generation's pole files are written
	// (as SaveStats does first), meta.json is not.
	for a, st := range second.Poles {
		if err := writePole(filepath.Join(dir, a.Key()+".g2.safetensors"), a, st, 2); err != nil {
			t.Fatal(err)
		}
	}
	got, err := LoadStats(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a := (Aspect{Extraversion, High}); !slices.Equal(got.Poles[a].Active, first.Poles[a].Active) {
		t.Error("interrupted save replaced the committed statistics")
	}
	if err := SaveStats(dir, second); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"Extraversion.g2.safetensors", "Extraversion_reversed.g2.safetensors", "Openness_reversed.g2.safetensors", "meta.json"}
	if !slices.Equal(names, want) {
		t.Errorf("folder holds %v, want %v", names, want)
	}
	// A pole file from another save under the committed name is detected.
	os.Rename(filepath.Join(dir, "Openness_reversed.g2.safetensors"), filepath.Join(dir, "x"))
	writePole(filepath.Join(dir, "Openness_reversed.g2.safetensors"), Aspect{Openness, Low}, second.Poles[Aspect{Openness, Low}], 7)
	if _, err := LoadStats(dir); err == nil || !strings.Contains(err.Error(), "interrupted save") {
		t.Errorf("mismatched generation: error = %v", err)
	}
}

func TestLoadStatsErrors(t *testing.T) {
	for _, tt := range []struct{ meta, want string }{
		{`{"format": 3}`, "format 3"},
		{`{"format": 1, "layers": 0, "neurons": 5}`, "invalid shape"},
		{`{"format": 1, "layers": 3, "neurons": 5, "files": {"Openness": "../x"}}`, "bad file entry"},
		{`{"format": 1, "layers": 3, "neurons": 5, "files": {"Open": "Open.g1.safetensors"}}`, "bad file entry"},
		{`{"format": 1, "layers": 3, "neurons": 5, "files": {"Openness": "missing.safetensors"}}`, "missing.safetensors"},
		{`{"format": 1,`, "meta.json"},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, MetaFile), []byte(tt.meta), 0o644)
		if _, err := LoadStats(dir); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.meta, err, tt.want)
		}
	}
	// Wrong tensor shape.
	dir := t.TempDir()
	s := testSet(3)
	SaveStats(dir, s)
	m, _ := LoadStats(dir)
	a := Aspect{Openness, Low}
	bad := hook.NewStats(5, 3, false)
	writePole(filepath.Join(dir, m.Meta.Files[a.Key()]), a, bad, 1)
	if _, err := LoadStats(dir); err == nil || !strings.Contains(err.Error(), "has shape [5 3], want [3 5]") {
		t.Errorf("wrong shape: error = %v", err)
	}
	// A histogram count that no number of positions explains (the file
	// holds int64 counts; memory holds uint32 ones).
	over := hook.NewStats(3, 5, true)
	over.Tokens = 2
	over.Hist[7] = 3
	writePole(filepath.Join(dir, m.Meta.Files[a.Key()]), a, over, 1)
	if _, err := LoadStats(dir); err == nil || !strings.Contains(err.Error(), "histogram count 3 at 7 is outside [0, 2 positions]") {
		t.Errorf("histogram count above the positions: error = %v", err)
	}
	// Active counts must lie in [0, tokens]; the error names the file.
	file := filepath.Join(dir, m.Meta.Files[a.Key()])
	for _, v := range []int64{3, -1} {
		bad := hook.NewStats(3, 5, false)
		bad.Tokens, bad.Active[6] = 2, v
		writePole(file, a, bad, 1)
		want := fmt.Sprintf("%s: active count %d of layer 1 neuron 1 is outside [0, 2 tokens]", file, v)
		if _, err := LoadStats(dir); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("active count %d: error = %v, want %q", v, err, want)
		}
	}
	ok := hook.NewStats(3, 5, false)
	ok.Tokens, ok.Active[6] = 2, 2
	writePole(file, a, ok, 1)
	if _, err := LoadStats(dir); err != nil {
		t.Errorf("active count equal to the tokens: %v", err)
	}
}

func TestMergeStats(t *testing.T) {
	a, b := testSet(1), testSet(2)
	b.Meta.DataSource = "probe"
	delete(b.Poles, Aspect{Openness, Low})
	b.Poles[Aspect{Extraversion, Low}].Hist = nil
	m, err := MergeStats(a, b)
	if err != nil {
		t.Fatal(err)
	}
	eh := Aspect{Extraversion, High}
	want := a.Poles[eh].Clone()
	for i := range want.Active {
		want.Active[i] += b.Poles[eh].Active[i]
	}
	for i := range want.Hist {
		want.Hist[i] += b.Poles[eh].Hist[i]
	}
	got := m.Poles[eh]
	if got.Tokens != a.Poles[eh].Tokens+b.Poles[eh].Tokens || !slices.Equal(got.Active, want.Active) || !slices.Equal(got.Hist, want.Hist) {
		t.Error("merged counts are not the sums")
	}
	if m.Poles[Aspect{Extraversion, Low}].Hist != nil {
		t.Error("histogram kept although one set lacks it")
	}
	if !slices.Equal(m.Poles[Aspect{Openness, Low}].Active, a.Poles[Aspect{Openness, Low}].Active) {
		t.Error("aspect present in one set only changed")
	}
	if !slices.Equal(m.Meta.Seeds, []uint64{1, 2}) || m.Meta.DataSource != "personalitybench:test + probe" || len(m.Meta.Traits) != 3 {
		t.Errorf("merged meta = %+v", m.Meta)
	}
	if a.Poles[eh].Tokens == got.Tokens {
		t.Error("merge modified its input")
	}
	for _, tt := range []struct {
		name string
		edit func(*StatsSet)
		want string
	}{
		{"model", func(s *StatsSet) { s.Meta.ModelHash = "sha256:def" }, "different models"},
		{"mode", func(s *StatsSet) { s.Meta.Mode = CountAll }, `counting mode "all"`},
		{"shape", func(s *StatsSet) { s.Meta.Layers, s.Meta.Neurons = 4, 5 }, "shape 4x5 differs"},
		{"pole shape", func(s *StatsSet) { s.Meta.Layers, s.Meta.Neurons = 3, 5; s.Poles[eh] = hook.NewStats(3, 6, false) }, "statistics are 3x6"},
	} {
		c := testSet(4)
		tt.edit(c)
		if _, err := MergeStats(a, c); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := MergeStats(); err == nil {
		t.Error("empty merge: no error")
	}
}

// TestSaveStatsKeepsUnchangedPoles: a save rewrites only the poles whose
// statistics changed since the committed save; the others keep their file
// (same name, same inode), which the new meta.json lists. An interrupted
// save still leaves the previous save loadable, and a kept file that went
// missing is written again.
func TestSaveStatsKeepsUnchangedPoles(t *testing.T) {
	dir := t.TempDir()
	set := testSet(1)
	if err := SaveStats(dir, set); err != nil {
		t.Fatal(err)
	}
	stat := func(name string) os.FileInfo {
		t.Helper()
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	first := map[string]os.FileInfo{}
	for _, name := range []string{"Extraversion.g1.safetensors", "Extraversion_reversed.g1.safetensors", "Openness_reversed.g1.safetensors"} {
		first[name] = stat(name)
	}
	// One more counted position of Extraversion high.
	grow := func(st *hook.Stats) {
		st.Tokens++
		st.Active[0]++
		if st.Hist != nil {
			st.Hist[1]++
			for i := 1; i < len(st.Active); i++ {
				st.Hist[i*hook.Bins]++
			}
		} else {
			st.Active[1]++
		}
	}
	grow(set.Poles[Aspect{Extraversion, High}])
	if err := SaveStats(dir, set); err != nil {
		t.Fatal(err)
	}
	got, err := LoadStats(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Extraversion": "Extraversion.g2.safetensors", "Extraversion_reversed": "Extraversion_reversed.g1.safetensors",
		"Openness_reversed": "Openness_reversed.g1.safetensors"}
	if fmt.Sprint(got.Meta.Files) != fmt.Sprint(want) || got.Meta.Generation != 2 {
		t.Fatalf("files %v (generation %d), want %v", got.Meta.Files, got.Meta.Generation, want)
	}
	for _, name := range []string{"Extraversion_reversed.g1.safetensors", "Openness_reversed.g1.safetensors"} {
		if fi := stat(name); !os.SameFile(fi, first[name]) || !fi.ModTime().Equal(first[name].ModTime()) {
			t.Errorf("%s was rewritten", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "Extraversion.g1.safetensors")); err == nil {
		t.Error("the replaced Extraversion.g1 file was kept")
	}
	for a, st := range set.Poles {
		if g := got.Poles[a]; g == nil || g.Tokens != st.Tokens || !slices.Equal(g.Active, st.Active) || !slices.Equal(g.Hist, st.Hist) {
			t.Errorf("%s differs after the second save", a.Key())
		}
	}
	// An interrupted third save: Openness low's new file is written, not
	// meta.json. The second save still loads, with its kept g1 file.
	before := *set.Poles[Aspect{Openness, Low}]
	before.Active = slices.Clone(before.Active)
	grow(set.Poles[Aspect{Openness, Low}])
	if err := writePole(filepath.Join(dir, "Openness_reversed.g3.safetensors"), Aspect{Openness, Low}, set.Poles[Aspect{Openness, Low}], 3); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadStats(dir); err != nil || !slices.Equal(got.Poles[Aspect{Openness, Low}].Active, before.Active) {
		t.Fatalf("after an interrupted save: %v", err)
	}
	// The save done again, after a kept file went missing: that pole is
	// written again, and only the listed files remain.
	os.Remove(filepath.Join(dir, "Extraversion_reversed.g1.safetensors"))
	if err := SaveStats(dir, set); err != nil {
		t.Fatal(err)
	}
	if got, err = LoadStats(dir); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"Extraversion": "Extraversion.g2.safetensors", "Extraversion_reversed": "Extraversion_reversed.g3.safetensors",
		"Openness_reversed": "Openness_reversed.g3.safetensors"}
	if fmt.Sprint(got.Meta.Files) != fmt.Sprint(want) {
		t.Errorf("files %v, want %v", got.Meta.Files, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("folder holds %d entries, want 3 pole files and meta.json", len(entries))
	}
	for a, st := range set.Poles {
		if g := got.Poles[a]; g == nil || g.Tokens != st.Tokens || !slices.Equal(g.Active, st.Active) || !slices.Equal(g.Hist, st.Hist) {
			t.Errorf("%s differs after the third save", a.Key())
		}
	}
}

// Folders of format 1 (written before saves kept unchanged poles' files)
// still load; format 2 is what saves write now.
func TestLoadStatsFormat1(t *testing.T) {
	dir := t.TempDir()
	a := Aspect{Openness, High}
	set := &StatsSet{Meta: Meta{Model: "m", Mode: CountTeacherForced, Layers: 2, Neurons: 3},
		Poles: map[Aspect]*hook.Stats{a: hook.NewStats(2, 3, true)}}
	set.Poles[a].Tokens, set.Poles[a].Active[4] = 5, 2
	if err := SaveStats(dir, set); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, MetaFile)
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `"format": 2`) {
		t.Fatalf("meta.json %s: want format 2", data)
	}
	os.WriteFile(path, []byte(strings.Replace(string(data), `"format": 2`, `"format": 1`, 1)), 0o644)
	got, err := LoadStats(dir)
	if err != nil || got.Poles[a].Active[4] != 2 || got.Poles[a].Tokens != 5 {
		t.Fatalf("format 1 folder: %v", err)
	}
}
