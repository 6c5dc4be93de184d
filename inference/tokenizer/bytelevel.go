package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// byteToRune is GPT-2's bytes_to_unicode table: every byte maps to a
// printable rune, so byte-level tokens are valid UTF-8 strings.
var byteToRune, runeToByte = byteTables()

func byteTables() ([256]rune, map[rune]byte) {
	var b2r [256]rune
	r2b := make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if printable {
			b2r[b] = rune(b)
		} else {
			b2r[b] = rune(256 + n)
			n++
		}
		r2b[b2r[b]] = byte(b)
	}
	return b2r, r2b
}

// byteLevelEncode maps every byte of s to its byte-level rune.
func byteLevelEncode(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		sb.WriteRune(byteToRune[s[i]])
	}
	return sb.String()
}

// byteLevelDecode maps byte-level runes back to raw bytes; runes outside
// the table are kept as their UTF-8 bytes. The result may be invalid UTF-8.
func byteLevelDecode(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for _, r := range s {
		if b, ok := runeToByte[r]; ok {
			sb.WriteByte(b)
		} else {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// gpt2Pattern is the split regex of the ByteLevel pre-tokenizer.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// byteLevel is the ByteLevel pre-tokenizer: optional prefix space, the
// GPT-2 regex split, then the byte-to-rune mapping.
type byteLevel struct {
	addPrefixSpace bool
	re             *splitRegex // nil when use_regex is false
}

func (b *byteLevel) split(s string, _ bool) []string {
	if b.addPrefixSpace && !strings.HasPrefix(s, " ") {
		s = " " + s
	}
	parts := []string{s}
	if b.re != nil {
		parts = applyBehavior(s, b.re.find(s), behaviorIsolated, false)
	}
	for i, p := range parts {
		parts[i] = byteLevelEncode(p)
	}
	return parts
}

// lossyUTF8 replaces each invalid byte of s with U+FFFD.
func lossyUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			sb.WriteRune(utf8.RuneError)
			i++
			continue
		}
		sb.WriteString(s[i : i+n])
		i += n
	}
	return sb.String()
}
