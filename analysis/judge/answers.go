package judge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/npti-studio/npti/analysis"
)

// maxAnswerLine bounds one answers record.
const maxAnswerLine = 16 << 20

// Answer is one generated answer to rate, as written by the induction run
// in JSON Lines: {"question","condition","trait","pole","gamma","answer",...}.
// Trait and pole say which pole the trait rubric asks about; an answer
// of a multi-trait plan lists every item in Items and is rated on each
// item's trait and pole. An answer without a trait gets a fluency rating
// only. Variant and Plan (the induced plan's record) tell runs apart in
// the summary.
type Answer struct {
	Question  string               `json:"question"`
	Condition string               `json:"condition"`
	Trait     string               `json:"trait,omitempty"`
	Pole      PoleName             `json:"pole,omitempty"`
	Gamma     float64              `json:"gamma,omitempty"`
	Items     []analysis.PlanItem  `json:"items,omitempty"`
	Variant   string               `json:"variant,omitempty"`
	Plan      *analysis.PlanRecord `json:"plan,omitempty"`
	Answer    string               `json:"answer"`
	// Raw is the record as read (every field, known or not); WriteJudged
	// copies it to the output.
	Raw json.RawMessage `json:"-"`
}

// PoleName is a pole as written in answer files: "high" or "low" (also
// read from the numbers 0 and 1 of analysis.Pole).
type PoleName string

// UnmarshalJSON accepts "high", "low", 0 or 1.
func (p *PoleName) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*p = PoleName(s)
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil || (n != int(analysis.High) && n != int(analysis.Low)) {
		return fmt.Errorf("pole %s: want \"high\" or \"low\"", b)
	}
	*p = PoleName(analysis.Pole(n).String())
	return nil
}

// Aspect returns the answer's trait pole; ok is false when it names no
// trait.
func (a Answer) Aspect() (asp analysis.Aspect, ok bool, err error) {
	if strings.TrimSpace(a.Trait) == "" {
		return analysis.Aspect{}, false, nil
	}
	t, err := analysis.ParseTrait(a.Trait)
	if err != nil {
		return analysis.Aspect{}, false, err
	}
	p, err := analysis.ParsePole(string(a.Pole))
	if err != nil {
		return analysis.Aspect{}, false, err
	}
	return analysis.Aspect{Trait: t, Pole: p}, true, nil
}

// Aspects returns the trait poles the answer is rated on: every item of
// its plan when it lists them, else its trait and pole (none when it names
// no trait).
func (a Answer) Aspects() ([]analysis.Aspect, error) {
	if len(a.Items) == 0 {
		asp, ok, err := a.Aspect()
		if err != nil || !ok {
			return nil, err
		}
		return []analysis.Aspect{asp}, nil
	}
	out := make([]analysis.Aspect, len(a.Items))
	for i, it := range a.Items {
		asp, ok, err := Answer{Trait: it.Trait, Pole: PoleName(it.Pole)}.Aspect()
		if err != nil || !ok {
			if err == nil {
				err = fmt.Errorf("no trait")
			}
			return nil, fmt.Errorf("item %d: %w", i+1, err)
		}
		out[i] = asp
	}
	return out, nil
}

// items returns the answer's plan items (its trait, pole and γ as one
// item when it lists none).
func (a Answer) items() []analysis.PlanItem {
	if strings.TrimSpace(a.Trait) == "" && len(a.Items) == 0 {
		return nil
	}
	return analysis.Answer{Trait: a.Trait, Pole: string(a.Pole), Gamma: a.Gamma, Items: a.Items}.PlanItems()
}

// ReadAnswers reads an answers JSON Lines file.
func ReadAnswers(path string) ([]Answer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	defer f.Close()
	return DecodeAnswers(f, path)
}

// DecodeAnswers reads answers in JSON Lines from r; name labels errors.
// Blank lines are skipped; every record needs a string "answer", and a
// trait, when given, needs a valid pole.
func DecodeAnswers(r io.Reader, name string) ([]Answer, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxAnswerLine)
	var out []Answer
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		a, err := decodeAnswer(b)
		if err != nil {
			return nil, fmt.Errorf("answers %s:%d: %w", name, line, err)
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("answers %s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("answers %s: no records", name)
	}
	return out, nil
}

func decodeAnswer(b []byte) (Answer, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return Answer{}, fmt.Errorf("not a JSON object: %w", err)
	}
	if _, ok := probe["answer"]; !ok {
		return Answer{}, fmt.Errorf("no \"answer\" field")
	}
	var a Answer
	if err := json.Unmarshal(b, &a); err != nil {
		return Answer{}, err
	}
	if _, _, err := a.Aspect(); err != nil {
		return Answer{}, err
	}
	if _, err := a.Aspects(); err != nil {
		return Answer{}, err
	}
	a.Raw = append(json.RawMessage(nil), b...)
	return a, nil
}

// WriteJudged writes one JSON object per judged answer: the answer record
// as read, plus "trait_rating" (when rated: the first trait of the plan),
// "trait_ratings" (every trait of the plan rated, with its trait and pole)
// and "fluency_rating".
func WriteJudged(w io.Writer, js []Judged) error {
	bw := bufio.NewWriter(w)
	for _, j := range js {
		rec := map[string]any{}
		if len(j.Answer.Raw) > 0 {
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(j.Answer.Raw, &raw); err != nil {
				return fmt.Errorf("judged: %w", err)
			}
			for k, v := range raw {
				rec[k] = v
			}
		} else {
			rec["question"], rec["condition"], rec["trait"] = j.Answer.Question, j.Answer.Condition, j.Answer.Trait
			rec["pole"], rec["gamma"], rec["answer"] = j.Answer.Pole, j.Answer.Gamma, j.Answer.Answer
		}
		if j.Trait != nil {
			rec["trait_rating"] = j.Trait
		}
		if len(j.Traits) > 0 {
			rec["trait_ratings"] = j.Traits
		}
		rec["fluency_rating"] = j.Fluency
		b, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("judged: %w", err)
		}
		bw.Write(append(b, '\n'))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("judged: %w", err)
	}
	return nil
}
