package analysis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadBenchShared(t *testing.T) {
	b, err := LoadBenchDir(sharedDir(t, "data", "personalitybench"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range Aspects() {
		if n := len(b.Descriptions[a]); n != 80 {
			t.Errorf("%s: %d descriptions, want 80", a.Key(), n)
		}
	}
	// Counts from SOURCE.md.
	want := map[Trait]int{Openness: 90, Conscientiousness: 89, Extraversion: 90, Agreeableness: 90, Neuroticism: 100}
	for tr, n := range want {
		if got := len(b.Questions[tr]); got != n {
			t.Errorf("%s: %d questions, want %d", tr, got, n)
		}
	}
	if !strings.HasPrefix(b.Descriptions[Aspect{Openness, High}][0], "You are a person with a rich imagination") {
		t.Errorf("first Openness description = %q", b.Descriptions[Aspect{Openness, High}][0])
	}
}

func descLine(skip string) string {
	var parts []string
	for _, a := range Aspects() {
		if a.Key() != skip {
			parts = append(parts, `"`+a.Key()+`": "d `+a.Key()+`"`)
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func TestLoadBenchErrors(t *testing.T) {
	good := descLine("")
	q := `{"question": "q?"}` + "\n"
	tests := []struct {
		name, desc, questions, want string
	}{
		{"ok", good + "\n\n" + good + "\n", q, ""},
		{"bad json", good + "\n" + good + "\n{oops\n", q, "description.json:3:"},
		{"missing key", good + "\n" + descLine("Neuroticism_reversed") + "\n", q, `description.json:2: missing key "Neuroticism_reversed"`},
		{"unknown key", `{"Humour": "x"}`, q, `description.json:1: unknown key "Humour"`},
		{"empty", "\n", q, "no descriptions"},
		{"not a string", `{"Openness": 3}`, q, "description.json:1:"},
		{"bad question", good, q + `{"q": "x"}` + "\n", `extraversion.json:2: missing or empty "question"`},
		{"question not json", good, "[1,2\n", "extraversion.json:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"pb/description.json":       {Data: []byte(tt.desc)},
				"pb/test/extraversion.json": {Data: []byte(tt.questions)},
				"pb/test/README.md":         {Data: []byte("not a trait")},
			}
			b, err := LoadBench(fsys, "pb")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(b.Descriptions[Aspect{Agreeableness, Low}]) != 2 || len(b.Questions[Extraversion]) != 1 || len(b.Questions) != 1 {
					t.Errorf("bench = %+v", b)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadBenchMissingQuestions(t *testing.T) {
	fsys := fstest.MapFS{"description.json": {Data: []byte(descLine(""))}, "test/x.txt": {}}
	if _, err := LoadBench(fsys, "."); err == nil || !strings.Contains(err.Error(), "no <Trait>.json") {
		t.Errorf("error = %v", err)
	}
}

func FuzzLoadDescriptions(f *testing.F) {
	f.Add([]byte(descLine("")))
	f.Add([]byte(descLine("Openness") + "\n" + descLine("")))
	f.Add([]byte(`{"Openness": ""}`))
	f.Add([]byte("\n\n{\"a\":1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDescriptions("description.json", strings.NewReader(string(data)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "description.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		n := len(d[Aspect{Openness, High}])
		for _, a := range Aspects() {
			if len(d[a]) != n || n == 0 {
				t.Fatalf("%s: %d descriptions, Openness %d", a.Key(), len(d[a]), n)
			}
		}
	})
}

// TestLoadBenchDirErrorsNamePath: errors of a bench folder on disk name
// each file by its full path (folder included) and keep the line number,
// also when the folder was given relative to the working directory.
func TestLoadBenchDirErrorsNamePath(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "pb")
	write := func(name, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("description.json", descLine("")+"\n"+descLine("Neuroticism_reversed")+"\n")
	write("test/Extraversion.json", `{"question": "q?"}`+"\n")
	t.Chdir(parent)
	want := filepath.Join(dir, "description.json") + `:2: missing key "Neuroticism_reversed"`
	if _, err := LoadBenchDir("pb"); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want it to contain %q", err, want)
	}
	write("description.json", descLine("")+"\n")
	write("test/Extraversion.json", `{"question": "q?"}`+"\n"+`{"q": 1}`+"\n")
	want = filepath.Join(dir, "test", "Extraversion.json") + `:2: missing or empty "question"`
	if _, err := LoadBenchDirSplit(dir, SplitTest); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want it to contain %q", err, want)
	}
	if _, err := LoadBenchDirSplit("pb", SplitSearch); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("missing search split: error = %v, want it to name %s", err, dir)
	}
}
