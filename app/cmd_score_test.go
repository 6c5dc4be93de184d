package app

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/npti-studio/npti/analysis"
)

// TestWriteScoredAtomic: a failed write of `score --out` leaves the
// previous file as it was (os.Create truncated it first).
func TestWriteScoredAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scored.jsonl")
	good := []analysis.Scored{{Answer: analysis.Answer{Question: "q", Condition: analysis.CondUnsteered}, PHigh: 0.25}}
	if err := writeScored(path, good); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if !strings.Contains(string(before), `"p_high":0.25`) {
		t.Fatalf("scored file %s", before)
	}
	bad := []analysis.Scored{{Answer: good[0].Answer, PHigh: 0.75}, {Answer: good[0].Answer, PHigh: math.NaN()}}
	if err := writeScored(path, bad); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("unencodable answer: error %v", err)
	}
	after, _ := os.ReadFile(path)
	entries, _ := os.ReadDir(filepath.Dir(path))
	if !bytes.Equal(before, after) || len(entries) != 1 {
		t.Errorf("failed write changed the file (%q) or left %d files", after, len(entries))
	}
}
