package tokenizer

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Oniguruma (used by HF tokenizers) gives \s, \d and \w their Unicode
// meaning; Go's regexp gives them the ASCII one. These are the Unicode
// classes, without brackets so they can go inside a bracket expression.
const (
	uniSpace = `\t\n\v\f\r\x{85}\p{Z}`
	uniDigit = `\p{Nd}`
	uniWord  = `\p{L}\p{M}\p{Nd}\p{Pc}`
)

// lookaheadSpace is the one lookahead construct the tokenizer regexes of
// GPT-2, Llama 3, Qwen2 and friends use: whitespace not followed by a
// non-space, with plain whitespace as the fallback.
const lookaheadSpace = `\s+(?!\S)|\s+`

// splitRegex finds the matches of a tokenizer split pattern. Go's regexp
// has no lookahead, so `\s+(?!\S)|\s+` is compiled as a capture group
// `(\s+)` and its match is shortened by one rune when followed by a
// non-space, which is exactly what the backtracking engine does.
type splitRegex struct {
	re        *regexp.Regexp
	spaceLook int // submatch index of the rewritten lookahead group, or -1
}

// compileSplitRegex translates an Oniguruma-style pattern to Go syntax.
func compileSplitRegex(pattern string) (*splitRegex, error) {
	look := -1
	if i := strings.Index(pattern, lookaheadSpace); i >= 0 {
		// Count capture groups before the rewritten one.
		look = 1 + strings.Count(pattern[:i], "(") - strings.Count(pattern[:i], "(?") - strings.Count(pattern[:i], `\(`)
		pattern = pattern[:i] + "(\\s+)" + pattern[i+len(lookaheadSpace):]
	}
	if strings.Contains(pattern, "(?=") || strings.Contains(pattern, "(?!") ||
		strings.Contains(pattern, "(?<=") || strings.Contains(pattern, "(?<!") {
		return nil, errors.New("unsupported lookaround in split regex")
	}
	goPat, err := translateEscapes(pattern)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(goPat)
	if err != nil {
		return nil, fmt.Errorf("split regex: %w", err)
	}
	if look >= 0 && look > re.NumSubexp() {
		return nil, errors.New("split regex: cannot locate lookahead group")
	}
	return &splitRegex{re: re, spaceLook: look}, nil
}

// translateEscapes rewrites \s \S \d \D \w \W to Unicode classes.
func translateEscapes(p string) (string, error) {
	var sb strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' && i+1 < len(p) {
			e := p[i+1]
			i++
			cls, neg := "", false
			switch e {
			case 's', 'S':
				cls, neg = uniSpace, e == 'S'
			case 'd', 'D':
				cls, neg = uniDigit, e == 'D'
			case 'w', 'W':
				cls, neg = uniWord, e == 'W'
			default:
				sb.WriteByte('\\')
				sb.WriteByte(e)
				continue
			}
			switch {
			case !inClass && neg:
				sb.WriteString("[^" + cls + "]")
			case !inClass:
				sb.WriteString("[" + cls + "]")
			case neg:
				return "", fmt.Errorf("unsupported \\%c inside a character class", e)
			default:
				sb.WriteString(cls)
			}
			continue
		}
		switch {
		case c == '[' && !inClass:
			inClass = true
			sb.WriteByte(c)
			// A leading ']' or '^]' is literal.
			if i+1 < len(p) && p[i+1] == '^' {
				sb.WriteByte('^')
				i++
			}
			continue
		case c == ']' && inClass:
			inClass = false
		}
		sb.WriteByte(c)
	}
	return sb.String(), nil
}

// match is a byte range of a split: [start, end), and whether it matched.
type match struct {
	start, end int
	isMatch    bool
}

// find returns the non-empty matches of the pattern in s, with the gaps
// between them, covering all of s.
func (r *splitRegex) find(s string) []match {
	var out []match
	last, pos := 0, 0
	for pos <= len(s) {
		loc := r.re.FindStringSubmatchIndex(s[pos:])
		if loc == nil {
			break
		}
		start, end := pos+loc[0], pos+loc[1]
		if r.spaceLook >= 0 && loc[2*r.spaceLook] == loc[0] && loc[2*r.spaceLook+1] == loc[1] {
			end = trimSpaceLookahead(s, start, end)
		}
		if end == start {
			// Empty match: step one rune forward.
			_, n := utf8.DecodeRuneInString(s[start:])
			pos = start + max(n, 1)
			continue
		}
		if start > last {
			out = append(out, match{last, start, false})
		}
		out = append(out, match{start, end, true})
		last, pos = end, end
	}
	if last < len(s) {
		out = append(out, match{last, len(s), false})
	}
	return out
}

// trimSpaceLookahead applies (?!\S) to the whitespace run s[start:end]:
// when a non-space follows and the run has more than one rune, the last
// rune is given back.
func trimSpaceLookahead(s string, start, end int) int {
	if end >= len(s) {
		return end
	}
	next, _ := utf8.DecodeRuneInString(s[end:])
	if isOnigSpace(next) {
		return end
	}
	_, n := utf8.DecodeLastRuneInString(s[start:end])
	if end-n > start {
		return end - n
	}
	return end
}

// isOnigSpace reports whether r is in Oniguruma's Unicode \s.
func isOnigSpace(r rune) bool {
	return r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' || r == 0x85 || unicode.In(r, unicode.Z)
}
