// Package inference runs Llama-family decoders on GoMLX: model loading,
// the forward pass with its single FFN hook, KV-cache generation and
// sampling. It knows layers and neurons, never traits. It is the only
// package of the project that imports GoMLX.
package inference

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/dtypes/bfloat16"
	"github.com/gomlx/compute/gobackend" // the default pure-Go backend
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
	//   - "auto" or "": bfloat16 where the checkpoint stores bfloat16 and
	//     the Go backend has its bfloat16 kernels (AVX2 builds), else
	//     float32. Products widen bfloat16 to float32 as they read it and
	//     compute in float32: with those kernels the outputs are those of
	//     float32 weights of the same values, bit for bit, at half the
	//     bytes;
	//   - "f32": float32;
	//   - "bf16": bfloat16, rounding float32 checkpoints (lossy).
	Weights string
	// Context, when set, cancels a load between weights: Load returns its
	// error, with what it had moved to the backend freed.
	Context context.Context
	// Progress, when set, is called after each weight slot is loaded with
	// the slots done and their number.
	Progress func(done, total int)
}

// WeightModes are the values Options.Weights accepts.
var WeightModes = []string{"auto", "f32", "bf16"}

// isGoBackend reports whether a backend name (compute.Backend.Name, e.g.
// "Go Backend") is GoMLX's pure-Go backend, whose patched kernels the
// bfloat16 path and its checks rely on.
func isGoBackend(name string) bool { return strings.HasPrefix(name, "Go") }

// CheckWeights reports whether mode is one of WeightModes ("" counts as
// auto), so a front end can refuse a bad value before it loads anything.
func CheckWeights(mode string) error {
	if mode != "" && !slices.Contains(WeightModes, mode) {
		return fmt.Errorf("weights %q: want one of %v", mode, WeightModes)
	}
	return nil
}

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
	return build(ck.Config, ck.Path, ck.Format, opts, checkpointSource{ck})
}

// weightSource reads named weights for build.
type weightSource interface {
	// shape returns a weight's dimensions and whether it is stored as
	// bfloat16.
	shape(name string) (dims []int, bf16 bool, err error)
	// read writes a weight's values into dst, a []float32 or a []uint16
	// of bfloat16 bit patterns with exactly its elements: converted
	// exactly to float32, or rounded to nearest even to bfloat16.
	read(name string, dst any) error
}

// checkpointSource reads weights from a checkpoint, releasing each
// tensor's file pages once it is read.
type checkpointSource struct{ ck *checkpoint.Checkpoint }

func (s checkpointSource) tensor(name string) (*safetensors.Tensor, error) {
	t, ok := s.ck.Tensors[name]
	if !ok {
		return nil, fmt.Errorf("missing tensor %q", name)
	}
	return t, nil
}

func (s checkpointSource) shape(name string) ([]int, bool, error) {
	t, err := s.tensor(name)
	if err != nil {
		return nil, false, err
	}
	return t.Shape, t.DType == safetensors.BF16, nil
}

func (s checkpointSource) read(name string, dst any) error {
	t, err := s.tensor(name)
	if err != nil {
		return err
	}
	defer t.Release()
	switch d := dst.(type) {
	case []float32:
		err = t.ReadFloat32(d)
	case []uint16:
		err = t.ReadBF16(d)
	default:
		err = fmt.Errorf("cannot read into %T", dst)
	}
	if err != nil {
		return fmt.Errorf("tensor %q: %w", name, err)
	}
	return nil
}

// build checks the config and moves the weights, one at a time, to a new
// backend. Each weight is read straight into its backend buffer, where
// the backend shares buffers (the Go backend): no second copy of any
// weight is made.
func build(cfg checkpoint.Config, path, format string, opts Options, src weightSource) (_ *Model, err error) {
	mode := opts.Weights
	if mode == "" {
		mode = "auto"
	}
	if err := CheckWeights(mode); err != nil {
		return nil, err
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
	if mode == "auto" && !(isGoBackend(be.Name()) && gobackend.HasBF16Kernels()) {
		mode = "f32" // bfloat16 products would convert the weights at every call
	}
	slots := m.weightSlots()
	for i, slot := range slots {
		if opts.Context != nil {
			if err := opts.Context.Err(); err != nil {
				return nil, fmt.Errorf("%s: load: %w", path, err)
			}
		}
		wt, err := loadSlot(be, src, slot, mode)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		m.weights = append(m.weights, wt)
		if opts.Progress != nil {
			opts.Progress(i+1, len(slots))
		}
	}
	return m, nil
}

// loadSlot reads the tensors of one weight slot into one backend tensor,
// joined along their first axis (their other axes must agree), checked
// for NaN and Inf. Matrices are bfloat16 in "bf16" mode, and in "auto"
// mode when every part is stored as bfloat16; all else is float32.
func loadSlot(be compute.Backend, src weightSource, slot []string, mode string) (*tensors.Tensor, error) {
	var dims []int
	sizes := make([]int, len(slot))
	allBF16 := true
	for i, name := range slot {
		d, bf, err := src.shape(name)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			dims = slices.Clone(d)
		} else if len(d) != len(dims) || len(d) == 0 || !slices.Equal(d[1:], dims[1:]) {
			return nil, fmt.Errorf("tensor %q has shape %v, which cannot be joined to %q's %v", name, d, slot[0], dims)
		} else {
			dims[0] += d[0]
		}
		sizes[i] = 1
		for _, x := range d {
			sizes[i] *= x
		}
		allBF16 = allBF16 && bf
	}
	asBF16 := len(dims) == 2 && (mode == "bf16" || (mode == "auto" && allBF16))
	fill := func(flat any) error {
		off := 0
		for i, name := range slot {
			finite := true
			switch f := flat.(type) {
			case []float32:
				p := f[off : off+sizes[i]]
				if err := src.read(name, p); err != nil {
					return err
				}
				for _, x := range p {
					if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
						finite = false
						break
					}
				}
			case []uint16:
				p := f[off : off+sizes[i]]
				if err := src.read(name, p); err != nil {
					return err
				}
				for _, b := range p {
					if b&0x7f80 == 0x7f80 { // all-ones exponent: Inf or NaN
						finite = false
						break
					}
				}
			}
			if !finite {
				if _, ok := flat.([]uint16); ok && !allBF16 {
					return fmt.Errorf("tensor %q holds NaN or Inf, or values beyond bfloat16's range (rounding to bfloat16, --weights bf16)", name)
				}
				return fmt.Errorf("tensor %q holds NaN or Inf", name)
			}
			off += sizes[i]
		}
		return nil
	}
	dt := dtypes.Float32
	if asBF16 {
		dt = dtypes.BFloat16
	}
	if !be.HasSharedBuffers() { // filled on the host, then moved
		var wt *tensors.Tensor
		if asBF16 {
			flat := make([]uint16, dims[0]*dims[1])
			if err := fill(flat); err != nil {
				return nil, err
			}
			wt = tensors.FromFlatDataAndDimensions(unsafe.Slice((*bfloat16.BFloat16)(unsafe.SliceData(flat)), len(flat)), dims...)
		} else {
			flat := make([]float32, shapes.Make(dt, dims...).Size())
			if err := fill(flat); err != nil {
				return nil, err
			}
			wt = tensors.FromFlatDataAndDimensions(flat, dims...)
		}
		return wt, wt.ToDevice(be, 0)
	}
	// A new shared buffer, filled in place and then wrapped: the backend's
	// fresh buffer needs no zeroing first (tensors.FromShapeForBackend
	// clears it, a second pass over every byte of the weights).
	buf, flat, err := be.NewSharedBuffer(0, shapes.Make(dt, dims...))
	if err != nil {
		return nil, fmt.Errorf("moving %q to the backend: %w", slot[0], err)
	}
	switch f := flat.(type) {
	case []bfloat16.BFloat16:
		err = fill(unsafe.Slice((*uint16)(unsafe.SliceData(f)), len(f)))
	case []float32:
		err = fill(f)
	default:
		err = fmt.Errorf("moving %q to the backend: buffer of %T", slot[0], flat)
	}
	var wt *tensors.Tensor
	if err == nil {
		wt, err = tensors.FromBuffer(buf)
	}
	if err != nil {
		_ = buf.Finalize()
		return nil, err
	}
	return wt, nil
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
	return 6 + boolInt(m.Config.AttentionBias) + boolInt(m.Config.OutputBias)
}

// weightSlots lists the graph's weight inputs in order, each the checkpoint
// tensors it joins along the first axis: the embedding, per layer (attn
// norm, q+k+v, o, ffn norm, gate+up, down, [q+k+v biases], [o bias]), the final norm
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
		if c.OutputBias {
			slots = append(slots, []string{p + "self_attn.o_proj.bias"})
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
