package resources

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image/png"
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

var traits = []string{"Openness", "Conscientiousness", "Extraversion", "Agreeableness", "Neuroticism"}

// jsonLines decodes every non-empty line of a file in the probe set.
func jsonLines[T any](t *testing.T, name string) []T {
	t.Helper()
	data, err := fs.ReadFile(Probes(), name)
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s line %d: %v", name, line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

var sentenceEnd = regexp.MustCompile(`[.!?](\s|$)`)

func TestDescriptions(t *testing.T) {
	rows := jsonLines[map[string]string](t, "description.json")
	if len(rows) < 32 {
		t.Fatalf("description.json: %d lines, want at least 32", len(rows))
	}
	seen := make(map[string]bool)
	for i, row := range rows {
		if len(row) != 10 {
			t.Errorf("description.json line %d: %d keys, want 10", i+1, len(row))
		}
		for _, tr := range traits {
			for _, key := range []string{tr, tr + "_reversed"} {
				text := row[key]
				if !strings.HasPrefix(text, "You ") {
					t.Errorf("line %d %s: %q does not start with \"You \"", i+1, key, text)
				}
				if n := len(sentenceEnd.FindAllString(text, -1)); n < 3 || n > 5 {
					t.Errorf("line %d %s: %d sentences, want 3-5", i+1, key, n)
				}
				if seen[text] {
					t.Errorf("line %d %s: duplicate description", i+1, key)
				}
				seen[text] = true
			}
		}
	}
}

// traitNames are words that would give the trait away in a question.
var traitNames = regexp.MustCompile(`(?i)openness|open-minded|conscientious|extravert|extrovert|introvert|agreeabl|neurotic|personality`)

func TestQuestions(t *testing.T) {
	seen := make(map[string]bool)
	for _, tr := range traits {
		name := "test/" + tr + ".json"
		qs := jsonLines[struct {
			Question string `json:"question"`
		}](t, name)
		if len(qs) < 64 {
			t.Errorf("%s: %d questions, want at least 64", name, len(qs))
		}
		for i, q := range qs {
			switch {
			case !strings.HasSuffix(q.Question, "?") && !strings.HasSuffix(q.Question, "."):
				t.Errorf("%s line %d: %q does not end a sentence", name, i+1, q.Question)
			case traitNames.MatchString(q.Question):
				t.Errorf("%s line %d: %q names a trait", name, i+1, q.Question)
			case seen[q.Question]:
				t.Errorf("%s line %d: duplicate question %q", name, i+1, q.Question)
			}
			seen[q.Question] = true
		}
	}
}

func TestIcon(t *testing.T) {
	data := Icon()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("icon.png: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Errorf("icon.png: %dx%d, want 512x512", b.Dx(), b.Dy())
	}
	// Corners are transparent (rounded square), the centre is opaque.
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("icon.png: corner alpha %d, want 0", a)
	}
	if _, _, _, a := img.At(256, 256).RGBA(); a != 0xffff {
		t.Errorf("icon.png: centre alpha %d, want opaque", a)
	}
	data[0] = 0
	if Icon()[0] == 0 {
		t.Error("Icon returns shared, mutable bytes")
	}
}
