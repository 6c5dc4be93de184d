package tokenizer

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedToken is an entry of tokenizer.json's added_tokens.
type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// addedMatcher finds added tokens in text, leftmost-longest, as HF's
// AddedVocabulary does with its Aho-Corasick automaton.
type addedMatcher struct {
	byFirst map[byte][]matchEntry // candidates by first byte, longest first
}

// matchEntry is one searchable form of an added token.
type matchEntry struct {
	pattern string
	tok     *addedToken
}

func newAddedMatcher(entries []matchEntry) *addedMatcher {
	m := &addedMatcher{byFirst: map[byte][]matchEntry{}}
	for _, e := range entries {
		if e.pattern == "" {
			continue
		}
		m.byFirst[e.pattern[0]] = append(m.byFirst[e.pattern[0]], e)
	}
	for _, list := range m.byFirst {
		sort.SliceStable(list, func(i, j int) bool { return len(list[i].pattern) > len(list[j].pattern) })
	}
	return m
}

// segment is a piece of input: either text still to tokenize, or a
// matched added token (tok != nil). atStart marks text that begins at
// offset 0 of the original input.
type segment struct {
	text    string
	tok     *addedToken
	atStart bool
}

// split cuts s into text segments and added-token segments, honouring
// single_word, lstrip and rstrip.
func (m *addedMatcher) split(s string, atStart bool) []segment {
	if m == nil || len(m.byFirst) == 0 {
		return []segment{{text: s, atStart: atStart}}
	}
	var out []segment
	last := 0
	for pos := 0; pos < len(s); {
		e, ok := m.longestAt(s, pos)
		if !ok {
			pos++
			continue
		}
		start, stop := pos, pos+len(e.pattern)
		if e.tok.SingleWord && (endsWithWord(s[:start]) || startsWithWord(s[stop:])) {
			pos = stop // the automaton resumes after a rejected match
			continue
		}
		if e.tok.LStrip {
			start = max(len(strings.TrimRightFunc(s[:start], isRustSpace)), last)
		}
		if e.tok.RStrip {
			stop = len(s) - len(strings.TrimLeftFunc(s[stop:], isRustSpace))
		}
		if last < start {
			out = append(out, segment{text: s[last:start], atStart: atStart && last == 0})
		}
		out = append(out, segment{text: s[start:stop], tok: e.tok})
		last, pos = stop, stop
	}
	if last < len(s) {
		out = append(out, segment{text: s[last:], atStart: atStart && last == 0})
	}
	return out
}

// longestAt returns the longest pattern that starts at s[pos:].
func (m *addedMatcher) longestAt(s string, pos int) (matchEntry, bool) {
	for _, e := range m.byFirst[s[pos]] {
		if strings.HasPrefix(s[pos:], e.pattern) {
			return e, true
		}
	}
	return matchEntry{}, false
}

// isRustSpace is Rust's char::is_whitespace (Unicode White_Space).
func isRustSpace(r rune) bool { return isOnigSpace(r) }

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.M, r)
}

func endsWithWord(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	return n > 0 && isWordRune(r)
}

func startsWithWord(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && isWordRune(r)
}
