package train

import (
	"context"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// benchRunner prepares a runner for the default mnist-flat MemAE on digit 0
// with the thesis's batch sizes (64 training, 500 test).
func benchRunner(b *testing.B, kind string) *runner {
	e := tinyExperiment(kind, 0, 1)
	e.Datamodule.BatchSize = 64
	opts := runOpts(b, e, []int{0}, b.TempDir())
	opts.MaxTestImages = 0
	s, err := resolve(opts)
	if err != nil {
		b.Fatal(err)
	}
	split, err := loadSplit(opts, s)
	if err != nil {
		b.Fatal(err)
	}
	r := &runner{opts: opts, s: s, backend: opts.Backend, split: split, res: &RunResult{}}
	if err := r.prepare(context.Background()); err != nil {
		b.Fatal(err)
	}
	return r
}

func firstBatch(r *runner, size int) (x, cond *tensors.Tensor) {
	d := r.split.Train.Source
	for bt := range r.split.Train.Batches(size, false, nil) {
		x = tensors.FromFlatDataAndDimensions(bt.Images, bt.Size, d.H, d.W, d.C)
		cond, _ = r.condTensor(bt.Labels, bt.Size)
		break
	}
	return x, cond
}

// BenchmarkTrainStep measures one Adam step of mnist-flat MemAE on a batch of
// 64 images (images/s = 64 / (ns/op · 1e-9)).
func BenchmarkTrainStep(b *testing.B) {
	r := benchRunner(b, "memae")
	x, cond := firstBatch(r, 64)
	if _, err := r.trainExec.Call(x, cond); err != nil { // compile
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := r.trainExec.Call(x, cond); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "img/s")
}

// BenchmarkEvaluate measures the evaluation of one target's test set
// (digit 0: 980 normal + 420 anomalous images, batches of 500).
func BenchmarkEvaluate(b *testing.B) {
	r := benchRunner(b, "memae")
	ts := &r.split.Tests[0]
	if _, _, _, err := r.evalBatches(context.Background(), &ts.Subset, 0); err != nil { // compile
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, _, _, err := r.evalBatches(context.Background(), &ts.Subset, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ts.Len()*b.N)/b.Elapsed().Seconds(), "img/s")
}
