package layers

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/gomlx/compute"

	"github.com/gomlx/gomlx/core/graph"
)

// Formulation selects how convolutions are expressed in the computation graph.
type Formulation int32

const (
	// Auto picks Fast on the pure-Go backend and Native everywhere else.
	Auto Formulation = iota
	// Native uses GoMLX's convolution op (ConvGeneral) for odd kernel sizes; even
	// kernels use the Im2Col form, because GoMLX v0.28.2's gradient of
	// ConvGeneral is wrong (or panics) for them.
	Native
	// Im2Col uses strided slices + MatMul for convolutions and MatMul + stride-phase
	// interleaving for transposed convolutions.
	Im2Col
	// Fast is the formulation tuned for the pure-Go backend: Im2Col-like graphs
	// with hand-written gradients (custom VJPs) for the matrix products, the
	// stride-2 convolutions and batch normalisation + LeakyReLU, and per-layer
	// forms of the stride-2 transposed convolution (see the package documentation).
	Fast
)

// String implements fmt.Stringer.
func (f Formulation) String() string {
	switch f {
	case Auto:
		return "auto"
	case Native:
		return "native"
	case Im2Col:
		return "im2col"
	case Fast:
		return "fast"
	}
	return fmt.Sprintf("Formulation(%d)", int(f))
}

// ParseFormulation converts "auto", "native", "im2col" or "fast" into a Formulation.
func ParseFormulation(s string) (Formulation, error) {
	switch s {
	case "auto", "":
		return Auto, nil
	case "native":
		return Native, nil
	case "im2col":
		return Im2Col, nil
	case "fast":
		return Fast, nil
	}
	return Auto, fmt.Errorf("layers: unknown formulation %q (valid: auto, native, im2col, fast)", s)
}

var globalFormulation atomic.Int32

// SetFormulation sets the formulation used by graphs built from now on (process
// wide). Auto (the default) chooses per backend. It returns the previous setting,
// so tests can restore it.
func SetFormulation(f Formulation) (previous Formulation) {
	return Formulation(globalFormulation.Swap(int32(f)))
}

// CurrentFormulation returns the process-wide setting (possibly Auto).
func CurrentFormulation() Formulation { return Formulation(globalFormulation.Load()) }

// FormulationFor resolves the formulation to use for graph g: the process-wide
// setting if not Auto, otherwise Fast for the pure-Go backend ("go") and Native
// for every other backend.
func FormulationFor(g *graph.Graph) Formulation {
	if f := CurrentFormulation(); f != Auto {
		return f
	}
	return FormulationForBackend(g.Backend())
}

// FormulationForBackend is the automatic choice for a backend: Fast for the
// pure-Go backend (String() "go", Name() "Go Backend"), Native otherwise.
func FormulationForBackend(b compute.Backend) Formulation {
	if b == nil {
		return Native
	}
	name := strings.ToLower(b.Name())
	if b.String() == "go" || name == "go" || strings.HasPrefix(name, "go ") || name == "simplego" {
		return Fast
	}
	return Native
}
