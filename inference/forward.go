package inference

// The decoder forward pass as a GoMLX graph. This is the only file (with
// ffnhook.go) that dot-imports the graph package.

import (
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph DSL
	"github.com/gomlx/gomlx/core/tensors"
)

// variant selects the optional parts compiled into a step graph. Each
// variant is its own Exec; within one, shapes are bucketed so a graph
// compiles once per (batch, length, cache) bucket.
type variant struct {
	override  bool // clamp/add inputs at the FFN hook
	capture   bool // the FFN activations [B, S, N] of each layer as outputs
	allLogits bool // logits for every position instead of the last one
	// rowWrites: every row of a multi-token step has tokens, and its S
	// slots from its first position fit the cache; each row's keys and
	// values are written as one slice there (see updateCache).
	rowWrites bool
}

// stepInputs indexes the flat input list of a step graph.
//
//	tokens    [B, S] int32
//	positions [B, S] int32   absolute position of each token (RoPE)
//	mask      [B, S, T] float32  0 where a query may attend a cache slot, -inf elsewhere
//	write     [B, S, T] float32  one-hot: cache slot written by each token (all 0 for padding)
//	last      [B] int32       index in S of the token whose logits are returned
//	cacheK/V  L × [B, KVH, T, D] float32
//	override: clamp [L, N] float32 (1 = clamp), add [L, N] float32, apply [B, S] float32 (1 = edit)
//	weights   (see Model.weightNames)
type stepLayout struct {
	layers                  int
	tokens, positions, mask int
	write, last, cache      int // cache: first of 2L (K0, V0, K1, V1, ...)
	clamp, add, apply       int
	weights, numInputs      int
	numOutputs              int
	outLogits, outCache     int
	outActs                 int
}

func newStepLayout(layers int, v variant) stepLayout {
	s := stepLayout{layers: layers, tokens: 0, positions: 1, mask: 2, write: 3, last: 4, cache: 5}
	n := s.cache + 2*layers
	s.clamp, s.add, s.apply = -1, -1, -1
	if v.override {
		s.clamp, s.add, s.apply = n, n+1, n+2
		n += 3
	}
	s.weights = n
	s.outLogits, s.outCache = 0, 1
	s.numOutputs = 1 + 2*layers
	s.outActs = -1
	if v.capture {
		s.outActs = s.numOutputs
		s.numOutputs += layers
	}
	return s
}

// layerWeights are the graph nodes of one decoder layer.
type layerWeights struct {
	attnNorm, ffnNorm *Node // [H]
	qkv, o            *Node // [(NH+2·KVH)·D, H] (q, k, v rows), [H, NH·D]
	qkvb              *Node // [(NH+2·KVH)·D] or nil
	ob                *Node // [H] or nil
	gateUp, down      *Node // [2N, H] (gate, up rows), [H, N]
}

// stepGraph builds one forward step over S new tokens with a KV cache of T
// slots, returning logits, the updated cache and, with capture, the
// FFN activations before any edit, one [B, S, N] output per layer.
func (m *Model) stepGraph(v variant, inputs []*Node) []*Node {
	c := m.Config
	lay := newStepLayout(c.NumLayers, v)
	g := inputs[0].Graph()
	tokens := inputs[lay.tokens]
	B, S := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]
	T := inputs[lay.mask].Shape().Dimensions[2]
	w := inputs[lay.weights:]
	embed := w[0]

	x := Gather(embed, InsertAxes(tokens, -1)) // [B, S, H]
	if x.DType() != dtypes.Float32 {           // bfloat16 weights
		x = ConvertDType(x, dtypes.Float32)
	}
	cos, sin := m.ropeTables(inputs[lay.positions]) // [B, S, 1, D]
	mask := inputs[lay.mask]                        // [B, S, T]
	write := inputs[lay.write]

	var hk *ffnHook
	if v.override || v.capture {
		hk = &ffnHook{}
		if v.override {
			hk.clamp, hk.add, hk.apply = inputs[lay.clamp], inputs[lay.add], inputs[lay.apply]
		}
		hk.capture = v.capture
	}
	outCache := make([]*Node, 2*c.NumLayers)
	var acts []*Node
	for l := 0; l < c.NumLayers; l++ {
		lw := m.layerNodes(w, l)
		h := rmsNorm(x, lw.attnNorm, c.RMSNormEps)
		attn, kc, vc := m.attention(h, lw, cos, sin, mask, write, inputs[lay.positions],
			inputs[lay.cache+2*l], inputs[lay.cache+2*l+1], v.rowWrites)
		outCache[2*l], outCache[2*l+1] = kc, vc
		x = Add(x, attn)
		h = rmsNorm(x, lw.ffnNorm, c.RMSNormEps)
		// FFN: a = SiLU(h·W_gate) [B, S, N], the hooked activation.
		N := c.IntermediateSize
		gateUp := linear(h, lw.gateUp, nil) // [B, S, 2N]
		gate := SliceAxis(gateUp, -1, AxisRange(0, N))
		a := Mul(gate, Logistic(gate))
		if hk != nil {
			var captured *Node
			a, captured = hk.run(l, a)
			if captured != nil {
				acts = append(acts, captured)
			}
		}
		up := SliceAxis(gateUp, -1, AxisRange(N, 2*N))
		x = Add(x, linear(Mul(a, up), lw.down, nil))
	}
	_ = B
	_ = S
	_ = T

	if !v.allLogits {
		// Gather the requested position of each row: [B, H].
		idx := Concatenate([]*Node{
			InsertAxes(Iota(g, shapes.Make(dtypes.Int32, B), 0), -1),
			InsertAxes(inputs[lay.last], -1),
		}, -1)
		x = Gather(x, idx)
	}
	x = rmsNorm(x, w[len(w)-2+boolInt(c.TieWordEmbeddings)], c.RMSNormEps)
	head := embed
	if !c.TieWordEmbeddings {
		head = w[len(w)-1]
	}
	logits := linear(x, head, nil)
	outs := append([]*Node{logits}, outCache...)
	if v.capture {
		outs = append(outs, acts...) // one output per layer: no stacked copy
	}
	return outs
}

// layerNodes slices the weight inputs of layer l (see Model.weightNames).
func (m *Model) layerNodes(w []*Node, l int) layerWeights {
	per := m.perLayer()
	b := w[1+l*per:]
	lw := layerWeights{attnNorm: b[0], qkv: b[1], o: b[2], ffnNorm: b[3], gateUp: b[4], down: b[5]}
	next := 6
	if m.Config.AttentionBias {
		lw.qkvb = b[next]
		next++
	}
	if m.Config.OutputBias {
		lw.ob = b[next]
	}
	return lw
}

// attention: h [B, S, H] → [B, S, H], plus the updated caches [B, KVH, T, D].
func (m *Model) attention(h *Node, lw layerWeights, cos, sin, mask, write, slots, cacheK, cacheV *Node, rowWrites bool) (out, kc, vc *Node) {
	c := m.Config
	B, S := h.Shape().Dimensions[0], h.Shape().Dimensions[1]
	NH, KVH, D := c.NumHeads, c.NumKVHeads, c.HeadDim
	heads := func(x *Node) *Node { // [B, S, n, D] → [B, n, S, D]
		if S == 1 { // the same data: no transpose op
			return Reshape(x, B, x.Shape().Dimensions[2], 1, D)
		}
		return Transpose(x, 1, 2)
	}
	qkv := linear(h, lw.qkv, lw.qkvb) // [B, S, (NH+2·KVH)·D]
	// Queries and keys rotate together (one set of RoPE ops a layer).
	qk := rope(Reshape(SliceAxis(qkv, -1, AxisRange(0, (NH+KVH)*D)), B, S, NH+KVH, D), cos, sin)
	q := heads(SliceAxis(qk, 2, AxisRange(0, NH)))
	k := heads(SliceAxis(qk, 2, AxisRange(NH, NH+KVH)))
	v := heads(Reshape(SliceAxis(qkv, -1, AxisRange((NH+KVH)*D, (NH+2*KVH)*D)), B, S, KVH, D))

	kc, vc = updateCache(cacheK, k, write, slots, rowWrites), updateCache(cacheV, v, write, slots, rowWrites)

	o, _ := attend(q, kc, vc, mask) // [B, NH, S, D]
	if S > 1 {
		o = Transpose(o, 1, 2)
	}
	o = Reshape(o, B, S, NH*D)
	return linear(o, lw.o, lw.ob), kc, vc
}

// attend is scaled dot-product attention: q [B, NH, S, D] over the cache
// kc, vc [B, KVH, T, D] (grouped heads: query head h reads KV head
// h/(NH/KVH)) with the additive mask [B, S, T]: softmax((q·k)/√D + mask)·v,
// [B, NH, S, D]. It takes the backend's fused attention where the backend
// has one for these shapes (the Go backend's AVX2 path: no copies of the
// cache, slots past the last unmasked one skipped; fused reports it), with
// the same arithmetic, else the decomposed graph.
func attend(q, kc, vc, mask *Node) (o *Node, fused bool) {
	B, NH, S, D := q.Shape().Dimensions[0], q.Shape().Dimensions[1], q.Shape().Dimensions[2], q.Shape().Dimensions[3]
	KVH := kc.Shape().Dimensions[1]
	scale := 1 / math.Sqrt(float64(D))
	decomposed := func() *Node {
		rep := NH / KVH
		qg := Reshape(q, B, KVH, rep, S, D)
		scores := Einsum("bgrsd,bgtd->bgrst", qg, kc)
		scores = Add(Mul(scores, ConstAs(scores, scale)), InsertAxes(mask, 1, 1))
		probs := Softmax(scores, -1)
		return Reshape(Einsum("bgrst,bgtd->bgrsd", probs, vc), B, NH, S, D)
	}
	return InternalFusedOpCaller(func() *Node {
		o, _ := BackendFusedScaledDotProductAttention(q, kc, vc, compute.AttentionAxesLayoutBHSD,
			// The mask as [B, 1, S, T]: one layout for every backend's
			// broadcasting rules (a rank-3 mask reads as [B, S, T] in the
			// Go backend but would align B with the heads when broadcast
			// from the right).
			&compute.ScaledDotProductAttentionConfig{Mask: InternalBackendOutputs(InsertAxes(mask, 1))[0], Scale: scale})
		return o
	}, decomposed, false)
}

// updateCache writes the new keys or values x [B, KVH, S, D] into the
// cache [B, KVH, T, D] at the slots given by the one-hot write [B, S, T]
// (slots [B, S] int32 holds the same slots as indices).
//
// Where each row's S entries can go as one slice (one-token steps, and
// rowWrites), they are pasted in place (the cache is donated to the step)
// at the row's first slot, instead of a pass over the whole cache. A
// row's padding entries then land in the slots after its tokens, which it
// does not attend to, and which its next step overwrites before it does;
// a padding row of a one-token step writes to the last slot (see step).
func updateCache(cache, x, write, slots *Node, rowWrites bool) *Node {
	S := x.Shape().Dimensions[2]
	if S == 1 || rowWrites {
		B := x.Shape().Dimensions[0]
		zero := ScalarZero(x.Graph(), dtypes.Int32)
		for b := range B {
			slot := Reshape(Slice(slots, AxisElem(b), AxisElem(0)))
			xb := x // one row: the update is x itself, no copy
			if B > 1 {
				xb = SliceAxis(x, 0, AxisElem(b))
			}
			cache = DynamicUpdateSlice(cache, xb, []*Node{Const(x.Graph(), int32(b)), zero, slot, zero})
		}
		return cache
	}
	written := ReduceSum(write, 1)               // [B, T]: 1 where a slot is written
	keep := OneMinus(InsertAxes(written, 1, -1)) // [B, 1, T, 1]
	placed := Einsum("bst,bhsd->bhtd", write, x) // [B, KVH, T, D]
	return Add(Mul(cache, keep), placed)
}

// rmsNorm: x [..., H] · rsqrt(mean(x²) + eps) · w [H], in float32. The Go
// backend fuses these ops into one with the same bits, as it does rope's
// and the FFN's SwiGLU where the hook does not read the activation
// (third_party/gomlx-compute/NPTI-PATCHES.md, row 28): keep their form.
func rmsNorm(x, w *Node, eps float64) *Node {
	ms := ReduceAndKeep(Square(x), ReduceMean, -1)
	return Mul(Mul(x, Rsqrt(Add(ms, ConstAs(ms, eps)))), lead(w, x.Rank()))
}

// linear: x [..., in] times w [out, in] (the HF layout) plus b [out]. A
// bfloat16 w is converted to float32 in the graph; the Go backend reads
// the bfloat16 values directly in the product instead (no float32 copy).
// Ranks 2 and 3 contract x's last axis in place (two fewer reshape ops
// per product than flattening; the same kernels and bits).
func linear(x, w, b *Node) *Node {
	dims := x.Shape().Dimensions
	out, in := w.Shape().Dimensions[0], w.Shape().Dimensions[1]
	if w.DType() != dtypes.Float32 {
		w = ConvertDType(w, dtypes.Float32)
	}
	var y *Node
	switch len(dims) {
	case 2, 3: // contract x's last axis directly: no reshapes around the product
		lead := "bs"[:len(dims)-1]
		y = Dot(x, w).Einsum(lead + "i,oi->" + lead + "o")
	default:
		y = Dot(Reshape(x, x.Shape().Size()/in, in), w).Einsum("mi,oi->mo")
		y = Reshape(y, append(append([]int{}, dims[:len(dims)-1]...), out)...)
	}
	if b != nil {
		y = Add(y, lead(b, y.Rank()))
	}
	return y
}

// ropeTables: positions [B, S] → cos and the signed sin [B, S, 1, D]
// (rotate-half layout): sin with its first half negated, so each layer's
// rope needs no negation (see rope).
func (m *Model) ropeTables(positions *Node) (cos, sin *Node) {
	g := positions.Graph()
	inv := Const(g, m.invFreq)                                                      // [D/2]
	f := Mul(InsertAxes(ConvertDType(positions, dtypes.Float32), -1), lead(inv, 3)) // [B, S, D/2]
	emb := Concatenate([]*Node{f, f}, -1)                                           // [B, S, D]
	s := Sin(f)
	return InsertAxes(Cos(emb), 2), InsertAxes(Concatenate([]*Node{Neg(s), s}, -1), 2)
}

// rope rotates x [B, S, n, D] by the position tables [B, S, 1, D]:
// x·cos + rotate_half(x)·sin, with rotate_half(x) = [−x₂, x₁] written as
// [x₂, x₁]·[−sin₁, sin₂] (the same products: the sign is exact either way).
func rope(x, cos, sinSigned *Node) *Node {
	D := x.Shape().Dimensions[3]
	x1 := SliceAxis(x, 3, AxisRange(0, D/2))
	x2 := SliceAxis(x, 3, AxisRange(D/2, D))
	rot := Concatenate([]*Node{x2, x1}, 3)
	return Add(Mul(x, cos), Mul(rot, sinSigned))
}

// lead reshapes x to rank r by adding leading axes of size 1.
func lead(x *Node, r int) *Node {
	if x.Rank() == r {
		return x
	}
	dims := make([]int, r)
	for i := range dims {
		dims[i] = 1
	}
	copy(dims[r-x.Rank():], x.Shape().Dimensions)
	return Reshape(x, dims...)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

var _ = graph.Parameter
var _ = tensors.FromShape
