package layers

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/cmemae/cmemae/pkg/internal/testbackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestEvenKernelGolden checks output and gradients (input, kernel, bias) of
// cifar-flat's even-kernel layers — Conv(k2, s1, p0) on 2×2 (and 3×3) and
// ConvT(k2, s1, p0) on 1×1 and 2×2, small channels — against PyTorch
// (testdata/even_kernel.json, made by testdata/gen_even_kernel.py), in every
// formulation. GoMLX's gradient of its native convolution is wrong for even
// kernels (TestUpstreamEvenKernelConvGradient); Native therefore uses the
// MatMul form for them.
func TestEvenKernelGolden(t *testing.T) {
	gold := loadEvenKernelGolden(t)
	for _, c := range gold.Cases {
		x := tensors.FromFlatDataAndDimensions(formula(1, c.Batch*c.HW*c.HW*c.Cin, 1), c.Batch, c.HW, c.HW, c.Cin)
		kern := tensors.FromFlatDataAndDimensions(formula(2, c.K*c.K*c.Cin*c.Cout, 0.5), c.K, c.K, c.Cin, c.Cout)
		bias := tensors.FromFlatDataAndDimensions(formula(3, c.Cout, 0.1), c.Cout)
		for _, f := range append(variants, Fast) {
			name := fmt.Sprintf("transposed=%v k%d s%d p%d %d→%d @%d %s", c.Transposed, c.K, c.S, c.P, c.Cin, c.Cout, c.HW, f)
			res, err := graph.CallOnceN(testbackend.Go(t), func(xn, kn, bn *graph.Node) []*graph.Node {
				var y *graph.Node
				if c.Transposed {
					y = ConvTranspose2DWith(xn, kn, bn, c.S, c.P, 0, f)
				} else {
					y = Conv2DWith(xn, kn, bn, c.S, c.P, f)
				}
				w := graph.Sin(graph.IotaFull(xn.Graph(), y.Shape()))
				loss := graph.ReduceAllSum(graph.Mul(graph.Square(y), w))
				return append([]*graph.Node{y}, graph.Gradient(loss, xn, kn, bn)...)
			}, x, kern, bias)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for i, want := range [][]float64{c.Y, c.DX, c.DKernel, c.DBias} {
				got := tensors.MustCopyFlatData[float32](res[i])
				if len(got) != len(want) {
					t.Fatalf("%s [%d]: %d values, want %d", name, i, len(got), len(want))
				}
				scale := 0.0
				for _, w := range want {
					scale = math.Max(scale, math.Abs(w))
				}
				for j := range got {
					if math.Abs(float64(got[j])-want[j]) > testbackend.Tol(t, 1e-5)*scale {
						t.Fatalf("%s: %s[%d] = %g, want %g", name, []string{"y", "∂x", "∂kernel", "∂bias"}[i], j, got[j], want[j])
					}
				}
			}
		}
	}
}

// evenKernelCase is one case of testdata/even_kernel.json (PyTorch's values).
type evenKernelCase struct {
	Transposed            bool
	Batch, HW, Cin, Cout  int
	K, S, P               int
	Y, DX, DKernel, DBias []float64
}

// loadEvenKernelGolden reads testdata/even_kernel.json.
func loadEvenKernelGolden(t *testing.T) (gold struct{ Cases []evenKernelCase }) {
	t.Helper()
	data, err := os.ReadFile("testdata/even_kernel.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &gold); err != nil {
		t.Fatal(err)
	}
	return gold
}

// formula is the deterministic input of gen_even_kernel.py:
// scale·sin(0.37·i + 0.61·seed).
func formula(seed, n int, scale float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(scale * math.Sin(0.37*float64(i)+0.61*float64(seed)))
	}
	return out
}
