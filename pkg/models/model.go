package models

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better unqualified.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"

	"github.com/cmemae/cmemae/pkg/layers"
	"github.com/cmemae/cmemae/pkg/memory"
)

// MemoryScopeName is the sub-scope holding the memory items (<scope>/memory/items).
const MemoryScopeName = "memory"

// Output is everything one forward pass produces.
type Output struct {
	Recon        *Node // [B,H,W,C] reconstruction
	Latent       *Node // encoder output [B,h,w,C]
	Read         *Node // memory read-out, same shape as Latent (nil without memory)
	Weights      *Node // [B, h*w, N] addressing after shrinkage, of the memory used (nil without memory)
	Similarities *Node // [B, h*w, N] pre-softmax addressing of the memory used (nil without memory)
	Entropy      *Node // scalar entropy loss term (0 without memory)
	Chosen       *Node // [B] int32 index of the memory/AE used (nil when not conditional)
	PerImageErr  *Node // [B] mean squared error per image (anomaly score)
	Loss         *Node // scalar: MSE + EntropyLossWeight*Entropy
}

// Model is a thesis model built from a validated Config.
type Model struct {
	cfg  Config
	arch archSpec
}

// New validates cfg and returns the model.
func New(cfg Config) (*Model, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Model{cfg: cfg, arch: archs[cfg.Arch]}, nil
}

// Config returns the model's configuration (MemorySize and NumConditions follow SetMemories).
func (m *Model) Config() Config { return m.cfg }

// InputShape returns the image shape, channels-last.
func (m *Model) InputShape() (height, width, channels int) {
	return m.arch.Height, m.arch.Width, m.arch.Chan
}

// LatentShape returns the encoder output shape (h, w, C).
func (m *Model) LatentShape() (height, width, channels int) {
	return m.arch.LatentH, m.arch.LatentW, m.arch.LatentChannels()
}

// Conditional reports whether the model has more than one condition.
func (m *Model) Conditional() bool { return m.cfg.NumConditions > 1 }

// HasMemory reports whether the model has a memory module (kind memae).
func (m *Model) HasMemory() bool { return m.cfg.Kind == KindMemAE }

// Encode runs the encoder on x [B,H,W,C] → latent [B,h,w,C]. For multi-ae it is AE 0's encoder.
func (m *Model) Encode(scope *model.Scope, x *Node) *Node {
	m.declareVariables(scope, x.Graph())
	if m.cfg.Kind == KindMultiAE {
		return m.encode(scope.At("ae_0"), x)
	}
	return m.encode(scope, x)
}

// Decode runs the decoder on a latent [B,h,w,C] → image [B,H,W,C]. For multi-ae it is AE 0's decoder.
func (m *Model) Decode(scope *model.Scope, z *Node) *Node {
	m.declareVariables(scope, z.Graph())
	if m.cfg.Kind == KindMultiAE {
		return m.decode(scope.At("ae_0"), z)
	}
	return m.decode(scope, z)
}

// EncodeUnit and DecodeUnit address AE k of a multi-ae model (k = 0 for other kinds).
func (m *Model) EncodeUnit(scope *model.Scope, x *Node, k int) *Node {
	m.declareVariables(scope, x.Graph())
	if m.cfg.Kind == KindMultiAE {
		return m.encode(scope.At("ae_%d", k), x)
	}
	return m.encode(scope, x)
}

// DecodeUnit decodes with AE k of a multi-ae model (k = 0 for other kinds).
func (m *Model) DecodeUnit(scope *model.Scope, z *Node, k int) *Node {
	m.declareVariables(scope, z.Graph())
	if m.cfg.Kind == KindMultiAE {
		return m.decode(scope.At("ae_%d", k), z)
	}
	return m.decode(scope, z)
}

func (m *Model) checkInput(x *Node) {
	h, w, c := m.InputShape()
	if x.Rank() != 4 || x.Shape().Dim(1) != h || x.Shape().Dim(2) != w || x.Shape().Dim(3) != c {
		exceptions.Panicf("models: %s expects images [B,%d,%d,%d], got %s", m.cfg.Arch, h, w, c, x.Shape())
	}
	if x.DType() != dtypes.Float32 {
		exceptions.Panicf("models: images must be float32, got %s", x.DType())
	}
}

func (m *Model) encode(scope *model.Scope, x *Node) *Node {
	m.checkInput(x)
	enc := scope.At("encoder")
	h := x
	for i, spec := range m.arch.Encoder {
		h = layers.Conv2D(enc.At("conv_%d", i), h, spec, m.cfg.Formulation)
		h = layers.BatchNorm2DLeakyReLU(enc.At("bn_%d", i), h, m.cfg.Formulation)
	}
	return h
}

func (m *Model) decode(scope *model.Scope, z *Node) *Node {
	lh, lw, lc := m.LatentShape()
	if z.Rank() != 4 || z.Shape().Dim(1) != lh || z.Shape().Dim(2) != lw || z.Shape().Dim(3) != lc {
		exceptions.Panicf("models: %s decoder expects latents [B,%d,%d,%d], got %s", m.cfg.Arch, lh, lw, lc, z.Shape())
	}
	dec := scope.At("decoder")
	h := z
	last := len(m.arch.Decoder) - 1
	for i, spec := range m.arch.Decoder {
		h = layers.ConvTranspose2D(dec.At("convt_%d", i), h, spec, m.cfg.Formulation)
		if i < last {
			h = layers.BatchNorm2DLeakyReLU(dec.At("bn_%d", i), h, m.cfg.Formulation)
		}
	}
	return h
}

// MemoryItems returns the memory items node [K, N, C] (creating the variable in
// <scope>/memory if needed).
func (m *Model) MemoryItems(scope *model.Scope, g *Graph) *Node {
	_, _, c := m.LatentShape()
	return memory.Items(scope.At(MemoryScopeName), g, m.cfg.NumConditions, m.cfg.MemorySize, c)
}

// ReadMemory addresses a latent [B,h,w,C] into every memory unit (no selection):
// analysis helper for the notebooks (pre-softmax and post-shrinkage addressing of
// one sample, per unit).
func (m *Model) ReadMemory(scope *model.Scope, latent *Node) *memory.Conditional {
	if !m.HasMemory() {
		exceptions.Panicf("models: ReadMemory on a %q model, which has no memory", m.cfg.Kind)
	}
	B, h, w, c := latent.Shape().Dim(0), latent.Shape().Dim(1), latent.Shape().Dim(2), latent.Shape().Dim(3)
	m.declareVariables(scope, latent.Graph())
	items := m.MemoryItems(scope, latent.Graph())
	return memory.AddressConditional(Reshape(latent, B, h*w, c), items, m.addressOptions())
}

func (m *Model) addressOptions() memory.Options {
	return memory.Options{Cosine: m.cfg.CosineSimilarity, ShrinkThreshold: m.cfg.ShrinkThreshold}
}

// perImageErr is the mean squared error per image: [B].
func perImageErr(recon, x *Node) *Node {
	return ReduceMean(Square(Sub(recon, x)), 1, 2, 3)
}

// Forward runs the whole model on x [B,H,W,C]. cond [B] int32 is required for
// CondKnown on a conditional model and ignored otherwise (may be nil). See Output.
//
// With NumConditions > 1, CondNone is treated as CondUnknown. Unknown condition:
// memae self-selects with SelectionMetric ("sum"/"max" of the pre-softmax
// similarities — constants for the gradient, as in the thesis — or "recon": every
// unit's read-out is decoded, as one batch of K·B latents, and the lowest per-image
// error wins); cond-ae tries every condition and multi-ae every AE, keeping the
// lowest reconstruction error. Output.Chosen reports the choice.
//
// Batch normalisation follows store.IsTraining(g): batch statistics in training
// (set store.SetTraining(g, true) in the graph function), running statistics otherwise.
func (m *Model) Forward(scope *model.Scope, x, cond *Node, mode Conditional) *Output {
	m.checkInput(x)
	g := x.Graph()
	m.declareVariables(scope, g)
	k := m.cfg.NumConditions
	if k > 1 && !mode.IsConditional() {
		mode = CondUnknown
	}
	if k > 1 && mode == CondKnown {
		if cond == nil {
			exceptions.Panicf("models: CondKnown needs a condition tensor [B] int32")
		}
		if cond.Rank() != 1 || cond.Shape().Dim(0) != x.Shape().Dim(0) {
			exceptions.Panicf("models: condition must be [B=%d] ints, got %s", x.Shape().Dim(0), cond.Shape())
		}
		cond = ConvertDType(cond, dtypes.Int32)
	}
	var out *Output
	switch m.cfg.Kind {
	case KindAE:
		lat := m.encode(scope, x)
		out = &Output{Latent: lat, Recon: m.decode(scope, lat)}
	case KindMemAE:
		out = m.forwardMemAE(scope, x, cond, mode)
	case KindCondAE:
		out = m.forwardCondAE(scope, x, cond, mode)
	case KindMultiAE:
		out = m.forwardMultiAE(scope, x, cond, mode)
	default:
		exceptions.Panicf("models: unknown kind %q", m.cfg.Kind)
	}
	out.PerImageErr = perImageErr(out.Recon, x)
	// The MSE over the batch is the mean of the per-image means (all images
	// have the same size): summing in two levels keeps float32 rounding at
	// PyTorch's level where one sequential sum over B·H·W·C values (the Go
	// backend without SIMD) is 100× further off (TestGoldenGradientsBatch64).
	mse := ReduceAllMean(out.PerImageErr)
	if out.Entropy == nil {
		out.Entropy = ScalarZero(g, dtypes.Float32)
		out.Loss = mse
	} else {
		out.Loss = Add(mse, MulScalar(out.Entropy, m.cfg.EntropyLossWeight))
	}
	return out
}

func (m *Model) forwardMemAE(scope *model.Scope, x, cond *Node, mode Conditional) *Output {
	lat := m.encode(scope, x)
	B, h, w, c := lat.Shape().Dim(0), lat.Shape().Dim(1), lat.Shape().Dim(2), lat.Shape().Dim(3)
	all := m.ReadMemory(scope, lat)
	k := m.cfg.NumConditions
	out := &Output{Latent: lat}
	var chosen *Node
	var recon *Node
	var addr *memory.Addressing
	switch {
	case k == 1:
		addr = all.Pick(nil)
	case mode == CondKnown:
		chosen = cond
		addr = all.Pick(chosen)
	case memory.Metric(m.cfg.SelectionMetric) == memory.MetricRecon:
		// Decode every unit's read-out, keep the one with the lowest error.
		reads := all.ReadAll() // [K, B, P, C]
		decoded := m.decode(scope, Reshape(reads, k*B, h, w, c))
		decoded = Reshape(decoded, k, B, x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3))
		errs := ReduceMean(Square(Sub(decoded, InsertAxes(x, 0))), 2, 3, 4) // [K, B]
		chosen = ArgMin(StopGradient(errs), 0, dtypes.Int32)
		addr = all.Pick(chosen)
		recon = selectCandidates(decoded, chosen)
	default:
		chosen = all.SelfSelect(memory.Metric(m.cfg.SelectionMetric))
		addr = all.Pick(chosen)
	}
	out.Read = Reshape(addr.Read, B, h, w, c)
	out.Weights = addr.Weights
	out.Similarities = addr.Similarities
	out.Chosen = chosen
	n := addr.Weights.Shape().Dim(2)
	out.Entropy = memory.Entropy(Reshape(addr.Weights, B, h, w, n), memory.EntropyVariant(m.cfg.EntropyLoss))
	if recon == nil {
		recon = m.decode(scope, out.Read)
	}
	out.Recon = recon
	return out
}

// selectCandidates picks candidates[chosen[b], b] from candidates [K, B, ...].
func selectCandidates(candidates, chosen *Node) *Node {
	k := candidates.Shape().Dim(0)
	b := candidates.Shape().Dim(1)
	rest := candidates.Shape().Clone().Dimensions[2:]
	size := 1
	for _, d := range rest {
		size *= d
	}
	onehot := StopGradient(OneHot(chosen, k, candidates.DType())) // [B, K]
	flat := Reshape(candidates, k, b, size)
	sel := Einsum("bk,kbs->bs", onehot, flat)
	return Reshape(sel, append([]int{b}, rest...)...)
}

func (m *Model) condMix(scope *model.Scope, lat, onehot *Node) *Node {
	B := lat.Shape().Dim(0)
	d := m.arch.CondDim
	k := m.cfg.NumConditions
	cs := scope.At("condition")
	h := Concatenate([]*Node{Reshape(lat, B, d), onehot}, 1)
	h = layers.LeakyReLU(layers.Dense(cs.At("dense_0"), h, d+k, d))
	h = layers.LeakyReLU(layers.Dense(cs.At("dense_1"), h, d, d))
	return Reshape(h, B, 1, 1, d)
}

func (m *Model) forwardCondAE(scope *model.Scope, x, cond *Node, mode Conditional) *Output {
	lat := m.encode(scope, x)
	k := m.cfg.NumConditions
	B := x.Shape().Dim(0)
	if k == 1 || mode == CondKnown {
		if k == 1 {
			cond = Zeros(x.Graph(), shapeInt32(B))
		}
		onehot := OneHot(cond, k, dtypes.Float32)
		out := &Output{Latent: lat, Recon: m.decode(scope, m.condMix(scope, lat, onehot))}
		if k > 1 {
			out.Chosen = cond
		}
		return out
	}
	// Unknown: try every condition, keep the lowest reconstruction error.
	d := m.arch.CondDim
	latK := Reshape(BroadcastToDims(InsertAxes(Reshape(lat, B, d), 0), k, B, d), k*B, 1, 1, d)
	conds := Reshape(BroadcastToDims(Reshape(Iota(x.Graph(), shapeInt32(k), 0), k, 1), k, B), k*B)
	onehot := OneHot(conds, k, dtypes.Float32)
	decoded := m.decode(scope, m.condMix(scope, latK, onehot))
	H, W, C := m.InputShape()
	decoded = Reshape(decoded, k, B, H, W, C)
	errs := ReduceMean(Square(Sub(decoded, InsertAxes(x, 0))), 2, 3, 4)
	chosen := ArgMin(StopGradient(errs), 0, dtypes.Int32)
	return &Output{Latent: lat, Recon: selectCandidates(decoded, chosen), Chosen: chosen}
}

func (m *Model) forwardMultiAE(scope *model.Scope, x, cond *Node, mode Conditional) *Output {
	k := m.cfg.NumConditions
	if k == 1 {
		u := scope.At("ae_0")
		lat := m.encode(u, x)
		return &Output{Latent: lat, Recon: m.decode(u, lat)}
	}
	lats := make([]*Node, k)
	recons := make([]*Node, k)
	for i := range k {
		u := scope.At("ae_%d", i)
		lats[i] = m.encode(u, x)
		recons[i] = m.decode(u, lats[i])
	}
	allRecon := Stack(recons, 0) // [K, B, H, W, C]
	allLat := Stack(lats, 0)
	var chosen *Node
	if mode == CondKnown {
		chosen = cond
	} else {
		errs := ReduceMean(Square(Sub(allRecon, InsertAxes(x, 0))), 2, 3, 4)
		chosen = ArgMin(StopGradient(errs), 0, dtypes.Int32)
	}
	return &Output{Latent: selectCandidates(allLat, chosen), Recon: selectCandidates(allRecon, chosen), Chosen: chosen}
}
