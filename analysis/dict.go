package analysis

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// maxIndex bounds layer and neuron numbers read from a file.
const maxIndex = 1 << 30

// ReadDict reads an official neuron dict file (NPTI.md §3): a JSON object
// mapping each layer number to its records [layer, neuron, diff, p, q95].
// Records come back grouped by layer ascending, in file order within a
// layer. Every record is checked (see DecodeDict).
func ReadDict(path string) ([]Neuron, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("neuron dict: %w", err)
	}
	defer f.Close()
	return DecodeDict(filepath.Base(path), f)
}

// maxDictSize bounds a dict file (the published ones are under 5 MB).
const maxDictSize = 1 << 30

// DecodeDict decodes a neuron dict from r; name is used in errors. It
// rejects syntax errors, repeated layer keys, records that are not five
// finite numbers, non-integral or negative layer and neuron numbers, a
// layer key that does not match its records, q95 <= 0 and duplicate
// neurons.
func DecodeDict(name string, r io.Reader) ([]Neuron, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxDictSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxDictSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxDictSize)
	}
	ns, err := parseDict(&dictParser{data: data})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	slices.SortStableFunc(ns, func(a, b Neuron) int { return a.Layer - b.Layer })
	if err := checkRecords(name, ns, 0, 0); err != nil {
		return nil, err
	}
	return ns, nil
}

// parseDict parses the whole dict object.
func parseDict(p *dictParser) ([]Neuron, error) {
	if err := p.expect('{'); err != nil {
		return nil, err
	}
	var ns []Neuron
	seen := map[string]bool{}
	for first := true; ; first = false {
		if c := p.peek(); c == '}' && first {
			p.pos++
			break
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, fmt.Errorf("layer %q appears twice", key)
		}
		seen[key] = true
		layer, err := strconv.Atoi(key)
		if err != nil || layer < 0 || layer >= maxIndex {
			return nil, fmt.Errorf("layer key %q is not a layer number", key)
		}
		if err := p.expect(':'); err != nil {
			return nil, err
		}
		err = p.records(func(_ int, rec []float64) error {
			n, err := toNeuron(rec)
			if err == nil && n.Layer != layer {
				err = fmt.Errorf("record is for layer %d", n.Layer)
			}
			ns = append(ns, n)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("layer %q: %w", key, err)
		}
		if p.peek() == '}' {
			p.pos++
			break
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
	}
	if p.peek() != 0 {
		return nil, fmt.Errorf("data after the closing brace at byte %d", p.pos)
	}
	return ns, nil
}

// toNeuron converts one record of five numbers.
func toNeuron(rec []float64) (Neuron, error) {
	for k, v := range rec[:2] {
		if v != math.Trunc(v) || v < 0 || v >= maxIndex {
			return Neuron{}, fmt.Errorf("%s %v is not a valid index", [2]string{"layer", "neuron"}[k], v)
		}
	}
	return Neuron{Layer: int(rec[0]), Index: int(rec[1]), Diff: rec[2], P: rec[3], Q95: rec[4]}, nil
}

// checkRecords checks a pole's records; layers and neurons <= 0 skip the
// range check. name (the file) and the record number appear in errors.
func checkRecords(name string, ns []Neuron, layers, neurons int) error {
	seen := make(map[[2]int]int, len(ns))
	for k, n := range ns {
		var err error
		switch {
		case n.Layer < 0 || (layers > 0 && n.Layer >= layers):
			err = fmt.Errorf("layer %d out of range [0, %d)", n.Layer, layers)
		case n.Index < 0 || (neurons > 0 && n.Index >= neurons):
			err = fmt.Errorf("neuron %d out of range [0, %d)", n.Index, neurons)
		case !finite(n.Diff) || !finite(n.P) || !finite(n.Q95):
			err = fmt.Errorf("diff, p and q95 must be finite, got %v, %v, %v", n.Diff, n.P, n.Q95)
		case !(n.Q95 > 0):
			err = fmt.Errorf("q95 %v is not positive (the neuron is almost never active on this pole)", n.Q95)
		}
		if prev, dup := seen[[2]int{n.Layer, n.Index}]; dup && err == nil {
			err = fmt.Errorf("neuron %d repeats record %d", n.Index, prev)
		}
		if err != nil {
			return fmt.Errorf("%s: record %d [layer %d, neuron %d]: %w", name, k, n.Layer, n.Index, err)
		}
		seen[[2]int{n.Layer, n.Index}] = k
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// WriteDict writes records in the official dict format, grouped by layer
// ascending (file order within a layer kept), atomically: a temporary file
// renamed over path. Records are checked first (as DecodeDict does).
func WriteDict(path string, ns []Neuron) error {
	if err := checkRecords(filepath.Base(path), ns, 0, 0); err != nil {
		return err
	}
	return WriteFileAtomic(path, encodeDict(ns))
}

// encodeDict renders records as a dict, one layer per line; floats use the
// shortest representation that reads back exactly.
func encodeDict(ns []Neuron) []byte {
	sorted := slices.Clone(ns)
	slices.SortStableFunc(sorted, func(a, b Neuron) int { return a.Layer - b.Layer })
	var b bytes.Buffer
	b.WriteString("{")
	for k, n := range sorted {
		if k == 0 || sorted[k-1].Layer != n.Layer {
			if k > 0 {
				b.WriteString("],")
			}
			fmt.Fprintf(&b, "\n%q: [", strconv.Itoa(n.Layer))
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "[%d, %d, %s, %s, %s]", n.Layer, n.Index, fmtFloat(n.Diff), fmtFloat(n.P), fmtFloat(n.Q95))
	}
	if len(sorted) > 0 {
		b.WriteString("]")
	}
	b.WriteString("\n}\n")
	return b.Bytes()
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
