package analysis

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Sets holds the neuron set of each aspect that has one.
type Sets map[Aspect][]Neuron

// dictSuffix ends every neuron dict file name.
const dictSuffix = "_dict.json"

// DictFile returns the official file name of an aspect's neuron dict:
// "Extraversion_dict.json" or "Extraversion_reversed_dict.json".
func DictFile(a Aspect) string { return a.Key() + dictSuffix }

// LoadSets reads every <Trait>_dict.json and <Trait>_reversed_dict.json in
// dir (trait names case-insensitive); other files are ignored. It is an
// error when dir holds no dict file or two files name the same aspect.
func LoadSets(dir string) (Sets, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("neuron sets: %w", err)
	}
	s := Sets{}
	from := map[Aspect]string{}
	for _, e := range entries {
		a, ok := dictAspect(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		if prev, dup := from[a]; dup {
			return nil, fmt.Errorf("neuron sets in %s: %s and %s both hold %s", dir, prev, e.Name(), a)
		}
		ns, err := ReadDict(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		from[a] = e.Name()
		s[a] = ns
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("neuron sets: no <Trait>_dict.json file in %s", dir)
	}
	return s, nil
}

// dictAspect returns the aspect a dict file name stands for.
func dictAspect(name string) (Aspect, bool) {
	if len(name) <= len(dictSuffix) || !strings.EqualFold(name[len(name)-len(dictSuffix):], dictSuffix) {
		return Aspect{}, false
	}
	key := name[:len(name)-len(dictSuffix)]
	if strings.Contains(key, ":") {
		return Aspect{}, false
	}
	a, err := ParseAspect(key)
	return a, err == nil
}

// SaveSets writes each aspect's set to dir/<Key>_dict.json (atomically,
// file by file), creating dir when needed. Files of aspects absent from s
// are left alone.
func SaveSets(dir string, s Sets) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("neuron sets: %w", err)
	}
	for _, a := range s.Aspects() {
		if err := WriteDict(filepath.Join(dir, DictFile(a)), s[a]); err != nil {
			return err
		}
	}
	return nil
}

// Aspects returns the aspects present, in the official order.
func (s Sets) Aspects() []Aspect {
	var as []Aspect
	for _, a := range Aspects() {
		if _, ok := s[a]; ok {
			as = append(as, a)
		}
	}
	return as
}

// Validate checks every set against a model of layers × neurons: layer
// and neuron in range, finite numbers, q95 > 0 (a q95 of 0 stands for the
// official -inf) and no neuron listed twice. Errors name the dict file and
// the record.
func (s Sets) Validate(layers, neurons int) error {
	if layers <= 0 || neurons <= 0 {
		return fmt.Errorf("neuron sets: invalid model shape %dx%d", layers, neurons)
	}
	for _, a := range s.Aspects() {
		if err := checkRecords(DictFile(a), s[a], layers, neurons); err != nil {
			return err
		}
	}
	return nil
}

// Shape returns the smallest model shape the sets fit: max layer + 1 and
// max neuron index + 1 (0, 0 when the sets are empty).
func (s Sets) Shape() (layers, neurons int) {
	for _, ns := range s {
		for _, n := range ns {
			layers = max(layers, n.Layer+1)
			neurons = max(neurons, n.Index+1)
		}
	}
	return layers, neurons
}

// LayerSize is the number of neurons a set holds in one layer.
type LayerSize struct {
	Layer int `json:"layer"`
	Count int `json:"count"`
}

// PerLayer counts the neurons of a set per layer, ascending by layer,
// omitting empty layers.
func PerLayer(ns []Neuron) []LayerSize {
	counts := map[int]int{}
	for _, n := range ns {
		counts[n.Layer]++
	}
	out := make([]LayerSize, 0, len(counts))
	for l, c := range counts {
		out = append(out, LayerSize{Layer: l, Count: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Layer < out[j].Layer })
	return out
}

// TopLayers returns up to k layers holding the most neurons of a set,
// most first, ties by lower layer.
func TopLayers(ns []Neuron, k int) []int {
	pl := PerLayer(ns)
	sort.SliceStable(pl, func(i, j int) bool { return pl[i].Count > pl[j].Count })
	var out []int
	for i := 0; i < len(pl) && i < k; i++ {
		out = append(out, pl[i].Layer)
	}
	return out
}

// Hash returns a hex SHA-256 of the sets' content (aspects in canonical
// order, each neuron's record in file order).
func (s Sets) Hash() string {
	h := sha256.New()
	for _, a := range Aspects() {
		ns, ok := s[a]
		if !ok {
			continue
		}
		fmt.Fprintf(h, "%s:%d\x00", a.Key(), len(ns))
		for _, n := range ns {
			writeInts(h, int64(n.Layer), int64(n.Index), int64(math.Float64bits(n.Diff)),
				int64(math.Float64bits(n.P)), int64(math.Float64bits(n.Q95)))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeInts(h hash.Hash, vs ...int64) {
	var b [8]byte
	for _, v := range vs {
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
}
