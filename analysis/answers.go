package analysis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// ParseAnswers reads an answers file: JSON Lines, one Answer per line.
// name is used in errors, which give the line number. Every line must
// carry a non-empty question, a known condition, a valid trait and pole
// when given (also in each plan item), a finite gamma and token ids >= 0.
func ParseAnswers(name string, r io.Reader) ([]Answer, error) {
	var out []Answer
	err := eachLine(name, r, func(_ int, line []byte) error {
		a, err := parseAnswer(line)
		if err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}

// parseAnswer decodes and checks one answers line.
func parseAnswer(line []byte) (Answer, error) {
	var a Answer
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&a); err != nil {
		return a, fmt.Errorf("want an answer object: %w", err)
	}
	if dec.More() {
		return a, fmt.Errorf("trailing data after the answer object")
	}
	switch {
	case strings.TrimSpace(a.Question) == "":
		return a, fmt.Errorf("missing or empty \"question\"")
	case !slices.Contains(Conditions(), a.Condition):
		return a, fmt.Errorf("unknown condition %q (want %s)", a.Condition, strings.Join(Conditions(), ", "))
	case !finite(a.Gamma) || !finite(a.RepetitionPenalty):
		return a, fmt.Errorf("gamma or repetition penalty is not finite")
	case a.Index < 0 || a.MaxNewTokens < 0:
		return a, fmt.Errorf("negative index or token count")
	}
	if a.Trait != "" {
		if _, err := ParseTrait(a.Trait); err != nil {
			return a, err
		}
	}
	if a.Pole != "" {
		if _, err := ParsePole(a.Pole); err != nil {
			return a, err
		}
	}
	for i, it := range a.Items {
		if _, err := ParseTrait(it.Trait); err != nil {
			return a, fmt.Errorf("item %d: %w", i+1, err)
		}
		if _, err := ParsePole(it.Pole); err != nil {
			return a, fmt.Errorf("item %d: %w", i+1, err)
		}
		if !finite(it.Gamma) {
			return a, fmt.Errorf("item %d: gamma is not finite", i+1)
		}
	}
	for _, ids := range [][]int{a.IDs, a.PromptIDs} {
		for _, id := range ids {
			if id < 0 || id >= maxIndex {
				return a, fmt.Errorf("token id %d out of range", id)
			}
		}
	}
	return a, nil
}

// ReadAnswers reads an answers file from disk.
func ReadAnswers(path string) ([]Answer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	defer f.Close()
	return ParseAnswers(path, f)
}

// AnswerWriter appends answers to a JSON Lines file, one write per answer,
// so that a killed run keeps every answer it wrote.
type AnswerWriter struct {
	f    *os.File
	path string
}

// OpenAnswers opens an answers file for appending. Without resume an
// existing non-empty file is an error. With resume the answers already in
// the file are returned as a set of AnswerKey (for InduceRequest.Done); an
// unfinished last line (a run killed mid-write) is cut off.
func OpenAnswers(path string, resume bool) (*AnswerWriter, map[string]bool, error) {
	done := map[string]bool{}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, nil, fmt.Errorf("answers: %w", err)
	case len(data) > 0 && !resume:
		return nil, nil, fmt.Errorf("answers: %s already holds answers: resume or choose another file", path)
	case len(data) > 0:
		keep := data
		if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
			keep = data[:i+1] // drop the unfinished line
		}
		as, err := ParseAnswers(path, bytes.NewReader(keep))
		if err != nil {
			return nil, nil, err
		}
		for _, a := range as {
			done[AnswerKey(a)] = true
			if a.Items == nil { // written before answers listed their plan items
				done[oldItems+AnswerKey(a)] = true
			}
		}
		if len(keep) < len(data) {
			if err := os.Truncate(path, int64(len(keep))); err != nil {
				return nil, nil, fmt.Errorf("answers: %w", err)
			}
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("answers: %w", err)
	}
	return &AnswerWriter{f: f, path: path}, done, nil
}

// AnswersDone counts the answers a Done set from OpenAnswers holds.
func AnswersDone(done map[string]bool) int {
	n := 0
	for k := range done {
		if !strings.HasPrefix(k, oldItems) {
			n++
		}
	}
	return n
}

// Write appends one answer as a line.
func (w *AnswerWriter) Write(a Answer) error {
	data, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("answers %s: %w", w.path, err)
	}
	if _, err := w.f.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("answers: %w", err)
	}
	return nil
}

// Close closes the file.
func (w *AnswerWriter) Close() error {
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("answers: %w", err)
	}
	return nil
}
