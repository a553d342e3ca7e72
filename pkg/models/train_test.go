package models

import (
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/internal/testbackend"
	"github.com/cmemae/cmemae/pkg/layers"
)

// trainer is a minimal training loop for tests and benchmarks: Adam on Output.Loss.
type trainer struct {
	m           *Model
	store       *model.Store
	step, evalE *model.Exec
}

func newTrainer(backend compute.Backend, m *Model, lr float64, seed int64) (*trainer, error) {
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(seed); err != nil {
		return nil, err
	}
	opt := optimizer.Adam().LearningRate(lr).Done()
	step, err := model.NewExec(backend, store, func(scope *model.Scope, x, cond *graph.Node) *graph.Node {
		g := x.Graph()
		scope.Store().SetTraining(g, true)
		out := m.Forward(scope, x, cond, CondKnown)
		opt.UpdateGraph(scope, g, out.Loss)
		return out.Loss
	})
	if err != nil {
		return nil, err
	}
	evalE, err := model.NewExec(backend, store, func(scope *model.Scope, x, cond *graph.Node) *graph.Node {
		return m.Forward(scope, x, cond, CondKnown).Loss
	})
	if err != nil {
		return nil, err
	}
	return &trainer{m: m, store: store, step: step, evalE: evalE}, nil
}

func mnistBatches(t testing.TB, n, batch int) []*tensors.Tensor {
	t.Helper()
	ds, err := data.Load("mnist", data.Train, data.LoadOptions{})
	if err != nil {
		t.Fatalf("loading MNIST: %v", err)
	}
	size := ds.H * ds.W * ds.C
	var out []*tensors.Tensor
	for start := 0; start+batch <= n; start += batch {
		out = append(out, tensors.FromFlatDataAndDimensions(
			append([]float32(nil), ds.Images[start*size:(start+batch)*size]...), batch, ds.H, ds.W, ds.C))
	}
	return out
}

func zerosCond(b int) *tensors.Tensor { return tensors.FromFlatDataAndDimensions(make([]int32, b), b) }

func scalar(t testing.TB, x *tensors.Tensor) float64 {
	return float64(tensors.MustCopyFlatData[float32](x)[0])
}

// TestTrainMNIST: a short run of mnist-flat MemAE (thesis defaults, Adam) on 320
// real MNIST training images lowers the reconstruction loss.
func TestTrainMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	backend := testbackend.Go(t)
	m := mustModel(t, DefaultConfig("mnist-flat", KindMemAE))
	tr, err := newTrainer(backend, m, 1e-3, 1)
	if err != nil {
		t.Fatal(err)
	}
	batches := mnistBatches(t, 320, 64)
	evalLoss := func() float64 {
		sum := 0.0
		for _, b := range batches {
			sum += scalar(t, tr.evalE.MustCall1(b, zerosCond(64)))
		}
		return sum / float64(len(batches))
	}
	var first, last float64
	for epoch := range 4 {
		sum := 0.0
		for _, b := range batches {
			sum += scalar(t, tr.step.MustCall1(b, zerosCond(64)))
		}
		sum /= float64(len(batches))
		if epoch == 0 {
			first = sum
		}
		last = sum
		t.Logf("epoch %d: mean train loss %.4f", epoch, sum)
	}
	final := evalLoss()
	t.Logf("train loss epoch 0 %.4f → epoch 3 %.4f; eval-mode loss after training %.4f", first, last, final)
	if !(last < 0.85*first) {
		t.Errorf("training did not lower the loss enough: %.4f → %.4f", first, last)
	}
	if !(final < first) {
		t.Errorf("eval-mode loss %.4f not below the first epoch's train loss %.4f", final, first)
	}
}

// BenchmarkTrainStep measures one Adam step of mnist-flat MemAE (batch 64) per
// formulation; img/s is reported as a metric.
func BenchmarkTrainStep(b *testing.B) {
	for _, arch := range []string{"mnist-flat", "cifar-flat"} {
		for _, f := range []layers.Formulation{layers.Fast, layers.Im2Col, layers.Native} {
			b.Run(arch+"/memae/"+f.String(), func(b *testing.B) {
				cfg := DefaultConfig(arch, KindMemAE)
				cfg.Formulation = f
				m := mustModel(b, cfg)
				tr, err := newTrainer(testbackend.Go(b), m, 1e-4, 1)
				if err != nil {
					b.Fatal(err)
				}
				h, w, c := m.InputShape()
				x := make([]float32, 64*h*w*c)
				for i := range x {
					x[i] = float32(i%17)/17 - 0.5
				}
				xt := tensors.FromFlatDataAndDimensions(x, 64, h, w, c)
				cond := zerosCond(64)
				tr.step.MustCall1(xt, cond) // compile
				start := cpuTime()
				b.ResetTimer()
				for b.Loop() {
					tr.step.MustCall1(xt, cond).FinalizeAll()
				}
				b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "img/s")
				// Process CPU time per step: comparable across runs on a loaded machine.
				b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
