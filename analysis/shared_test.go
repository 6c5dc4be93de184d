package analysis

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/npti-studio/npti/inference/refdata"
)

// sharedDir returns a path in the reference data (../shared).
func sharedDir(t testing.TB, parts ...string) string { return refdata.Path(t, parts...) }

// modelShape reads layers and FFN neurons from a shared model's config.json.
func modelShape(t testing.TB, model string) (layers, neurons int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sharedDir(t, "models", model), "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Layers  int `json:"num_hidden_layers"`
		Neurons int `json:"intermediate_size"`
	}
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c.Layers, c.Neurons
}

var published struct {
	sync.Mutex
	sets Sets
}

// publishedSets loads the published Llama-3-8B-Instruct neuron sets once
// per test binary; callers must not modify them.
func publishedSets(t testing.TB) Sets {
	t.Helper()
	dir := sharedDir(t, "data", "npti-llama3-8b-instruct")
	published.Lock()
	defer published.Unlock()
	if published.sets == nil {
		s, err := LoadSets(dir)
		if err != nil {
			t.Fatal(err)
		}
		published.sets = s
	}
	return published.sets
}
