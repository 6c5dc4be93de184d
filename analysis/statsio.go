package analysis

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	"github.com/npti-studio/npti/inference/hook"
	"github.com/npti-studio/npti/inference/safetensors"
)

// Counting modes recorded in Meta.Mode: which positions were counted.
const (
	CountGenerated     = "generated"      // decode steps only (NPTI)
	CountAll           = "all"            // prompt and generated tokens
	CountTeacherForced = "teacher-forced" // a given text, all positions
)

// StatsFormat is the version of the stats folder layout SaveStats writes:
// 2 since a save keeps the files of unchanged poles (their generation is
// the save that wrote them, not the folder's), which readers of format 1
// would take for an interrupted save. Format 1 folders still load.
const StatsFormat = 2

// readsFormat reports whether LoadStats reads folders of format f.
func readsFormat(f int) bool { return f == 1 || f == StatsFormat }

// MetaFile is the name of the description file of a stats folder.
const MetaFile = "meta.json"

// Sampling records the generation settings of an identification run.
type Sampling struct {
	Greedy            bool    `json:"greedy"`
	Temperature       float64 `json:"temperature,omitempty"`
	TopP              float64 `json:"top_p,omitempty"`
	RepetitionPenalty float64 `json:"repetition_penalty,omitempty"`
	MaxNewTokens      int     `json:"max_new_tokens,omitempty"`
}

// Meta describes a stats folder (its meta.json).
type Meta struct {
	// Format is StatsFormat; set by SaveStats.
	Format int `json:"format"`
	// ToolVersion is the version of the program that wrote the folder.
	ToolVersion string `json:"tool_version"`
	// Model is the model path or name; ModelHash a hash of its content.
	Model     string `json:"model"`
	ModelHash string `json:"model_hash"`
	// DataSource names the prompts used (e.g. "personalitybench:test").
	DataSource string `json:"data_source"`
	// Mode is CountGenerated, CountAll or CountTeacherForced.
	Mode     string   `json:"mode"`
	Seeds    []uint64 `json:"seeds,omitempty"`
	Sampling Sampling `json:"sampling"`
	// Traits lists the aspect keys present; set by SaveStats.
	Traits []string `json:"traits"`
	// Layers and Neurons give the model's FFN shape.
	Layers  int `json:"layers"`
	Neurons int `json:"neurons"`
	// Progress holds free-form progress fields (prompts done, ...).
	Progress map[string]any `json:"progress,omitempty"`
	// MergedRuns lists, for a set made by MergeStats, the identification
	// settings (Progress["settings"]) of every run merged into it, nested
	// merges flattened, so that a later merge can check them too.
	MergedRuns []map[string]any `json:"merged_runs,omitempty"`
	// Files maps each aspect key to its safetensors file and Generation
	// numbers the save; both are set by SaveStats. The files of one save
	// carry its generation in their metadata, so a folder whose save was
	// interrupted still loads the previous, complete save.
	Files      map[string]string `json:"files"`
	Generation int               `json:"generation"`
	// Fingerprints maps each aspect key to a fingerprint of the
	// statistics in its file (token count, a hash of the active counts,
	// whether a histogram is held); set by SaveStats, which keeps the file
	// of a pole whose fingerprint has not changed instead of rewriting it.
	Fingerprints map[string]string `json:"fingerprints,omitempty"`
}

// StatsSet is the content of a stats folder: per aspect the activation
// statistics of hook.Stats.
type StatsSet struct {
	Meta  Meta
	Poles map[Aspect]*hook.Stats
}

// statsFileRE matches the per-aspect files SaveStats writes.
var statsFileRE = regexp.MustCompile(`^([A-Za-z]+(?:_reversed)?)\.g([0-9]+)\.safetensors$`)

// SaveStats writes s to dir: one safetensors file per aspect,
// "<Key>.g<generation>.safetensors", holding int64 tensors "<Key>.tokens"
// [1], "<Key>.active" [layers, neurons] and, when collected,
// "<Key>.hist" [layers, neurons, 301]; then meta.json, renamed into place
// last, commits the save; files no longer listed in it are then removed.
// Every file is written to a temporary name and renamed, so a crash leaves
// the previous save loadable. A pole whose statistics have not changed
// since the save committed in dir (same fingerprint: token count, active
// counts and histogram presence; identification fills poles one after the
// other) keeps its file from that save, which the new meta.json lists
// again, instead of being rewritten: a checkpoint of Llama-3-8B writes
// about 1.1 GB per changed pole, not per pole.
func SaveStats(dir string, s *StatsSet) error {
	if s == nil || len(s.Poles) == 0 {
		return fmt.Errorf("save stats %s: no statistics", dir)
	}
	m := s.Meta
	m.Format, m.Files, m.Traits = StatsFormat, map[string]string{}, nil
	for _, a := range Aspects() {
		if st := s.Poles[a]; st != nil {
			if m.Layers == 0 && m.Neurons == 0 {
				m.Layers, m.Neurons = st.Layers, st.Neurons
			}
			if err := checkPole(a, st, m.Layers, m.Neurons); err != nil {
				return fmt.Errorf("save stats %s: %w", dir, err)
			}
			m.Traits = append(m.Traits, a.Key())
		}
	}
	nonNil := 0
	for _, st := range s.Poles {
		if st != nil {
			nonNil++
		}
	}
	if len(m.Traits) != nonNil {
		return fmt.Errorf("save stats %s: statistics for an unknown aspect", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save stats: %w", err)
	}
	prev := previousMeta(dir)
	m.Generation = max(m.Generation, prev.Generation) + 1
	m.Fingerprints = map[string]string{}
	for _, key := range m.Traits {
		a, _ := ParseAspect(key)
		fp := fingerprint(s.Poles[a])
		m.Fingerprints[key] = fp
		if old := prev.Files[key]; old != "" && prev.Fingerprints[key] == fp && prev.Layers == m.Layers && prev.Neurons == m.Neurons &&
			statsFileRE.MatchString(old) && filepath.Base(old) == old {
			if fi, err := os.Stat(filepath.Join(dir, old)); err == nil && fi.Mode().IsRegular() {
				m.Files[key] = old // unchanged since the committed save: keep its file
				continue
			}
		}
		name := fmt.Sprintf("%s.g%d.safetensors", key, m.Generation)
		if err := writePole(filepath.Join(dir, name), a, s.Poles[a], m.Generation); err != nil {
			return fmt.Errorf("save stats: %w", err)
		}
		m.Files[key] = name
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("save stats %s: %w", dir, err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, MetaFile), append(data, '\n')); err != nil {
		return fmt.Errorf("save stats: %w", err)
	}
	removeStale(dir, m.Files)
	return nil
}

// fingerprint identifies a pole's statistics: its shape, token count,
// a hash of its active counts and whether it holds a histogram. Statistics
// only grow (every counted position adds a token), so a pole with the same
// fingerprint as at the last save has not changed since.
func fingerprint(st *hook.Stats) string {
	h := sha256.New()
	writeInts(h, st.Active...)
	return fmt.Sprintf("%dx%d/tokens=%d/hist=%t/active=%x", st.Layers, st.Neurons, st.Tokens, st.Hist != nil, h.Sum(nil)[:16])
}

// checkPole verifies one aspect's statistics against the folder's shape.
func checkPole(a Aspect, st *hook.Stats, layers, neurons int) error {
	if layers <= 0 || neurons <= 0 {
		return fmt.Errorf("%s: invalid shape %dx%d", a.Key(), layers, neurons)
	}
	if st.Layers != layers || st.Neurons != neurons {
		return fmt.Errorf("%s: statistics are %dx%d, folder is %dx%d", a.Key(), st.Layers, st.Neurons, layers, neurons)
	}
	if err := checkStats(st); err != nil {
		return fmt.Errorf("%s: %w", a.Key(), err)
	}
	return nil
}

// previousMeta returns the meta.json committed in dir (zero if none or
// unreadable).
func previousMeta(dir string) Meta {
	data, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		return Meta{}
	}
	var m Meta
	if json.Unmarshal(data, &m) != nil || !readsFormat(m.Format) {
		var g struct{ Generation int }
		json.Unmarshal(data, &g)
		return Meta{Generation: max(g.Generation, 0)}
	}
	m.Generation = max(m.Generation, 0)
	return m
}

// removeStale deletes the per-aspect files that keep does not list,
// ignoring errors.
func removeStale(dir string, keep map[string]string) {
	listed := map[string]bool{}
	for _, name := range keep {
		listed[name] = true
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if statsFileRE.MatchString(e.Name()) && !listed[e.Name()] {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// writePole writes one aspect's statistics as a safetensors file.
func writePole(path string, a Aspect, st *hook.Stats, gen int) error {
	key := a.Key()
	ts := []*safetensors.Tensor{
		safetensors.FromInt64(key+".tokens", []int{1}, []int64{st.Tokens}),
		safetensors.FromInt64(key+".active", []int{st.Layers, st.Neurons}, st.Active),
	}
	if st.Hist != nil {
		ts = append(ts, safetensors.FromInt64(key+".hist", []int{st.Layers, st.Neurons, hook.Bins}, st.Hist))
	}
	meta := map[string]string{"format": "npti-stats", "aspect": key, "generation": strconv.Itoa(gen)}
	return safetensors.Write(path, ts, meta)
}

// LoadStats reads a stats folder written by SaveStats.
func LoadStats(dir string) (*StatsSet, error) {
	name := filepath.Join(dir, MetaFile)
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("load stats: %w", err)
	}
	var m Meta
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("load stats: %s: %w", name, err)
	}
	if !readsFormat(m.Format) {
		return nil, fmt.Errorf("load stats: %s: format %d, this version reads 1 to %d", name, m.Format, StatsFormat)
	}
	if m.Layers <= 0 || m.Neurons <= 0 || m.Layers > maxIndex/m.Neurons {
		return nil, fmt.Errorf("load stats: %s: invalid shape %dx%d", name, m.Layers, m.Neurons)
	}
	if len(m.Files) == 0 {
		return nil, fmt.Errorf("load stats: %s: no statistics files listed", name)
	}
	s := &StatsSet{Meta: m, Poles: map[Aspect]*hook.Stats{}}
	for key, file := range m.Files {
		a, err := ParseAspect(key)
		if err != nil || a.Key() != key || filepath.Base(file) != file {
			return nil, fmt.Errorf("load stats: %s: bad file entry %q: %q", name, key, file)
		}
		st, err := readPole(filepath.Join(dir, file), a, m)
		if err != nil {
			return nil, fmt.Errorf("load stats: %w", err)
		}
		s.Poles[a] = st
	}
	return s, nil
}

// readPole reads and checks one aspect's safetensors file; errors name
// the file by its path.
func readPole(path string, a Aspect, m Meta) (*hook.Stats, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	key := a.Key()
	// The file's generation is the save that wrote it: the one its name
	// gives, at most meta.json's (a later save may keep an unchanged
	// pole's file).
	want := m.Generation
	if mm := statsFileRE.FindStringSubmatch(filepath.Base(path)); mm != nil {
		if g, err := strconv.Atoi(mm[2]); err == nil && g <= m.Generation {
			want = g
		}
	}
	if g := f.Metadata()["generation"]; g != strconv.Itoa(want) || f.Metadata()["aspect"] != key {
		return nil, fmt.Errorf("%s: generation %q of %q does not match meta.json (generation %d of %s): interrupted save?",
			path, g, f.Metadata()["aspect"], want, key)
	}
	st := &hook.Stats{Layers: m.Layers, Neurons: m.Neurons}
	// lookup finds a tensor of the aspect and checks its shape (nil, nil:
	// absent and not required).
	lookup := func(suffix string, shape []int, required bool) (*safetensors.Tensor, error) {
		t := f.Tensors()[key+suffix]
		if t == nil {
			if required {
				return nil, fmt.Errorf("%s: missing tensor %q", path, key+suffix)
			}
			return nil, nil
		}
		if !slices.Equal(t.Shape, shape) {
			return nil, fmt.Errorf("%s: tensor %q has shape %v, want %v", path, t.Name, t.Shape, shape)
		}
		return t, nil
	}
	get := func(suffix string, shape []int) ([]int64, error) {
		t, err := lookup(suffix, shape, true)
		if err != nil {
			return nil, err
		}
		v, err := t.Int64()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return v, nil
	}
	tokens, err := get(".tokens", []int{1})
	if err != nil {
		return nil, err
	}
	st.Tokens = tokens[0]
	if st.Active, err = get(".active", []int{m.Layers, m.Neurons}); err != nil {
		return nil, err
	}
	t, err := lookup(".hist", []int{m.Layers, m.Neurons, hook.Bins}, false)
	if err != nil {
		return nil, err
	}
	if t != nil { // int64 counts on disk, uint32 in memory (no int64 copy)
		if t.DType != safetensors.I64 || len(t.Data) != 8*m.Layers*m.Neurons*hook.Bins {
			return nil, fmt.Errorf("%s: tensor %q is %s of %d bytes, want I64 counts", path, t.Name, t.DType, len(t.Data))
		}
		if st.Tokens > hook.MaxHistTokens {
			return nil, fmt.Errorf("%s: %d positions, more than a histogram counts (%d)", path, st.Tokens, int64(hook.MaxHistTokens))
		}
		st.Hist = make([]uint32, len(t.Data)/8)
		for i := range st.Hist {
			v := int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
			if v < 0 || v > st.Tokens {
				return nil, fmt.Errorf("%s: histogram count %d at %d is outside [0, %d positions]", path, v, i, st.Tokens)
			}
			st.Hist[i] = uint32(v)
		}
	}
	if err := checkStats(st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}
