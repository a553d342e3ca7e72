package models

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/cmemae/cmemae/pkg/layers"
	"github.com/cmemae/cmemae/pkg/memory"
)

// declareVariables creates (if needed) every variable of the model and feeds it
// to graph g before any computation is built.
//
// Why: the pure-Go backend (compute v0.1.2) panics with "index out of range" when
// a graph parameter is created after the last node the outputs depend on (e.g.
// a graph that returns only Output.Latent, leaving the decoder's variables
// unused). Declaring all variables first gives them the lowest node indices,
// which the backend handles.
func (m *Model) declareVariables(scope *model.Scope, g *graph.Graph) {
	units := []*model.Scope{scope}
	if m.cfg.Kind == KindMultiAE {
		units = units[:0]
		for k := range m.cfg.NumConditions {
			units = append(units, scope.At("ae_%d", k))
		}
	}
	use := func(vs ...*model.Variable) {
		for _, v := range vs {
			v.NodeValue(g)
		}
	}
	for _, u := range units {
		enc := u.At("encoder")
		for i, spec := range m.arch.Encoder {
			use(pair(layers.Conv2DVariables(enc.At("conv_%d", i), spec))...)
			use(quad(layers.BatchNorm2DVariables(enc.At("bn_%d", i), spec.Out))...)
		}
		dec := u.At("decoder")
		for i, spec := range m.arch.Decoder {
			use(pair(layers.ConvTranspose2DVariables(dec.At("convt_%d", i), spec))...)
			if i < len(m.arch.Decoder)-1 {
				use(quad(layers.BatchNorm2DVariables(dec.At("bn_%d", i), spec.Out))...)
			}
		}
	}
	switch m.cfg.Kind {
	case KindMemAE:
		_, _, c := m.LatentShape()
		memory.Items(scope.At(MemoryScopeName), g, m.cfg.NumConditions, m.cfg.MemorySize, c)
	case KindCondAE:
		d, k := m.arch.CondDim, m.cfg.NumConditions
		cs := scope.At("condition")
		use(pair(layers.DenseVariables(cs.At("dense_0"), d+k, d))...)
		use(pair(layers.DenseVariables(cs.At("dense_1"), d, d))...)
	}
}

func pair(a, b *model.Variable) []*model.Variable { return []*model.Variable{a, b} }

func quad(a, b, c, d *model.Variable) []*model.Variable { return []*model.Variable{a, b, c, d} }
