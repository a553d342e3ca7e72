package memory_test

import (
	"fmt"
	"log"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/cmemae/cmemae/pkg/backend"
	"github.com/cmemae/cmemae/pkg/memory"
)

// Addressing one latent vector z = (2, 0) into a memory of three items
// m₀ = (1, 0), m₁ = (0, 1), m₂ = (−1, 0): cosine similarities (1, 0, −1),
// softmax weights (0.665, 0.245, 0.090); the hard shrinkage with λ = 0.1 drops
// the third item (0.090 < λ) and renormalises the other two. The read-out is
// w·M = (0.731, 0.269).
func ExampleAddress() {
	b, _, err := backend.New(backend.GoName)
	if err != nil {
		log.Fatal(err)
	}
	z := tensors.FromFlatDataAndDimensions([]float32{2, 0}, 1, 1, 2) // [B=1, P=1, C=2]
	items := tensors.FromFlatDataAndDimensions([]float32{1, 0, 0, 1, -1, 0}, 3, 2)
	for _, lambda := range []float64{0, 0.1} {
		out, err := graph.CallOnceN(b, func(z, items *graph.Node) []*graph.Node {
			a := memory.Address(z, items, memory.Options{Cosine: true, ShrinkThreshold: lambda})
			return []*graph.Node{a.Similarities, a.Weights, a.Read}
		}, z, items)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("λ=%g: similarities %.3f, weights %.3f, read-out %.3f\n", lambda,
			tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1]),
			tensors.MustCopyFlatData[float32](out[2]))
	}
	// Output:
	// λ=0: similarities [1.000 0.000 -1.000], weights [0.665 0.245 0.090], read-out [0.575 0.245]
	// λ=0.1: similarities [1.000 0.000 -1.000], weights [0.731 0.269 0.000], read-out [0.731 0.269]
}
