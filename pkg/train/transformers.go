package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/models"
)

// The few-shot memory initialisations (model.model_transformers) are named
// and documented by config.Transformer; package config checks them (with
// the rest of the configuration) before anything runs. Their behaviour:
//
//   - transfer keeps everything loaded from from_checkpoint (transfer
//     learning).
//   - delete_memory re-initialises the memory (uniform in ±1/√C), keeping the
//     number of memories and their size N.
//   - copy_samples makes the k encoded training samples the memory (N = k).
//   - copy_best_fitting takes, for each of the k encoded training samples, the
//     item with the highest pre-softmax similarity across all (conditional)
//     memories; those k items become one memory (N = k).
//   - conditional_to_deleted replaces the (conditional) memories by one fresh
//     memory of the same size N.
//   - freeze makes the run change no weights: every epoch only evaluates.

// fewShot is the state the transformers act on.
type fewShot struct {
	backend compute.Backend
	model   *models.Model
	store   *model.Store
	train   *data.Subset
	src     *Checkpoint // from_checkpoint, or nil
	rng     *rand.Rand
	frozen  bool
	// batchSize used to encode the training samples.
	batchSize int
}

// loadSource copies the model variables of the source checkpoint into the
// store: every variable the (freshly initialised) model has, except the memory
// and the RNG state, must exist in the checkpoint with the same shape. The
// memories of the source (any number and size) replace the model's memories.
func (f *fewShot) loadSource() error {
	srcVars := map[string]*model.Variable{}
	for v := range f.src.Store.IterVariables() {
		srcVars[v.Path()] = v
	}
	var targets []*model.Variable
	for v := range f.store.IterVariables() {
		targets = append(targets, v)
	}
	for _, v := range targets {
		p := v.Path()
		if isMemoryPath(p) || isRNGPath(p) {
			continue
		}
		sv, ok := srcVars[p]
		if !ok {
			return fmt.Errorf("train: from_checkpoint %s has no variable %s: was it trained with another model (it is %s/%s, this run is %s/%s)?",
				f.src.Dir, p, f.src.State.Model.Arch, f.src.State.Model.Kind, f.model.Config().Arch, f.model.Config().Kind)
		}
		if !sv.Shape().Equal(v.Shape()) {
			return fmt.Errorf("train: from_checkpoint %s: variable %s has shape %s, this model needs %s",
				f.src.Dir, p, sv.Shape(), v.Shape())
		}
		val, err := sv.Value()
		if err != nil {
			return fmt.Errorf("train: from_checkpoint %s: %w", f.src.Dir, err)
		}
		clone, err := val.LocalClone()
		if err != nil {
			return fmt.Errorf("train: from_checkpoint %s: variable %s: %w", f.src.Dir, p, err)
		}
		if err := v.SetValue(clone); err != nil {
			return fmt.Errorf("train: from_checkpoint %s: variable %s: %w", f.src.Dir, p, err)
		}
	}
	if f.model.HasMemory() && f.src.Model.HasMemory() {
		mems, err := f.src.Model.Memories(f.src.Store)
		if err != nil {
			return fmt.Errorf("train: from_checkpoint %s: %w", f.src.Dir, err)
		}
		if err := f.model.SetMemories(f.store, mems); err != nil {
			return fmt.Errorf("train: from_checkpoint %s: %w", f.src.Dir, err)
		}
	}
	return nil
}

func isMemoryPath(p string) bool {
	return strings.HasPrefix(p, "/"+models.MemoryScopeName+"/") || strings.Contains(p, "/"+models.MemoryScopeName+"/")
}

// isRNGPath reports the store's random-number-generator state variable.
func isRNGPath(p string) bool { return p == model.JoinPath("/", model.RNGStateVariableName) }

// apply runs one transformer. config.Experiment.ValidateRun has checked its
// needs (from_checkpoint, k samples, a memory model).
func (f *fewShot) apply(t config.Transformer) error {
	cfg := f.model.Config()
	switch t {
	case config.TransformTransfer:
		return nil
	case config.TransformFreeze:
		f.frozen = true
		return nil
	case config.TransformDeleteMemory:
		return f.setFresh(cfg.NumConditions, cfg.MemorySize)
	case config.TransformConditionalToDeleted:
		return f.setFresh(1, cfg.MemorySize)
	case config.TransformCopySamples:
		z, n, c, err := f.encodeTrain()
		if err != nil {
			return err
		}
		return f.model.SetMemories(f.store, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(z, n, c)})
	case config.TransformCopyBestFitting:
		z, n, c, err := f.encodeTrain()
		if err != nil {
			return err
		}
		mems, err := f.model.Memories(f.store)
		if err != nil {
			return err
		}
		var items [][]float32
		for _, mem := range mems {
			d, err := tensors.CopyFlatData[float32](mem)
			if err != nil {
				return fmt.Errorf("train: %s: %w", t, err)
			}
			for i := range mem.Shape().Dim(0) {
				items = append(items, d[i*c:(i+1)*c])
			}
		}
		best := BestFitting(z, n, c, items, cfg.CosineSimilarity)
		return f.model.SetMemories(f.store, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(best, n, c)})
	}
	return fmt.Errorf("train: unknown model transformer %q", t)
}

// setFresh replaces the memories by count fresh memories of n items drawn
// uniformly in ±1/√C, as the memory's own initialiser does.
func (f *fewShot) setFresh(count, n int) error {
	_, _, c := f.model.LatentShape()
	bound := 1 / math.Sqrt(float64(c))
	mems := make([]*tensors.Tensor, count)
	for k := range mems {
		d := make([]float32, n*c)
		for i := range d {
			d[i] = float32((2*f.rng.Float64() - 1) * bound)
		}
		mems[k] = tensors.FromFlatDataAndDimensions(d, n, c)
	}
	return f.model.SetMemories(f.store, mems)
}

// encodeTrain encodes the training samples (inference mode) and averages each
// latent over its positions: [n, C].
func (f *fewShot) encodeTrain() (z []float32, n, c int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("train: encoding the training samples: %v", r)
		}
	}()
	_, _, lc := f.model.LatentShape()
	exec, err := model.NewExec(f.backend, f.store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		lat := f.model.Encode(scope, x) // [B, h, w, C]
		return graph.ReduceMean(lat, 1, 2)
	})
	if err != nil {
		return nil, 0, 0, fmt.Errorf("train: encoding the training samples: %w", err)
	}
	defer exec.Finalize()
	d := f.train.Source
	for b := range f.train.Batches(f.batchSize, false, nil) {
		out, err := exec.Call(tensors.FromFlatDataAndDimensions(b.Images, b.Size, d.H, d.W, d.C))
		if err != nil {
			return nil, 0, 0, fmt.Errorf("train: encoding the training samples: %w", err)
		}
		v, err := tensors.CopyFlatData[float32](out[0])
		if err != nil {
			return nil, 0, 0, fmt.Errorf("train: encoding the training samples: %w", err)
		}
		z = append(z, v...)
	}
	return z, f.train.Len(), lc, nil
}

// BestFitting returns, for each of the n latents z [n, C], the item (from
// items, each of length C) with the highest pre-softmax similarity — cosine
// (eps 1e-8, as the memory unit) or dot product: [n, C].
func BestFitting(z []float32, n, c int, items [][]float32, cosine bool) []float32 {
	norm := func(v []float32) float64 {
		s := 0.0
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		return math.Sqrt(s)
	}
	itemNorms := make([]float64, len(items))
	for j, it := range items {
		itemNorms[j] = norm(it)
	}
	out := make([]float32, 0, n*c)
	for i := range n {
		zi := z[i*c : (i+1)*c]
		zn := norm(zi)
		bestJ, bestS := -1, math.Inf(-1)
		for j, it := range items {
			dot := 0.0
			for k := range c {
				dot += float64(zi[k]) * float64(it[k])
			}
			s := dot
			if cosine {
				s = dot / math.Max(zn*itemNorms[j], 1e-8)
			}
			if s > bestS {
				bestJ, bestS = j, s
			}
		}
		out = append(out, items[bestJ]...)
	}
	return out
}
