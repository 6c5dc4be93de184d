package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/inference/hook"
	"github.com/npti-studio/npti/inference/refdata"
)

// neuronsShared returns a path in the reference data (../shared).
func neuronsShared(t *testing.T, parts ...string) string { return refdata.Path(t, parts...) }

func TestNeuronsFromPublished(t *testing.T) {
	src := neuronsShared(t, "data", "npti-llama3-8b-instruct")
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"--from", src, "--out", out, "--traits", "extraversion,Neuroticism", "--layers-count", "32", "--neurons-count", "14336", "--json"}
	if err := runNeurons(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	var got struct {
		Sets []struct {
			Aspect   string                       `json:"aspect"`
			Count    int                          `json:"count"`
			PerLayer []struct{ Layer, Count int } `json:"per_layer"`
		} `json:"sets"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	// Counts from NPTI.md §6.
	want := map[string]int{"Extraversion": 27427, "Neuroticism": 19211, "Extraversion_reversed": 24519, "Neuroticism_reversed": 16313}
	if len(got.Sets) != len(want) {
		t.Fatalf("sets = %+v", got.Sets)
	}
	for _, s := range got.Sets {
		sum := 0
		for _, pl := range s.PerLayer {
			sum += pl.Count
		}
		if s.Count != want[s.Aspect] || sum != s.Count {
			t.Errorf("%s: count %d (per layer %d), want %d", s.Aspect, s.Count, sum, want[s.Aspect])
		}
	}
	back, err := analysis.LoadSets(out)
	if err != nil || len(back) != 4 {
		t.Fatalf("written sets: %d, %v", len(back), err)
	}
	// A model too small for the records is refused, naming the file.
	err = runNeurons(context.Background(), []string{"--from", src, "--out", t.TempDir(), "--layers-count", "31", "--neurons-count", "14336"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "_dict.json: record") {
		t.Errorf("small model: error = %v", err)
	}
}

func TestNeuronsFromStats(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	set := &analysis.StatsSet{Meta: analysis.Meta{Model: "m", Mode: analysis.CountGenerated}, Poles: map[analysis.Aspect]*hook.Stats{}}
	for _, p := range []analysis.Pole{analysis.High, analysis.Low} {
		st := hook.NewStats(2, 50, true)
		st.Tokens = 100
		for i := range st.Active {
			st.Active[i] = r.Int64N(101)
			st.Hist[i*hook.Bins] = uint32(st.Tokens - st.Active[i])
			st.Hist[i*hook.Bins+1+r.IntN(hook.Bins-1)] = uint32(st.Active[i])
		}
		set.Poles[analysis.Aspect{Trait: analysis.Agreeableness, Pole: p}] = st
	}
	dir := t.TempDir()
	if err := analysis.SaveStats(filepath.Join(dir, "stats"), set); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"--stats", filepath.Join(dir, "stats"), "--out", filepath.Join(dir, "n"), "--rule", "topk", "--top-k", "7"}
	if err := runNeurons(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "Agreeableness_reversed") || !strings.Contains(stdout.String(), "      7 neurons") {
		t.Errorf("summary:\n%s", stdout.String())
	}
	ns, err := analysis.ReadDict(filepath.Join(dir, "n", "Agreeableness_dict.json"))
	if err != nil || len(ns) != 7 {
		t.Errorf("dict: %d records, %v", len(ns), err)
	}
}

func TestNeuronsUsage(t *testing.T) {
	for _, args := range [][]string{{"--out", "x"}, {"--stats", "a", "--from", "b", "--out", "x"}, {"--bogus"},
		{"--from", "a", "--out", "x", "--layers-count", "3"}} {
		var stdout, stderr bytes.Buffer
		if err := runNeurons(context.Background(), args, &stdout, &stderr); !errors.Is(err, errUsage) || stderr.Len() == 0 {
			t.Errorf("%v: error %v, stderr %q", args, err, stderr.String())
		}
	}
}
