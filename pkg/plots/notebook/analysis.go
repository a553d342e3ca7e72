package notebook

import (
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/cmemae/cmemae/pkg/models"
	"github.com/cmemae/cmemae/pkg/train"
)

// Analysis is one forward pass of a trained model over a few images, with
// everything the memory notebook plots. Slices are flat, row-major.
type Analysis struct {
	N       int // images
	H, W, C int // image shape
	// Recon are the reconstructions, N×H×W×C, in the normalised space of the inputs.
	Recon []float32
	// Latent is the encoder output, N×LH×LW×LC.
	Latent     []float32
	LH, LW, LC int
	// Similarities (pre-softmax addressing) and Weights (post-shrinkage
	// addressing) of the memory used, N×P×M with P = LH·LW positions and M
	// memory items; nil for models without memory.
	Similarities, Weights []float32
	P, M                  int
	// Errors is the per-image mean squared reconstruction error (anomaly score).
	Errors []float32
	// Chosen is the memory (or AE) used per image for conditional models (nil otherwise).
	Chosen []int32
}

// Vector returns row (image i, position p) of a flat N×P×M tensor as float64.
func (a *Analysis) Vector(t []float32, i, p int) []float64 {
	out := make([]float64, a.M)
	for j := range a.M {
		out[j] = float64(t[(i*a.P+p)*a.M+j])
	}
	return out
}

// LatentVector returns image i's latent at position p (LC values).
func (a *Analysis) LatentVector(i, p int) []float64 {
	out := make([]float64, a.LC)
	for j := range a.LC {
		out[j] = float64(a.Latent[(i*a.LH*a.LW+p)*a.LC+j])
	}
	return out
}

// Softmax is the post-softmax, pre-shrinkage addressing of pre-softmax
// similarities s: w_j = exp(s_j)/Σ exp(s_k).
func Softmax(s []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range s {
		m = math.Max(m, v)
	}
	out := make([]float64, len(s))
	sum := 0.0
	for i, v := range s {
		out[i] = math.Exp(v - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// Analyse runs the checkpoint's model on n channels-last images (in inference
// mode). cond gives each image's condition index for CondKnown (nil otherwise).
func Analyse(b compute.Backend, ck *train.Checkpoint, images []float32, n int, cond []int32, mode models.Conditional) (a *Analysis, err error) {
	if ck == nil || ck.Model == nil {
		return nil, errors.New("notebook: Analyse: no checkpoint")
	}
	h, w, c := ck.Model.InputShape()
	if n <= 0 || len(images) != n*h*w*c {
		return nil, fmt.Errorf("notebook: Analyse: %d values for %d images of %dx%dx%d", len(images), n, h, w, c)
	}
	if cond == nil {
		cond = make([]int32, n)
	}
	if len(cond) != n {
		return nil, fmt.Errorf("notebook: Analyse: %d conditions for %d images", len(cond), n)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("notebook: Analyse: %v", p)
		}
	}()
	m := ck.Model
	hasMem := m.HasMemory()
	exec, err := model.NewExec(b, ck.Store, func(scope *model.Scope, x, cd *graph.Node) []*graph.Node {
		out := m.Forward(scope, x, cd, mode)
		chosen := out.Chosen
		if chosen == nil {
			chosen = graph.Zeros(x.Graph(), shapes.Make(dtypes.Int32, x.Shape().Dim(0)))
		} else {
			chosen = graph.ConvertDType(chosen, dtypes.Int32)
		}
		res := []*graph.Node{out.Recon, out.Latent, out.PerImageErr, chosen}
		if hasMem {
			res = append(res, out.Similarities, out.Weights)
		}
		return res
	})
	if err != nil {
		return nil, fmt.Errorf("notebook: Analyse: %w", err)
	}
	defer exec.Finalize()
	outs, err := exec.Call(tensors.FromFlatDataAndDimensions(append([]float32(nil), images...), n, h, w, c),
		tensors.FromFlatDataAndDimensions(append([]int32(nil), cond...), n))
	if err != nil {
		return nil, fmt.Errorf("notebook: Analyse: %w", err)
	}
	a = &Analysis{N: n, H: h, W: w, C: c}
	if a.Recon, err = tensors.CopyFlatData[float32](outs[0]); err != nil {
		return nil, err
	}
	ld := outs[1].Shape().Dimensions
	a.LH, a.LW, a.LC = ld[1], ld[2], ld[3]
	if a.Latent, err = tensors.CopyFlatData[float32](outs[1]); err != nil {
		return nil, err
	}
	if a.Errors, err = tensors.CopyFlatData[float32](outs[2]); err != nil {
		return nil, err
	}
	if m.Conditional() {
		if a.Chosen, err = tensors.CopyFlatData[int32](outs[3]); err != nil {
			return nil, err
		}
	}
	if hasMem {
		sd := outs[4].Shape().Dimensions
		a.P, a.M = sd[1], sd[2]
		if a.Similarities, err = tensors.CopyFlatData[float32](outs[4]); err != nil {
			return nil, err
		}
		if a.Weights, err = tensors.CopyFlatData[float32](outs[5]); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// DecodeMemory decodes the items of memory k (0 for an unconditional model)
// into images: each item fills every latent position. It returns N×H×W×C values
// and N.
func DecodeMemory(b compute.Backend, ck *train.Checkpoint, k int) (imgs []float32, n int, err error) {
	if ck == nil || ck.Model == nil || !ck.Model.HasMemory() {
		return nil, 0, errors.New("notebook: DecodeMemory: not a memory model")
	}
	mems, err := ck.Model.Memories(ck.Store)
	if err != nil {
		return nil, 0, fmt.Errorf("notebook: DecodeMemory: %w", err)
	}
	if k < 0 || k >= len(mems) {
		return nil, 0, fmt.Errorf("notebook: DecodeMemory: memory %d of %d", k, len(mems))
	}
	items, err := tensors.CopyFlatData[float32](mems[k])
	if err != nil {
		return nil, 0, err
	}
	n, c := mems[k].Shape().Dim(0), mems[k].Shape().Dim(1)
	lh, lw, lc := ck.Model.LatentShape()
	if lc != c {
		return nil, 0, fmt.Errorf("notebook: DecodeMemory: items have %d features, latent has %d", c, lc)
	}
	z := make([]float32, 0, n*lh*lw*c)
	for i := range n {
		for range lh * lw {
			z = append(z, items[i*c:(i+1)*c]...)
		}
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("notebook: DecodeMemory: %v", p)
		}
	}()
	m := ck.Model
	exec, err := model.NewExec(b, ck.Store, func(scope *model.Scope, z *graph.Node) *graph.Node {
		return m.Decode(scope, z)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("notebook: DecodeMemory: %w", err)
	}
	defer exec.Finalize()
	outs, err := exec.Call(tensors.FromFlatDataAndDimensions(z, n, lh, lw, c))
	if err != nil {
		return nil, 0, fmt.Errorf("notebook: DecodeMemory: %w", err)
	}
	imgs, err = tensors.CopyFlatData[float32](outs[0])
	return imgs, n, err
}
