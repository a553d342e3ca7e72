package memory

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better unqualified.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Constants of the addressing (as in the thesis code).
const (
	CosineEpsilon    = 1e-8  // clamp of each norm in the cosine similarity
	ShrinkEpsilon    = 1e-12 // epsilon of the hard shrinkage and of the L1 renormalisation
	EntropyEpsilon   = 1e-12 // w·log(w + eps) in the entropy loss
	ItemsVariable    = "items"
	DefaultThreshold = 0.0025 // λ
)

// EntropyVariant selects how the entropy loss of the addressing weights is reduced.
type EntropyVariant string

// Entropy variants.
const (
	EntropyThesis EntropyVariant = "thesis" // the thesis code's wrong-axis reduction (default)
	EntropyPaper  EntropyVariant = "paper"  // mean entropy per addressing vector
)

// EntropyVariants lists the valid variants.
var EntropyVariants = []EntropyVariant{EntropyThesis, EntropyPaper}

// Metric is the self-selection metric of a conditional memory with unknown condition.
type Metric string

// Self-selection metrics.
const (
	MetricSum   Metric = "sum"   // largest sum of pre-softmax similarities (thesis default)
	MetricMax   Metric = "max"   // largest single pre-softmax similarity
	MetricRecon Metric = "recon" // lowest reconstruction error (implemented by package models)
)

// Metrics lists the valid self-selection metrics.
var Metrics = []Metric{MetricSum, MetricMax, MetricRecon}

// Options of the addressing.
type Options struct {
	Cosine          bool    // cosine similarity (default in the thesis) instead of dot product
	ShrinkThreshold float64 // λ; 0 disables the hard shrinkage
}

// ItemsInitializer draws memory items uniformly in ±1/√C, C = the last dimension.
func ItemsInitializer(store *model.Store) model.VariableInitializer {
	return func(g *Graph, shape shapes.Shape) *Node {
		c := shape.Dim(-1)
		bound := 1 / math.Sqrt(float64(c))
		u := store.RandomUniform(g, shape)
		return AddScalar(MulScalar(u, 2*bound), -bound)
	}
}

// Items returns the memory items [K, N, C] of a (conditional) memory with K units,
// creating the variable "items" in scope (usually <root>/memory) if needed.
func Items(scope *model.Scope, g *Graph, units, size, features int) *Node {
	v := scope.WithInitializer(ItemsInitializer(scope.Store())).
		VariableWithShape(ItemsVariable, shapes.Make(dtypes.Float32, units, size, features))
	return v.NodeValue(g)
}

// Similarities returns the pre-softmax addressing of z [..., C] into every item
// of items [K, N, C]: shape [..., K, N].
func Similarities(z, items *Node, cosine bool) *Node {
	c := z.Shape().Dim(-1)
	if items.Rank() != 3 || items.Shape().Dim(2) != c {
		exceptions.Panicf("memory: items must be [K, N, %d], got %s", c, items.Shape())
	}
	K, N := items.Shape().Dim(0), items.Shape().Dim(1)
	lead := z.Shape().Clone().Dimensions[:z.Rank()-1]
	P := 1
	for _, d := range lead {
		P *= d
	}
	zf := Reshape(z, P, c)
	mf := Reshape(items, K*N, c)
	if cosine {
		zf = Div(zf, clampedNorm(zf))
		mf = Div(mf, clampedNorm(mf))
	}
	s := MatMul(zf, Transpose(mf, 0, 1)) // [P, K*N]
	return Reshape(s, append(lead, K, N)...)
}

// clampedNorm is max(‖x‖, CosineEpsilon) over the last axis, computed as
// sqrt(max(‖x‖², ε²)): the same values (sqrt is monotonic), but a zero
// vector gets PyTorch's zero gradient through the norm instead of Sqrt's
// infinite slope at 0 times the clamp's zero (NaN). A fresh model's flat
// latent of a single training sample is exactly zero after batch norm.
func clampedNorm(x *Node) *Node {
	return Sqrt(MaxScalar(ReduceAndKeep(Square(x), ReduceSum, -1), CosineEpsilon*CosineEpsilon))
}

// Weights are the addressing weights of the pre-softmax similarities: a
// softmax over the items (last axis), then, when λ > 0, [HardShrink].
func Weights(similarities *Node, lambda float64) *Node {
	w := Softmax(similarities, -1)
	if lambda > 0 {
		w = HardShrink(w, lambda)
	}
	return w
}

// HardShrink is the memory's hard shrinkage of weights w (last axis: the
// items): max(w−λ, 0)·w / (|w−λ| + ε), renormalised to unit L1 norm
// (ε = ShrinkEpsilon), the thesis's hard_shrink_relu + F.normalize(p=1).
func HardShrink(w *Node, lambda float64) *Node {
	shifted := AddScalar(w, -lambda)
	w = Div(Mul(Max(shifted, ZerosLike(shifted)), w), AddScalar(Abs(shifted), ShrinkEpsilon))
	l1 := ReduceAndKeep(Abs(w), ReduceSum, -1)
	return Div(w, MaxScalar(l1, ShrinkEpsilon))
}

// Addressing is the result of addressing latents into one memory unit per sample.
type Addressing struct {
	Read         *Node // [B, P, C] read-out ẑ = w·M (P = h·w positions)
	Weights      *Node // [B, P, N] addressing weights after softmax and shrinkage
	Similarities *Node // [B, P, N] pre-softmax addressing
}

// Address addresses z [B, P, C] into a single memory unit mem [N, C].
func Address(z, mem *Node, opts Options) *Addressing {
	items := InsertAxes(mem, 0)
	return AddressConditional(z, items, opts).Pick(nil)
}

// Conditional is the addressing of every latent vector into every unit of a
// conditional memory (K units of N items each; a plain memory is K = 1).
type Conditional struct {
	Items        *Node // [K, N, C]
	Similarities *Node // [B, P, K, N]
	Weights      *Node // [B, P, K, N]
	opts         Options
}

// AddressConditional computes the pre-softmax similarities and addressing
// weights of z [B, P, C] into every unit of items [K, N, C]. The read-outs are
// computed by Pick (or ReadAll) so that only the needed ones are built.
func AddressConditional(z, items *Node, opts Options) *Conditional {
	if z.Rank() != 3 {
		exceptions.Panicf("memory: z must be [B, P, C], got %s", z.Shape())
	}
	s := Similarities(z, items, opts.Cosine)
	return &Conditional{Items: items, Similarities: s, Weights: Weights(s, opts.ShrinkThreshold), opts: opts}
}

// NumUnits returns K.
func (a *Conditional) NumUnits() int { return a.Items.Shape().Dim(0) }

// SelectionScores returns [B, K] scores (higher is better) for the self-selection
// metric (sum or max of the pre-softmax similarities over positions and items).
// The similarities are treated as constants (the thesis detaches them).
func (a *Conditional) SelectionScores(metric Metric) *Node {
	s := StopGradient(a.Similarities) // [B, P, K, N]
	switch metric {
	case MetricSum, "":
		return ReduceSum(s, 1, 3)
	case MetricMax:
		return ReduceMax(s, 1, 3)
	}
	exceptions.Panicf("memory: metric %q has no similarity score (valid: sum, max; recon needs the decoder)", metric)
	return nil
}

// SelfSelect returns the [B] int32 index of the unit chosen per sample by metric
// (sum or max).
func (a *Conditional) SelfSelect(metric Metric) *Node {
	return ArgMax(a.SelectionScores(metric), 1, dtypes.Int32)
}

// Pick returns the addressing of each sample b into unit chosen[b] ([B] int;
// nil means unit 0, the only one of a plain MemAE memory).
func (a *Conditional) Pick(chosen *Node) *Addressing {
	B, P, K, N := a.Weights.Shape().Dim(0), a.Weights.Shape().Dim(1), a.Weights.Shape().Dim(2), a.Weights.Shape().Dim(3)
	C := a.Items.Shape().Dim(2)
	if K == 1 || chosen == nil {
		w := Reshape(SliceAxis(a.Weights, 2, AxisElem(0)), B, P, N)
		s := Reshape(SliceAxis(a.Similarities, 2, AxisElem(0)), B, P, N)
		mem := Reshape(SliceAxis(a.Items, 0, AxisElem(0)), N, C)
		read := Reshape(MatMul(Reshape(w, B*P, N), mem), B, P, C)
		return &Addressing{Read: read, Weights: w, Similarities: s}
	}
	onehot := StopGradient(OneHot(chosen, K, a.Weights.DType())) // [B, K]
	w := Einsum("bk,bpkn->bpn", onehot, a.Weights)
	s := Einsum("bk,bpkn->bpn", onehot, a.Similarities)
	mem := Reshape(MatMul(onehot, Reshape(a.Items, K, N*C)), B, N, C)
	read := Einsum("bpn,bnc->bpc", w, mem)
	return &Addressing{Read: read, Weights: w, Similarities: s}
}

// ReadAll returns the read-outs of every unit: [K, B, P, C].
func (a *Conditional) ReadAll() *Node {
	B, P, K, N := a.Weights.Shape().Dim(0), a.Weights.Shape().Dim(1), a.Weights.Shape().Dim(2), a.Weights.Shape().Dim(3)
	C := a.Items.Shape().Dim(2)
	w := Reshape(TransposeAllDims(a.Weights, 2, 0, 1, 3), K, B*P, N)
	read := Einsum("kqn,knc->kqc", w, a.Items)
	return Reshape(read, K, B, P, C)
}

// Entropy is the entropy loss of the addressing weights [B, h, w, N] (channels-last
// layout of one weight vector per latent position), reduced per variant:
// paper = Σ(−w log(w+1e-12)) / (B·h·w); thesis = Σ(−w log(w+1e-12)) / (B·w·N).
func Entropy(weights *Node, variant EntropyVariant) *Node {
	if weights.Rank() != 4 {
		exceptions.Panicf("memory.Entropy: weights must be [B, h, w, N], got %s", weights.Shape())
	}
	B, h, w, N := weights.Shape().Dim(0), weights.Shape().Dim(1), weights.Shape().Dim(2), weights.Shape().Dim(3)
	total := Neg(ReduceAllSum(Mul(weights, Log(AddScalar(weights, EntropyEpsilon)))))
	switch variant {
	case EntropyPaper:
		return DivScalar(total, float64(B*h*w))
	case EntropyThesis, "":
		return DivScalar(total, float64(B*w*N))
	}
	exceptions.Panicf("memory.Entropy: unknown variant %q (valid: thesis, paper)", variant)
	return nil
}
