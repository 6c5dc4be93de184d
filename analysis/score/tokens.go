// Package score holds the offline, trait-agnostic scorers of NPTI Studio:
// a transparent naive Bayes text classifier that estimates how strongly a
// text shows one pole of a trait, and small fluency measures (distinct-n,
// mean negative log-likelihood) to put beside it.
package score

import (
	"strings"
	"unicode"
)

// Tokenize splits text into lower-case word tokens, the unit every scorer in
// this package counts.
//
// A token is a maximal run of letters, digits and apostrophes; everything
// else (spaces, punctuation, hyphens, symbols) separates tokens. The
// typographic apostrophe U+2019 is folded into the ASCII apostrophe, so
// "you’re" and "you're" are the same token. For ASCII text this equals the
// regular expression [a-z0-9']+ applied to the lower-cased text, which is the
// tokenisation of the persona-tiny reference scorer.
func Tokenize(text string) []string {
	var tokens []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			tokens = append(tokens, b.String())
			b.Reset()
		}
	}
	for _, r := range text {
		switch {
		case r == '\'' || r == '\u2019':
			b.WriteByte('\'')
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return tokens
}

// DistinctN returns the mean over texts of each text's distinct-n: its
// number of distinct word n-grams divided by its number of word n-grams
// (tokens from Tokenize). Texts without an n-gram are left out; it is 0
// when n < 1 or no text has one. Lower values mean more repetition within
// an answer. Per text, it does not depend on how many answers a group
// holds (pooled over a group, every answer's shared words counted as
// repeats, and 20 unsteered persona-tiny answers gave 0.32 where the
// reference run's per-answer 0.77 came out as 0.79).
func DistinctN(texts []string, n int) float64 {
	if n < 1 {
		return 0
	}
	sum, counted := 0.0, 0
	for _, text := range texts {
		tokens := Tokenize(text)
		if len(tokens) < n {
			continue
		}
		seen := make(map[string]struct{})
		for i := 0; i+n <= len(tokens); i++ {
			// The separator cannot occur inside a token.
			seen[strings.Join(tokens[i:i+n], " ")] = struct{}{}
		}
		sum += float64(len(seen)) / float64(len(tokens)-n+1)
		counted++
	}
	if counted == 0 {
		return 0
	}
	return sum / float64(counted)
}

// MeanNLL returns the mean negative log-likelihood per token over all texts:
// tokenLogProbs[t][i] is the natural-log probability the model gave to token
// i of text t. Every token weighs the same, so longer texts weigh more. It is
// 0 when there are no tokens.
func MeanNLL(tokenLogProbs [][]float64) float64 {
	sum := 0.0
	count := 0
	for _, text := range tokenLogProbs {
		for _, lp := range text {
			sum -= lp
			count++
		}
	}
	if count == 0 {
		return 0
	}
	return sum / float64(count)
}
