package train

import (
	"math"
	"os"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// testRoot is a directory shared by tests of this binary, removed by TestMain.
var testRoot string

func tempRoot() (string, error) {
	if testRoot == "" {
		d, err := os.MkdirTemp("", "cmemae-train-test-")
		if err != nil {
			return "", err
		}
		testRoot = d
	}
	return testRoot, nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testRoot != "" {
		os.RemoveAll(testRoot)
	}
	os.Exit(code)
}

// TestAdamMatchesPyTorch runs three steps of the configured Adam on
// loss = x², x₀ = 1, lr = 0.1, against torch.optim.Adam's update written out:
// m = β₁m + (1−β₁)g, v = β₂v + (1−β₂)g², x −= lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
// with β₁ 0.9, β₂ 0.999, ε 1e-8. (Step 1 gives exactly 0.9; step 2 0.80041.)
func TestAdamMatchesPyTorch(t *testing.T) {
	b := goBackend(t)
	store := model.NewStore()
	if _, err := store.CreateVariable("/x", tensors.FromValue([]float32{1})); err != nil {
		t.Fatal(err)
	}
	opt := NewAdam(0.1)
	exec, err := model.NewExec(b, store, func(scope *model.Scope, g *graph.Graph) *graph.Node {
		// A step that updates variables is a training graph: without the
		// flag, a backend that prefers constants for variables (the Go
		// backend) would embed x, m and v as constants of their first values.
		scope.Store().SetTraining(g, true)
		x := scope.Store().GetVariable("/x").NodeValue(g)
		loss := graph.ReduceAllSum(graph.Square(x))
		opt.UpdateGraph(scope, g, loss)
		return loss
	})
	if err != nil {
		t.Fatal(err)
	}
	x, m, v := 1.0, 0.0, 0.0
	for step := 1; step <= 3; step++ {
		if _, err := exec.Call(); err != nil {
			t.Fatal(err)
		}
		g := 2 * x
		m = AdamBeta1*m + (1-AdamBeta1)*g
		v = AdamBeta2*v + (1-AdamBeta2)*g*g
		mh := m / (1 - math.Pow(AdamBeta1, float64(step)))
		vh := v / (1 - math.Pow(AdamBeta2, float64(step)))
		x -= 0.1 * mh / (math.Sqrt(vh) + AdamEpsilon)
		got, err := tensors.CopyFlatData[float32](store.GetVariable("/x").MustValue())
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(got[0])-x) > 1e-6 {
			t.Errorf("step %d: x = %.7f, PyTorch Adam gives %.7f", step, got[0], x)
		}
	}
	if math.Abs(x-0.7015) > 0.01 {
		t.Errorf("hand-computed reference drifted: %v", x)
	}
}

// TestTargetMetrics checks the per-target metrics on a hand-computed case:
// errors of 3 normals {0.1, 0.2, 0.4} and 2 anomalies {0.3, 0.9}.
func TestTargetMetrics(t *testing.T) {
	errs := []float64{0.1, 0.3, 0.2, 0.9, 0.4}
	isNormal := []bool{true, false, true, false, true}
	chosen := []int32{1, 0, 0, 1, 1}
	tm, err := targetMetrics(7, 1, errs, chosen, isNormal, true)
	if err != nil {
		t.Fatal(err)
	}
	// Confidence ranks: normals 0.1, 0.2, 0.4 vs anomalies 0.3, 0.9 — of the 6
	// (normal, anomaly) pairs the normal is more confident in 5 (0.4 vs 0.3 fails).
	if math.Abs(tm.AUROC-5.0/6) > 1e-12 {
		t.Errorf("AUROC = %v, want 5/6", tm.AUROC)
	}
	if math.Abs(tm.MeanErrNormal-0.7/3) > 1e-12 || math.Abs(tm.MeanErrAnomalous-0.6) > 1e-12 {
		t.Errorf("mean errors %v %v, want 0.2333 0.6", tm.MeanErrNormal, tm.MeanErrAnomalous)
	}
	// Normals chose 1, 0, 1: two of three are the target's memory (index 1).
	if math.Abs(tm.SelectionAccuracy-2.0/3) > 1e-12 {
		t.Errorf("selection accuracy %v, want 2/3", tm.SelectionAccuracy)
	}
	if tm.NumNormal != 3 || tm.NumAnomalous != 2 || tm.Target != 7 {
		t.Errorf("counts %+v", tm)
	}
	tm, _ = targetMetrics(7, 1, errs, chosen, isNormal, false)
	if !math.IsNaN(tm.SelectionAccuracy) {
		t.Errorf("selection accuracy without self-selection = %v, want NaN", tm.SelectionAccuracy)
	}
}

// TestBestFitting checks the choice of items by cosine and by dot product.
func TestBestFitting(t *testing.T) {
	items := [][]float32{{1, 0}, {0, 1}, {10, 10}}
	z := []float32{3, 0.1, 0, -2, 1, 1.2}
	// Cosine: (3,0.1) → (1,0); (0,-2) → orthogonal to (1,0) (0), negative to
	// the others: (1,0); (1,1.2) → (10,10) (cos 0.996).
	got := BestFitting(z, 3, 2, items, true)
	want := []float32{1, 0, 1, 0, 10, 10}
	if !slicesEqual(got, want) {
		t.Errorf("cosine: %v, want %v", got, want)
	}
	// Dot product: (3,0.1) → (10,10) (31); (0,-2) → (1,0) (0); (1,1.2) → (10,10).
	got = BestFitting(z, 3, 2, items, false)
	want = []float32{10, 10, 1, 0, 10, 10}
	if !slicesEqual(got, want) {
		t.Errorf("dot: %v, want %v", got, want)
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCheckpointNames(t *testing.T) {
	for epoch, name := range map[int]string{0: "init", 5: "epoch_0005", 100: "epoch_0100"} {
		if got := CheckpointName(epoch); got != name {
			t.Errorf("CheckpointName(%d) = %q, want %q", epoch, got, name)
		}
		if e, ok := parseCheckpointName(name); !ok || e != epoch {
			t.Errorf("parseCheckpointName(%q) = %d, %v", name, e, ok)
		}
	}
	for _, bad := range []string{".tmp-init-1", "epoch_x", "latest"} {
		if _, ok := parseCheckpointName(bad); ok {
			t.Errorf("parseCheckpointName(%q) accepted", bad)
		}
	}
}

func TestParamsFromDir(t *testing.T) {
	if got := paramsFromDir("/r/exp/model.memory_size=50/seed_1/target_0-1"); got != "model.memory_size=50" {
		t.Errorf("got %q", got)
	}
	if got := paramsFromDir("/tmp/somewhere"); got != "default" {
		t.Errorf("got %q", got)
	}
}

// TestShuffleFollowsKey checks that datamodule.shuffle reaches the training
// loop's batch order (its default, false as the thesis's loader, is checked by
// pkg/config's TestDefaultsMNIST).
func TestShuffleFollowsKey(t *testing.T) {
	for _, shuffle := range []bool{false, true} {
		e := tinyExperiment("memae", 0, 1)
		e.Datamodule.Shuffle = shuffle
		s, err := resolve(runOpts(t, e, []int{0}, t.TempDir()))
		if err != nil {
			t.Fatal(err)
		}
		if s.shuffle != shuffle {
			t.Errorf("datamodule.shuffle=%v: training loop shuffles = %v", shuffle, s.shuffle)
		}
	}
}
