package models

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/cmemae/cmemae/pkg/internal/testbackend"
	"github.com/cmemae/cmemae/pkg/layers"
)

// goldenGradients mirrors "memae_flat_train_gradients" of testdata/golden.json:
// PyTorch's gradients (float64) of the train-mode mnist-flat MemAE loss, in Go layouts.
type goldenGradients struct {
	Loss float64              `json:"loss"`
	Grad map[string][]float64 `json:"-"`
}

// TestGoldenGradients reproduces PyTorch's gradients of the training loss
// (MSE + 0.0002·entropy, train-mode BN, batch 4) of mnist-flat MemAE with respect
// to the input, conv / convT kernels of every kind the model uses (k3 s2 p1 conv,
// k3 s3 conv, k==s convT, 4-phase and output-side k3 s2 p1 convT), BN scales and
// shifts, a bias and the memory items, in every formulation. The Fast formulation
// replaces autodiff by hand-written gradients (custom VJPs), so this is its
// end-to-end check against an independent implementation.
//
// Tolerance: 1e-4 of the largest magnitude of each gradient tensor. The Go side
// runs in float32 and every gradient is a sum of thousands of products through
// four train-mode BatchNorms with batch 4 (whose backward subtracts nearly equal
// sums), so elementwise relative error is meaningless for entries that cancel to
// ~0; measured errors are ~1e-6–1e-5 of the scale.
func TestGoldenGradients(t *testing.T) {
	raw := loadGoldenRaw(t)
	want := raw.Gradients
	names := append([]string{"x", "memory"}, goldenGradientNames()...)
	for _, f := range []layers.Formulation{layers.Fast, layers.Im2Col, layers.Native} {
		t.Run(f.String(), func(t *testing.T) {
			exec := goldenGradientExec(t, f, true)
			res, err := exec.Call(goldenInput(4))
			if err != nil {
				t.Fatal(err)
			}
			compare(t, "loss", res[0], []float64{want.Loss}, 1e-4)
			for i, n := range names {
				compareScaled(t, "∂loss/∂"+n, res[i+1], want.Grad[n], 1e-4)
			}
		})
	}
}

// compareScaled checks |got − want| ≤ tol·max|want| elementwise.
func compareScaled(t *testing.T, name string, got *tensors.Tensor, want []float64, tol float64) {
	t.Helper()
	tol = testbackend.Tol(t, tol)
	g := tensors.MustCopyFlatData[float32](got)
	if len(g) != len(want) || len(want) == 0 {
		t.Errorf("%s: %d values, want %d", name, len(g), len(want))
		return
	}
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	worst := 0.0
	for i := range g {
		d := math.Abs(float64(g[i])-want[i]) / scale
		worst = math.Max(worst, d)
		if d > tol {
			t.Errorf("%s: [%d] = %.7g, want %.7g (scale %.3g)", name, i, g[i], want[i], scale)
			return
		}
	}
	t.Logf("%s: max diff %.2g of scale %.3g over %d values", name, worst, scale, len(g))
}

type goldenRaw struct {
	Gradients goldenGradients `json:"memae_flat_train_gradients"`
}

func loadGoldenRaw(t testing.TB) *goldenRaw {
	t.Helper()
	var all struct {
		G map[string]any `json:"memae_flat_train_gradients"`
	}
	if err := readJSON("testdata/golden.json", &all); err != nil {
		t.Fatal(err)
	}
	out := &goldenRaw{}
	out.Gradients.Grad = map[string][]float64{}
	for k, v := range all.G {
		switch v := v.(type) {
		case float64:
			if k == "loss" {
				out.Gradients.Loss = v
			}
		case []any:
			vals := make([]float64, len(v))
			for i, e := range v {
				vals[i] = e.(float64)
			}
			out.Gradients.Grad[k] = vals
		default:
			t.Fatalf("golden gradients: unexpected %s: %T", k, v)
		}
	}
	if len(out.Gradients.Grad) == 0 {
		t.Fatal(fmt.Errorf("golden gradients missing: regenerate testdata/golden.json with gen_golden.py"))
	}
	return out
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parsing %s: %w", path, err)
	}
	return nil
}

// goldenGradientNames are the golden gradients of model variables (sorted).
func goldenGradientNames() []string {
	return slices.Sorted(maps.Keys(goldenGradientPaths))
}

// goldenGradientExec builds the train-mode mnist-flat MemAE with the golden
// weights in formulation f and returns an executable giving its loss and the
// gradients of the loss with respect to the input (when withX), the memory
// and the variables of goldenGradientNames, in that order.
func goldenGradientExec(t *testing.T, f layers.Formulation, withX bool) *model.Exec {
	t.Helper()
	cfg := DefaultConfig("mnist-flat", KindMemAE)
	cfg.Formulation = f
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	setGoldenWeights(t, m, store)
	return model.MustNewExec(testbackend.Go(t), store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
		g := x.Graph()
		scope.Store().SetTraining(g, true)
		o := m.Forward(scope, x, nil, CondNone)
		var wrt []*graph.Node
		if withX {
			wrt = append(wrt, x)
		}
		wrt = append(wrt, m.MemoryItems(scope, g))
		for _, n := range goldenGradientNames() {
			wrt = append(wrt, scope.Store().GetVariable(goldenGradientPaths[n]).NodeValue(g))
		}
		return append([]*graph.Node{o.Loss}, graph.Gradient(o.Loss, wrt...)...)
	})
}
