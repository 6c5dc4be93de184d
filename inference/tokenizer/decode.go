package tokenizer

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// decoder turns token strings back into text pieces (HF decode_chain).
// Pieces may hold raw bytes that are not yet valid UTF-8.
type decoder interface {
	decodeChain(toks []string) []string
}

// byteLevelDec maps byte-level runes back to bytes and fuses the tokens.
type byteLevelDec struct{}

func (byteLevelDec) decodeChain(toks []string) []string {
	var sb strings.Builder
	for _, t := range toks {
		sb.WriteString(byteLevelDecode(t))
	}
	return []string{sb.String()}
}

// byteFallbackDec turns runs of <0xXX> tokens into the bytes they name;
// a run that is not valid UTF-8 becomes one U+FFFD per byte.
type byteFallbackDec struct{}

func (byteFallbackDec) decodeChain(toks []string) []string {
	out := make([]string, 0, len(toks))
	var run []byte
	flush := func() {
		if len(run) == 0 {
			return
		}
		if utf8.Valid(run) {
			out = append(out, string(run))
		} else {
			out = append(out, strings.Repeat("\uFFFD", len(run)))
		}
		run = run[:0]
	}
	for _, t := range toks {
		if b, ok := parseByteToken(t); ok {
			run = append(run, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// parseByteToken parses "<0xXX>".
func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(t[3:5], 16, 8)
	return byte(v), err == nil
}

// fuseDec joins all tokens into one.
type fuseDec struct{}

func (fuseDec) decodeChain(toks []string) []string { return []string{strings.Join(toks, "")} }

// stripDec removes up to start leading and stop trailing content runes
// from every token.
type stripDec struct {
	content     rune
	start, stop int
}

func (d stripDec) decodeChain(toks []string) []string {
	c := string(d.content)
	for i, t := range toks {
		for k := 0; k < d.start && strings.HasPrefix(t, c); k++ {
			t = t[len(c):]
		}
		for k := 0; k < d.stop && strings.HasSuffix(t, c); k++ {
			t = t[:len(t)-len(c)]
		}
		toks[i] = t
	}
	return toks
}

// replaceDec replaces a pattern in every token.
type replaceDec struct{ r replaceNorm }

func (d replaceDec) decodeChain(toks []string) []string {
	for i, t := range toks {
		toks[i] = d.r.normalize(t)
	}
	return toks
}

// metaspaceDec turns the replacement rune back into spaces; in the first
// token it is dropped unless the prepend scheme is "never".
type metaspaceDec struct {
	replacement string
	prepend     string
}

func (d metaspaceDec) decodeChain(toks []string) []string {
	for i, t := range toks {
		rep := " "
		if i == 0 && d.prepend != "never" {
			rep = ""
		}
		toks[i] = strings.ReplaceAll(t, d.replacement, rep)
	}
	return toks
}

// sequenceDec applies decoders in order.
type sequenceDec []decoder

func (q sequenceDec) decodeChain(toks []string) []string {
	for _, d := range q {
		toks = d.decodeChain(toks)
	}
	return toks
}

// decodeRaw decodes ids to text that may end in an incomplete UTF-8
// sequence. Unknown ids are skipped.
func (t *Tokenizer) decodeRaw(ids []int) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if s, ok := t.tokenString(id); ok {
			toks = append(toks, s)
		}
	}
	if t.decoder == nil {
		return strings.Join(toks, " ")
	}
	return strings.Join(t.decoder.decodeChain(toks), "")
}

// Decode turns ids into text. Special tokens are kept as their text; ids
// outside the vocabulary are skipped; invalid UTF-8 becomes U+FFFD.
func (t *Tokenizer) Decode(ids []int) string {
	return lossyUTF8(t.decodeRaw(ids))
}

// Stream decodes ids one at a time, never emitting part of a UTF-8
// character. It follows HF's DecodeStream: a short window of ids is
// re-decoded so that context-dependent decoders (Strip, Metaspace) agree
// with a full Decode.
type Stream struct {
	t           *Tokenizer
	ids         []int
	prefix      string
	prefixIndex int
}

// NewStream returns a streaming decoder.
func (t *Tokenizer) NewStream() *Stream { return &Stream{t: t} }

// Add feeds one id and returns the text it completes (possibly "").
func (s *Stream) Add(id int) string {
	s.ids = append(s.ids, id)
	text := s.t.Decode(s.ids)
	if len(text) <= len(s.prefix) || strings.HasSuffix(text, "\uFFFD") {
		return ""
	}
	delta := text[commonPrefix(text, s.prefix):]
	newPrefixIndex := len(s.ids) - s.prefixIndex
	s.ids = append([]int(nil), s.ids[s.prefixIndex:]...)
	s.prefix = s.t.Decode(s.ids)
	s.prefixIndex = newPrefixIndex
	return delta
}

// Flush returns whatever text is still held back (an incomplete
// character comes out as U+FFFD) and resets the stream.
func (s *Stream) Flush() string {
	text := s.t.Decode(s.ids)
	var delta string
	if len(text) > len(s.prefix) {
		delta = text[commonPrefix(text, s.prefix):]
	}
	*s = Stream{t: s.t}
	return delta
}

// commonPrefix is the byte length of the longest common prefix of a and
// b that ends on a rune boundary of a.
func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	for n > 0 && n < len(a) && !utf8.RuneStart(a[n]) {
		n--
	}
	return n
}
