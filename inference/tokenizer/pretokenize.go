package tokenizer

import (
	"strings"
	"unicode"
)

// preTokenizer splits one piece of normalized text into words; atStart
// says whether the piece begins at offset 0 of the original text.
type preTokenizer interface {
	split(s string, atStart bool) []string
}

// behavior is HF's SplitDelimiterBehavior.
type behavior int

const (
	behaviorRemoved behavior = iota
	behaviorIsolated
	behaviorMergedWithPrevious
	behaviorMergedWithNext
	behaviorContiguous
)

// parseBehavior maps the JSON name of a delimiter behavior.
func parseBehavior(name string) (behavior, bool) {
	switch name {
	case "Removed":
		return behaviorRemoved, true
	case "Isolated", "":
		return behaviorIsolated, true
	case "MergedWithPrevious":
		return behaviorMergedWithPrevious, true
	case "MergedWithNext":
		return behaviorMergedWithNext, true
	case "Contiguous":
		return behaviorContiguous, true
	}
	return 0, false
}

// applyBehavior turns matches covering s into the pieces HF keeps.
func applyBehavior(s string, ms []match, b behavior, invert bool) []string {
	if invert {
		for i := range ms {
			ms[i].isMatch = !ms[i].isMatch
		}
	}
	var spans []match
	prev := false
	switch b {
	case behaviorRemoved:
		for _, m := range ms {
			if !m.isMatch {
				spans = append(spans, m)
			}
		}
	case behaviorIsolated:
		spans = ms
	case behaviorMergedWithPrevious:
		for _, m := range ms {
			if m.isMatch && !prev && len(spans) > 0 {
				spans[len(spans)-1].end = m.end
			} else {
				spans = append(spans, m)
			}
			prev = m.isMatch
		}
	case behaviorMergedWithNext:
		for i := len(ms) - 1; i >= 0; i-- {
			m := ms[i]
			if m.isMatch && !prev && len(spans) > 0 {
				spans[len(spans)-1].start = m.start
			} else {
				spans = append(spans, m)
			}
			prev = m.isMatch
		}
		for i, j := 0, len(spans)-1; i < j; i, j = i+1, j-1 {
			spans[i], spans[j] = spans[j], spans[i]
		}
	case behaviorContiguous:
		for i, m := range ms {
			if i > 0 && m.isMatch == prev {
				spans[len(spans)-1].end = m.end
			} else {
				spans = append(spans, m)
			}
			prev = m.isMatch
		}
	}
	out := make([]string, 0, len(spans))
	for _, m := range spans {
		if m.end > m.start {
			out = append(out, s[m.start:m.end])
		}
	}
	return out
}

// findFunc makes one match per rune for which pred holds.
func findFunc(s string, pred func(rune) bool) []match {
	var out []match
	last := 0
	for i, r := range s {
		if !pred(r) {
			continue
		}
		if last < i {
			out = append(out, match{last, i, false})
		}
		end := i + len(string(r))
		out = append(out, match{i, end, true})
		last = end
	}
	if last < len(s) {
		out = append(out, match{last, len(s), false})
	}
	return out
}

// findString makes one match per non-overlapping occurrence of lit.
func findString(s, lit string) []match {
	if lit == "" {
		return []match{{0, len(s), false}}
	}
	var out []match
	last := 0
	for {
		i := strings.Index(s[last:], lit)
		if i < 0 {
			break
		}
		if i > 0 {
			out = append(out, match{last, last + i, false})
		}
		out = append(out, match{last + i, last + i + len(lit), true})
		last += i + len(lit)
	}
	if last < len(s) {
		out = append(out, match{last, len(s), false})
	}
	return out
}

// splitPre is the Split pre-tokenizer (string or regex pattern).
type splitPre struct {
	lit      string
	re       *splitRegex
	behavior behavior
	invert   bool
}

func (p *splitPre) split(s string, _ bool) []string {
	if p.re != nil {
		return applyBehavior(s, p.re.find(s), p.behavior, p.invert)
	}
	return applyBehavior(s, findString(s, p.lit), p.behavior, p.invert)
}

// funcPre splits on runes selected by a predicate (Digits, Punctuation,
// WhitespaceSplit).
type funcPre struct {
	pred     func(rune) bool
	behavior behavior
}

func (p *funcPre) split(s string, _ bool) []string {
	return applyBehavior(s, findFunc(s, p.pred), p.behavior, false)
}

// isDigit is Rust's char::is_numeric.
func isDigit(r rune) bool { return unicode.IsNumber(r) }

// isPunct is HF's is_punc: ASCII punctuation or a Unicode P* category.
func isPunct(r rune) bool {
	if r < 128 {
		return unicode.IsPunct(r) || unicode.IsSymbol(r)
	}
	return unicode.IsPunct(r)
}

// metaspace is the Metaspace pre-tokenizer.
type metaspace struct {
	replacement string
	prepend     string // "always", "first" or "never"
	splitWords  bool
}

func (m *metaspace) split(s string, atStart bool) []string {
	s = strings.ReplaceAll(s, " ", m.replacement)
	if !strings.HasPrefix(s, m.replacement) && (m.prepend == "always" || (m.prepend == "first" && atStart)) {
		s = m.replacement + s
	}
	if !m.splitWords {
		return []string{s}
	}
	return applyBehavior(s, findString(s, m.replacement), behaviorMergedWithNext, false)
}

// sequencePre applies pre-tokenizers in order to every piece.
type sequencePre []preTokenizer

func (q sequencePre) split(s string, atStart bool) []string {
	parts := []string{s}
	for _, p := range q {
		var next []string
		for i, part := range parts {
			next = append(next, p.split(part, atStart && i == 0)...)
		}
		parts = next
	}
	return parts
}
