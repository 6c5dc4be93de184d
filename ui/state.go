package ui

import (
	"fmt"
	"slices"

	"github.com/npti-studio/npti/analysis"
	"github.com/npti-studio/npti/ui/figure"
)

// state is what the views share: the model, the statistics or published
// sets opened, the current aspect, the selection rule and the manual edits.
// It is only touched on the UI goroutine.
type state struct {
	model    *ModelInfo
	stats    *analysis.StatsSet
	statsDir string
	sets     analysis.Sets // opened neuron dict files
	setsDir  string
	aspect   analysis.Aspect
	rule     analysis.Rule

	contrasts map[analysis.Trait]*analysis.Contrast
	grids     map[analysis.Trait]figure.Grid
	records   map[analysis.Aspect]map[[2]int]analysis.Neuron // from sets
	edits     map[analysis.Aspect]map[[2]int]bool            // manual: true add, false remove
	custom    map[analysis.Aspect][]analysis.Neuron          // set algebra results
	selCache  map[analysis.Aspect][]analysis.Neuron
}

func newState() *state {
	s := &state{rule: analysis.DefaultRule(), aspect: analysis.Aspect{Trait: analysis.Extraversion, Pole: analysis.High}}
	s.reset()
	return s
}

// reset drops everything derived from the data (after new data is opened).
func (s *state) reset() {
	s.contrasts = map[analysis.Trait]*analysis.Contrast{}
	s.grids = map[analysis.Trait]figure.Grid{}
	s.records = map[analysis.Aspect]map[[2]int]analysis.Neuron{}
	s.edits = map[analysis.Aspect]map[[2]int]bool{}
	s.custom = map[analysis.Aspect][]analysis.Neuron{}
	s.selCache = map[analysis.Aspect][]analysis.Neuron{}
}

// shapeChanged drops what depends on the shape (a model was loaded under
// opened sets); the edits and set algebra results stay.
func (s *state) shapeChanged() {
	s.grids = map[analysis.Trait]figure.Grid{}
	s.selCache = map[analysis.Aspect][]analysis.Neuron{}
}

// ruleChanged drops the cached selections (the edits stay).
func (s *state) ruleChanged() { s.selCache = map[analysis.Aspect][]analysis.Neuron{} }

// hasData reports whether stats or sets are open.
func (s *state) hasData() bool { return s.stats != nil || len(s.sets) > 0 }

// shape returns layers × neurons of the data: the stats' shape, else the
// model's when the opened sets fit in it (a set's largest index may fall
// short of the last neuron), else the sets' own extent, so sets of
// another model are never cropped to the loaded one (setsMismatch says
// so).
func (s *state) shape() (int, int) {
	switch {
	case s.stats != nil && s.stats.Meta.Layers > 0:
		return s.stats.Meta.Layers, s.stats.Meta.Neurons
	case s.model != nil && s.setsMismatch() == "":
		return s.model.Layers, s.model.Neurons
	}
	return s.sets.Shape()
}

// setsMismatch describes why the opened neuron sets do not fit the loaded
// model ("" when they fit, or without sets or model).
func (s *state) setsMismatch() string {
	if s.model == nil || len(s.sets) == 0 {
		return ""
	}
	l, n := s.sets.Shape()
	if l <= s.model.Layers && n <= s.model.Neurons {
		return ""
	}
	return fmt.Sprintf("The neuron sets in %s reach layer %d and neuron %d (at least %d layers × %d neurons), "+
		"but the loaded model %s has %d layers × %d neurons. They are shown at their own shape; "+
		"inducing them needs the model they were identified on.",
		s.setsDir, l-1, n-1, l, n, s.model.Name, s.model.Layers, s.model.Neurons)
}

// traits lists the traits with data: both poles of stats, or any set.
func (s *state) traits() []analysis.Trait {
	var out []analysis.Trait
	for _, t := range analysis.Traits() {
		hi, lo := analysis.Aspect{Trait: t, Pole: analysis.High}, analysis.Aspect{Trait: t, Pole: analysis.Low}
		if s.stats != nil && s.stats.Poles[hi] != nil && s.stats.Poles[lo] != nil {
			out = append(out, t)
		} else if s.sets[hi] != nil || s.sets[lo] != nil {
			out = append(out, t)
		}
	}
	return out
}

// contrast returns the contrast of a trait's statistics, nil without them.
func (s *state) contrast(t analysis.Trait) (*analysis.Contrast, error) {
	if c, ok := s.contrasts[t]; ok {
		return c, nil
	}
	if s.stats == nil {
		return nil, nil
	}
	hi, lo := s.stats.Poles[analysis.Aspect{Trait: t, Pole: analysis.High}], s.stats.Poles[analysis.Aspect{Trait: t, Pole: analysis.Low}]
	if hi == nil || lo == nil {
		return nil, nil
	}
	c, err := analysis.NewContrast(hi, lo)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.statsDir, err)
	}
	c.Trait = t
	s.contrasts[t] = c
	return c, nil
}

// contrastGrid shows a contrast's diff.
type contrastGrid struct{ c *analysis.Contrast }

func (g contrastGrid) Dims() (int, int)       { return g.c.Layers, g.c.Neurons }
func (g contrastGrid) Value(l, i int) float64 { return g.c.Diff[l][i] }

// grid returns the heatmap data of a trait: the contrast's diff, or with
// only dict files the sets' diff (high pole positive, low negative) for
// the neurons they hold and zero elsewhere.
func (s *state) grid(t analysis.Trait) (figure.Grid, error) {
	if g, ok := s.grids[t]; ok {
		return g, nil
	}
	c, err := s.contrast(t)
	if err != nil {
		return nil, err
	}
	if c != nil {
		s.grids[t] = contrastGrid{c}
		return s.grids[t], nil
	}
	layers, neurons := s.shape()
	if layers == 0 {
		return nil, fmt.Errorf("no statistics or neuron sets for %s", t)
	}
	d := figure.NewDense(layers, neurons)
	for _, p := range []analysis.Pole{analysis.Low, analysis.High} {
		sign := 1.0
		if p == analysis.Low {
			sign = -1
		}
		for _, n := range s.sets[analysis.Aspect{Trait: t, Pole: p}] {
			if n.Layer < layers && n.Index < neurons {
				d.Set(n.Layer, n.Index, sign*n.Diff)
			}
		}
	}
	s.grids[t] = d
	return d, nil
}

// base returns the selection of an aspect before manual edits: a set
// algebra result, else the rule applied to the contrast, else the rule
// applied to the opened dict file (analysis.Refine).
func (s *state) base(a analysis.Aspect) ([]analysis.Neuron, error) {
	if ns, ok := s.custom[a]; ok {
		return ns, nil
	}
	c, err := s.contrast(a.Trait)
	if err != nil {
		return nil, err
	}
	layers, neurons := s.shape()
	if err := s.rule.Validate(layers); err != nil {
		return nil, err
	}
	if c != nil {
		return analysis.Select(c, a.Pole, s.rule), nil
	}
	return analysis.Refine(s.sets[a], s.rule, layers, neurons), nil
}

// selection returns the current neuron set of an aspect: base plus edits.
func (s *state) selection(a analysis.Aspect) ([]analysis.Neuron, error) {
	if ns, ok := s.selCache[a]; ok {
		return ns, nil
	}
	ns, err := s.base(a)
	if err != nil {
		return nil, err
	}
	if ed := s.edits[a]; len(ed) > 0 {
		in := map[[2]int]bool{}
		var out []analysis.Neuron
		for _, n := range ns {
			k := [2]int{n.Layer, n.Index}
			in[k] = true
			if add, ok := ed[k]; !ok || add {
				out = append(out, n)
			}
		}
		for k, add := range ed {
			if add && !in[k] {
				out = append(out, s.record(a, k[0], k[1]))
			}
		}
		ns = out
	}
	s.selCache[a] = ns
	return ns, nil
}

// selections returns the current set of every aspect with data.
func (s *state) selections() (analysis.Sets, error) {
	out := analysis.Sets{}
	for _, t := range s.traits() {
		for _, p := range []analysis.Pole{analysis.High, analysis.Low} {
			a := analysis.Aspect{Trait: t, Pole: p}
			ns, err := s.selection(a)
			if err != nil {
				return nil, err
			}
			if len(ns) > 0 {
				out[a] = ns
			}
		}
	}
	return out, nil
}

// record returns the neuron record of (l, i) for an aspect, from the
// contrast or the opened dict file.
func (s *state) record(a analysis.Aspect, l, i int) analysis.Neuron {
	n := analysis.Neuron{Layer: l, Index: i}
	if c, _ := s.contrast(a.Trait); c != nil {
		n.Diff, n.P = c.Diff[l][i], c.PHigh[l][i]
		q := c.Q95High
		if a.Pole == analysis.Low {
			n.Diff, n.P, q = -n.Diff, c.PLow[l][i], c.Q95Low
		}
		if q != nil {
			n.Q95 = q[l][i]
		}
		return n
	}
	if r, ok := s.dictRecords(a)[[2]int{l, i}]; ok {
		return r
	}
	return n
}

// dictRecords indexes the opened dict file of an aspect.
func (s *state) dictRecords(a analysis.Aspect) map[[2]int]analysis.Neuron {
	if m, ok := s.records[a]; ok {
		return m
	}
	m := make(map[[2]int]analysis.Neuron, len(s.sets[a]))
	for _, n := range s.sets[a] {
		m[[2]int{n.Layer, n.Index}] = n
	}
	s.records[a] = m
	return m
}

// edit adds (or removes) cells of an aspect's selection by hand.
func (s *state) edit(a analysis.Aspect, cells [][2]int, add bool) {
	if s.edits[a] == nil {
		s.edits[a] = map[[2]int]bool{}
	}
	for _, k := range cells {
		s.edits[a][k] = add
	}
	delete(s.selCache, a)
}

// selected reports whether (l, i) is in an aspect's selection.
func (s *state) selected(a analysis.Aspect, l, i int) bool {
	ns, _ := s.selection(a)
	return slices.ContainsFunc(ns, func(n analysis.Neuron) bool { return n.Layer == l && n.Index == i })
}

// mask returns the selection of an aspect as a dense layers×neurons mask.
func (s *state) mask(a analysis.Aspect) []bool {
	layers, neurons := s.shape()
	m := make([]bool, layers*neurons)
	ns, _ := s.selection(a)
	for _, n := range ns {
		if n.Layer < layers && n.Index < neurons {
			m[n.Layer*neurons+n.Index] = true
		}
	}
	return m
}

// layerCounts counts an aspect's selection per layer.
func (s *state) layerCounts(a analysis.Aspect) []int {
	layers, _ := s.shape()
	counts := make([]int, layers)
	ns, _ := s.selection(a)
	for _, ls := range analysis.PerLayer(ns) {
		if ls.Layer < layers {
			counts[ls.Layer] = ls.Count
		}
	}
	return counts
}
