package analysis

import (
	"fmt"
	"strconv"
	"strings"
)

// SelectAll selects the neurons of both poles of each trait from a stats
// set (all traits with both poles when traits is empty). Both poles of a
// requested trait must be present and carry histograms (for q95).
func SelectAll(s *StatsSet, traits []Trait, r Rule) (Sets, error) {
	if s == nil {
		return nil, fmt.Errorf("select: no statistics")
	}
	if len(traits) == 0 {
		for _, t := range Traits() {
			if s.Poles[Aspect{t, High}] != nil && s.Poles[Aspect{t, Low}] != nil {
				traits = append(traits, t)
			}
		}
		if len(traits) == 0 {
			return nil, fmt.Errorf("select: no trait has statistics for both poles")
		}
	}
	out := Sets{}
	for _, t := range traits {
		high, low := s.Poles[Aspect{t, High}], s.Poles[Aspect{t, Low}]
		for _, a := range []Aspect{{t, High}, {t, Low}} {
			st := s.Poles[a]
			if st == nil {
				return nil, fmt.Errorf("select %s: no statistics for %s", t, a.Key())
			}
			if st.Hist == nil {
				return nil, fmt.Errorf("select %s: statistics of %s have no histogram, so q95 is unknown", t, a.Key())
			}
		}
		if err := r.Validate(high.Layers); err != nil {
			return nil, fmt.Errorf("select: %w", err)
		}
		c, err := NewContrast(high, low)
		if err != nil {
			return nil, fmt.Errorf("select %s: %w", t, err)
		}
		c.Trait = t
		out[Aspect{t, High}] = Select(c, High, r)
		out[Aspect{t, Low}] = Select(c, Low, r)
	}
	return out, nil
}

// Refine applies a rule to existing records of one pole (to shrink or
// re-cut a published set): records are ranked by their diff as Select
// ranks neurons, and the minimum of the NPTI rule is a fraction of
// layers × neurons. Records outside the rule's layer range are dropped.
func Refine(ns []Neuron, r Rule, layers, neurons int) []Neuron {
	if r.Validate(layers) != nil {
		return nil
	}
	byKey := make(map[[2]int32]Neuron, len(ns))
	var cs []candidate
	for _, n := range ns {
		if n.Layer < r.LayerMin || (r.LayerMax >= 0 && n.Layer > r.LayerMax) || n.Layer >= layers {
			continue
		}
		k := [2]int32{int32(n.Layer), int32(n.Index)}
		byKey[k] = n
		cs = append(cs, candidate{n.Diff, k[0], k[1]})
	}
	sortCandidates(cs)
	minKeep := 0
	if r.Mode == ModeNPTI {
		minKeep = r.minimum(layers * neurons)
	}
	picked := walk(cs, r, layers, minKeep)
	out := make([]Neuron, len(picked))
	for k, p := range picked {
		out[k] = byKey[[2]int32{p.l, p.i}]
	}
	return out
}

// ParseLayerRange parses "A-B" (inclusive), "A-" (A to the last layer) or
// "A" (one layer) into LayerMin and LayerMax of a rule.
func ParseLayerRange(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(strings.TrimSpace(s), "-")
	if lo, err = strconv.Atoi(a); err != nil || lo < 0 {
		return 0, 0, fmt.Errorf("bad layer range %q (want A-B, A- or A)", s)
	}
	if !isRange {
		return lo, lo, nil
	}
	if b == "" {
		return lo, -1, nil
	}
	if hi, err = strconv.Atoi(b); err != nil || hi < lo {
		return 0, 0, fmt.Errorf("bad layer range %q (want A-B with A <= B)", s)
	}
	return lo, hi, nil
}

// SetSummary describes one aspect's neuron set.
type SetSummary struct {
	Aspect    string      `json:"aspect"`
	Count     int         `json:"count"`
	TopLayers []int       `json:"top_layers"`
	PerLayer  []LayerSize `json:"per_layer"`
}

// Summarize describes every set, in the official aspect order.
func (s Sets) Summarize() []SetSummary {
	var out []SetSummary
	for _, a := range s.Aspects() {
		out = append(out, SetSummary{Aspect: a.Key(), Count: len(s[a]), TopLayers: TopLayers(s[a], 3), PerLayer: PerLayer(s[a])})
	}
	return out
}
