package checkpoint

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// llama2cHeader is the seven-int32 header of a legacy llama2.c file.
type llama2cHeader struct {
	Dim, HiddenDim, NumLayers, NumHeads, NumKVHeads, VocabSize, SeqLen int32
}

const llama2cHeaderSize = 28

// parseLlama2cHeader decodes the first 28 bytes of b.
func parseLlama2cHeader(b []byte) llama2cHeader {
	v := func(i int) int32 { return int32(binary.LittleEndian.Uint32(b[4*i:])) }
	return llama2cHeader{v(0), v(1), v(2), v(3), v(4), v(5), v(6)}
}

// floats returns the number of float32 values the header implies
// (including the two legacy RoPE tables and an untied classifier), after
// checking the sizes; the count is exact, with no overflow.
func (h llama2cHeader) floats() (int64, error) {
	vocab := int64(h.VocabSize)
	if vocab < 0 {
		vocab = -vocab
	}
	for _, v := range []int64{int64(h.Dim), int64(h.HiddenDim), int64(h.NumLayers), int64(h.NumHeads), int64(h.NumKVHeads), vocab, int64(h.SeqLen)} {
		if v <= 0 || v > maxDim {
			return 0, fmt.Errorf("header %+v: sizes must be in 1..%d", h, maxDim)
		}
	}
	if h.Dim%h.NumHeads != 0 || h.NumHeads%h.NumKVHeads != 0 || (h.Dim/h.NumHeads)%2 != 0 {
		return 0, fmt.Errorf("header %+v: dim must split into an even head size and heads into kv groups", h)
	}
	d, ff, l := int64(h.Dim), int64(h.HiddenDim), int64(h.NumLayers)
	kv := int64(h.NumKVHeads) * (d / int64(h.NumHeads))
	// Every size is at most 2^24, so per-layer floats stay below 2^52;
	// the layer product is bounded before it can overflow.
	perLayer := 2*d + 2*d*d + 2*d*kv + 3*ff*d
	if perLayer > (1<<56)/l { // keeps 4*n far below 2^63
		return 0, fmt.Errorf("header %+v: model too large", h)
	}
	n := vocab*d + l*perLayer + d + int64(h.SeqLen)*(d/int64(h.NumHeads))
	if h.VocabSize < 0 {
		n += vocab * d
	}
	return n, nil
}

// config returns the Hugging Face configuration of a llama2.c model.
func (h llama2cHeader) config() Config {
	vocab := int(h.VocabSize)
	if vocab < 0 {
		vocab = -vocab
	}
	return Config{
		Architecture: "LlamaForCausalLM", ModelType: "llama",
		HiddenSize: int(h.Dim), IntermediateSize: int(h.HiddenDim), NumLayers: int(h.NumLayers),
		NumHeads: int(h.NumHeads), NumKVHeads: int(h.NumKVHeads), HeadDim: int(h.Dim / h.NumHeads),
		VocabSize: vocab, MaxPositions: int(h.SeqLen), RMSNormEps: 1e-5, RopeTheta: 10000,
		TieWordEmbeddings: h.VocabSize > 0, BOSTokenID: 1, EOSTokenIDs: []int{2}, TorchDType: "float32",
	}
}

// openLlama2c reads a legacy llama2.c checkpoint into F32 tensors in the
// Hugging Face layout.
func openLlama2c(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	head := make([]byte, llama2cHeaderSize)
	if _, err := io.ReadFull(f, head); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: llama2.c header: %w", path, err)
	}
	h := parseLlama2cHeader(head)
	n, err := h.floats()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: not a llama2.c checkpoint: %w", path, err)
	}
	if want := llama2cHeaderSize + 4*n; st.Size() != want {
		what := "truncated"
		if st.Size() > want {
			what = "trailing data"
		}
		return nil, fmt.Errorf("checkpoint: %s: llama2.c file is %d bytes, header %+v implies %d (%s)", path, st.Size(), h, want, what)
	}
	data := make([]byte, 4*n)
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	cfg := h.config()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	ck := &Checkpoint{Path: path, Format: FormatLlama2c, Config: cfg, configBytes: head,
		files: []string{path}, Tensors: splitLlama2c(cfg, data)}
	if err := ck.validate(); err != nil {
		return nil, err
	}
	return ck, nil
}
