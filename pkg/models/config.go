package models

import (
	"errors"
	"fmt"
	"math"
	"slices"
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
	MemorySize        int     // N items per memory (DefaultMemorySize)
	ShrinkThreshold   float64 // λ (memory.DefaultThreshold)
	CosineSimilarity  bool    // cosine (true, the default) or dot-product addressing
	EntropyLoss       string  // "thesis" (default) | "paper"
	EntropyLossWeight float64 // DefaultEntropyLossWeight
	NumConditions     int     // 1 = plain MemAE/AE; >1 conditional (memories / AEs / one-hot size)
	SelectionMetric   string  // unknown-condition self-selection: "sum" (default) | "max" | "recon"

	// Formulation is how the layers express convolutions and batch norm in the
	// graph (layers.Auto, the default: Fast on the pure-Go backend, Native
	// elsewhere). Every formulation computes the same function; tests and
	// benchmarks compare them.
	Formulation layers.Formulation `json:",omitempty"`
}

// DefaultEntropyLossWeight is the thesis's weight of the entropy loss term.
const DefaultEntropyLossWeight = 0.0002

// DefaultMemorySize is the thesis's number of memory items N for arch: 10 on
// MNIST and Fashion-MNIST, 125 on CIFAR-10.
func DefaultMemorySize(arch string) int {
	if strings.HasPrefix(arch, "cifar") {
		return 125
	}
	return 10
}

// DefaultConfig returns the thesis defaults for arch and kind (unvalidated: an
// unknown name is reported by Validate). They are the one definition of the
// model defaults: package config takes the model group's defaults from here.
func DefaultConfig(arch, kind string) Config {
	return Config{
		Arch:              arch,
		Kind:              kind,
		MemorySize:        DefaultMemorySize(arch),
		ShrinkThreshold:   memory.DefaultThreshold,
		CosineSimilarity:  true,
		EntropyLoss:       string(memory.EntropyThesis),
		EntropyLossWeight: DefaultEntropyLossWeight,
		NumConditions:     1,
		SelectionMetric:   string(memory.MetricSum),
	}
}

// withDefaults fills the names left empty ("" entropy loss and selection
// metric) from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig(c.Arch, c.Kind)
	if c.EntropyLoss == "" {
		c.EntropyLoss = d.EntropyLoss
	}
	if c.SelectionMetric == "" {
		c.SelectionMetric = d.SelectionMetric
	}
	return c
}

// FieldError is one invalid field of a Config. Key names the field as the
// configuration key, so that package config reports it in its own terms
// (its suggestions for enumerated values included).
type FieldError struct {
	Field   string   // Config field, e.g. "MemorySize"
	Key     string   // configuration key, e.g. "model.memory_size"; "" for NumConditions
	What    string   // an enumerated field's name in messages, e.g. "arch"
	Value   string   // an enumerated field's invalid value
	Valid   []string // an enumerated field's valid values (nil for other fields)
	Problem string   // what is wrong with another field, e.g. "must be >= 1, got 0"
}

func (e *FieldError) Error() string {
	if e.Valid != nil {
		return fmt.Sprintf("models: unknown %s %q (valid: %s)", e.What, e.Value, strings.Join(e.Valid, ", "))
	}
	return fmt.Sprintf("models: %s %s", e.Field, e.Problem)
}

// Validate checks every field ("" entropy loss and selection metric mean the
// defaults); the error joins the Problems, unknown names list the valid
// choices.
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.Problems() {
		errs = append(errs, p)
	}
	return errors.Join(errs...)
}

// Problems lists every invalid field of c: the one definition of the
// model's rules (package config reports them with their keys).
func (c Config) Problems() []*FieldError {
	c = c.withDefaults()
	var out []*FieldError
	enum := func(field, key, what, value string, valid []string) {
		if !slices.Contains(valid, value) {
			out = append(out, &FieldError{Field: field, Key: key, What: what, Value: value, Valid: valid})
		}
	}
	bad := func(field, key, format string, args ...any) {
		out = append(out, &FieldError{Field: field, Key: key, Problem: fmt.Sprintf(format, args...)})
	}
	enum("Kind", "model.name", "kind", c.Kind, Kinds)
	enum("Arch", "model.arch", "arch", c.Arch, ArchNames())
	if c.NumConditions < 1 {
		bad("NumConditions", "", "must be >= 1, got %d", c.NumConditions)
	}
	enum("SelectionMetric", "model.selection_metric", "selection metric", c.SelectionMetric, names(memory.Metrics))
	switch c.Kind {
	case KindMemAE:
		if c.MemorySize < 1 {
			bad("MemorySize", "model.memory_size", "must be >= 1, got %d", c.MemorySize)
		}
		if !(c.ShrinkThreshold >= 0 && c.ShrinkThreshold < 1) {
			bad("ShrinkThreshold", "model.shrink_threshold", "must be in [0, 1), got %g", c.ShrinkThreshold)
		}
		enum("EntropyLoss", "model.entropy_loss", "entropy loss", c.EntropyLoss, names(memory.EntropyVariants))
		if !(c.EntropyLossWeight >= 0) || math.IsInf(c.EntropyLossWeight, 0) {
			bad("EntropyLossWeight", "model.entropy_loss_weight", "must be >= 0, got %g", c.EntropyLossWeight)
		}
	case KindCondAE:
		if arch, ok := archs[c.Arch]; ok && !arch.Flat() {
			bad("Arch", "model.arch", "%q does not fit kind cond-ae: cond-ae needs a flat architecture (valid: %s)",
				c.Arch, strings.Join(flatArchNames(), ", "))
		}
	}
	return out
}

// names are the text forms of a list of named values.
func names[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = string(v)
	}
	return out
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
