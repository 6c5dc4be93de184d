// Package inference runs Llama-family decoders on GoMLX: model loading,
// the forward pass with its single FFN hook, KV-cache generation and
// sampling. It knows layers and neurons, never traits. It is the only
// package of the project that imports GoMLX.
package inference

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"unsafe"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	_ "github.com/gomlx/compute/gobackend" // the default pure-Go backend
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/npti-studio/npti/inference/checkpoint"
	"github.com/npti-studio/npti/inference/safetensors"
)

// Options configure Load.
type Options struct {
	// Backend is a GoMLX backend configuration ("go", "xla:cpu", ...);
	// empty uses $GOMLX_BACKEND, else "go".
	Backend string
	// Weights is how the weight matrices (embedding, projections, LM
	// head) are held; norms and biases are always float32:
	//   - "auto" or "": bfloat16 where the checkpoint stores bfloat16,
	//     else float32. Products widen bfloat16 to float32 as they read
	//     it and compute in float32, so the outputs are those of float32
	//     weights of the same values, at half the bytes;
	//   - "f32": float32;
	//   - "bf16": bfloat16, rounding float32 checkpoints (lossy).
	Weights string
}

// WeightModes are the values Options.Weights accepts.
var WeightModes = []string{"auto", "f32", "bf16"}

// Model is a loaded decoder: immutable config, weights on the backend, and
// the compiled step graphs (one Exec per variant, cached per shape bucket).
// A Model is safe for concurrent use.
type Model struct {
	Config checkpoint.Config
	Path   string // where it was loaded from
	Format string // "hf" or "llama2c"

	backend compute.Backend
	weights []*tensors.Tensor // order of weightNames
	invFreq []float32         // [HeadDim/2] RoPE inverse frequencies

	mu    sync.Mutex
	execs map[variant]*graph.Exec
}

// Load opens a checkpoint (an HF directory, a llama2.c file or a cached HF
// repo id), validates it and moves its weights to the backend (see
// Options.Weights).
func Load(path string, opts Options) (*Model, error) {
	ck, err := checkpoint.Open(path)
	if err != nil {
		return nil, err
	}
	defer ck.Close()
	return FromCheckpoint(ck, opts)
}

// FromCheckpoint builds a Model from an open checkpoint; the checkpoint may
// be closed afterwards.
func FromCheckpoint(ck *checkpoint.Checkpoint, opts Options) (*Model, error) {
	return build(ck.Config, ck.Path, ck.Format, opts, checkpointSource(ck))
}

// checkpointSource reads weights from ck: bfloat16 tensors as bfloat16,
// others as float32.
func checkpointSource(ck *checkpoint.Checkpoint) weightSource {
	return func(name string) (weightData, error) {
		t, ok := ck.Tensors[name]
		if !ok {
			return weightData{}, fmt.Errorf("missing tensor %q", name)
		}
		var w weightData
		var err error
		if t.DType == safetensors.BF16 {
			w.bf16, err = t.BF16()
		} else {
			w.f32, err = t.Float32()
		}
		if err != nil {
			return weightData{}, fmt.Errorf("tensor %q: %w", name, err)
		}
		w.dims = t.Shape
		return w, nil
	}
}

// weightData is a weight's values, float32 or bfloat16 bit patterns (one
// of the two), and its dimensions.
type weightData struct {
	f32  []float32
	bf16 []uint16
	dims []int
}

func (w weightData) len() int { return len(w.f32) + len(w.bf16) }

// toF32 returns w as float32 (exactly).
func (w weightData) toF32() weightData {
	if w.bf16 == nil {
		return w
	}
	f := make([]float32, len(w.bf16))
	for i, b := range w.bf16 {
		f[i] = safetensors.BF16ToFloat32(b)
	}
	return weightData{f32: f, dims: w.dims}
}

// toBF16 returns w as bfloat16 (rounding float32 to nearest even).
func (w weightData) toBF16() weightData {
	if w.f32 == nil {
		return w
	}
	b := make([]uint16, len(w.f32))
	for i, f := range w.f32 {
		b[i] = safetensors.Float32ToBF16(f)
	}
	return weightData{bf16: b, dims: w.dims}
}

// weightSource returns the values and dimensions of a named weight.
type weightSource func(name string) (weightData, error)

// build checks the config and moves the weights, one at a time, to a new
// backend, so only one weight exists twice at any moment.
func build(cfg checkpoint.Config, path, format string, opts Options, src weightSource) (_ *Model, err error) {
	mode := opts.Weights
	if mode == "" {
		mode = "auto"
	}
	if !slices.Contains(WeightModes, mode) {
		return nil, fmt.Errorf("weights %q: want one of %v", opts.Weights, WeightModes)
	}
	be, err := newBackend(opts.Backend)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, Path: path, Format: format, backend: be,
		execs: map[variant]*graph.Exec{}}
	defer func() {
		if err != nil { // a failed load frees what it moved to the backend
			m.Close()
		}
	}()
	if err := m.checkConfig(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m.invFreq = ropeInvFreq(m.Config)
	for _, slot := range m.weightSlots() {
		w, err := loadSlot(src, slot)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		// Matrices keep (or take, in "bf16" mode) bfloat16; vectors,
		// read elementwise, are float32.
		if len(w.dims) == 2 && (mode == "bf16" || (mode == "auto" && w.bf16 != nil)) {
			w = w.toBF16()
		} else {
			w = w.toF32()
		}
		wt, err := onBackend(be, w)
		if err != nil {
			return nil, fmt.Errorf("%s: moving %q to the backend: %w", path, slot[0], err)
		}
		m.weights = append(m.weights, wt)
	}
	return m, nil
}

// loadSlot reads the tensors of one weight slot, checked for NaN and Inf,
// and joins several along their first axis (their other axes must agree).
// The joined weight is bfloat16 when all its parts are.
func loadSlot(src weightSource, slot []string) (weightData, error) {
	parts := make([]weightData, len(slot))
	allBF16 := true
	for i, name := range slot {
		w, err := src(name)
		if err != nil {
			return weightData{}, err
		}
		if !finite(w) {
			return weightData{}, fmt.Errorf("tensor %q holds NaN or Inf", name)
		}
		if i > 0 {
			d, d0 := w.dims, parts[0].dims
			if len(d) != len(d0) || len(d) == 0 || !slices.Equal(d[1:], d0[1:]) {
				return weightData{}, fmt.Errorf("tensor %q has shape %v, which cannot be joined to %q's %v", name, d, slot[0], d0)
			}
		}
		parts[i] = w
		allBF16 = allBF16 && w.bf16 != nil
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	out := weightData{dims: append([]int{}, parts[0].dims...)}
	for _, p := range parts[1:] {
		out.dims[0] += p.dims[0]
	}
	for _, p := range parts {
		if allBF16 {
			out.bf16 = append(out.bf16, p.bf16...)
		} else {
			out.f32 = append(out.f32, p.toF32().f32...)
		}
	}
	return out, nil
}

// finite reports whether w holds no NaN or Inf.
func finite(w weightData) bool {
	for _, x := range w.f32 {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	for _, b := range w.bf16 {
		if b&0x7f80 == 0x7f80 { // all-ones exponent: Inf or NaN
			return false
		}
	}
	return true
}

// onBackend copies w into a tensor held by the backend: straight into a
// shared buffer where the backend has them (the Go backend), so the
// weights exist once in memory, not twice.
func onBackend(be compute.Backend, w weightData) (*tensors.Tensor, error) {
	var bf []bfloat16.BFloat16
	if w.bf16 != nil {
		bf = unsafe.Slice((*bfloat16.BFloat16)(unsafe.SliceData(w.bf16)), len(w.bf16))
	}
	if !be.HasSharedBuffers() {
		var wt *tensors.Tensor
		if bf != nil {
			wt = tensors.FromFlatDataAndDimensions(bf, w.dims...)
		} else {
			wt = tensors.FromFlatDataAndDimensions(w.f32, w.dims...)
		}
		return wt, wt.ToDevice(be, 0)
	}
	dt := dtypes.Float32
	if bf != nil {
		dt = dtypes.BFloat16
	}
	wt, err := tensors.FromShapeForBackend(be, 0, shapes.Make(dt, w.dims...))
	if err != nil {
		return nil, err
	}
	if bf != nil {
		err = tensors.MutableFlatData(wt, func(flat []bfloat16.BFloat16) { copy(flat, bf) })
	} else {
		err = tensors.MutableFlatData(wt, func(flat []float32) { copy(flat, w.f32) })
	}
	return wt, err
}

// newBackend creates the GoMLX backend: config, else $GOMLX_BACKEND, else "go".
func newBackend(config string) (compute.Backend, error) {
	if config == "" {
		config = os.Getenv(compute.ConfigEnvVar)
	}
	if config == "" {
		config = "go"
	}
	be, err := compute.NewWithConfig(config)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w (the pure-Go backend is \"go\"; \"xla:cpu\" and \"xla:cuda\" need the XLA PJRT plugins)", config, err)
	}
	return be, nil
}

// Close frees the weights, the compiled graphs and the backend. The model
// must not be used afterwards.
func (m *Model) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.execs {
		e.Finalize()
	}
	m.execs = map[variant]*graph.Exec{}
	for _, w := range m.weights {
		_ = w.FinalizeAll()
	}
	m.weights = nil
	if m.backend != nil {
		m.backend.Finalize()
	}
}

// BackendName names the backend the model runs on.
func (m *Model) BackendName() string { return m.backend.Name() }

// Layers is the number of decoder layers.
func (m *Model) Layers() int { return m.Config.NumLayers }

// Neurons is the number of FFN neurons per layer (intermediate size).
func (m *Model) Neurons() int { return m.Config.IntermediateSize }

// WeightDType names how the weight matrices are held: "bf16" or "f32".
func (m *Model) WeightDType() string {
	for _, w := range m.weights {
		if w.DType() == dtypes.BFloat16 {
			return "bf16"
		}
	}
	return "f32"
}

// WeightBytes is the size of the weights as held by the backend.
func (m *Model) WeightBytes() int64 {
	var n int64
	for _, w := range m.weights {
		n += w.Shape().ByteSize()
	}
	return n
}

func (m *Model) checkConfig() error {
	c := m.Config
	if c.NumLayers <= 0 || c.HiddenSize <= 0 || c.IntermediateSize <= 0 || c.NumHeads <= 0 ||
		c.NumKVHeads <= 0 || c.HeadDim <= 0 || c.VocabSize <= 0 {
		return errors.New("config has non-positive sizes")
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return fmt.Errorf("%d attention heads are not a multiple of %d KV heads", c.NumHeads, c.NumKVHeads)
	}
	if c.HeadDim%2 != 0 {
		return fmt.Errorf("head_dim %d is odd", c.HeadDim)
	}
	return nil
}

// perLayer is the number of weight slots of one layer.
func (m *Model) perLayer() int {
	if m.Config.AttentionBias {
		return 7
	}
	return 6
}

// weightSlots lists the graph's weight inputs in order, each the checkpoint
// tensors it joins along the first axis: the embedding, per layer (attn
// norm, q+k+v, o, ffn norm, gate+up, down, [q+k+v biases]), the final norm
// and, when untied, the LM head. Joined projections make one matrix-vector
// product per group in a decode step instead of three or two.
func (m *Model) weightSlots() [][]string {
	c := m.Config
	slots := [][]string{{"model.embed_tokens.weight"}}
	for l := 0; l < c.NumLayers; l++ {
		p := fmt.Sprintf("model.layers.%d.", l)
		slots = append(slots, []string{p + "input_layernorm.weight"},
			[]string{p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"},
			[]string{p + "self_attn.o_proj.weight"}, []string{p + "post_attention_layernorm.weight"},
			[]string{p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"}, []string{p + "mlp.down_proj.weight"})
		if c.AttentionBias {
			slots = append(slots, []string{p + "self_attn.q_proj.bias", p + "self_attn.k_proj.bias", p + "self_attn.v_proj.bias"})
		}
	}
	slots = append(slots, []string{"model.norm.weight"})
	if !c.TieWordEmbeddings {
		slots = append(slots, []string{"lm_head.weight"})
	}
	return slots
}

// ropeInvFreq computes the RoPE inverse frequencies in float32 the way HF
// does, with llama3 or linear scaling applied.
func ropeInvFreq(c checkpoint.Config) []float32 {
	half := c.HeadDim / 2
	inv := make([]float32, half)
	for i := range inv {
		e := float32(2*i) / float32(c.HeadDim)
		inv[i] = 1 / float32(math.Pow(c.RopeTheta, float64(e)))
	}
	rs := c.RopeScaling
	if rs == nil {
		return inv
	}
	switch rs.Type {
	case "linear":
		for i := range inv {
			inv[i] /= float32(rs.Factor)
		}
	case "llama3":
		old := float64(rs.OriginalMaxPositionEmbeddings)
		lo, hi, f := rs.LowFreqFactor, rs.HighFreqFactor, rs.Factor
		for i, v := range inv {
			wavelen := 2 * math.Pi / float64(v)
			scaled := float64(v)
			if wavelen > old/lo {
				scaled = float64(v) / f
			}
			if !(wavelen < old/hi) && !(wavelen > old/lo) {
				smooth := (old/wavelen - lo) / (hi - lo)
				scaled = (1-smooth)*scaled/f + smooth*scaled
			}
			inv[i] = float32(scaled)
		}
	}
	return inv
}

// exec returns the compiled step function of a variant.
func (m *Model) exec(v variant) (*graph.Exec, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.execs[v]; ok {
		return e, nil
	}
	e, err := graph.NewExec(m.backend, func(inputs []*graph.Node) []*graph.Node {
		return m.stepGraph(v, inputs)
	})
	if err != nil {
		return nil, err
	}
	e.SetMaxCache(256)
	m.execs[v] = e
	return e, nil
}

// zeroCache returns empty K and V caches [B, KVH, T, D] for every layer.
func (m *Model) zeroCache(B, T int) []*tensors.Tensor {
	c := m.Config
	out := make([]*tensors.Tensor, 2*c.NumLayers)
	for i := range out {
		out[i] = tensors.FromShape(shapes.Make(dtypes.Float32, B, c.NumKVHeads, T, c.HeadDim))
	}
	return out
}
