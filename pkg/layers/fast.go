package layers

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph-building code reads better unqualified.
)

// This file holds the Fast formulation (the automatic choice on the pure-Go
// backend). See the package documentation for why each form is used.

// customVJP builds y = f(inputs) whose gradients with respect to the inputs are
// vjp(inputs, y, v) (v = ∂L/∂y) instead of GoMLX's automatic differentiation of f.
//
// The cotangent arriving at y is captured by an identity with a custom gradient,
// and each input is wrapped by an identity whose custom gradient ignores what
// autodiff propagated through f and returns vjp's result instead. The nodes
// autodiff still creates for f's own VJP end up unused, and backends never
// execute them (the Go backend skips nodes without uses, XLA eliminates them).
// Reverse-mode autodiff visits nodes in decreasing creation order, so y's identity
// (created last) is always visited before the inputs' identities.
//
// f must be a pure function of its inputs: any variable it reads must be passed
// in inputs, otherwise its gradient would be lost.
func customVJP(inputs []*Node, f func(ins []*Node) *Node, vjp func(ins []*Node, y, v *Node) []*Node) *Node {
	var v, y *Node
	var grads []*Node
	wrapped := make([]*Node, len(inputs))
	for i, in := range inputs {
		wrapped[i] = IdentityWithCustomGradient(in, func(_, _ *Node) *Node {
			if grads == nil {
				grads = vjp(inputs, y, v)
			}
			return grads[i]
		})
	}
	y = IdentityWithCustomGradient(f(wrapped), func(_, vv *Node) *Node {
		v, grads = vv, nil // (re)set per Gradient() call
		return vv
	})
	return y
}

// smallMatMul is the Go backend's threshold (N·K·M) below which its matmul uses
// the "small" kernel (compute v0.1.2 gobackend/dot/matmul).
const smallMatMul = 4 * 1024 * 1024

// mmPadded is MatMul(a [N,K], w [K,M]) that avoids the Go backend's slow "small"
// SIMD path for narrow outputs: with M < 16 the weight is padded with zero
// columns (to 16..64) and the result sliced back.
func mmPadded(a, w *Node) *Node {
	N, K, M := a.Shape().Dim(0), a.Shape().Dim(1), w.Shape().Dim(1)
	if M >= 16 || N*K*M >= smallMatMul || N < 1024 {
		return MatMul(a, w)
	}
	Mp := 16
	for N*K*Mp < smallMatMul && Mp < 64 {
		Mp += 16
	}
	wp := Concatenate([]*Node{w, Zeros(w.Graph(), shapes.Make(w.DType(), K, Mp-M))}, 1)
	return Slice(MatMul(a, wp), AxisRange(), AxisRange(0, M))
}

// mmFast is MatMul(a [N,K], w [K,M]) with its own VJP: ∂a = v·wᵀ (only the small
// weight is transposed), ∂w = aᵀ·v transposing whichever of a, v is narrower,
// every product in the lhs [N,K] · rhs [K,M] layout, and none of the identity
// Transpose copies that GoMLX's DotGeneral VJP emits.
func mmFast(a, w *Node) *Node {
	return customVJP([]*Node{a, w},
		func(ins []*Node) *Node { return mmPadded(ins[0], ins[1]) },
		func(ins []*Node, _, v *Node) []*Node {
			a, w := ins[0], ins[1]
			K, M := a.Shape().Dim(1), w.Shape().Dim(1)
			da := mmPadded(v, Transpose(w, 0, 1))
			return []*Node{da, matMulTN(a, v, K, M)}
		})
}

// matMulTN is aᵀ·v for a [N,K], v [N,M], transposing the narrower operand.
func matMulTN(a, v *Node, K, M int) *Node {
	if M <= K {
		return Transpose(MatMul(Transpose(v, 0, 1), a), 0, 1)
	}
	return MatMul(Transpose(a, 0, 1), v)
}

// colSum sums x [N,C] over N as ones[1,N]·x (the Go backend reduces leading axes
// element by element; its matmul is vectorised).
func colSum(x *Node) *Node {
	ones := Ones(x.Graph(), shapes.Make(x.DType(), 1, x.Shape().Dim(0)))
	return Reshape(MatMul(ones, x), x.Shape().Dim(1))
}

// rows broadcasts c [C] to [n, C] (compute v0.1.14's broadcast is a block
// copy; on v0.1.2 it iterated per element and a tiling by ⌈log₂ n⌉ Concatenates
// was faster: 15% of the mnist-flat step's CPU time less since).
func rows(c *Node, n int) *Node {
	return BroadcastToDims(Reshape(c, 1, c.Shape().Dim(0)), n, c.Shape().Dim(0))
}

// addBiasFast adds bias [C] to y [..., C] with a broadcast bias and a
// same-shape Add.
func addBiasFast(y, bias *Node) *Node {
	if bias == nil {
		return y
	}
	c := y.Shape().Dim(-1)
	y2 := Reshape(y, -1, c)
	n := y2.Shape().Dim(0)
	// Custom VJP: ∂bias = column sums of v as a MatMul with a row of ones
	// (autodiff would reduce over the broadcast rows).
	out := customVJP([]*Node{y2, bias},
		func(ins []*Node) *Node { return Add(ins[0], rows(ins[1], n)) },
		func(_ []*Node, _, v *Node) []*Node { return []*Node{v, colSum(v)} })
	return Reshape(out, y.Shape().Dimensions...)
}

// bnLeakyFast is training-mode batch normalisation (batch statistics, ε 1e-5)
// followed, when leaky, by LeakyReLU(0.2), for x [N,C] (flattened NHWC), as one
// custom-VJP op with the closed-form backward on the centred input xc = x − μ
//
//	∂β = Σv, ∂γ = σ⁻¹·Σv·xc, ∂x = a·v + B·xc + C  (per channel, a = γ/σ,
//	B = −a·σ⁻¹·∂γ/N, C = −a·∂β/N)
//
// (v already multiplied by the LeakyReLU slope). Every statistic is taken on xc
// (two passes: the mean, then the variance of xc), as PyTorch does: the one-pass
// forms E[x²]−μ² and Σv·x − μ·Σv cancel catastrophically in float32 when a
// channel's mean is large against its spread (MNIST-like inputs: non-negative,
// mostly zeros), which cost the encoder's gradients 10× PyTorch's float32 error
// at batch 64 (TestGoldenGradientsBatch64 in pkg/models). It returns y [N,C], the
// batch mean and the biased batch variance (gradients stopped).
func bnLeakyFast(x, gamma, beta *Node, leaky bool) (y, mean, variance *Node) {
	N := x.Shape().Dim(0)
	invN := 1.0 / float64(N)
	var xc, invStd *Node // of the forward, reused by the backward
	y = customVJP([]*Node{x, gamma, beta},
		func(ins []*Node) *Node {
			x, gamma, beta := ins[0], ins[1], ins[2]
			// x stays on the path to y, so that autodiff reaches its custom gradient.
			mean = StopGradient(MulScalar(colSum(StopGradient(x)), invN))
			xc = Sub(x, rows(mean, N))
			variance = StopGradient(MulScalar(colSum(Square(StopGradient(xc))), invN))
			invStd = StopGradient(Rsqrt(AddScalar(variance, BatchNormEpsilon)))
			out := Add(Mul(xc, rows(Mul(gamma, invStd), N)), rows(beta, N))
			if leaky {
				out = Max(out, MulScalar(out, 0.2))
			}
			return out
		},
		func(ins []*Node, y, v *Node) []*Node {
			gamma := ins[1]
			if leaky { // y > 0 ⇔ pre-activation > 0 (slope 0.2 > 0)
				v = Where(GreaterThan(y, ZerosLike(y)), v, MulScalar(v, 0.2))
			}
			dbeta := colSum(v)
			dgamma := Mul(invStd, colSum(Mul(v, xc)))
			a := Mul(gamma, invStd)
			B := MulScalar(Neg(Mul(Mul(a, invStd), dgamma)), invN)
			C := MulScalar(Neg(Mul(a, dbeta)), invN)
			dx := Add(Add(Mul(v, rows(a, N)), Mul(xc, rows(B, N))), rows(C, N))
			return []*Node{dx, dgamma, dbeta}
		})
	return
}

// convFast is Conv2D in the Fast formulation (without bias).
func convFast(x, kernel *Node, stride, padding int) *Node {
	B, H, W, cin := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	kh, kw, cout := kernel.Shape().Dim(0), kernel.Shape().Dim(1), kernel.Shape().Dim(3)
	Hp, Wp := H+2*padding, W+2*padding
	Ho, Wo := (Hp-kh)/stride+1, (Wp-kw)/stride+1
	if kh == 3 && kw == 3 && stride == 2 && padding == 1 && H >= 3 && W >= 3 {
		return convS2Fast(x, kernel)
	}
	xp := padSpatial(x, padding, padding, padding, padding)
	cols := im2col(xp, Ho, Wo, kh, kw, stride)
	return Reshape(mmFast(cols, Reshape(kernel, kh*kw*cin, cout)), B, Ho, Wo, cout)
}

// convS2Fast is Conv(k3, s2, p1) for x [B,H,W,Cin], w [3,3,Cin,Cout]: forward
// im2col (9 strided slices + Concatenate) + MatMul; custom VJP: ∂x is the
// transposed convolution of v with the same kernel in a 4-phase form (a few
// slices of the small side + MatMul + interleave) instead of autodiff's 9 Slice +
// 9 Pad + 8 Add over the padded input; ∂w = colsᵀ·v with the forward's columns.
func convS2Fast(x, w *Node) *Node {
	B, H, W, cin := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	cout := w.Shape().Dim(3)
	Ho, Wo := (H+2-3)/2+1, (W+2-3)/2+1
	var cols *Node
	return customVJP([]*Node{x, w},
		func(ins []*Node) *Node {
			cols = im2col(padSpatial(ins[0], 1, 1, 1, 1), Ho, Wo, 3, 3, 2)
			return Reshape(mmPadded(cols, Reshape(ins[1], 9*cin, cout)), B, Ho, Wo, cout)
		},
		func(ins []*Node, _, v *Node) []*Node {
			w := ins[1]
			v2 := Reshape(v, B*Ho*Wo, cout)
			dw := Reshape(matMulTN(cols, v2, 9*cin, cout), 3, 3, cin, cout)
			// ∂x [B, 2Ho, 2Wo, Cin] = ConvT(k3, s2, p1, op1) of v with the same kernel.
			dx := convTS2Fast(v, Transpose(w, 2, 3))
			if 2*Ho != H || 2*Wo != W {
				dx = Slice(dx, AxisRange(), AxisRange(0, H), AxisRange(0, W), AxisRange())
			}
			return []*Node{dx, dw}
		})
}

// convTS2Fast is ConvT(k3, s2, p1, op1) [B,H,W,Cin] → [B,2H,2W,Cout], choosing
// the form by channel counts (measured on the thesis's layers).
func convTS2Fast(x, w *Node) *Node {
	cin, cout := w.Shape().Dim(2), w.Shape().Dim(3)
	switch {
	case cin*cout >= 4096:
		return convTZ9(x, w)
	case cin <= cout:
		return convTPhase(x, w)
	default:
		return convTPhaseZ(x, w)
	}
}

// phaseWeights assembles, from w [3,3,Cin,Cout], the [4·Cin, 4·Cout] matrix of the
// 4-phase form of ConvT(k3, s2, p1, op1): rows (dm, dn, ci) = input x[m+dm, n+dn],
// columns (a, b, co) = output [2m+a, 2n+b]. Kernel row for (a, d): a=0,d=0 → 1;
// a=1,d=0 → 2; a=1,d=1 → 0; a=0,d=1 → none (zero block).
func phaseWeights(w *Node) *Node {
	cin, cout := w.Shape().Dim(2), w.Shape().Dim(3)
	kidx := func(a, d int) int {
		switch {
		case a == 0 && d == 0:
			return 1
		case a == 1 && d == 0:
			return 2
		case a == 1 && d == 1:
			return 0
		}
		return -1
	}
	zero := Zeros(w.Graph(), shapes.Make(w.DType(), cin, cout))
	var blockRows []*Node
	for dm := range 2 {
		for dn := range 2 {
			var blocks []*Node
			for a := range 2 {
				for b := range 2 {
					ka, kb := kidx(a, dm), kidx(b, dn)
					if ka < 0 || kb < 0 {
						blocks = append(blocks, zero)
					} else {
						blocks = append(blocks, Reshape(Slice(w, AxisElem(ka), AxisElem(kb), AxisRange(), AxisRange()), cin, cout))
					}
				}
			}
			blockRows = append(blockRows, Concatenate(blocks, 1))
		}
	}
	return Concatenate(blockRows, 0)
}

// convTPhase is ConvT(k3, s2, p1, op1), input-side 4-phase form: 4 shifted taps of
// x (one zero row/column appended), one MatMul per output-row phase (its columns
// (b, co) interleave the width for free) and one Concatenate interleaving the rows.
func convTPhase(x, w *Node) *Node {
	B, H, W, cin := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	cout := w.Shape().Dim(3)
	xp := padSpatial(x, 0, 1, 0, 1)
	taps := make([]*Node, 0, 4)
	for dm := range 2 {
		for dn := range 2 {
			taps = append(taps, Slice(xp, AxisRange(), AxisRange(dm, dm+H), AxisRange(dn, dn+W), AxisRange()))
		}
	}
	cols := Reshape(Concatenate(taps, -1), B*H*W, 4*cin)
	wc := phaseWeights(w)
	out := make([]*Node, 2)
	for a := range 2 {
		za := mmFast(cols, Slice(wc, AxisRange(), AxisRange(a*2*cout, (a+1)*2*cout)))
		out[a] = Reshape(za, B, H, 1, 2*W, cout)
	}
	return Reshape(Concatenate(out, 2), B, 2*H, 2*W, cout)
}

// convTPhaseZ is ConvT(k3, s2, p1, op1), output-side form for narrowing layers:
// one MatMul x [BHW, Cin] · [Cin, 16·Cout] gives each input pixel's contribution to
// the 4 output phases of itself and of its 3 up/left neighbours; the shifted groups
// are moved by one pixel (Slice + zero Concatenate), added, and interleaved.
func convTPhaseZ(x, w *Node) *Node {
	B, H, W, cin := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	cout := w.Shape().Dim(3)
	wc := phaseWeights(w)
	wz := Reshape(TransposeAllDims(Reshape(wc, 4, cin, 4*cout), 1, 0, 2), cin, 16*cout)
	z := Reshape(mmFast(Reshape(x, B*H*W, cin), wz), B, H, W, 4, 4*cout)
	g := func(i int) *Node {
		return Reshape(Slice(z, AxisRange(), AxisRange(), AxisRange(), AxisElem(i), AxisRange()), B, H, W, 4*cout)
	}
	out := g(0)
	out = Add(out, padAxis(SliceAxis(g(1), 2, AxisRange(1, W)), 2, 0, 1))
	out = Add(out, padAxis(SliceAxis(g(2), 1, AxisRange(1, H)), 1, 0, 1))
	out = Add(out, padSpatial(Slice(g(3), AxisRange(), AxisRange(1, H), AxisRange(1, W), AxisRange()), 0, 1, 0, 1))
	out = Reshape(out, B, H, W, 2, 2, cout)
	out = TransposeAllDims(out, 0, 1, 3, 2, 4, 5)
	return Reshape(out, B, 2*H, 2*W, cout)
}

// convTZ9 is ConvT(k3, s2, p1, op1) with the minimal MatMul x·[Cin, 9·Cout] (no
// zero blocks: 9/16 of the 4-phase FLOPs, best for wide layers) and the
// overlap-add per output phase (Zab = x·w[a,b]):
//
//	out[2m,   2n]   = Z11[m,n]
//	out[2m,   2n+1] = Z12[m,n] + Z10[m,n+1]
//	out[2m+1, 2n]   = Z21[m,n] + Z01[m+1,n]
//	out[2m+1, 2n+1] = Z22[m,n] + Z20[m,n+1] + Z02[m+1,n] + Z00[m+1,n+1]
func convTZ9(x, w *Node) *Node {
	B, H, W, cin := x.Shape().Dim(0), x.Shape().Dim(1), x.Shape().Dim(2), x.Shape().Dim(3)
	cout := w.Shape().Dim(3)
	order := [][2]int{{1, 1}, {1, 2}, {2, 1}, {2, 2}, {1, 0}, {2, 0}, {0, 1}, {0, 2}, {0, 0}}
	ws := make([]*Node, len(order))
	for i, ab := range order {
		ws[i] = Reshape(Slice(w, AxisElem(ab[0]), AxisElem(ab[1]), AxisRange(), AxisRange()), cin, cout)
	}
	z := Reshape(mmFast(Reshape(x, B*H*W, cin), Concatenate(ws, 1)), B, H, W, 9*cout)
	grp := func(from, n int) *Node {
		return Slice(z, AxisRange(), AxisRange(), AxisRange(), AxisRange(from*cout, (from+n)*cout))
	}
	g0, gn, gm, gmn := grp(0, 4), grp(4, 2), grp(6, 2), grp(8, 1)
	gn = padAxis(SliceAxis(gn, 2, AxisRange(1, W)), 2, 0, 1)
	gm = padAxis(SliceAxis(gm, 1, AxisRange(1, H)), 1, 0, 1)
	gmn = padSpatial(Slice(gmn, AxisRange(), AxisRange(1, H), AxisRange(1, W), AxisRange()), 0, 1, 0, 1)
	zc := Zeros(x.Graph(), shapes.Make(x.DType(), B, H, W, cout))
	sn := Concatenate([]*Node{zc, SliceAxis(gn, 3, AxisRange(0, cout)), zc, SliceAxis(gn, 3, AxisRange(cout, 2*cout))}, 3)
	sm := Concatenate([]*Node{zc, zc, gm}, 3)
	smn := Concatenate([]*Node{zc, zc, zc, gmn}, 3)
	out := Add(Add(g0, sn), Add(sm, smn))
	out = Reshape(out, B, H, W, 2, 2, cout)
	out = TransposeAllDims(out, 0, 1, 3, 2, 4, 5)
	return Reshape(out, B, 2*H, 2*W, cout)
}

// convTransposeFast is ConvTranspose2D in the Fast formulation (without bias).
func convTransposeFast(x, kernel *Node, s, p, op int) *Node {
	k := kernel.Shape().Dim(0)
	H, W := x.Shape().Dim(1), x.Shape().Dim(2)
	if k == 3 && s == 2 && p == 1 && op == 1 && H >= 2 && W >= 2 {
		return convTS2Fast(x, kernel)
	}
	return convTransposePhasesMM(x, kernel, s, p, op, mmFast)
}
