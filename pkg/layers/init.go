package layers

import (
	"math"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// UniformInitializer returns a variable initializer drawing from U(-bound, bound)
// with the Store's random number generator (seed it with
// model.Store.SetRNGStateFromSeed or the "initializer_seed" parameter).
func UniformInitializer(scope *model.Scope, bound float64) model.VariableInitializer {
	store := scope.Store()
	return func(g *graph.Graph, shape shapes.Shape) *graph.Node {
		u := store.RandomUniform(g, shape) // [0, 1)
		return graph.AddScalar(graph.MulScalar(u, 2*bound), -bound)
	}
}

// FanInBound is PyTorch's default bound 1/√fan_in (kaiming-uniform with a=√5
// for weights; the same bound for biases).
func FanInBound(fanIn int) float64 {
	if fanIn <= 0 {
		return 0
	}
	return 1 / math.Sqrt(float64(fanIn))
}

// constInitializer fills a variable with a constant.
func constInitializer(value float64) model.VariableInitializer {
	return func(g *graph.Graph, shape shapes.Shape) *graph.Node {
		return graph.BroadcastToShape(graph.ConstAsDType(g, shape.DType, value), shape)
	}
}

// variable creates (or reuses) a float32 variable with the given initializer.
func variable(scope *model.Scope, name string, init model.VariableInitializer, dims ...int) *model.Variable {
	return scope.WithInitializer(init).VariableWithShape(name, shapes.Make(dtypeF32, dims...))
}

func shapeF32(dims ...int) shapes.Shape { return shapes.Make(dtypeF32, dims...) }
