package models

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/cmemae/cmemae/pkg/memory"
)

// DefaultMemoryPath is where the items live when the model is built on store.RootScope().
var DefaultMemoryPath = "/" + MemoryScopeName + "/" + memory.ItemsVariable

// memoryVariable finds the memory items variable in store: DefaultMemoryPath, or
// the unique variable whose path ends in /memory/items.
func (m *Model) memoryVariable(store *model.Store) (*model.Variable, error) {
	if !m.HasMemory() {
		return nil, fmt.Errorf("models: a %q model has no memory", m.cfg.Kind)
	}
	if v := store.GetVariable(DefaultMemoryPath); v != nil {
		return v, nil
	}
	var found *model.Variable
	for v := range store.IterVariables() {
		if strings.HasSuffix(v.Path(), DefaultMemoryPath) {
			if found != nil {
				return nil, fmt.Errorf("models: several memory variables in the store (%s, %s)", found.Path(), v.Path())
			}
			found = v
		}
	}
	if found == nil {
		return nil, errors.New("models: no memory variable in the store yet (build a graph with the model first, e.g. InitializeVariables)")
	}
	return found, nil
}

// Memories returns the memory items as one [N, C] float32 tensor per condition.
func (m *Model) Memories(store *model.Store) ([]*tensors.Tensor, error) {
	v, err := m.memoryVariable(store)
	if err != nil {
		return nil, err
	}
	t, err := v.Value()
	if err != nil {
		return nil, fmt.Errorf("models: reading memory %s: %w", v.Path(), err)
	}
	data, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return nil, fmt.Errorf("models: reading memory %s: %w", v.Path(), err)
	}
	dims := t.Shape().Dimensions
	k, n, c := dims[0], dims[1], dims[2]
	out := make([]*tensors.Tensor, k)
	for i := range k {
		out[i] = tensors.FromFlatDataAndDimensions(append([]float32(nil), data[i*n*c:(i+1)*n*c]...), n, c)
	}
	return out, nil
}

// SetMemories replaces the memory items with mems (one [N, C] tensor per
// condition, all the same N). N and the number of conditions may change: the
// model's Config follows (MemorySize = N, NumConditions = len(mems)); graphs built
// before must be rebuilt. Optimizer state of the memory whose shape no longer fits
// (variables named <path>_*, like Adam's /adam/memory/items_1st_moment) is deleted.
func (m *Model) SetMemories(store *model.Store, mems []*tensors.Tensor) error {
	if !m.HasMemory() {
		return fmt.Errorf("models: a %q model has no memory", m.cfg.Kind)
	}
	if len(mems) == 0 {
		return errors.New("models: SetMemories needs at least one memory")
	}
	_, _, c := m.LatentShape()
	n := -1
	var data []float32
	for i, t := range mems {
		if t == nil || t.Shape().Rank() != 2 || t.Shape().DType != dtypes.Float32 {
			return fmt.Errorf("models: memory %d must be a [N, %d] float32 tensor, got %v", i, c, shapeOf(t))
		}
		if t.Shape().Dim(1) != c {
			return fmt.Errorf("models: memory %d has %d features, the latent has %d", i, t.Shape().Dim(1), c)
		}
		if n == -1 {
			n = t.Shape().Dim(0)
		} else if t.Shape().Dim(0) != n {
			return fmt.Errorf("models: memories must all have the same size, memory %d has %d items, memory 0 has %d", i, t.Shape().Dim(0), n)
		}
		d, err := tensors.CopyFlatData[float32](t)
		if err != nil {
			return fmt.Errorf("models: reading memory %d: %w", i, err)
		}
		data = append(data, d...)
	}
	path := DefaultMemoryPath
	if v, err := m.memoryVariable(store); err == nil {
		path = v.Path()
		if err := store.DeleteVariable(path); err != nil {
			return fmt.Errorf("models: replacing memory %s: %w", path, err)
		}
	}
	if _, err := store.CreateVariable(path, tensors.FromFlatDataAndDimensions(data, len(mems), n, c)); err != nil {
		return fmt.Errorf("models: setting memory %s: %w", path, err)
	}
	// Optimizer state of the memory (e.g. Adam's <opt>/memory/items_1st_moment)
	// with the old shape would make the next training graph fail: drop it.
	newShape := shapes.Make(dtypes.Float32, len(mems), n, c)
	var stale []string
	for v := range store.IterVariables() {
		if v.Path() != path && strings.Contains(v.Path(), path+"_") && !v.Shape().Equal(newShape) {
			stale = append(stale, v.Path())
		}
	}
	for _, p := range stale {
		if err := store.DeleteVariable(p); err != nil {
			return fmt.Errorf("models: dropping stale optimizer state %s: %w", p, err)
		}
	}
	m.cfg.MemorySize = n
	m.cfg.NumConditions = len(mems)
	return nil
}

func shapeOf(t *tensors.Tensor) any {
	if t == nil {
		return "nil"
	}
	return t.Shape()
}

// InitializeVariables creates and initialises every variable of the model in
// store (under the root scope) by building and running an inference graph on a
// batch of zeros. Seed the store first (store.SetRNGStateFromSeed) for a
// deterministic initialisation.
func (m *Model) InitializeVariables(backend compute.Backend, store *model.Store) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("models: initialising variables: %v", r)
		}
	}()
	h, w, c := m.InputShape()
	exec, err := model.NewExec(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		cond := graph.Zeros(x.Graph(), shapes.Make(dtypes.Int32, x.Shape().Dim(0)))
		mode := CondNone
		if m.Conditional() {
			mode = CondKnown
		}
		return m.Forward(scope, x, cond, mode).Loss
	})
	if err != nil {
		return fmt.Errorf("models: initialising variables: %w", err)
	}
	defer exec.Finalize()
	if _, err := exec.Call(tensors.FromShape(shapes.Make(dtypes.Float32, 2, h, w, c))); err != nil {
		return fmt.Errorf("models: initialising variables: %w", err)
	}
	return nil
}

// RandomMemory returns fresh memory items [n, c] drawn uniformly in ±1/√c (the
// MemAE initialisation), e.g. for the few-shot "delete memory" and "conditional →
// deleted" initialisations together with SetMemories.
func RandomMemory(n, c int, rng *rand.Rand) *tensors.Tensor {
	bound := 1 / math.Sqrt(float64(c))
	d := make([]float32, n*c)
	for i := range d {
		d[i] = float32((rng.Float64()*2 - 1) * bound)
	}
	return tensors.FromFlatDataAndDimensions(d, n, c)
}
