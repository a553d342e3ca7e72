package layers

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better unqualified.
)

// Sub-pixel formulations (Im2Col): a stride-s convolution is a stride-1
// convolution with a Q×Q "block kernel" (Q = ⌈k/s⌉) over the space-to-depth
// rearrangement of the input (blocks of s×s pixels as channels), and a stride-s
// transposed convolution is a stride-1 convolution with a Q×Q kernel over the
// input producing s×s output phases per pixel, followed by depth-to-space. Both
// need only Q² contiguous slices (4 instead of 9 for k=3, s=2), whose gradients are
// Q² zero-paddings instead of k² strided ones — the expensive part on the Go
// backend — at the price of multiplying some zero kernel taps (16 instead of 9).

// useConvSubPixel and useConvTransposeSubPixel are the per-layer choices of
// the Im2Col forms (im2colSubPixel and im2colPhases force them on or off).
// Measured on the Go backend (CPU time of forward+backward, batch 64,
// BenchmarkLayers): the sub-pixel convolution wins only for a single input
// channel (conv 1→32 on 28×28: 26 vs 35 ms) and loses from 3 channels up (conv
// 3→64 on 32×32: 100 vs 74 ms; conv 64→128: +50%); the sub-pixel transposed
// convolution wins when it widens the channels (convT 16→32 on 7×7: 54 vs 91
// ms) and loses when it narrows them (convT 64→3 on 16×16: 230 vs 66 ms; convT
// 128→64: +40%).
func useConvSubPixel(cin int, f Formulation) bool {
	return f == im2colSubPixel || (f != im2colPhases && cin == 1)
}

func useConvTransposeSubPixel(cin, cout int, f Formulation) bool {
	return f == im2colSubPixel || (f != im2colPhases && cout >= 2*cin)
}

// blockKernel rearranges kernel [k,k,Cin,Cout] into [Q,s,Q,s,Cin,Cout] (zero taps
// beyond k), i.e. tap (q·s+φ) at (q, φ).
func blockKernel(kernel *Node, s, q int) *Node {
	k := kernel.Shape().Dim(0)
	kp := padAxis(padAxis(kernel, 0, 0, q*s-k), 1, 0, q*s-k)
	cin, cout := kernel.Shape().Dim(2), kernel.Shape().Dim(3)
	return Reshape(kp, q, s, q, s, cin, cout)
}

// shiftedConcat returns Concatenate over (a, b) ∈ [0,Q)² (a-major) of
// x[:, oa(a):oa(a)+ho, ob(b):ob(b)+wo, :], with offsets given by off.
func shiftedConcat(x *Node, q, ho, wo int, off func(a int) int) *Node {
	parts := make([]*Node, 0, q*q)
	for a := range q {
		for b := range q {
			parts = append(parts, Slice(x, AxisRange(), AxisRange(off(a), off(a)+ho), AxisRange(off(b), off(b)+wo), AxisRange()))
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return Concatenate(parts, -1)
}

// convSubPixel: stride-s convolution via space-to-depth + Q×Q stride-1 im2col.
func convSubPixel(x, kernel *Node, s, p int) *Node {
	B, H, W, cin := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	k, cout := kernel.Shape().Dim(0), kernel.Shape().Dim(3)
	Ho, Wo := (H+2*p-k)/s+1, (W+2*p-k)/s+1
	q := (k + s - 1) / s
	Hb, Wb := Ho+q-1, Wo+q-1
	// Pad (or crop) to exactly Hb·s × Wb·s.
	xp := padAxis(x, 1, p, Hb*s-H-p)
	xp = padAxis(xp, 2, p, Wb*s-W-p)
	blocks := Reshape(TransposeAllDims(Reshape(xp, B, Hb, s, Wb, s, cin), 0, 1, 3, 2, 4, 5), B, Hb, Wb, s*s*cin)
	cols := shiftedConcat(blocks, q, Ho, Wo, func(a int) int { return a })
	wk := Reshape(TransposeAllDims(blockKernel(kernel, s, q), 0, 2, 1, 3, 4, 5), q*q*s*s*cin, cout)
	y := MatMul(Reshape(cols, B*Ho*Wo, q*q*s*s*cin), wk)
	return Reshape(y, B, Ho, Wo, cout)
}

// convTransposeSubPixel: output phase r of block m is Σ_q x[m−q]·K[q·s+r]: a
// stride-1 Q×Q convolution of the (Q−1)-padded input with s·s·Cout outputs, then
// depth-to-space and the PyTorch crop [p, p+Ho).
func convTransposeSubPixel(x, kernel *Node, s, p, op int) *Node {
	B, H, W, cin := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	k, cout := kernel.Shape().Dim(0), kernel.Shape().Dim(3)
	q := (k + s - 1) / s
	M, N := H+q-1, W+q-1
	xp := padSpatial(x, q-1, q-1, q-1, q-1)
	cols := shiftedConcat(xp, q, M, N, func(a int) int { return q - 1 - a })
	// [Q,s,Q,s,Cin,Cout] → [Q(a),Q(b),Cin,s(ra),s(rb),Cout]
	wk := Reshape(TransposeAllDims(blockKernel(kernel, s, q), 0, 2, 4, 1, 3, 5), q*q*cin, s*s*cout)
	y := MatMul(Reshape(cols, B*M*N, q*q*cin), wk)
	full := Reshape(TransposeAllDims(Reshape(y, B, M, N, s, s, cout), 0, 1, 3, 2, 4, 5), B, M*s, N*s, cout)
	Ho := (H-1)*s - 2*p + k + op
	Wo := (W-1)*s - 2*p + k + op
	full = padAxis(full, 1, -p, p+Ho-M*s)
	return padAxis(full, 2, -p, p+Wo-N*s)
}
