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
	// Auto picks Im2Col on the pure-Go backend and Native everywhere else.
	Auto Formulation = iota
	// Native uses GoMLX's convolution op (ConvGeneral).
	Native
	// Im2Col uses strided slices + MatMul for convolutions and MatMul + stride-phase
	// interleaving for transposed convolutions.
	Im2Col
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
	}
	return fmt.Sprintf("Formulation(%d)", int(f))
}

// ParseFormulation converts "auto", "native" or "im2col" into a Formulation.
func ParseFormulation(s string) (Formulation, error) {
	switch s {
	case "auto", "":
		return Auto, nil
	case "native":
		return Native, nil
	case "im2col":
		return Im2Col, nil
	}
	return Auto, fmt.Errorf("layers: unknown formulation %q (valid: auto, native, im2col)", s)
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
// setting if not Auto, otherwise Im2Col for the pure-Go backend ("go") and Native
// for every other backend.
func FormulationFor(g *graph.Graph) Formulation {
	if f := CurrentFormulation(); f != Auto {
		return f
	}
	return FormulationForBackend(g.Backend())
}

// FormulationForBackend is the automatic choice for a backend: Im2Col for the
// pure-Go backend (String() "go", Name() "Go Backend"), Native otherwise.
func FormulationForBackend(b compute.Backend) Formulation {
	if b == nil {
		return Native
	}
	name := strings.ToLower(b.Name())
	if b.String() == "go" || name == "go" || strings.HasPrefix(name, "go ") || name == "simplego" {
		return Im2Col
	}
	return Native
}
