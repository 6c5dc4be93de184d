package ui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/npti-studio/npti/analysis"
)

// hashEngine is tinyEngine with a model content hash to report.
type hashEngine struct {
	*tinyEngine
	hash string
}

func (e *hashEngine) Runner() analysis.Runner {
	if e.m == nil {
		return nil
	}
	return e
}
func (e *hashEngine) ModelInfo() (string, string) { return e.m.Path, e.hash }

// TestSessionModelHash: reopening a session whose model's content hash
// differs from the recorded one warns; the same hash does not.
func TestSessionModelHash(t *testing.T) {
	u := newTestUI(t, &hashEngine{&tinyEngine{}, "aaaa1111"})
	u.start.load(sharedDir(t, "models", "persona-tiny"))
	waitStatus(t, u, "Model loaded")
	path := filepath.Join(t.TempDir(), "session.json")
	if err := u.saveSession(path); err != nil {
		t.Fatal(err)
	}
	same := newTestUI(t, &hashEngine{&tinyEngine{}, "aaaa1111"})
	same.OpenSession(path)
	settle(t, same)
	if got := overlayText(same); got != "" {
		t.Errorf("same model: dialog %q", got)
	}
	changed := newTestUI(t, &hashEngine{&tinyEngine{}, "bbbb2222"})
	changed.OpenSession(path)
	settle(t, changed)
	if got := overlayText(changed); !strings.Contains(got, "changed since the session was saved") || !strings.Contains(got, "aaaa1111") {
		t.Errorf("changed model: dialog %q", got)
	}
}
