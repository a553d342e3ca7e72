package layers

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cmemae/cmemae/pkg/internal/testbackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// fastCase is one layer shape for the Fast formulation tests: every form Fast
// dispatches to (k3 s2 p1 convolution with the three ConvT forms of its gradient,
// space-to-depth k==s, whole-image receptive field, generic im2col, 4-phase /
// output-side / Z9 transposed convolutions, generic stride phases).
type fastCase struct {
	transposed    bool
	hw, cin, cout int
	k, s, p, op   int
}

var fastCases = []fastCase{
	{false, 7, 3, 5, 3, 2, 1, 0},   // k3 s2 p1, odd size, narrowing ∂x (phaseZ)
	{false, 8, 4, 8, 3, 2, 1, 0},   // even size, widening ∂x (phase)
	{false, 6, 64, 64, 3, 2, 1, 0}, // wide: ∂x by Z9
	{false, 28, 1, 8, 3, 2, 1, 0},  // mnist first layer (single channel)
	{false, 7, 4, 3, 3, 3, 1, 0},   // k == s after padding (space-to-depth)
	{false, 3, 5, 6, 3, 3, 0, 0},   // receptive field = whole image
	{false, 2, 6, 7, 2, 1, 0, 0},   // cifar-flat Conv(128→256, k2, s1, p0) on 2×2, small channels
	{false, 5, 3, 4, 3, 1, 1, 0},   // generic im2col
	{false, 2, 3, 4, 3, 2, 1, 0},   // k3 s2 p1 on 2×2 (falls back to im2col)
	{true, 4, 4, 8, 3, 2, 1, 1},    // 4-phase
	{true, 5, 8, 3, 3, 2, 1, 1},    // output-side (narrowing)
	{true, 3, 64, 64, 3, 2, 1, 1},  // Z9 (wide)
	{true, 3, 5, 6, 3, 3, 1, 0},    // k == s with crop
	{true, 1, 6, 5, 3, 3, 0, 0},    // 1×1 input
	{true, 1, 7, 6, 2, 1, 0, 0},    // cifar-flat ConvT(256→128, k2, s1, p0) on 1×1
	{true, 2, 6, 7, 2, 1, 0, 0},    // the same on 2×2
	{true, 3, 3, 4, 3, 2, 0, 1},    // generic stride phases
}

func (c fastCase) String() string {
	kind := "conv"
	if c.transposed {
		kind = "convT"
	}
	return fmt.Sprintf("%s(%d→%d,k%d,s%d,p%d,op%d)@%d", kind, c.cin, c.cout, c.k, c.s, c.p, c.op, c.hw)
}

// TestFastForwardReference compares the Fast formulation with the definition.
func TestFastForwardReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range fastCases {
		x := nhwc{2, c.hw, c.hw, c.cin, randT(r, 2, c.hw, c.hw, c.cin)}
		kern := randT(r, c.k, c.k, c.cin, c.cout)
		bias := randT(r, c.cout)
		var want nhwc
		if c.transposed {
			want = refConvT(x, kern, c.k, c.cout, c.s, c.p, c.op, bias)
		} else {
			want = refConv(x, kern, c.k, c.cout, c.s, c.p, bias)
		}
		got := runConv(t, c.transposed, Fast, x, kern, c.k, c.cout, c.s, c.p, c.op, bias)
		assertClose(t, c.String(), got, want.d, 1e-5)
	}
}

// layerGrads returns ∂L/∂x, ∂L/∂kernel, ∂L/∂bias of L = Σ sin(i)·y_i² for formulation f.
func layerGrads(t *testing.T, f Formulation, c fastCase, x, kern, bias *tensors.Tensor) [3][]float32 {
	t.Helper()
	res, err := graph.CallOnceN(testbackend.Go(t), func(xn, kn, bn *graph.Node) []*graph.Node {
		var y *graph.Node
		if c.transposed {
			y = ConvTranspose2DWith(xn, kn, bn, c.s, c.p, c.op, f)
		} else {
			y = Conv2DWith(xn, kn, bn, c.s, c.p, f)
		}
		w := graph.Sin(graph.IotaFull(xn.Graph(), y.Shape()))
		return graph.Gradient(graph.ReduceAllSum(graph.Mul(graph.Square(y), w)), xn, kn, bn)
	}, x, kern, bias)
	if err != nil {
		t.Fatal(err)
	}
	var out [3][]float32
	for i := range out {
		out[i] = tensors.MustCopyFlatData[float32](res[i])
	}
	return out
}

// TestFastGradients: the custom VJPs of the Fast formulation give the same
// gradients (input, kernel, bias) as GoMLX's automatic differentiation of the
// Im2Col graph (plain slices, MatMul, Concatenate: no custom gradient).
func TestFastGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, c := range fastCases {
		x := tensors.FromFlatDataAndDimensions(randT(r, 2, c.hw, c.hw, c.cin), 2, c.hw, c.hw, c.cin)
		kern := tensors.FromFlatDataAndDimensions(randT(r, c.k, c.k, c.cin, c.cout), c.k, c.k, c.cin, c.cout)
		bias := tensors.FromFlatDataAndDimensions(randT(r, c.cout), c.cout)
		want := layerGrads(t, im2colPhases, c, x, kern, bias)
		got := layerGrads(t, Fast, c, x, kern, bias)
		for i, name := range []string{"∂x", "∂kernel", "∂bias"} {
			assertClose(t, c.String()+" "+name, got[i], want[i], 1e-4)
		}
	}
}

// TestFastBatchNormLeakyReLU: the fused BN + LeakyReLU (closed-form gradient)
// equals BatchNorm2D followed by LeakyReLU under autodiff, in output, gradients
// (x, γ, β) and running statistics, in training and inference.
func TestFastBatchNormLeakyReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const b, h, w, c = 3, 4, 5, 6
	xv := randT(r, b, h, w, c)
	for i := range xv {
		xv[i] = 2*xv[i] + float32(i%c) // per-channel offsets
	}
	x := tensors.FromFlatDataAndDimensions(xv, b, h, w, c)
	gammaV, betaV := randT(r, c), randT(r, c)
	for i := range gammaV {
		gammaV[i] += 1.5
	}
	for _, training := range []bool{true, false} {
		run := func(f Formulation) [][]float32 {
			store := model.NewStore()
			for _, v := range []struct {
				name string
				val  []float32
			}{{"gamma", gammaV}, {"beta", betaV}, {"running_mean", randT(rand.New(rand.NewPCG(1, 1)), c)}} {
				if _, err := store.CreateVariable("/bn/"+v.name, tensors.FromFlatDataAndDimensions(v.val, c)); err != nil {
					t.Fatal(err)
				}
			}
			exec := model.MustNewExec(testbackend.Go(t), store, func(scope *model.Scope, xn *graph.Node) []*graph.Node {
				g := xn.Graph()
				scope.Store().SetTraining(g, training)
				var y *graph.Node
				if f == Fast {
					y = BatchNorm2DLeakyReLU(scope.At("bn"), xn, f)
				} else {
					y = LeakyReLU(BatchNorm2D(scope.At("bn"), xn, f))
				}
				wt := graph.Sin(graph.IotaFull(g, y.Shape()))
				loss := graph.ReduceAllSum(graph.Mul(graph.Square(y), wt))
				gamma := scope.Store().GetVariable("/bn/gamma").NodeValue(g)
				beta := scope.Store().GetVariable("/bn/beta").NodeValue(g)
				return append([]*graph.Node{y}, graph.Gradient(loss, xn, gamma, beta)...)
			})
			res := exec.MustCall(x)
			var out [][]float32
			for _, t := range res {
				out = append(out, tensors.MustCopyFlatData[float32](t))
			}
			for _, name := range []string{"running_mean", "running_var"} {
				out = append(out, tensors.MustCopyFlatData[float32](store.GetVariable("/bn/"+name).MustValue()))
			}
			return out
		}
		want, got := run(Im2Col), run(Fast)
		for i, name := range []string{"y", "∂x", "∂γ", "∂β", "running mean", "running var"} {
			assertClose(t, fmt.Sprintf("training=%v %s", training, name), got[i], want[i], 1e-4)
		}
	}
}
