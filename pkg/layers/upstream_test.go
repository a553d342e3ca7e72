package layers

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/cmemae/cmemae/pkg/internal/testbackend"
)

// These tests track the upstream GoMLX defects that the layers work around
// (see the package documentation). Each runs GoMLX's own operation on the
// pure-Go backend and reports whether the defect is still there; it fails only
// when a defect disappears, so that the workaround gets reconsidered.

// TestUpstreamEvenKernelConvGradient: GoMLX's convolution gradient for even
// kernels (cifar-flat's k2 s1 p0 layers) against PyTorch's (even_kernel.json).
func TestUpstreamEvenKernelConvGradient(t *testing.T) {
	gold := loadEvenKernelGolden(t)
	wrong := 0
	for _, c := range gold.Cases {
		if c.Transposed {
			continue
		}
		x := tensors.FromFlatDataAndDimensions(formula(1, c.Batch*c.HW*c.HW*c.Cin, 1), c.Batch, c.HW, c.HW, c.Cin)
		kern := tensors.FromFlatDataAndDimensions(formula(2, c.K*c.K*c.Cin*c.Cout, 0.5), c.K, c.K, c.Cin, c.Cout)
		var res []*tensors.Tensor
		err := func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = p.(error)
				}
			}()
			res, err = graph.CallOnceN(testbackend.Go(t), func(xn, kn *graph.Node) []*graph.Node {
				y := graph.Convolve(xn, kn).StridePerAxis(c.S, c.S).PaddingPerDim([][2]int{{c.P, c.P}, {c.P, c.P}}).Done()
				w := graph.Sin(graph.IotaFull(xn.Graph(), y.Shape()))
				loss := graph.ReduceAllSum(graph.Mul(graph.Square(y), w))
				return append([]*graph.Node{y}, graph.Gradient(loss, xn, kn)...)
			}, x, kern)
			return err
		}()
		if err != nil {
			t.Logf("k%d %d→%d @%d: GoMLX fails: %v", c.K, c.Cin, c.Cout, c.HW, err)
			wrong++
			continue
		}
		worst := 0.0
		for i, want := range [][]float64{c.Y, c.DX, c.DKernel} {
			got := tensors.MustCopyFlatData[float32](res[i])
			scale := 0.0
			for _, w := range want {
				scale = math.Max(scale, math.Abs(w))
			}
			for j := range got {
				worst = math.Max(worst, math.Abs(float64(got[j])-want[j])/scale)
			}
		}
		t.Logf("k%d %d→%d @%d: GoMLX's convolution and gradients off by %.2g of scale", c.K, c.Cin, c.Cout, c.HW, worst)
		if worst > 1e-5 {
			wrong++
		}
	}
	if wrong == 0 {
		t.Error("GoMLX's even-kernel convolution gradient now matches PyTorch: Native could drop its Im2Col fallback")
	}
}

// TestUpstreamInputDilationGradient: GoMLX's gradient of a convolution with
// input dilation (what a transposed convolution is made of) against the
// hand-computed one. x [1,2,3,1] dilated by 2 is [1,3,5,1]; a 2×2 kernel of ones
// gives y [1,2,4,1] = (x00, x01, x01, x02 / x10, x11, x11, x12), so with
// L = Σ y·sin(iota) the gradient of x01 is sin 1 + sin 2, and so on.
func TestUpstreamInputDilationGradient(t *testing.T) {
	x := tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 5, 6}, 1, 2, 3, 1)
	k := tensors.FromFlatDataAndDimensions([]float32{1, 1, 1, 1}, 2, 2, 1, 1)
	res, err := graph.CallOnceN(testbackend.Go(t), func(xn, kn *graph.Node) []*graph.Node {
		y := graph.Convolve(xn, kn).InputDilationPerAxis(2, 2).Done()
		loss := graph.ReduceAllSum(graph.Mul(y, graph.Sin(graph.IotaFull(xn.Graph(), y.Shape()))))
		return []*graph.Node{y, graph.Gradient(loss, xn)[0]}
	}, x, k)
	if err != nil {
		t.Fatal(err)
	}
	s := math.Sin
	want := []float64{s(0), s(1) + s(2), s(3), s(4), s(5) + s(6), s(7)}
	got := tensors.MustCopyFlatData[float32](res[1])
	worst := 0.0
	for i := range want {
		worst = math.Max(worst, math.Abs(float64(got[i])-want[i]))
	}
	t.Logf("∂x = %v, want %.4f (max error %.2g)", got, want, worst)
	if worst < 1e-6 {
		t.Error("GoMLX's input-dilation gradient is now right: convTransposeNative could use InputDilationPerAxis instead of dilate")
	}
}
