package models

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/cmemae/cmemae/pkg/internal/testbackend"
	"github.com/cmemae/cmemae/pkg/layers"
	"github.com/cmemae/cmemae/pkg/memory"
)

// goldenCase mirrors one case of testdata/golden.json (see testdata/gen_golden.py).
type goldenCase struct {
	Name           string    `json:"name"`
	Arch           string    `json:"arch"`
	Kind           string    `json:"kind"`
	NumConditions  int       `json:"num_conditions"`
	MemorySize     int       `json:"memory_size"`
	Training       bool      `json:"training"`
	Mode           string    `json:"mode"`
	Cond           []int32   `json:"cond"`
	Metric         string    `json:"metric"`
	Cosine         bool      `json:"cosine"`
	Shrink         float64   `json:"shrink"`
	EntropyLoss    string    `json:"entropy_loss"`
	EntropyWeight  float64   `json:"entropy_weight"`
	Recon4         []float64 `json:"recon_every_4th"` // recon (NHWC, flat) at indices 0, 4, 8, ...
	Latent         []float64 `json:"latent"`
	Read           []float64 `json:"read"`
	Weights        []float64 `json:"weights"`
	Similarities   []float64 `json:"similarities"`
	Entropy        float64   `json:"entropy"`
	Loss           float64   `json:"loss"`
	PerImageErr    []float64 `json:"per_image_err"`
	Chosen         []int32   `json:"chosen"`
	BN0RunningMean []float64 `json:"bn0_running_mean"`
	BN0RunningVar  []float64 `json:"bn0_running_var"`
}

type goldenFile struct {
	TorchVersion string       `json:"torch_version"`
	Batch        int          `json:"batch"`
	Cases        []goldenCase `json:"cases"`
	Entropy      struct {
		Dims    []int     `json:"dims_bnhw"`
		Weights []float64 `json:"weights_bnhw"`
		Thesis  float64   `json:"thesis"`
		Paper   float64   `json:"paper"`
	} `json:"entropy_spatial"`
}

func loadGolden(t testing.TB) *goldenFile {
	t.Helper()
	data, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatalf("reading golden values: %v", err)
	}
	var g goldenFile
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("parsing golden values: %v", err)
	}
	return &g
}

// formula is v(seed, i) of gen_golden.py.
func formula(seed, i int) float64 { return math.Sin(0.37*float64(i) + 0.61*float64(seed)) }

// convWeights returns a kernel [k,k,in,out] from the formula over PyTorch's layout:
// Conv2d [out,in,k,k] (transposed=false) or ConvTranspose2d [in,out,k,k] (true).
func convWeights(seed int, spec layers.ConvSpec, transposed bool) (w, b *tensors.Tensor) {
	k := spec.Kernel
	d1 := spec.In // torch dim 1 (fan) for Conv2d
	if transposed {
		d1 = spec.Out
	}
	scale := float32(1 / math.Sqrt(float64(d1*k*k)))
	out := make([]float32, k*k*spec.In*spec.Out)
	i := 0
	d0 := spec.Out
	if transposed {
		d0 = spec.In
	}
	for a0 := range d0 {
		for a1 := range d1 {
			for r := range k {
				for c := range k {
					ci, co := a1, a0
					if transposed {
						ci, co = a0, a1
					}
					out[((r*k+c)*spec.In+ci)*spec.Out+co] = float32(formula(seed, i)) * scale
					i++
				}
			}
		}
	}
	bias := make([]float32, spec.Out)
	for j := range bias {
		bias[j] = float32(formula(seed+100, j)) * scale
	}
	return tensors.FromFlatDataAndDimensions(out, k, k, spec.In, spec.Out), tensors.FromFlatDataAndDimensions(bias, spec.Out)
}

func vec(n int, f func(i int) float64) *tensors.Tensor {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(f(i))
	}
	return tensors.FromFlatDataAndDimensions(out, n)
}

// setGoldenWeights fills store with the formula weights for m (root scope).
func setGoldenWeights(t testing.TB, m *Model, store *model.Store) {
	t.Helper()
	set := func(path string, v *tensors.Tensor) {
		if _, err := store.CreateVariable(path, v); err != nil {
			t.Fatal(err)
		}
	}
	setBN := func(prefix string, base, j, c int) {
		set(fmt.Sprintf("%s/bn_%d/gamma", prefix, j), vec(c, func(i int) float64 { return 1 + 0.2*float64(float32(formula(base+300+j, i))) }))
		set(fmt.Sprintf("%s/bn_%d/beta", prefix, j), vec(c, func(i int) float64 { return 0.1 * float64(float32(formula(base+400+j, i))) }))
		set(fmt.Sprintf("%s/bn_%d/running_mean", prefix, j), vec(c, func(i int) float64 { return 0.1 * float64(float32(formula(base+500+j, i))) }))
		set(fmt.Sprintf("%s/bn_%d/running_var", prefix, j), vec(c, func(i int) float64 { return 1 + 0.3*float64(float32(formula(base+600+j, i))) }))
	}
	for j, spec := range m.arch.Encoder {
		w, b := convWeights(100+j, spec, false)
		set(fmt.Sprintf("/encoder/conv_%d/weights", j), w)
		set(fmt.Sprintf("/encoder/conv_%d/biases", j), b)
		setBN("/encoder", 0, j, spec.Out)
	}
	for j, spec := range m.arch.Decoder {
		w, b := convWeights(1100+j, spec, true)
		set(fmt.Sprintf("/decoder/convt_%d/weights", j), w)
		set(fmt.Sprintf("/decoder/convt_%d/biases", j), b)
		if j < len(m.arch.Decoder)-1 {
			setBN("/decoder", 1000, j, spec.Out)
		}
	}
	if m.HasMemory() {
		_, _, c := m.LatentShape()
		n := m.cfg.MemorySize
		mems := make([]*tensors.Tensor, m.cfg.NumConditions)
		for u := range mems {
			d := make([]float32, n*c)
			for i := range d {
				d[i] = float32(formula(9000+u, i))
			}
			mems[u] = tensors.FromFlatDataAndDimensions(d, n, c)
		}
		if err := m.SetMemories(store, mems); err != nil {
			t.Fatal(err)
		}
	}
}

func goldenInput(b int) *tensors.Tensor {
	x := make([]float32, b*784)
	for bb := range b {
		for i := range 784 {
			h, w := i/28, i%28
			x[bb*784+i] = float32(1.5 * math.Sin((0.3+0.25*float64(bb))*float64(h)+(0.2+0.15*float64(bb))*float64(w)+float64(bb)))
		}
	}
	return tensors.FromFlatDataAndDimensions(x, b, 28, 28, 1)
}

func compare(t *testing.T, name string, got *tensors.Tensor, want []float64, tol float64) {
	t.Helper()
	tol = testbackend.Tol(t, tol)
	g := tensors.MustCopyFlatData[float32](got)
	if len(g) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(g), len(want))
		return
	}
	worst := 0.0
	for i := range g {
		d := math.Abs(float64(g[i])-want[i]) / math.Max(1, math.Abs(want[i]))
		worst = math.Max(worst, d)
		if d > tol {
			t.Errorf("%s: [%d] = %.7g, want %.7g", name, i, g[i], want[i])
			return
		}
	}
	t.Logf("%s: max rel. diff %.2g over %d values", name, worst, len(g))
}

// TestGolden reproduces PyTorch's forward pass (testdata/golden.json, made by
// gen_golden.py) of mnist-flat MemAE, spatial mnist MemAE and a 3-memory C-MemAE
// (known / unknown with sum, max, recon) in train- and eval-mode BN, to 1e-4, with
// both formulations.
func TestGolden(t *testing.T) {
	gold := loadGolden(t)
	backend := testbackend.Go(t)
	for _, f := range []layers.Formulation{layers.Fast, layers.Im2Col, layers.Native} {
		for _, c := range gold.Cases {
			t.Run(fmt.Sprintf("%s/%s", f, c.Name), func(t *testing.T) {
				cfg := DefaultConfig(c.Arch, c.Kind)
				cfg.Formulation = f
				cfg.NumConditions, cfg.MemorySize = c.NumConditions, c.MemorySize
				cfg.SelectionMetric, cfg.CosineSimilarity, cfg.ShrinkThreshold = c.Metric, c.Cosine, c.Shrink
				cfg.EntropyLoss, cfg.EntropyLossWeight = c.EntropyLoss, c.EntropyWeight
				m, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				store := model.NewStore()
				setGoldenWeights(t, m, store)
				mode := Conditional(c.Mode)
				cond := c.Cond
				if cond == nil {
					cond = make([]int32, gold.Batch)
				}
				exec := model.MustNewExec(backend, store, func(scope *model.Scope, x, cn *graph.Node) []*graph.Node {
					scope.Store().SetTraining(x.Graph(), c.Training)
					o := m.Forward(scope, x, cn, mode)
					outs := []*graph.Node{o.Recon, o.Latent, o.Read, o.Weights, o.Similarities, o.Entropy, o.Loss, o.PerImageErr}
					if o.Chosen != nil {
						outs = append(outs, o.Chosen)
					}
					return outs
				})
				res, err := exec.Call(goldenInput(gold.Batch), tensors.FromFlatDataAndDimensions(cond, gold.Batch))
				if err != nil {
					t.Fatal(err)
				}
				const tol = 1e-4
				recon := tensors.MustCopyFlatData[float32](res[0])
				var every4 []float32
				for i := 0; i < len(recon); i += 4 {
					every4 = append(every4, recon[i])
				}
				compare(t, "recon (every 4th value)", tensors.FromFlatDataAndDimensions(every4, len(every4)), c.Recon4, tol)
				compare(t, "latent", res[1], c.Latent, tol)
				compare(t, "read", res[2], c.Read, tol)
				compare(t, "weights", res[3], c.Weights, tol)
				compare(t, "similarities", res[4], c.Similarities, tol)
				compare(t, "entropy", res[5], []float64{c.Entropy}, tol)
				compare(t, "loss", res[6], []float64{c.Loss}, tol)
				compare(t, "per-image error", res[7], c.PerImageErr, tol)
				if c.Chosen != nil {
					got := tensors.MustCopyFlatData[int32](res[8])
					if fmt.Sprint(got) != fmt.Sprint(c.Chosen) {
						t.Errorf("chosen %v, want %v", got, c.Chosen)
					}
				}
				rm := store.GetVariable("/encoder/bn_0/running_mean").MustValue()
				rv := store.GetVariable("/encoder/bn_0/running_var").MustValue()
				compare(t, "bn0 running mean", rm, c.BN0RunningMean, tol)
				compare(t, "bn0 running var", rv, c.BN0RunningVar, tol)
			})
		}
	}
}

// TestGoldenEntropySpatial: the thesis's wrong-axis entropy on a [B=2, N=5, h=2, w=3]
// addressing equals PyTorch's EntropyLossEncap (= paper·h/N).
func TestGoldenEntropySpatial(t *testing.T) {
	gold := loadGolden(t)
	e := gold.Entropy
	w := make([]float32, len(e.Weights))
	for i, x := range e.Weights {
		w[i] = float32(x)
	}
	wt := tensors.FromFlatDataAndDimensions(w, e.Dims...) // [B, N, h, w]
	for _, c := range []struct {
		v    memory.EntropyVariant
		want float64
	}{{memory.EntropyThesis, e.Thesis}, {memory.EntropyPaper, e.Paper}} {
		out, err := graph.CallOnce(testbackend.Go(t), func(x *graph.Node) *graph.Node {
			return memory.Entropy(graph.TransposeAllDims(x, 0, 2, 3, 1), c.v)
		}, wt)
		if err != nil {
			t.Fatal(err)
		}
		compare(t, string(c.v), out, []float64{c.want}, 1e-5)
	}
	if r := e.Thesis / e.Paper; math.Abs(r-2.0/5.0) > 1e-5 {
		t.Errorf("thesis/paper = %g, want h/N = 0.4", r)
	}
}
