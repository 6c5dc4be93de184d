package tokenizer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

// maxPieceLen bounds llama2.c's max_token_length header.
const maxPieceLen = 1 << 16

// parseLlama2c reads llama2.c's tokenizer.bin: int32 max_token_length,
// then per token float32 score, int32 length and the piece bytes, until
// the end of the file. Pieces use ' ' where SentencePiece uses '▁'; they
// are stored here with '▁' so the vocabulary matches tokenizer.json.
func parseLlama2c(data []byte) (*Tokenizer, error) {
	if len(data) < 4 {
		return nil, errors.New("tokenizer.bin: header is truncated")
	}
	maxLen := int32(binary.LittleEndian.Uint32(data))
	if maxLen <= 0 || maxLen > maxPieceLen {
		return nil, fmt.Errorf("tokenizer.bin: max_token_length %d out of range", maxLen)
	}
	var pieces []string
	var scores []float32
	for off := 4; off < len(data); {
		if len(data)-off < 8 {
			return nil, fmt.Errorf("tokenizer.bin: token %d: truncated header", len(pieces))
		}
		score := math.Float32frombits(binary.LittleEndian.Uint32(data[off:]))
		n := int32(binary.LittleEndian.Uint32(data[off+4:]))
		off += 8
		if n < 0 || n > maxLen || int(n) > len(data)-off {
			return nil, fmt.Errorf("tokenizer.bin: token %d: length %d out of range", len(pieces), n)
		}
		if math.IsNaN(float64(score)) {
			return nil, fmt.Errorf("tokenizer.bin: token %d: score is NaN", len(pieces))
		}
		pieces = append(pieces, string(data[off:off+int(n)]))
		scores = append(scores, score)
		off += int(n)
	}
	if len(pieces) < 3 {
		return nil, fmt.Errorf("tokenizer.bin: only %d tokens", len(pieces))
	}
	return newSentencePieceBPE(pieces, scores)
}

// newSentencePieceBPE builds a Llama-2 style tokenizer from pieces and
// scores: dummy prefix, spaces as '▁', score-ordered merges, byte
// fallback, BOS 1 and EOS 2.
func newSentencePieceBPE(pieces []string, scores []float32) (*Tokenizer, error) {
	vocab := make(map[string]int, len(pieces))
	for i, p := range pieces {
		p = strings.ReplaceAll(p, " ", "▁")
		if t := strings.TrimSpace(p); strings.HasPrefix(t, "<") && strings.HasSuffix(t, ">") {
			p = t // llama2.c writes BOS/EOS as "\n<s>\n"
		}
		if _, dup := vocab[p]; !dup {
			vocab[p] = i
		}
	}
	t := &Tokenizer{bos: 1, eos: []int{2}, before: []int{1}}
	if err := t.setTokens(vocab, nil); err != nil {
		return nil, fmt.Errorf("tokenizer.bin: %w", err)
	}
	// Pieces lost to duplicates still need their id to decode.
	m := &bpe{vocab: vocab, unk: 0, byteFallback: true}
	if _, ok := vocab["<unk>"]; !ok {
		m.unk = -1
	}
	m.initBytes()
	m.merges = scoreMerges(pieces, scores, vocab)
	t.model = m
	t.normalizer = sequenceNorm{prependNorm{"▁"}, replaceNorm{lit: " ", content: "▁"}}
	t.decoder = sequenceDec{
		replaceDec{replaceNorm{lit: "▁", content: " "}},
		byteFallbackDec{}, fuseDec{}, stripDec{content: ' ', start: 1},
	}
	return t, nil
}

// scoreMerges derives a merge table from piece scores: a pair merges when
// the concatenation is a piece, higher scores first. Every split point of
// every piece is a candidate pair.
func scoreMerges(pieces []string, scores []float32, vocab map[string]int) map[pairKey]mergeInfo {
	merges := make(map[pairKey]mergeInfo)
	for id, p := range pieces {
		p = strings.ReplaceAll(p, " ", "▁")
		if vocab[p] != id || id < 3 || isByteToken(p) {
			continue
		}
		for i := range p {
			if i == 0 {
				continue
			}
			a, okA := vocab[p[:i]]
			b, okB := vocab[p[i:]]
			if okA && okB {
				merges[pairKey{int32(a), int32(b)}] = mergeInfo{id: int32(id), prio: -float64(scores[id])}
			}
		}
	}
	return merges
}

func isByteToken(p string) bool {
	_, ok := parseByteToken(p)
	return ok
}
