package tokenizer

import (
	"container/heap"
	"fmt"
	"unicode/utf8"
)

// model turns one pre-tokenized word into ids.
type model interface {
	tokenize(word string, out []int) []int
}

// pairKey is an adjacent pair of token ids.
type pairKey struct{ a, b int32 }

// mergeInfo is what merging a pair gives: the new id and its priority
// (lower merges first).
type mergeInfo struct {
	id   int32
	prio float64
}

// bpe is a byte-pair-encoding model with a merge table: HF's BPE (priority
// = merge rank) and SentencePiece/llama2.c BPE (priority = -score).
type bpe struct {
	vocab        map[string]int
	merges       map[pairKey]mergeInfo
	unk          int // -1 when there is no unk token
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	prefix       string // continuing_subword_prefix
	suffix       string // end_of_word_suffix
	byteIDs      [256]int32
}

// initBytes caches the ids of the <0xXX> byte tokens (-1 when absent).
func (m *bpe) initBytes() {
	for b := range m.byteIDs {
		id, ok := m.vocab[fmt.Sprintf("<0x%02X>", b)]
		m.byteIDs[b] = -1
		if ok {
			m.byteIDs[b] = int32(id)
		}
	}
}

// symbols splits a word into initial symbols, one per rune, with byte
// fallback and unk handling as HF does.
func (m *bpe) symbols(word string) []int32 {
	syms := make([]int32, 0, len(word))
	lastUnk := false
	for i := 0; i < len(word); {
		_, n := utf8.DecodeRuneInString(word[i:])
		ch := word[i : i+n]
		s := ch
		if i > 0 && m.prefix != "" {
			s = m.prefix + s
		}
		i += n
		if i == len(word) && m.suffix != "" {
			s += m.suffix
		}
		if id, ok := m.vocab[s]; ok {
			syms = append(syms, int32(id))
			lastUnk = false
			continue
		}
		if m.byteFallback && m.allBytes(ch) {
			for _, b := range []byte(ch) {
				syms = append(syms, m.byteIDs[b])
			}
			lastUnk = false
			continue
		}
		if m.unk >= 0 && !(m.fuseUnk && lastUnk) {
			syms = append(syms, int32(m.unk))
		}
		lastUnk = m.unk >= 0
	}
	return syms
}

func (m *bpe) allBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if m.byteIDs[s[i]] < 0 {
			return false
		}
	}
	return true
}

func (m *bpe) tokenize(word string, out []int) []int {
	if word == "" {
		return out
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[word]; ok {
			return append(out, id)
		}
	}
	syms := mergeSymbols(m.symbols(word), m.merges)
	for _, id := range syms {
		out = append(out, int(id))
	}
	return out
}

// candidate is a possible merge of symbol left with its right neighbour.
type candidate struct {
	left, right int
	lver, rver  int
	info        mergeInfo
}

type candHeap []candidate

func (h candHeap) Len() int { return len(h) }
func (h candHeap) Less(i, j int) bool {
	if h[i].info.prio != h[j].info.prio {
		return h[i].info.prio < h[j].info.prio
	}
	return h[i].left < h[j].left
}
func (h candHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *candHeap) Push(x any)   { *h = append(*h, x.(candidate)) }
func (h *candHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// mergeSymbols repeatedly merges the adjacent pair with the lowest
// priority (leftmost on ties) until no pair merges.
func mergeSymbols(ids []int32, merges map[pairKey]mergeInfo) []int32 {
	n := len(ids)
	if n < 2 {
		return ids
	}
	next := make([]int, n)
	prev := make([]int, n)
	ver := make([]int, n)
	for i := range ids {
		next[i], prev[i] = i+1, i-1
	}
	next[n-1] = -1
	h := make(candHeap, 0, n)
	push := func(l, r int) {
		if info, ok := merges[pairKey{ids[l], ids[r]}]; ok {
			h = append(h, candidate{l, r, ver[l], ver[r], info})
		}
	}
	for i := 0; i+1 < n; i++ {
		push(i, i+1)
	}
	heap.Init(&h)
	for h.Len() > 0 {
		c := heap.Pop(&h).(candidate)
		if ver[c.left] != c.lver || ver[c.right] != c.rver || next[c.left] != c.right {
			continue
		}
		// Merge right into left.
		ids[c.left] = c.info.id
		ver[c.left]++
		ver[c.right] = -1 // dead
		next[c.left] = next[c.right]
		if next[c.left] >= 0 {
			prev[next[c.left]] = c.left
		}
		if p := prev[c.left]; p >= 0 {
			if info, ok := merges[pairKey{ids[p], ids[c.left]}]; ok {
				heap.Push(&h, candidate{p, c.left, ver[p], ver[c.left], info})
			}
		}
		if r := next[c.left]; r >= 0 {
			if info, ok := merges[pairKey{ids[c.left], ids[r]}]; ok {
				heap.Push(&h, candidate{c.left, r, ver[c.left], ver[r], info})
			}
		}
	}
	out := ids[:0]
	for i := 0; i >= 0; i = next[i] {
		out = append(out, ids[i])
	}
	return out
}
