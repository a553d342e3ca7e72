package layers

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/cmemae/cmemae/pkg/internal/testbackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLayers measures forward+backward of the thesis's layer shapes (batch 64)
// per formulation; "cpu-ms/op" is process CPU time (robust on a loaded machine).
func BenchmarkLayers(b *testing.B) {
	type layer struct {
		name       string
		transposed bool
		h, cin     int
		spec       ConvSpec
	}
	cases := []layer{
		{"conv1x28s2", false, 28, 1, ConvSpec{1, 32, 3, 2, 1, 0}},
		{"conv32x14s2", false, 14, 32, ConvSpec{32, 16, 3, 2, 1, 0}},
		{"conv16x7s3", false, 7, 16, ConvSpec{16, 8, 3, 3, 1, 0}},
		{"convT8x3s3", true, 3, 8, ConvSpec{8, 16, 3, 3, 1, 0}},
		{"convT16x7s2", true, 7, 16, ConvSpec{16, 32, 3, 2, 1, 1}},
		{"convT32x14s2", true, 14, 32, ConvSpec{32, 1, 3, 2, 1, 1}},
		{"conv64x16s2", false, 16, 64, ConvSpec{64, 128, 3, 2, 1, 0}},
		{"conv3x32s2", false, 32, 3, ConvSpec{3, 64, 3, 2, 1, 0}},
		{"convT64x16s2", true, 16, 64, ConvSpec{64, 3, 3, 2, 1, 1}},
		{"convT128x8s2", true, 8, 128, ConvSpec{128, 64, 3, 2, 1, 1}},
	}
	backend := testbackend.Go(b)
	for _, c := range cases {
		for _, f := range []Formulation{Fast, im2colSubPixel, im2colPhases} {
			b.Run(fmt.Sprintf("%s/%s", c.name, f), func(b *testing.B) {
				x := tensors.FromFlatDataAndDimensions(make([]float32, 64*c.h*c.h*c.cin), 64, c.h, c.h, c.cin)
				k := tensors.FromFlatDataAndDimensions(make([]float32, 9*c.spec.In*c.spec.Out), 3, 3, c.spec.In, c.spec.Out)
				bias := tensors.FromFlatDataAndDimensions(make([]float32, c.spec.Out), c.spec.Out)
				exec := graph.MustNewExec(backend, func(xn, kn, bn *graph.Node) []*graph.Node {
					var y *graph.Node
					if c.transposed {
						y = ConvTranspose2DWith(xn, kn, bn, c.spec.Stride, c.spec.Padding, c.spec.OutputPadding, f)
					} else {
						y = Conv2DWith(xn, kn, bn, c.spec.Stride, c.spec.Padding, f)
					}
					loss := graph.ReduceAllSum(graph.Square(y))
					return graph.Gradient(loss, xn, kn, bn)
				})
				exec.MustCall(x, k, bias)
				start := cpuTime()
				b.ResetTimer()
				for b.Loop() {
					for _, r := range exec.MustCall(x, k, bias) {
						r.FinalizeAll()
					}
				}
				b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
