package tokenizer

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites a piece of input text before pre-tokenization.
type normalizer interface {
	normalize(s string) string
}

// prependNorm prepends a string to non-empty text (SentencePiece's
// dummy prefix).
type prependNorm struct{ prefix string }

func (p prependNorm) normalize(s string) string {
	if s == "" {
		return s
	}
	return p.prefix + s
}

// replaceNorm replaces a literal or a regex pattern.
type replaceNorm struct {
	lit     string
	re      *splitRegex
	content string
}

func (r replaceNorm) normalize(s string) string {
	if r.re == nil {
		if r.lit == "" {
			return s
		}
		return strings.ReplaceAll(s, r.lit, r.content)
	}
	var sb strings.Builder
	for _, m := range r.re.find(s) {
		if m.isMatch {
			sb.WriteString(r.content)
		} else {
			sb.WriteString(s[m.start:m.end])
		}
	}
	return sb.String()
}

// unicodeNorm is one of NFC, NFD, NFKC, NFKD.
type unicodeNorm struct{ form norm.Form }

func (u unicodeNorm) normalize(s string) string { return u.form.String(s) }

// lowercaseNorm lower-cases the text.
type lowercaseNorm struct{}

func (lowercaseNorm) normalize(s string) string { return strings.ToLower(s) }

// stripNorm strips whitespace on the left and/or right.
type stripNorm struct{ left, right bool }

func (t stripNorm) normalize(s string) string {
	if t.left {
		s = strings.TrimLeftFunc(s, isRustSpace)
	}
	if t.right {
		s = strings.TrimRightFunc(s, isRustSpace)
	}
	return s
}

// sequenceNorm applies normalizers in order.
type sequenceNorm []normalizer

func (q sequenceNorm) normalize(s string) string {
	for _, n := range q {
		s = n.normalize(s)
	}
	return s
}
