package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/npti-studio/npti/inference/hook"
)

// MergeStats adds statistics of the same model, shape and counting mode
// (statistics are additive: counts, tokens and histograms sum). An aspect
// present in only some sets is taken as is; a histogram survives only
// when every set holding that aspect has one. The merged Meta is the
// first set's, with seeds and data sources combined and progress, files
// and generation cleared.
func MergeStats(sets ...*StatsSet) (*StatsSet, error) {
	if len(sets) == 0 {
		return nil, fmt.Errorf("merge stats: nothing to merge")
	}
	for k, s := range sets {
		if s == nil {
			return nil, fmt.Errorf("merge stats: set %d is nil", k+1)
		}
		if err := compatible(sets[0], s); err != nil {
			return nil, fmt.Errorf("merge stats: set %d: %w", k+1, err)
		}
	}
	out := &StatsSet{Meta: sets[0].Meta, Poles: map[Aspect]*hook.Stats{}}
	out.Meta.Progress, out.Meta.Files, out.Meta.Generation = nil, nil, 0
	out.Meta.Seeds = slices.Clone(out.Meta.Seeds)
	sources := []string{}
	for _, s := range sets {
		for _, seed := range s.Meta.Seeds {
			if !slices.Contains(out.Meta.Seeds, seed) {
				out.Meta.Seeds = append(out.Meta.Seeds, seed)
			}
		}
		if d := s.Meta.DataSource; d != "" && !slices.Contains(sources, d) {
			sources = append(sources, d)
		}
		for a, st := range s.Poles {
			if st == nil {
				continue
			}
			if prev := out.Poles[a]; prev != nil {
				if err := prev.Add(st); err != nil {
					return nil, fmt.Errorf("merge stats: %s: %w", a.Key(), err)
				}
			} else {
				out.Poles[a] = st.Clone()
			}
		}
	}
	out.Meta.DataSource = strings.Join(sources, " + ")
	out.Meta.Traits = nil
	for _, a := range Aspects() {
		if out.Poles[a] != nil {
			out.Meta.Traits = append(out.Meta.Traits, a.Key())
		}
	}
	return out, nil
}

// compatible reports why two sets cannot be merged.
func compatible(a, b *StatsSet) error {
	ma, mb := a.Meta, b.Meta
	switch {
	case ma.ModelHash != "" && mb.ModelHash != "" && ma.ModelHash != mb.ModelHash:
		return fmt.Errorf("different models (hash %s, first set %s)", mb.ModelHash, ma.ModelHash)
	case (ma.ModelHash == "" || mb.ModelHash == "") && ma.Model != mb.Model:
		return fmt.Errorf("different models (%q, first set %q)", mb.Model, ma.Model)
	case ma.Mode != mb.Mode:
		return fmt.Errorf("counting mode %q differs from the first set's %q", mb.Mode, ma.Mode)
	}
	la, na := shapeOf(a)
	lb, nb := shapeOf(b)
	if la != lb || na != nb {
		return fmt.Errorf("shape %dx%d differs from the first set's %dx%d", lb, nb, la, na)
	}
	for asp, st := range b.Poles {
		if st != nil {
			if err := checkPole(asp, st, lb, nb); err != nil {
				return err
			}
		}
	}
	return nil
}

// shapeOf returns the set's shape from its meta, or from a pole.
func shapeOf(s *StatsSet) (int, int) {
	if s.Meta.Layers > 0 || s.Meta.Neurons > 0 {
		return s.Meta.Layers, s.Meta.Neurons
	}
	for _, a := range Aspects() {
		if st := s.Poles[a]; st != nil {
			return st.Layers, st.Neurons
		}
	}
	return 0, 0
}
