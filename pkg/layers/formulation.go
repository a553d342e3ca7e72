package layers

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute"

	"github.com/gomlx/gomlx/core/graph"
)

// Formulation selects how convolutions are expressed in the computation graph.
type Formulation int32

const (
	// Auto picks Fast on the pure-Go backend and Native everywhere else.
	Auto Formulation = iota
	// Native uses GoMLX's convolution op (ConvGeneral) for odd kernel sizes; even
	// kernels use the Im2Col form, because GoMLX's gradient of ConvGeneral is
	// wrong for them (see the package documentation).
	Native
	// Im2Col uses strided slices + MatMul for convolutions and MatMul + stride-phase
	// interleaving for transposed convolutions.
	Im2Col
	// Fast is the formulation tuned for the pure-Go backend: Im2Col-like graphs
	// with hand-written gradients (custom VJPs) for the matrix products, the
	// stride-2 convolutions and batch normalisation + LeakyReLU, and per-layer
	// forms of the stride-2 transposed convolution (see the package documentation).
	Fast

	// im2colSubPixel and im2colPhases are Im2Col with its per-layer choice of
	// the sub-pixel forms (subpixel.go) forced on or off: tests and benchmarks
	// compare every form.
	im2colSubPixel
	im2colPhases
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
	case im2colSubPixel:
		return "im2col-subpixel"
	case im2colPhases:
		return "im2col-phases"
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

// MarshalText implements encoding.TextMarshaler (configurations and checkpoints
// store the name).
func (f Formulation) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (f *Formulation) UnmarshalText(b []byte) error {
	v, err := ParseFormulation(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// resolve returns f, or for Auto the choice for g's backend.
func (f Formulation) resolve(g *graph.Graph) Formulation {
	if f != Auto {
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
