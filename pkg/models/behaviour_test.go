package models

import (
	"math"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/internal/testbackend"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

func TestValidate(t *testing.T) {
	for _, arch := range ArchNames() {
		for _, kind := range Kinds {
			err := DefaultConfig(arch, kind).Validate()
			if kind == KindCondAE && !archs[arch].Flat() {
				if err == nil || !strings.Contains(err.Error(), "mnist-flat") {
					t.Errorf("%s/%s: want an error listing the flat archs, got %v", arch, kind, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s/%s: %v", arch, kind, err)
			}
		}
	}
	if got := DefaultConfig("cifar-flat", "memae").MemorySize; got != 125 {
		t.Errorf("cifar memory size %d, want 125", got)
	}
	bad := []struct {
		mutate func(*Config)
		want   string // substring of the error, listing valid choices
	}{
		{func(c *Config) { c.Arch = "mnist-flat3" }, "mnist, mnist-flat, mnist-flat2, cifar, cifar-flat"},
		{func(c *Config) { c.Kind = "vae" }, "ae, memae, cond-ae, multi-ae"},
		{func(c *Config) { c.EntropyLoss = "gong" }, "thesis, paper"},
		{func(c *Config) { c.SelectionMetric = "min" }, "sum, max, recon"},
		{func(c *Config) { c.MemorySize = 0 }, "MemorySize"},
		{func(c *Config) { c.NumConditions = 0 }, "NumConditions"},
		{func(c *Config) { c.ShrinkThreshold = -0.1 }, "ShrinkThreshold"},
		{func(c *Config) { c.EntropyLossWeight = math.NaN() }, "EntropyLossWeight"},
	}
	for _, b := range bad {
		c := DefaultConfig("mnist-flat", "memae")
		b.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("config %+v: error %v, want it to mention %q", c, err, b.want)
		}
		if _, err := New(c); err == nil {
			t.Errorf("New accepted %+v", c)
		}
	}
}

func mustModel(t testing.TB, cfg Config) *Model {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testImages returns b deterministic, distinct 28×28 images.
func testImages(b int) *tensors.Tensor { return goldenInput(b) }

func memoriesFlat(t testing.TB, m *Model, store *model.Store) [][]float32 {
	t.Helper()
	mems, err := m.Memories(store)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]float32, len(mems))
	for i, x := range mems {
		out[i] = tensors.MustCopyFlatData[float32](x)
	}
	return out
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestTrainStepChangesMemory: one Adam step on a C-MemAE with known condition 0
// changes memory unit 0 (gradients reach it) and leaves unit 1 untouched.
func TestTrainStepChangesMemory(t *testing.T) {
	backend := testbackend.Go(t)
	cfg := DefaultConfig("mnist-flat", KindMemAE)
	cfg.NumConditions = 2
	m := mustModel(t, cfg)
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(1); err != nil {
		t.Fatal(err)
	}
	if err := m.InitializeVariables(backend, store); err != nil {
		t.Fatal(err)
	}
	before := memoriesFlat(t, m, store)
	opt := optimizer.Adam().LearningRate(1e-3).Done()
	step := model.MustNewExec(backend, store, func(scope *model.Scope, x, cond *graph.Node) []*graph.Node {
		g := x.Graph()
		scope.Store().SetTraining(g, true)
		out := m.Forward(scope, x, cond, CondKnown)
		items := m.MemoryItems(scope, g)
		grad := graph.Gradient(out.Loss, items)[0]
		opt.UpdateGraph(scope, g, out.Loss)
		return []*graph.Node{out.Loss, graph.ReduceAllMax(graph.Abs(grad))}
	})
	res, err := step.Call(testImages(4), tensors.FromFlatDataAndDimensions([]int32{0, 0, 0, 0}, 4))
	if err != nil {
		t.Fatal(err)
	}
	gmax := tensors.MustCopyFlatData[float32](res[1])[0]
	after := memoriesFlat(t, m, store)
	d0, d1 := maxAbsDiff(before[0], after[0]), maxAbsDiff(before[1], after[1])
	t.Logf("loss %v, max |dLoss/dMemory| %.3g, memory change unit0 %.3g unit1 %.3g", res[0], gmax, d0, d1)
	if gmax <= 0 {
		t.Errorf("no gradient reaches the memory")
	}
	if d0 < 1e-4 {
		t.Errorf("memory unit 0 unchanged after a training step (max change %g)", d0)
	}
	if d1 != 0 {
		t.Errorf("memory unit 1 changed (%g) though no sample used it", d1)
	}
}

// latents encodes x in inference mode.
func latents(t testing.TB, m *Model, store *model.Store, x *tensors.Tensor) []float32 {
	t.Helper()
	exec := model.MustNewExec(testbackend.Go(t), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return m.Encode(scope, x)
	})
	return tensors.MustCopyFlatData[float32](exec.MustCall1(x))
}

// TestSelfSelection: unit 1 stores copies of sample 0's latent and unit 2 of
// sample 1's; self-selection (sum: all items are copies; max: one item is) picks them.
func TestSelfSelection(t *testing.T) {
	backend := testbackend.Go(t)
	for _, metric := range []string{"sum", "max"} {
		cfg := DefaultConfig("mnist-flat", KindMemAE)
		cfg.NumConditions, cfg.SelectionMetric = 3, metric
		m := mustModel(t, cfg)
		store := model.NewStore()
		_ = store.SetRNGStateFromSeed(3)
		if err := m.InitializeVariables(backend, store); err != nil {
			t.Fatal(err)
		}
		x := testImages(2)
		z := latents(t, m, store, x) // [2, 1, 1, 64]
		mems := memoriesFlat(t, m, store)
		copies := cfg.MemorySize
		if metric == "max" {
			copies = 1
		}
		for j := range copies {
			copy(mems[1][j*64:], z[:64])
			copy(mems[2][(cfg.MemorySize-1-j)*64:], z[64:])
		}
		var ts []*tensors.Tensor
		for _, mm := range mems {
			ts = append(ts, tensors.FromFlatDataAndDimensions(mm, cfg.MemorySize, 64))
		}
		if err := m.SetMemories(store, ts); err != nil {
			t.Fatal(err)
		}
		exec := model.MustNewExec(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
			return m.Forward(scope, x, nil, CondUnknown).Chosen
		})
		chosen := tensors.MustCopyFlatData[int32](exec.MustCall1(x))
		if chosen[0] != 1 || chosen[1] != 2 {
			t.Errorf("%s: chosen %v, want [1 2]", metric, chosen)
		}
	}
}

// TestReconSelectionIsLowestError: with metric recon (C-MemAE, cond-AE, multi-AE)
// the chosen unit is the one whose known-condition reconstruction error is lowest.
func TestReconSelectionIsLowestError(t *testing.T) {
	backend := testbackend.Go(t)
	for _, kind := range []string{KindMemAE, KindCondAE, KindMultiAE} {
		cfg := DefaultConfig("mnist-flat", kind)
		cfg.NumConditions, cfg.SelectionMetric = 3, "recon"
		m := mustModel(t, cfg)
		store := model.NewStore()
		_ = store.SetRNGStateFromSeed(5)
		x := testImages(4)
		unknown := model.MustNewExec(backend, store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
			o := m.Forward(scope, x, nil, CondUnknown)
			return []*graph.Node{o.Chosen, o.PerImageErr}
		})
		res := unknown.MustCall(x)
		chosen := tensors.MustCopyFlatData[int32](res[0])
		errU := tensors.MustCopyFlatData[float32](res[1])
		known := model.MustNewExec(backend, store, func(scope *model.Scope, x, c *graph.Node) *graph.Node {
			return m.Forward(scope, x, c, CondKnown).PerImageErr
		})
		best := make([]float32, 4)
		bestK := make([]int32, 4)
		for k := range 3 {
			cond := []int32{int32(k), int32(k), int32(k), int32(k)}
			e := tensors.MustCopyFlatData[float32](known.MustCall1(x, tensors.FromFlatDataAndDimensions(cond, 4)))
			for b := range 4 {
				if k == 0 || e[b] < best[b] {
					best[b], bestK[b] = e[b], int32(k)
				}
			}
		}
		for b := range 4 {
			if chosen[b] != bestK[b] || math.Abs(float64(errU[b]-best[b])) > 1e-5*float64(best[b]) {
				t.Errorf("%s: sample %d chose %d (err %g), lowest error is unit %d (%g)", kind, b, chosen[b], errU[b], bestK[b], best[b])
			}
		}
		t.Logf("%s: chosen %v, errors %v", kind, chosen, errU)
	}
}

// TestSetMemoriesChangesSize: the few-shot "copy samples" initialisation sets N = k.
func TestSetMemoriesChangesSize(t *testing.T) {
	backend := testbackend.Go(t)
	m := mustModel(t, DefaultConfig("mnist", KindMemAE))
	store := model.NewStore()
	if _, err := m.Memories(store); err == nil {
		t.Error("Memories before the variables exist should fail")
	}
	if err := m.InitializeVariables(backend, store); err != nil {
		t.Fatal(err)
	}
	mems := memoriesFlat(t, m, store)
	if len(mems) != 1 || len(mems[0]) != 10*8 {
		t.Fatalf("memories %d×%d, want 1×80", len(mems), len(mems[0]))
	}
	bound := 1 / math.Sqrt(8)
	for _, v := range mems[0] {
		if math.Abs(float64(v)) > bound {
			t.Fatalf("memory item value %g outside ±1/√C = %g", v, bound)
		}
	}
	items := make([]float32, 3*8)
	for i := range items {
		items[i] = float32(i)
	}
	// Adam state of the memory exists after a training step; changing N must not break training.
	opt := optimizer.Adam().Done()
	step := model.MustNewExec(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		scope.Store().SetTraining(x.Graph(), true)
		out := m.Forward(scope, x, nil, CondNone)
		opt.UpdateGraph(scope, x.Graph(), out.Loss)
		return out.Loss
	})
	step.MustCall1(testImages(2))
	if err := m.SetMemories(store, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(items, 3, 8)}); err != nil {
		t.Fatal(err)
	}
	if got := memoriesFlat(t, m, store)[0]; maxAbsDiff(got, items) != 0 {
		t.Errorf("Memories after SetMemories = %v", got)
	}
	step2 := model.MustNewExec(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		scope.Store().SetTraining(x.Graph(), true)
		out := m.Forward(scope, x, nil, CondNone)
		opt.UpdateGraph(scope, x.Graph(), out.Loss)
		return out.Loss
	})
	if _, err := step2.Call(testImages(2)); err != nil {
		t.Fatalf("training after SetMemories changed N: %v", err)
	}
	items = tensors.MustCopyFlatData[float32](store.GetVariable(DefaultMemoryPath).MustValue())
	if m.Config().MemorySize != 3 {
		t.Errorf("MemorySize %d after SetMemories, want 3", m.Config().MemorySize)
	}
	exec := model.MustNewExec(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return m.Forward(scope, x, nil, CondNone).Weights
	})
	w := exec.MustCall1(testImages(2))
	if got := w.Shape().Dimensions; got[0] != 2 || got[1] != 9 || got[2] != 3 {
		t.Errorf("weights shape %v, want [2 9 3]", got)
	}
	if got := memoriesFlat(t, m, store)[0]; maxAbsDiff(got, items) != 0 {
		t.Errorf("Memories after SetMemories = %v", got)
	}
	// Errors: wrong feature size, mixed sizes.
	if err := m.SetMemories(store, []*tensors.Tensor{tensors.FromShape(shapes.Make(dtypes.Float32, 3, 7))}); err == nil {
		t.Error("SetMemories accepted 7 features for an 8-channel latent")
	}
	if err := m.SetMemories(store, []*tensors.Tensor{tensors.FromShape(shapes.Make(dtypes.Float32, 3, 8)),
		tensors.FromShape(shapes.Make(dtypes.Float32, 4, 8))}); err == nil {
		t.Error("SetMemories accepted memories of different sizes")
	}
}

// TestPartialOutputs: graphs returning only part of the Output (leaving variables
// unused) run on the Go backend (see declareVariables).
func TestPartialOutputs(t *testing.T) {
	pick := map[string]func(o *Output) *graph.Node{
		"chosen": func(o *Output) *graph.Node { return o.Chosen }, "latent": func(o *Output) *graph.Node { return o.Latent },
		"weights": func(o *Output) *graph.Node { return o.Weights }, "read": func(o *Output) *graph.Node { return o.Read },
	}
	cfg := DefaultConfig("mnist-flat", KindMemAE)
	cfg.NumConditions = 3
	m := mustModel(t, cfg)
	store := model.NewStore()
	for name, f := range pick {
		exec := model.MustNewExec(testbackend.Go(t), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
			return f(m.Forward(scope, x, nil, CondUnknown))
		})
		if _, err := exec.Call(testImages(2)); err != nil {
			t.Errorf("%s only: %v", name, err)
		}
	}
	exec := model.MustNewExec(testbackend.Go(t), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return m.Encode(scope, x)
	})
	if _, err := exec.Call(testImages(2)); err != nil {
		t.Errorf("Encode: %v", err)
	}
}

// TestCondAEUsesCondition: the conditional AE's reconstruction depends on the
// condition, and a multi-AE with known condition k reproduces AE k alone.
func TestCondAEUsesCondition(t *testing.T) {
	backend := testbackend.Go(t)
	cfg := DefaultConfig("mnist-flat", KindCondAE)
	cfg.NumConditions = 2
	m := mustModel(t, cfg)
	store := model.NewStore()
	exec := model.MustNewExec(backend, store, func(scope *model.Scope, x, c *graph.Node) *graph.Node {
		return m.Forward(scope, x, c, CondKnown).Recon
	})
	x := testImages(2)
	r0 := tensors.MustCopyFlatData[float32](exec.MustCall1(x, tensors.FromFlatDataAndDimensions([]int32{0, 0}, 2)))
	r1 := tensors.MustCopyFlatData[float32](exec.MustCall1(x, tensors.FromFlatDataAndDimensions([]int32{1, 1}, 2)))
	if d := maxAbsDiff(r0, r1); d < 1e-4 {
		t.Errorf("cond-ae reconstruction does not depend on the condition (max diff %g)", d)
	}
	for _, v := range []string{"/condition/dense_0/weights", "/condition/dense_1/weights"} {
		if store.GetVariable(v) == nil {
			t.Errorf("missing variable %s", v)
		}
	}

	mcfg := DefaultConfig("mnist-flat", KindMultiAE)
	mcfg.NumConditions = 3
	mm := mustModel(t, mcfg)
	mstore := model.NewStore()
	known := model.MustNewExec(backend, mstore, func(scope *model.Scope, x, c *graph.Node) *graph.Node {
		return mm.Forward(scope, x, c, CondKnown).Recon
	})
	got := tensors.MustCopyFlatData[float32](known.MustCall1(x, tensors.FromFlatDataAndDimensions([]int32{2, 2}, 2)))
	alone := model.MustNewExec(backend, mstore, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return mm.DecodeUnit(scope, mm.EncodeUnit(scope, x, 2), 2)
	})
	want := tensors.MustCopyFlatData[float32](alone.MustCall1(x))
	if d := maxAbsDiff(got, want); d > 1e-6 {
		t.Errorf("multi-ae with condition 2 differs from AE 2 alone by %g", d)
	}
}
