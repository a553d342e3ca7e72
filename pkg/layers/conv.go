package layers

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better unqualified.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
)

const dtypeF32 = dtypes.Float32

// ConvSpec describes one (transposed) convolution in the thesis's notation
// Conv(In→Out, k=Kernel, s=Stride, p=Padding) or ConvT(In→Out, k, s, p, op=OutputPadding).
// Kernels are square, strides and paddings the same in both spatial axes.
type ConvSpec struct {
	In, Out       int // input and output channels
	Kernel        int // kernel size k (k×k)
	Stride        int // stride s
	Padding       int // PyTorch padding p
	OutputPadding int // PyTorch output_padding (transposed convolutions only)
}

// ConvOutputSize is PyTorch's Conv2d output size: ⌊(in + 2p − k)/s⌋ + 1.
func (c ConvSpec) ConvOutputSize(in int) int {
	return (in+2*c.Padding-c.Kernel)/c.Stride + 1
}

// TransposedOutputSize is PyTorch's ConvTranspose2d output size: (in−1)·s − 2p + k + op.
func (c ConvSpec) TransposedOutputSize(in int) int {
	return (in-1)*c.Stride - 2*c.Padding + c.Kernel + c.OutputPadding
}

// Conv2D applies Conv(In→Out, k, s, p) with bias to x [B, H, W, In], creating (or
// reusing) the variables "weights" [k, k, In, Out] and "biases" [Out] in scope.
// Output: [B, Ho, Wo, Out] with Ho = ⌊(H + 2p − k)/s⌋ + 1. f is the
// formulation of the graph (Auto: per backend).
func Conv2D(scope *model.Scope, x *Node, spec ConvSpec, f Formulation) *Node {
	w, b := Conv2DVariables(scope, spec)
	g := x.Graph()
	return Conv2DWith(x, w.NodeValue(g), b.NodeValue(g), spec.Stride, spec.Padding, f)
}

// Conv2DVariables creates (or returns) the variables of [Conv2D] in scope:
// "weights" [k, k, In, Out] and "biases" [Out], both U(±1/√(In·k·k)).
func Conv2DVariables(scope *model.Scope, spec ConvSpec) (weights, biases *model.Variable) {
	bound := FanInBound(spec.In * spec.Kernel * spec.Kernel)
	weights = variable(scope, "weights", UniformInitializer(scope, bound), spec.Kernel, spec.Kernel, spec.In, spec.Out)
	biases = variable(scope, "biases", UniformInitializer(scope, bound), spec.Out)
	return
}

// Conv2DWith is the functional form of [Conv2D]: kernel [k, k, Cin, Cout], bias
// [Cout] (may be nil). f == Auto resolves per backend ([FormulationForBackend]).
func Conv2DWith(x, kernel, bias *Node, stride, padding int, f Formulation) *Node {
	if x.Rank() != 4 || kernel.Rank() != 4 {
		exceptions.Panicf("layers.Conv2D: want x [B,H,W,C] and kernel [k,k,Cin,Cout], got x %s, kernel %s", x.Shape(), kernel.Shape())
	}
	kh, kw, cin, cout := kernel.Shape().Dim(0), kernel.Shape().Dim(1), kernel.Shape().Dim(2), kernel.Shape().Dim(3)
	if x.Shape().Dim(3) != cin {
		exceptions.Panicf("layers.Conv2D: x has %d channels, kernel expects %d", x.Shape().Dim(3), cin)
	}
	f = f.resolve(x.Graph())
	if f == Native && (kh%2 == 0 || kw%2 == 0) {
		// GoMLX's gradient of ConvGeneral is wrong for even kernels (∂x off by
		// O(1) of its scale against PyTorch; still in v0.28.16:
		// TestUpstreamEvenKernelConvGradient): use the MatMul form for them.
		f = Im2Col
	}
	var y *Node
	switch f {
	case Fast:
		return addBiasFast(convFast(x, kernel, stride, padding), bias)
	case Native:
		y = Convolve(x, kernel).StridePerAxis(stride, stride).
			PaddingPerDim([][2]int{{padding, padding}, {padding, padding}}).Done()
	default:
		B, H, W := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2)
		if useConvSubPixel(cin, f) && stride > 1 && kh == kw && kh > stride && H == W {
			y = convSubPixel(x, kernel, stride, padding)
			break
		}
		xp := padSpatial(x, padding, padding, padding, padding)
		Hp, Wp := H+2*padding, W+2*padding
		Ho, Wo := (Hp-kh)/stride+1, (Wp-kw)/stride+1
		cols := im2col(xp, Ho, Wo, kh, kw, stride)
		y = MatMul(cols, Reshape(kernel, kh*kw*cin, cout))
		y = Reshape(y, B, Ho, Wo, cout)
	}
	if bias != nil {
		y = Add(y, Reshape(bias, 1, 1, 1, cout))
	}
	return y
}

// im2col returns the patches of the padded input xp [B, Hp, Wp, Cin] that a
// kh×kw convolution with the given stride reads, as the rows of a
// [B·Ho·Wo, kh·kw·Cin] matrix ordered (i, j, c) — so the convolution is one
// MatMul with the kernel reshaped to [kh·kw·Cin, Cout]. Where the receptive
// field is the whole image or the patches tile it (kernel == stride,
// space-to-depth), the rows are a reshape (and one transpose) instead of
// kh·kw strided slices.
func im2col(xp *Node, Ho, Wo, kh, kw, stride int) *Node {
	B, Hp, Wp, cin := xp.Shape().Dim(0), xp.Shape().Dim(1), xp.Shape().Dim(2), xp.Shape().Dim(3)
	switch {
	case Ho == 1 && Wo == 1 && Hp == kh && Wp == kw:
		return Reshape(xp, B, kh*kw*cin)
	case kh == stride && kw == stride && Hp == Ho*kh && Wp == Wo*kw:
		blocks := Reshape(xp, B, Ho, kh, Wo, kw, cin)
		return Reshape(TransposeAllDims(blocks, 0, 1, 3, 2, 4, 5), B*Ho*Wo, kh*kw*cin)
	}
	taps := make([]*Node, 0, kh*kw)
	for i := range kh {
		for j := range kw {
			taps = append(taps, Slice(xp, AxisRange(),
				AxisRange(i, i+stride*(Ho-1)+1).Stride(stride),
				AxisRange(j, j+stride*(Wo-1)+1).Stride(stride),
				AxisRange()))
		}
	}
	patches := taps[0]
	if len(taps) > 1 {
		patches = Concatenate(taps, -1) // [B, Ho, Wo, kh*kw*cin]
	}
	return Reshape(patches, B*Ho*Wo, kh*kw*cin)
}

// padSpatial zero-pads the two spatial axes of x [B, H, W, C] using Concatenate
// (differentiable on every backend, unlike Pad on the Go backend).
func padSpatial(x *Node, top, bottom, left, right int) *Node {
	x = padAxis(x, 1, top, bottom)
	return padAxis(x, 2, left, right)
}

// padAxis concatenates `before` and `after` zeros along axis. Negative values crop.
func padAxis(x *Node, axis, before, after int) *Node {
	if before < 0 || after < 0 {
		dim := x.Shape().Dim(axis)
		start, end := 0, dim
		if before < 0 {
			start = -before
			before = 0
		}
		if after < 0 {
			end = dim + after
			after = 0
		}
		x = SliceAxis(x, axis, AxisRange(start, end))
	}
	if before == 0 && after == 0 {
		return x
	}
	parts := make([]*Node, 0, 3)
	if before > 0 {
		parts = append(parts, zerosLikeAxis(x, axis, before))
	}
	parts = append(parts, x)
	if after > 0 {
		parts = append(parts, zerosLikeAxis(x, axis, after))
	}
	return Concatenate(parts, axis)
}

// zerosLikeAxis returns zeros shaped like x but with dimension n on axis.
func zerosLikeAxis(x *Node, axis, n int) *Node {
	shape := x.Shape().Clone()
	shape.Dimensions[axis] = n
	return Zeros(x.Graph(), shape)
}
