package models

import (
	"fmt"
	"math"
	"strings"

	"github.com/cmemae/cmemae/pkg/layers"
	"github.com/cmemae/cmemae/pkg/memory"
)

// Model kinds.
const (
	KindAE      = "ae"
	KindMemAE   = "memae"
	KindCondAE  = "cond-ae"
	KindMultiAE = "multi-ae"
)

// Kinds lists the valid model kinds.
var Kinds = []string{KindAE, KindMemAE, KindCondAE, KindMultiAE}

// Config is the typed configuration of a thesis model.
type Config struct {
	Arch              string  // "mnist" | "mnist-flat" | "mnist-flat2" | "cifar" | "cifar-flat"
	Kind              string  // "ae" | "memae" | "cond-ae" | "multi-ae"
	MemorySize        int     // N items per memory (10 MNIST, 125 CIFAR by default)
	ShrinkThreshold   float64 // λ, default 0.0025
	CosineSimilarity  bool    // default true
	EntropyLoss       string  // "thesis" (default) | "paper"
	EntropyLossWeight float64 // default 0.0002
	NumConditions     int     // 1 = plain MemAE/AE; >1 conditional (memories / AEs / one-hot size)
	SelectionMetric   string  // unknown-condition self-selection: "sum" (default) | "max" | "recon"

	// Formulation is how the layers express convolutions and batch norm in the
	// graph (layers.Auto, the default: Fast on the pure-Go backend, Native
	// elsewhere). Every formulation computes the same function; tests and
	// benchmarks compare them.
	Formulation layers.Formulation `json:",omitempty"`
}

// DefaultConfig returns the thesis defaults for arch and kind (unvalidated: an
// unknown name is reported by Validate).
func DefaultConfig(arch, kind string) Config {
	size := 10
	if strings.HasPrefix(arch, "cifar") {
		size = 125
	}
	return Config{
		Arch:              arch,
		Kind:              kind,
		MemorySize:        size,
		ShrinkThreshold:   memory.DefaultThreshold,
		CosineSimilarity:  true,
		EntropyLoss:       string(memory.EntropyThesis),
		EntropyLossWeight: 0.0002,
		NumConditions:     1,
		SelectionMetric:   string(memory.MetricSum),
	}
}

// Validate checks every field; unknown names list the valid choices.
func (c Config) Validate() error {
	arch, ok := archs[c.Arch]
	if !ok {
		return fmt.Errorf("models: unknown arch %q (valid: %s)", c.Arch, strings.Join(ArchNames(), ", "))
	}
	if !contains(Kinds, c.Kind) {
		return fmt.Errorf("models: unknown kind %q (valid: %s)", c.Kind, strings.Join(Kinds, ", "))
	}
	if c.NumConditions < 1 {
		return fmt.Errorf("models: NumConditions must be >= 1, got %d", c.NumConditions)
	}
	if c.SelectionMetric == "" {
		c.SelectionMetric = string(memory.MetricSum)
	}
	if err := memory.ValidateMetric(c.SelectionMetric); err != nil {
		return fmt.Errorf("models: %w", err)
	}
	switch c.Kind {
	case KindMemAE:
		if c.MemorySize < 1 {
			return fmt.Errorf("models: MemorySize must be >= 1, got %d", c.MemorySize)
		}
		if c.ShrinkThreshold < 0 || c.ShrinkThreshold >= 1 || math.IsNaN(c.ShrinkThreshold) {
			return fmt.Errorf("models: ShrinkThreshold must be in [0, 1), got %g", c.ShrinkThreshold)
		}
		if err := memory.ValidateVariant(c.entropyLoss()); err != nil {
			return fmt.Errorf("models: %w", err)
		}
		if c.EntropyLossWeight < 0 || math.IsNaN(c.EntropyLossWeight) || math.IsInf(c.EntropyLossWeight, 0) {
			return fmt.Errorf("models: EntropyLossWeight must be >= 0, got %g", c.EntropyLossWeight)
		}
	case KindCondAE:
		if !arch.Flat() {
			return fmt.Errorf("models: kind cond-ae needs a flat architecture (valid: %s), got %q",
				strings.Join(flatArchNames(), ", "), c.Arch)
		}
	}
	return nil
}

func (c Config) entropyLoss() string {
	if c.EntropyLoss == "" {
		return string(memory.EntropyThesis)
	}
	return c.EntropyLoss
}

func (c Config) selectionMetric() memory.Metric {
	if c.SelectionMetric == "" {
		return memory.MetricSum
	}
	return memory.Metric(c.SelectionMetric)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// archSpec is one row of the thesis's architecture table.
type archSpec struct {
	Name                string
	Height, Width, Chan int               // input image, channels-last
	Encoder             []layers.ConvSpec // every layer followed by BatchNorm + LeakyReLU
	Decoder             []layers.ConvSpec // transposed convs; all but the last followed by BN + LeakyReLU
	LatentH, LatentW    int               // spatial size of the latent
	CondDim             int               // D of the conditional AE (flat archs)
}

// LatentChannels is C, the memory's feature size.
func (a archSpec) LatentChannels() int { return a.Encoder[len(a.Encoder)-1].Out }

// Flat reports whether the latent is 1×1.
func (a archSpec) Flat() bool { return a.LatentH == 1 && a.LatentW == 1 }

func conv(in, out, k, s, p int) layers.ConvSpec {
	return layers.ConvSpec{In: in, Out: out, Kernel: k, Stride: s, Padding: p}
}

func convT(in, out, k, s, p, op int) layers.ConvSpec {
	return layers.ConvSpec{In: in, Out: out, Kernel: k, Stride: s, Padding: p, OutputPadding: op}
}

var mnistEncoder = []layers.ConvSpec{conv(1, 32, 3, 2, 1), conv(32, 16, 3, 2, 1), conv(16, 8, 3, 3, 1)}
var mnistDecoder = []layers.ConvSpec{convT(8, 16, 3, 3, 1, 0), convT(16, 32, 3, 2, 1, 1), convT(32, 1, 3, 2, 1, 1)}

var archs = map[string]archSpec{
	"mnist": {Name: "mnist", Height: 28, Width: 28, Chan: 1, Encoder: mnistEncoder, Decoder: mnistDecoder},
	"mnist-flat": {Name: "mnist-flat", Height: 28, Width: 28, Chan: 1, CondDim: 64,
		Encoder: append(append([]layers.ConvSpec{}, mnistEncoder...), conv(8, 64, 3, 3, 0)),
		Decoder: append([]layers.ConvSpec{convT(64, 8, 3, 3, 0, 0)}, mnistDecoder...)},
	"mnist-flat2": {Name: "mnist-flat2", Height: 28, Width: 28, Chan: 1, CondDim: 16,
		Encoder: []layers.ConvSpec{conv(1, 64, 3, 2, 1), conv(64, 32, 3, 2, 1), conv(32, 32, 3, 3, 1), conv(32, 16, 3, 3, 0)},
		Decoder: []layers.ConvSpec{convT(16, 32, 3, 3, 0, 0), convT(32, 32, 3, 3, 1, 0), convT(32, 64, 3, 2, 1, 1), convT(64, 1, 3, 2, 1, 1)}},
	"cifar": {Name: "cifar", Height: 32, Width: 32, Chan: 3,
		Encoder: []layers.ConvSpec{conv(3, 64, 3, 2, 1), conv(64, 128, 3, 2, 1), conv(128, 128, 3, 2, 1), conv(128, 256, 3, 2, 1)},
		Decoder: []layers.ConvSpec{convT(256, 128, 3, 2, 1, 1), convT(128, 128, 3, 2, 1, 1), convT(128, 64, 3, 2, 1, 1), convT(64, 3, 3, 2, 1, 1)}},
	"cifar-flat": {Name: "cifar-flat", Height: 32, Width: 32, Chan: 3, CondDim: 256,
		Encoder: []layers.ConvSpec{conv(3, 64, 3, 2, 1), conv(64, 128, 3, 2, 1), conv(128, 128, 3, 2, 1), conv(128, 128, 3, 2, 1), conv(128, 256, 2, 1, 0)},
		Decoder: []layers.ConvSpec{convT(256, 128, 2, 1, 0, 0), convT(128, 128, 3, 2, 1, 1), convT(128, 128, 3, 2, 1, 1), convT(128, 64, 3, 2, 1, 1), convT(64, 3, 3, 2, 1, 1)}},
}

func init() {
	for name, a := range archs {
		h, w := a.Height, a.Width
		for _, c := range a.Encoder {
			h, w = c.ConvOutputSize(h), c.ConvOutputSize(w)
		}
		a.LatentH, a.LatentW = h, w
		archs[name] = a
	}
}

// ArchNames lists the valid architecture names.
func ArchNames() []string {
	return []string{"mnist", "mnist-flat", "mnist-flat2", "cifar", "cifar-flat"}
}

func flatArchNames() []string {
	var out []string
	for _, n := range ArchNames() {
		if archs[n].Flat() {
			out = append(out, n)
		}
	}
	return out
}

// ArchInfo describes an architecture for documentation and analysis.
type ArchInfo struct {
	Name                      string
	InputH, InputW, InputC    int               // channels-last input
	LatentH, LatentW, LatentC int               // encoder output
	Encoder, Decoder          []layers.ConvSpec // layer specs as in the thesis's table
}

// Archs returns the architecture table.
func Archs() []ArchInfo {
	var out []ArchInfo
	for _, n := range ArchNames() {
		a := archs[n]
		out = append(out, ArchInfo{Name: n, InputH: a.Height, InputW: a.Width, InputC: a.Chan,
			LatentH: a.LatentH, LatentW: a.LatentW, LatentC: a.LatentChannels(),
			Encoder: append([]layers.ConvSpec(nil), a.Encoder...), Decoder: append([]layers.ConvSpec(nil), a.Decoder...)})
	}
	return out
}
