package layers

import (
	"slices"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better unqualified.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

// ConvTranspose2D applies ConvT(In→Out, k, s, p, op) with bias to x [B, H, W, In]
// with PyTorch's semantics, creating (or reusing) the variables "weights"
// [k, k, In, Out] and "biases" [Out] in scope. Output: [B, Ho, Wo, Out] with
// Ho = (H−1)·s − 2p + k + op.
//
// A PyTorch ConvTranspose2d weight w[in, out, kh, kw] maps to weights[kh, kw, in, out].
// f is the formulation of the graph (Auto: per backend).
func ConvTranspose2D(scope *model.Scope, x *Node, spec ConvSpec, f Formulation) *Node {
	w, b := ConvTranspose2DVariables(scope, spec)
	g := x.Graph()
	return ConvTranspose2DWith(x, w.NodeValue(g), b.NodeValue(g), spec.Stride, spec.Padding, spec.OutputPadding, f)
}

// ConvTranspose2DVariables creates (or returns) the variables of [ConvTranspose2D]
// in scope: "weights" [k, k, In, Out] and "biases" [Out], both U(±1/√(Out·k·k))
// (PyTorch computes fan_in from dimension 1 of its [in, out, kh, kw] weight).
func ConvTranspose2DVariables(scope *model.Scope, spec ConvSpec) (weights, biases *model.Variable) {
	bound := FanInBound(spec.Out * spec.Kernel * spec.Kernel)
	weights = variable(scope, "weights", UniformInitializer(scope, bound), spec.Kernel, spec.Kernel, spec.In, spec.Out)
	biases = variable(scope, "biases", UniformInitializer(scope, bound), spec.Out)
	return
}

// ConvTranspose2DWith is the functional form of [ConvTranspose2D]: kernel
// [k, k, Cin, Cout], bias [Cout] (may be nil). f == Auto resolves per backend ([FormulationForBackend]).
//
// Definition (PyTorch): the full output y[h·s+i, w·s+j, co] += Σ_ci x[h, w, ci]·K[i, j, ci, co]
// over input positions (h, w) and taps (i, j), of size (H−1)·s+k; the result is
// rows/columns [p, p+Ho) of it, zero-extended at the end when output_padding > p.
func ConvTranspose2DWith(x, kernel, bias *Node, stride, padding, outputPadding int, f Formulation) *Node {
	if x.Rank() != 4 || kernel.Rank() != 4 {
		exceptions.Panicf("layers.ConvTranspose2D: want x [B,H,W,C] and kernel [k,k,Cin,Cout], got x %s, kernel %s",
			x.Shape(), kernel.Shape())
	}
	k, cin, cout := kernel.Shape().Dim(0), kernel.Shape().Dim(2), kernel.Shape().Dim(3)
	if kernel.Shape().Dim(1) != k {
		exceptions.Panicf("layers.ConvTranspose2D: only square kernels are supported, got %s", kernel.Shape())
	}
	if x.Shape().Dim(3) != cin {
		exceptions.Panicf("layers.ConvTranspose2D: x has %d channels, kernel expects %d", x.Shape().Dim(3), cin)
	}
	if stride < 1 || padding < 0 || outputPadding < 0 {
		exceptions.Panicf("layers.ConvTranspose2D: invalid stride %d / padding %d / output_padding %d", stride, padding, outputPadding)
	}
	f = f.resolve(x.Graph())
	var y *Node
	if f == Fast {
		return addBiasFast(convTransposeFast(x, kernel, stride, padding, outputPadding), bias)
	}
	if f == Native && padding <= k-1 && k%2 == 1 {
		// (Even kernels: see Conv2DWith — GoMLX's native convolution gradient is
		// wrong or panics for them, so they use the MatMul form below.)
		y = convTransposeNative(x, kernel, stride, padding, outputPadding)
	} else if useConvTransposeSubPixel(cin, cout, f) {
		y = convTransposeSubPixel(x, kernel, stride, padding, outputPadding)
	} else {
		y = convTransposePhases(x, kernel, stride, padding, outputPadding)
	}
	if bias != nil {
		y = Add(y, Reshape(bias, 1, 1, 1, cout))
	}
	return y
}

// convTransposeNative: dilate the input with zeros (interleaving, differentiable),
// then a stride-1 convolution with the spatially flipped kernel and padding
// (k−1−p, k−1−p+op). GoMLX's gradient of ConvGeneral's input dilation is wrong
// (still in v0.28.16: TestUpstreamInputDilationGradient), hence the explicit
// interleave.
func convTransposeNative(x, kernel *Node, s, p, op int) *Node {
	k := kernel.Shape().Dim(0)
	xd := dilate(x, 1, s)
	xd = dilate(xd, 2, s)
	flipped := Reverse(kernel, 0, 1)
	lo, hi := k-1-p, k-1-p+op
	return Convolve(xd, flipped).PaddingPerDim([][2]int{{lo, hi}, {lo, hi}}).Done()
}

// dilate inserts s−1 zeros between consecutive elements of axis (1 or 2) of x [B,H,W,C].
func dilate(x *Node, axis, s int) *Node {
	if s == 1 {
		return x
	}
	n := x.Shape().Dim(axis)
	parts := make([]*Node, s)
	parts[0] = x
	zeros := ZerosLike(x)
	for i := 1; i < s; i++ {
		parts[i] = zeros
	}
	y := Stack(parts, axis+1) // [..., n, s, ...]
	dims := x.Shape().Clone().Dimensions
	dims[axis] = n * s
	y = Reshape(y, dims...)
	return SliceAxis(y, axis, AxisRange(0, (n-1)*s+1))
}

// convTransposePhases is the MatMul + stride-phase formulation: one MatMul
// x[B·H·W, Cin] @ K[Cin, k·k·Cout] yields every tap's contribution; tap i = q·s + r
// of input row h lands on output row (h+q)·s + r, so for each phase r the
// contributions of the taps q are shifted by q rows (zero concatenation) and
// summed, and the s phases are interleaved with Stack + Reshape. Done for the width
// axis, then the height axis, then cropped to [p, p+Ho).
func convTransposePhases(x, kernel *Node, s, p, op int) *Node {
	return convTransposePhasesMM(x, kernel, s, p, op, MatMul)
}

// convTransposePhasesMM is convTransposePhases with the given matrix product.
func convTransposePhasesMM(x, kernel *Node, s, p, op int, mm func(a, b *Node) *Node) *Node {
	B, H, W, cin := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	k, cout := kernel.Shape().Dim(0), kernel.Shape().Dim(3)
	wm := Reshape(TransposeAllDims(kernel, 2, 0, 1, 3), cin, k*k*cout) // [Cin, (i, j, co)]
	y := mm(Reshape(x, B*H*W, cin), wm)
	y = Reshape(y, B, H, W, k, k, cout)

	var full *Node
	Q := (k + s - 1) / s // taps per phase
	fullH, fullW := (H+Q-1)*s, (W+Q-1)*s
	if k == s {
		// Non-overlapping taps: pure interleave.
		full = Reshape(TransposeAllDims(y, 0, 1, 3, 2, 4, 5), B, H*k, W*k, cout)
		fullH, fullW = H*k, W*k
	} else {
		// Width axis: y [B,H,W,kh,kw,C] → [B,H,(W+Q−1)·s,kh,C].
		phases := phaseSums(y, 4, 2, k, s, Q, shapeF32(B, H, W, k, cout))
		zw := Reshape(Stack(phases, 3), B, H, fullW, k, cout)
		// Height axis: zw [B,H,Wf,kh,C] → [B,(H+Q−1)·s,Wf,C].
		phases = phaseSums(zw, 3, 1, k, s, Q, shapeF32(B, H, fullW, cout))
		full = Reshape(Stack(phases, 2), B, fullH, fullW, cout)
	}
	Ho := (H-1)*s - 2*p + k + op
	Wo := (W-1)*s - 2*p + k + op
	// Keep rows [p, p+Ho): pad/crop relative to the full extent.
	full = padAxis(full, 1, -p, p+Ho-fullH)
	full = padAxis(full, 2, -p, p+Wo-fullW)
	return full
}

// phaseSums returns, for each of the s output phases r along one spatial
// axis, the sum of the taps i = q·s + r (q < Q, i < k) of y — tap i is
// y's element i of tapAxis, reshaped to tapShape — each shifted by q along
// axis (zero concatenation), so that interleaving the phases (Stack +
// Reshape) gives the transposed convolution along that axis. A phase without
// taps is zeros.
func phaseSums(y *Node, tapAxis, axis, k, s, Q int, tapShape shapes.Shape) []*Node {
	phases := make([]*Node, s)
	for r := range s {
		var sum *Node
		for q := range Q {
			i := q*s + r
			if i >= k {
				continue
			}
			tap := Reshape(SliceAxis(y, tapAxis, AxisElem(i)), tapShape.Dimensions...)
			tap = padAxis(tap, axis, q, Q-1-q)
			if sum == nil {
				sum = tap
			} else {
				sum = Add(sum, tap)
			}
		}
		if sum == nil {
			dims := slices.Clone(tapShape.Dimensions)
			dims[axis] += Q - 1
			sum = Zeros(y.Graph(), shapeF32(dims...))
		}
		phases[r] = sum
	}
	return phases
}
