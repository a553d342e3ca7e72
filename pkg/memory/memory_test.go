package memory

import (
	"fmt"
	"math"
	"testing"

	"github.com/cmemae/cmemae/pkg/internal/testbackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func assertClose(t *testing.T, name string, got []float32, want []float64, tol float64) {
	t.Helper()
	tol = testbackend.Tol(t, tol)
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %d", name, len(got), got, len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > tol {
			t.Fatalf("%s: [%d] = %.7g, want %.7g (all: %v)", name, i, got[i], want[i], got)
		}
	}
}

// address runs Address on one latent z [1, 1, C] and memory [N, C].
func address(t *testing.T, z []float32, mem []float32, n int, opts Options, variant EntropyVariant) (read, w, s, ent []float32) {
	t.Helper()
	c := len(z)
	res, err := graph.CallOnceN(testbackend.Go(t), func(zn, mn *graph.Node) []*graph.Node {
		a := Address(zn, mn, opts)
		e := Entropy(graph.Reshape(a.Weights, 1, 1, 1, n), variant)
		return []*graph.Node{a.Read, a.Weights, a.Similarities, e}
	}, tensors.FromFlatDataAndDimensions(z, 1, 1, c), tensors.FromFlatDataAndDimensions(mem, n, c))
	if err != nil {
		t.Fatal(err)
	}
	get := func(i int) []float32 { return tensors.MustCopyFlatData[float32](res[i]) }
	return get(0), get(1), get(2), get(3)
}

// Memory items m0 = (1,0), m1 = (0,1), m2 = (−1,0); softmax(1,0,−1) = (0.66524, 0.24473, 0.09003).
var handMem = []float32{1, 0, 0, 1, -1, 0}

func TestAddressCosine(t *testing.T) {
	// z = (2, 0): cosine similarities (1, 0, −1) regardless of |z|.
	read, w, s, ent := address(t, []float32{2, 0}, handMem, 3, Options{Cosine: true}, EntropyPaper)
	assertClose(t, "sims", s, []float64{1, 0, -1}, 1e-6)
	assertClose(t, "weights", w, []float64{0.6652409557748219, 0.24472847105479767, 0.09003057317038046}, 1e-6)
	assertClose(t, "read", read, []float64{0.6652409557748219 - 0.09003057317038046, 0.24472847105479767}, 1e-6)
	assertClose(t, "entropy paper", ent, []float64{0.8323955818369388}, 1e-6)
	_, _, _, ent = address(t, []float32{2, 0}, handMem, 3, Options{Cosine: true}, EntropyThesis)
	// Flat latent: thesis = paper / N.
	assertClose(t, "entropy thesis", ent, []float64{0.8323955818369388 / 3}, 1e-6)
}

func TestAddressDot(t *testing.T) {
	// z = (2, 0): dot similarities (2, 0, −2).
	read, w, s, _ := address(t, []float32{2, 0}, handMem, 3, Options{Cosine: false}, EntropyPaper)
	assertClose(t, "sims", s, []float64{2, 0, -2}, 1e-6)
	assertClose(t, "weights", w, []float64{0.8668133321973349, 0.11731042782619837, 0.01587623997646677}, 1e-6)
	assertClose(t, "read", read, []float64{0.8509370922208681, 0.11731042782619837}, 1e-6)
}

func TestAddressShrinkage(t *testing.T) {
	// λ = 0.1 removes w2 = 0.09003; renormalised (w0, w1)/(w0+w1) = (σ(1), 1−σ(1)).
	read, w, _, ent := address(t, []float32{1, 0}, handMem, 3, Options{Cosine: true, ShrinkThreshold: 0.1}, EntropyPaper)
	assertClose(t, "weights λ=0.1", w, []float64{0.7310585786300049, 0.26894142136999516, 0}, 1e-6)
	assertClose(t, "read λ=0.1", read, []float64{0.7310585786300049, 0.26894142136999516}, 1e-6)
	assertClose(t, "entropy λ=0.1", ent, []float64{0.5822031088862181}, 1e-6)
	_, _, _, entT := address(t, []float32{1, 0}, handMem, 3, Options{Cosine: true, ShrinkThreshold: 0.1}, EntropyThesis)
	assertClose(t, "entropy thesis λ=0.1", entT, []float64{0.5822031088862181 / 3}, 1e-6)
	// λ = 0.3 keeps only the first item.
	read, w, _, ent = address(t, []float32{1, 0}, handMem, 3, Options{Cosine: true, ShrinkThreshold: 0.3}, EntropyPaper)
	assertClose(t, "weights λ=0.3", w, []float64{1, 0, 0}, 1e-6)
	assertClose(t, "read λ=0.3", read, []float64{1, 0}, 1e-6)
	assertClose(t, "entropy λ=0.3", ent, []float64{0}, 1e-6)
}

// TestEntropySpatial: weights [B=1, h=2, w=1, N=4] with rows uniform (entropy ln 4)
// and one-hot (0): paper = ln4/(B·h·w) = ln4/2, thesis = ln4/(B·w·N) = ln4/4.
func TestEntropySpatial(t *testing.T) {
	wts := tensors.FromFlatDataAndDimensions([]float32{0.25, 0.25, 0.25, 0.25, 1, 0, 0, 0}, 1, 2, 1, 4)
	for _, c := range []struct {
		v    EntropyVariant
		want float64
	}{{EntropyPaper, math.Log(4) / 2}, {EntropyThesis, math.Log(4) / 4}} {
		out, err := graph.CallOnce(testbackend.Go(t), func(w *graph.Node) *graph.Node { return Entropy(w, c.v) }, wts)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, string(c.v), tensors.MustCopyFlatData[float32](out), []float64{c.want}, 1e-6)
	}
}

// TestSelfSelection: unit 1 stores a copy of latent 0, unit 2 a copy of latent 1.
func TestSelfSelection(t *testing.T) {
	const K, N, C = 3, 4, 6
	items := make([]float32, K*N*C)
	for i := range items {
		items[i] = float32(math.Sin(float64(i)*1.7 + 0.3))
	}
	z := make([]float32, 2*C)
	for i := range C {
		z[i] = float32(math.Cos(float64(i)*2.1 + 1))
		z[C+i] = float32(math.Sin(float64(i)*0.7 - 2))
	}
	for _, metric := range []Metric{MetricSum, MetricMax} {
		it := append([]float32(nil), items...)
		copies := N // sum: the chosen unit is filled with copies; max: one copy suffices
		if metric == MetricMax {
			copies = 1
		}
		for j := range copies {
			copy(it[(1*N+j)*C:], z[:C])
			copy(it[(2*N+j)*C:], z[C:])
		}
		res, err := graph.CallOnceN(testbackend.Go(t), func(zn, mn *graph.Node) []*graph.Node {
			all := AddressConditional(zn, mn, Options{Cosine: true, ShrinkThreshold: 0.0025})
			chosen := all.SelfSelect(metric)
			a := all.Pick(chosen)
			return []*graph.Node{chosen, a.Similarities}
		}, tensors.FromFlatDataAndDimensions(z, 2, 1, C), tensors.FromFlatDataAndDimensions(it, K, N, C))
		if err != nil {
			t.Fatal(err)
		}
		chosen := tensors.MustCopyFlatData[int32](res[0])
		if chosen[0] != 1 || chosen[1] != 2 {
			t.Errorf("%s: chosen %v, want [1 2]", metric, chosen)
		}
		sims := tensors.MustCopyFlatData[float32](res[1])
		if math.Abs(float64(sims[0])-1) > 1e-5 || math.Abs(float64(sims[N])-1) > 1e-5 {
			t.Errorf("%s: picked similarities %v should start with 1 (the copy)", metric, sims)
		}
	}
}

// TestPickKnown: Pick(cond) equals addressing the chosen unit alone.
func TestPickKnown(t *testing.T) {
	const K, N, C, B, P = 3, 5, 4, 2, 3
	items := make([]float32, K*N*C)
	for i := range items {
		items[i] = float32(math.Sin(float64(i) * 0.37))
	}
	z := make([]float32, B*P*C)
	for i := range z {
		z[i] = float32(math.Cos(float64(i) * 0.91))
	}
	cond := []int32{2, 0}
	res, err := graph.CallOnceN(testbackend.Go(t), func(zn, mn, cn *graph.Node) []*graph.Node {
		a := AddressConditional(zn, mn, Options{Cosine: true, ShrinkThreshold: 0.05}).Pick(cn)
		var outs []*graph.Node
		outs = append(outs, a.Read, a.Weights)
		for b := range B {
			zb := graph.Slice(zn, graph.AxisElem(b))
			mb := graph.Reshape(graph.Slice(mn, graph.AxisElem(int(cond[b]))), N, C)
			ab := Address(zb, mb, Options{Cosine: true, ShrinkThreshold: 0.05})
			outs = append(outs, ab.Read, ab.Weights)
		}
		return outs
	}, tensors.FromFlatDataAndDimensions(z, B, P, C), tensors.FromFlatDataAndDimensions(items, K, N, C),
		tensors.FromFlatDataAndDimensions(cond, B))
	if err != nil {
		t.Fatal(err)
	}
	read := tensors.MustCopyFlatData[float32](res[0])
	wts := tensors.MustCopyFlatData[float32](res[1])
	for b := range B {
		rb := tensors.MustCopyFlatData[float32](res[2+2*b])
		wb := tensors.MustCopyFlatData[float32](res[3+2*b])
		want := make([]float64, len(rb))
		for i, v := range rb {
			want[i] = float64(v)
		}
		assertClose(t, fmt.Sprintf("read %d", b), read[b*P*C:(b+1)*P*C], want, 1e-6)
		want = want[:0]
		for _, v := range wb {
			want = append(want, float64(v))
		}
		assertClose(t, fmt.Sprintf("weights %d", b), wts[b*P*N:(b+1)*P*N], want, 1e-6)
	}
}

// TestCosineGradientAtZero: a latent of zeros (a fresh model's flat latent
// after batch norm of a single sample) gets PyTorch's finite gradient
// through the clamped norm, z/max(‖z‖, ε): d(Σ_j r_j s_j)/dz = Σ_j r_j m̂_j/ε,
// and none into the items; before, Sqrt's infinite slope at 0 made it NaN.
func TestCosineGradientAtZero(t *testing.T) {
	res, err := graph.CallOnceN(testbackend.Go(t), func(z, items, r *graph.Node) []*graph.Node {
		s := Similarities(z, items, true) // [1, 1, 2]
		loss := graph.ReduceAllSum(graph.Mul(s, r))
		return append([]*graph.Node{s}, graph.Gradient(loss, z, items)...)
	}, tensors.FromFlatDataAndDimensions([]float32{0, 0}, 1, 2),
		tensors.FromFlatDataAndDimensions([]float32{3, 4, 1, 0}, 1, 2, 2),
		tensors.FromFlatDataAndDimensions([]float32{1, 2}, 1, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "similarities", tensors.MustCopyFlatData[float32](res[0]), []float64{0, 0}, 0)
	// m̂ = (0.6, 0.8) and (1, 0): (0.6 + 2, 0.8)/1e-8.
	dz := tensors.MustCopyFlatData[float32](res[1])
	for i, want := range []float64{2.6e8, 0.8e8} {
		if got := float64(dz[i]); math.IsNaN(got) || math.Abs(got-want) > 1e-5*want {
			t.Errorf("dL/dz[%d] = %g, want %g", i, got, want)
		}
	}
	assertClose(t, "dL/ditems", tensors.MustCopyFlatData[float32](res[2]), []float64{0, 0, 0, 0}, 0)
}
