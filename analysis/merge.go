package analysis

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/npti-studio/npti/inference/hook"
)

// MergeStats adds statistics of the same model, shape and counting mode
// (statistics are additive: counts, tokens and histograms sum). An aspect
// present in only some sets is taken as is; a histogram survives only
// when every set holding that aspect has one. The merged Meta is the
// first set's, with seeds and data sources combined, progress, files and
// generation cleared, and MergedRuns listing the identification settings
// of every run merged (nested merges flattened).
//
// Sets that would count the same items twice are refused: two runs with
// the same settings (batch size aside), shards of one run with the same
// index or different shard counts, and runs that differ only in the
// items they select when those selections overlap. So are runs of
// different identification modes (the prompt and teacher modes both
// count "teacher-forced" positions; only their settings tell them apart).
// These checks need the runs' settings, recorded by Identify; sets
// without them are checked on model, mode and shape only. Errors name
// the sets "set 1", "set 2", ...; MergeStatsNamed names them.
func MergeStats(sets ...*StatsSet) (*StatsSet, error) {
	names := make([]string, len(sets))
	for k := range sets {
		names[k] = fmt.Sprintf("set %d", k+1)
	}
	return MergeStatsNamed(names, sets...)
}

// MergeStatsNamed is MergeStats with a name per set (its folder) for the
// errors.
func MergeStatsNamed(names []string, sets ...*StatsSet) (*StatsSet, error) {
	if len(sets) == 0 {
		return nil, fmt.Errorf("merge stats: nothing to merge")
	}
	if len(names) != len(sets) {
		return nil, fmt.Errorf("merge stats: %d names for %d sets", len(names), len(sets))
	}
	for k, s := range sets {
		if s == nil {
			return nil, fmt.Errorf("merge stats: %s is nil", names[k])
		}
		if err := compatible(sets[0], s); err != nil {
			return nil, fmt.Errorf("merge stats: %s: %w", names[k], err)
		}
	}
	runs, err := checkRuns(names, sets)
	if err != nil {
		return nil, fmt.Errorf("merge stats: %w", err)
	}
	out := &StatsSet{Meta: sets[0].Meta, Poles: map[Aspect]*hook.Stats{}}
	out.Meta.Progress, out.Meta.Files, out.Meta.Generation = nil, nil, 0
	out.Meta.MergedRuns = runs
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

// Runs returns the identification settings of the runs a set holds: those
// of every run merged into it, or its own (nil when it records none). The
// maps are as they read back from JSON (numbers are float64).
func (s *StatsSet) Runs() []map[string]any {
	if len(s.Meta.MergedRuns) > 0 {
		out := make([]map[string]any, 0, len(s.Meta.MergedRuns))
		for _, r := range s.Meta.MergedRuns {
			if r != nil {
				out = append(out, legacySettings(jsonCopy(r)))
			}
		}
		return out
	}
	if have, _ := s.Meta.Progress[progressSettings].(map[string]any); have != nil {
		return []map[string]any{legacySettings(jsonCopy(have))}
	}
	return nil
}

// jsonCopy returns m as it reads back from JSON (a deep copy).
func jsonCopy(m map[string]any) map[string]any {
	data, err := json.Marshal(m)
	if err != nil {
		return maps.Clone(m)
	}
	var out map[string]any
	if json.Unmarshal(data, &out) != nil {
		return maps.Clone(m)
	}
	return out
}

// checkRuns compares the runs of every pair of sets and returns all runs.
func checkRuns(names []string, sets []*StatsSet) ([]map[string]any, error) {
	type run struct {
		set      int
		settings map[string]any
	}
	var runs []run
	for k, s := range sets {
		for _, r := range s.Runs() {
			runs = append(runs, run{k, r})
		}
	}
	for i, x := range runs {
		for _, y := range runs[i+1:] {
			if x.set == y.set {
				continue // checked when that set was merged
			}
			if err := runsConflict(names[x.set], x.settings, names[y.set], y.settings); err != nil {
				return nil, err
			}
		}
	}
	all := make([]map[string]any, len(runs))
	for i, r := range runs {
		all[i] = r.settings
	}
	return all, nil
}

// itemKeys are the settings that select which items of the data a run
// counts; "batch" changes nothing that is counted.
var itemKeys = []string{"shard", "lines", "questions", "aspects", "batch"}

// runsConflict reports why two runs cannot be merged: different
// identification modes, or items that both count.
func runsConflict(nx string, x map[string]any, ny string, y map[string]any) error {
	mx, _ := x["mode"].(string)
	my, _ := y["mode"].(string)
	if mx != "" && my != "" && mx != my {
		return fmt.Errorf("%s was identified in mode %q and %s in mode %q: statistics of different modes do not add up", nx, mx, ny, my)
	}
	if jsonEqual(x, y) {
		return fmt.Errorf("%s and %s hold the same run (identical settings): merging would count its items twice", nx, ny)
	}
	rx, ry := maps.Clone(x), maps.Clone(y)
	for _, k := range itemKeys {
		delete(rx, k)
		delete(ry, k)
	}
	if mx == IdentifyTeacher && my == IdentifyTeacher {
		// Teacher forcing reads the descriptions only: the seed and the
		// question split (also named in the data source) change nothing
		// it counts.
		for _, r := range []map[string]any{rx, ry} {
			delete(r, "seed")
			delete(r, "split")
			if d, ok := r["data_source"].(string); ok {
				if i := strings.LastIndex(d, " split "); i >= 0 {
					r["data_source"] = d[:i]
				}
			}
		}
	}
	if !jsonEqual(rx, ry) {
		return nil // other data, prompts or model: nothing counted twice
	}
	if !aspectsMeet(x["aspects"], y["aspects"]) {
		return nil
	}
	sx, _ := x["shard"].(string)
	sy, _ := y["shard"].(string)
	ix, nxs, errx := parseShardSetting(sx)
	iy, nys, erry := parseShardSetting(sy)
	if errx != nil || erry != nil {
		return fmt.Errorf("%s and %s: unreadable shard setting (%q, %q)", nx, ny, sx, sy)
	}
	if nxs != nys {
		return fmt.Errorf("%s (shard %s) and %s (shard %s) split the same run into different shard counts: their items overlap", nx, sx, ny, sy)
	}
	lx, _ := x["lines"].(string)
	ly, _ := y["lines"].(string)
	if lx != ly {
		if mx != IdentifyTeacher && my != IdentifyTeacher {
			return nil // other description pools: other items
		}
		if !linesMeet(lx, ix, ly, iy, nxs) {
			return nil
		}
		return fmt.Errorf("%s (lines %s, shard %s) and %s (lines %s, shard %s) count some of the same descriptions", nx, lx, sx, ny, ly, sy)
	}
	if ix != iy {
		return nil // disjoint shards of one run
	}
	return fmt.Errorf("%s and %s are the same shard %s of one run (their settings differ only in the items' batch or count): merging would count items twice", nx, ny, sx)
}

// jsonEqual compares two JSON-like values.
func jsonEqual(a, b any) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && string(ja) == string(jb)
}

// aspectsMeet reports whether two "aspects" settings share an aspect (or
// cannot be read).
func aspectsMeet(a, b any) bool {
	la, oka := a.([]any)
	lb, okb := b.([]any)
	if !oka || !okb {
		return true
	}
	for _, x := range la {
		if slices.Contains(lb, x) {
			return true
		}
	}
	return false
}

// parseShardSetting parses "i/n" (empty: "0/1").
func parseShardSetting(s string) (int, int, error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("bad shard %q", s)
	}
	return i, n, nil
}

// linesMeet reports whether two teacher runs with description lines lx
// and ly ("A-B": lines [A, B), B = 0 for the rest of the file) and shards
// ix/n and iy/n count a common description line. Unreadable ranges count
// as meeting.
func linesMeet(lx string, ix int, ly string, iy int, n int) bool {
	lox, hix, okx := parseLinesSetting(lx)
	loy, hiy, oky := parseLinesSetting(ly)
	if !okx || !oky {
		return true
	}
	lo, hi := max(lox, loy), min(hix, hiy)
	// A shard takes every n-th line from its range's start, so the
	// pattern of common lines repeats every n lines.
	for k := lo; k < hi && k < lo+n; k++ {
		if (k-lox)%n == ix && (k-loy)%n == iy {
			return true
		}
	}
	return false
}

// parseLinesSetting parses "A-B" into [A, B), B = 0 meaning no end.
func parseLinesSetting(s string) (int, int, bool) {
	a, b, ok := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || lo < 0 || hi < 0 {
		return 0, 0, false
	}
	if hi == 0 {
		hi = int(^uint(0) >> 1)
	}
	return lo, hi, true
}
