package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cmemae/cmemae/pkg/internal/testbackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// nhwc is a tiny dense tensor helper for the reference implementations.
type nhwc struct {
	b, h, w, c int
	d          []float32
}

func (t nhwc) at(b, h, w, c int) float32 { return t.d[((b*t.h+h)*t.w+w)*t.c+c] }

func randT(r *rand.Rand, dims ...int) []float32 {
	n := 1
	for _, d := range dims {
		n *= d
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.Float64()*2 - 1)
	}
	return out
}

// refConv is PyTorch's Conv2d by definition (kernel [k,k,cin,cout]).
func refConv(x nhwc, kern []float32, k, cout, s, p int, bias []float32) nhwc {
	ho, wo := (x.h+2*p-k)/s+1, (x.w+2*p-k)/s+1
	out := nhwc{x.b, ho, wo, cout, make([]float32, x.b*ho*wo*cout)}
	for b := range x.b {
		for oh := range ho {
			for ow := range wo {
				for co := range cout {
					sum := float64(bias[co])
					for i := range k {
						for j := range k {
							ih, iw := oh*s+i-p, ow*s+j-p
							if ih < 0 || iw < 0 || ih >= x.h || iw >= x.w {
								continue
							}
							for ci := range x.c {
								sum += float64(x.at(b, ih, iw, ci)) * float64(kern[((i*k+j)*x.c+ci)*cout+co])
							}
						}
					}
					out.d[((b*ho+oh)*wo+ow)*cout+co] = float32(sum)
				}
			}
		}
	}
	return out
}

// refConvT is PyTorch's ConvTranspose2d by definition: full[h·s+i, w·s+j] += x[h,w]·K[i,j],
// output = full[p : p+Ho] (zero beyond the full extent), plus bias.
func refConvT(x nhwc, kern []float32, k, cout, s, p, op int, bias []float32) nhwc {
	ho, wo := (x.h-1)*s-2*p+k+op, (x.w-1)*s-2*p+k+op
	out := nhwc{x.b, ho, wo, cout, make([]float32, x.b*ho*wo*cout)}
	for b := range x.b {
		for oh := range ho {
			for ow := range wo {
				for co := range cout {
					out.d[((b*ho+oh)*wo+ow)*cout+co] = bias[co]
				}
			}
		}
		for h := range x.h {
			for w := range x.w {
				for i := range k {
					for j := range k {
						oh, ow := h*s+i-p, w*s+j-p
						if oh < 0 || ow < 0 || oh >= ho || ow >= wo {
							continue
						}
						for ci := range x.c {
							for co := range cout {
								out.d[((b*ho+oh)*wo+ow)*cout+co] += x.at(b, h, w, ci) * kern[((i*k+j)*x.c+ci)*cout+co]
							}
						}
					}
				}
			}
		}
	}
	return out
}

// variants are the formulations under test: Native, and Im2Col with the
// sub-pixel forms and with strided slices / stride phases only.
var variants = []Formulation{Native, im2colSubPixel, im2colPhases}

func runConv(t *testing.T, transposed bool, f Formulation, x nhwc, kern []float32, k, cout, s, p, op int, bias []float32) []float32 {
	t.Helper()
	backend := testbackend.Go(t)
	xt := tensors.FromFlatDataAndDimensions(x.d, x.b, x.h, x.w, x.c)
	kt := tensors.FromFlatDataAndDimensions(kern, k, k, x.c, cout)
	bt := tensors.FromFlatDataAndDimensions(bias, cout)
	out, err := graph.CallOnce(backend, func(xn, kn, bn *graph.Node) *graph.Node {
		if transposed {
			return ConvTranspose2DWith(xn, kn, bn, s, p, op, f)
		}
		return Conv2DWith(xn, kn, bn, s, p, f)
	}, xt, kt, bt)
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](out)
}

func assertClose(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	tol = testbackend.Tol(t, tol)
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > tol*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: [%d] = %g, want %g", name, i, got[i], want[i])
		}
	}
}

// TestConvTransposeHandComputed: x = [[1,2],[3,4]], 3×3 kernel of ones, bias 0.
func TestConvTransposeHandComputed(t *testing.T) {
	x := nhwc{1, 2, 2, 1, []float32{1, 2, 3, 4}}
	ones := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
	zero := []float32{0}
	cases := []struct {
		s, p, op int
		want     []float32
	}{
		{2, 0, 0, []float32{
			1, 1, 3, 2, 2,
			1, 1, 3, 2, 2,
			4, 4, 10, 6, 6,
			3, 3, 7, 4, 4,
			3, 3, 7, 4, 4}},
		{2, 1, 1, []float32{
			1, 3, 2, 2,
			4, 10, 6, 6,
			3, 7, 4, 4,
			3, 7, 4, 4}},
		{2, 0, 1, []float32{ // output_padding > padding: an extra zero row/column
			1, 1, 3, 2, 2, 0,
			1, 1, 3, 2, 2, 0,
			4, 4, 10, 6, 6, 0,
			3, 3, 7, 4, 4, 0,
			3, 3, 7, 4, 4, 0,
			0, 0, 0, 0, 0, 0}},
		{2, 1, 0, []float32{
			1, 3, 2,
			4, 10, 6,
			3, 7, 4}},
		{3, 0, 0, []float32{
			1, 1, 1, 2, 2, 2,
			1, 1, 1, 2, 2, 2,
			1, 1, 1, 2, 2, 2,
			3, 3, 3, 4, 4, 4,
			3, 3, 3, 4, 4, 4,
			3, 3, 3, 4, 4, 4}},
		{3, 1, 0, []float32{
			1, 1, 2, 2,
			1, 1, 2, 2,
			3, 3, 4, 4,
			3, 3, 4, 4}},
		{3, 1, 1, []float32{
			1, 1, 2, 2, 2,
			1, 1, 2, 2, 2,
			3, 3, 4, 4, 4,
			3, 3, 4, 4, 4,
			3, 3, 4, 4, 4}},
	}
	for _, c := range cases {
		for _, f := range variants {
			got := runConv(t, true, f, x, ones, 3, 1, c.s, c.p, c.op, zero)
			assertClose(t, fmt.Sprintf("s=%d p=%d op=%d %s", c.s, c.p, c.op, f), got, c.want, 1e-6)
		}
	}
}

// TestConvTransposeReference compares both formulations with the definition on
// random multi-channel inputs for every stride/padding/output_padding combination
// the thesis uses (and more).
func TestConvTransposeReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{2, 3} {
		for _, s := range []int{1, 2, 3} {
			for _, p := range []int{0, 1} {
				for op := 0; op < s && op <= 1; op++ {
					if p > k-1 {
						continue
					}
					x := nhwc{2, 3, 2, 3, randT(r, 2, 3, 2, 3)}
					kern := randT(r, k, k, 3, 4)
					bias := randT(r, 4)
					want := refConvT(x, kern, k, 4, s, p, op, bias)
					for _, f := range variants {
						got := runConv(t, true, f, x, kern, k, 4, s, p, op, bias)
						assertClose(t, fmt.Sprintf("k=%d s=%d p=%d op=%d %s", k, s, p, op, f), got, want.d, 1e-5)
					}
				}
			}
		}
	}
}

// TestConvReference compares Conv2D (both formulations) with the definition.
func TestConvReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{2, 3} {
		for _, s := range []int{1, 2, 3} {
			for _, p := range []int{0, 1} {
				for _, hw := range []int{3, 4, 7} {
					if hw+2*p < k {
						continue
					}
					x := nhwc{2, hw, hw, 3, randT(r, 2, hw, hw, 3)}
					kern := randT(r, k, k, 3, 5)
					bias := randT(r, 5)
					want := refConv(x, kern, k, 5, s, p, bias)
					for _, f := range variants {
						got := runConv(t, false, f, x, kern, k, 5, s, p, 0, bias)
						assertClose(t, fmt.Sprintf("k=%d s=%d p=%d hw=%d %s", k, s, p, hw, f), got, want.d, 1e-5)
					}
				}
			}
		}
	}
	// Hand-computed: 3×3 image 1..9, 2×2 kernel [[1,0],[0,-1]], stride 1, padding 0:
	// out[i,j] = x[i,j] − x[i+1,j+1] = −4 everywhere.
	x := nhwc{1, 3, 3, 1, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}}
	got := runConv(t, false, Im2Col, x, []float32{1, 0, 0, -1}, 2, 1, 1, 0, 0, []float32{0.5})
	assertClose(t, "hand", got, []float32{-3.5, -3.5, -3.5, -3.5}, 1e-6)
}

// TestFormulationGradientsAgree: gradients w.r.t. input, kernel and bias agree.
func TestFormulationGradientsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	backend := testbackend.Go(t)
	x := tensors.FromFlatDataAndDimensions(randT(r, 2, 5, 5, 3), 2, 5, 5, 3)
	kern := tensors.FromFlatDataAndDimensions(randT(r, 3, 3, 3, 4), 3, 3, 3, 4)
	bias := tensors.FromFlatDataAndDimensions(randT(r, 4), 4)
	for _, transposed := range []bool{false, true} {
		var results [3][]*tensors.Tensor
		for fi, f := range variants {
			res, err := graph.CallOnceN(backend, func(xn, kn, bn *graph.Node) []*graph.Node {
				var y *graph.Node
				if transposed {
					y = ConvTranspose2DWith(xn, kn, bn, 2, 1, 1, f)
				} else {
					y = Conv2DWith(xn, kn, bn, 2, 1, f)
				}
				w := graph.Sin(graph.IotaFull(xn.Graph(), y.Shape()))
				loss := graph.ReduceAllSum(graph.Mul(graph.Square(y), w))
				return graph.Gradient(loss, xn, kn, bn)
			}, x, kern, bias)
			if err != nil {
				t.Fatal(err)
			}
			results[fi] = res
		}
		for vi := 1; vi < len(variants); vi++ {
			for i := range 3 {
				assertClose(t, fmt.Sprintf("transposed=%v grad %d %s vs native", transposed, i, variants[vi]),
					tensors.MustCopyFlatData[float32](results[vi][i]), tensors.MustCopyFlatData[float32](results[0][i]), 1e-4)
			}
		}
	}
}

// TestBatchNorm checks training (batch statistics, biased variance, running
// statistics updated with the unbiased variance and momentum 0.1) and inference.
func TestBatchNorm(t *testing.T) {
	backend := testbackend.Go(t)
	// One channel, values 1, 2, 3, 6 → mean 3, biased var 3.5, unbiased 14/3.
	x := tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 6}, 2, 1, 2, 1)
	store := model.NewStore()
	train := model.MustNewExec(backend, store, func(scope *model.Scope, xn *graph.Node) *graph.Node {
		scope.Store().SetTraining(xn.Graph(), true)
		return BatchNorm2D(scope.At("bn"), xn, Auto)
	})
	y := tensors.MustCopyFlatData[float32](train.MustCall1(x))
	sd := math.Sqrt(3.5 + 1e-5)
	assertClose(t, "train y", y, []float32{float32(-2 / sd), float32(-1 / sd), 0, float32(3 / sd)}, 1e-5)
	rm := tensors.MustCopyFlatData[float32](store.GetVariable("/bn/running_mean").MustValue())
	rv := tensors.MustCopyFlatData[float32](store.GetVariable("/bn/running_var").MustValue())
	assertClose(t, "running mean", rm, []float32{0.3}, 1e-6)
	assertClose(t, "running var", rv, []float32{float32(0.9 + 0.1*14.0/3.0)}, 1e-6)

	eval := model.MustNewExec(backend, store, func(scope *model.Scope, xn *graph.Node) *graph.Node {
		return BatchNorm2D(scope.At("bn"), xn, Auto)
	})
	y = tensors.MustCopyFlatData[float32](eval.MustCall1(x))
	v := 0.9 + 0.1*14.0/3.0
	want := make([]float32, 4)
	for i, xi := range []float64{1, 2, 3, 6} {
		want[i] = float32((xi - 0.3) / math.Sqrt(v+1e-5))
	}
	assertClose(t, "eval y", y, want, 1e-5)
	if rm2 := tensors.MustCopyFlatData[float32](store.GetVariable("/bn/running_mean").MustValue()); rm2[0] != rm[0] {
		t.Errorf("inference changed the running mean: %v", rm2)
	}
}

// TestInitBounds: PyTorch-like U(±1/√fan_in) initialisation (fan_in of ConvT from cout).
func TestInitBounds(t *testing.T) {
	backend := testbackend.Go(t)
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(7); err != nil {
		t.Fatal(err)
	}
	exec := model.MustNewExec(backend, store, func(scope *model.Scope, xn *graph.Node) *graph.Node {
		y := Conv2D(scope.At("conv"), xn, ConvSpec{In: 4, Out: 8, Kernel: 3, Stride: 1, Padding: 1}, Auto)
		return ConvTranspose2D(scope.At("convt"), y, ConvSpec{In: 8, Out: 2, Kernel: 3, Stride: 2, Padding: 1, OutputPadding: 1}, Auto)
	})
	out := exec.MustCall1(tensors.FromFlatDataAndDimensions(make([]float32, 2*4*4*4), 2, 4, 4, 4))
	if d := out.Shape().Dimensions; d[1] != 8 || d[2] != 8 || d[3] != 2 {
		t.Fatalf("convT output %v, want [2 8 8 2]", d)
	}
	check := func(path string, bound float64) {
		vals := tensors.MustCopyFlatData[float32](store.GetVariable(path).MustValue())
		maxAbs := 0.0
		for _, v := range vals {
			maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
		}
		if maxAbs > bound || maxAbs < 0.7*bound {
			t.Errorf("%s: max |w| = %g, want close to and below %g", path, maxAbs, bound)
		}
	}
	check("/conv/weights", 1/math.Sqrt(36))
	check("/conv/biases", 1/math.Sqrt(36))
	check("/convt/weights", 1/math.Sqrt(18))
}
