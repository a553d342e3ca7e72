package data

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestNumAnomalies(t *testing.T) {
	for _, tc := range []struct {
		n    int
		frac float64
		want int
	}{
		{980, 0.3, 420}, {1135, 0.3, 486}, {1000, 0.3, 428}, {7, 0.3, 3}, {1, 0.3, 0}, {10, 0.5, 10}, {100, 0.1, 11},
	} {
		if got := NumAnomalies(tc.n, tc.frac); got != tc.want {
			t.Errorf("NumAnomalies(%d, %v) = %d, want %d", tc.n, tc.frac, got, tc.want)
		}
	}
}

// checkTestSet verifies the structure of a test set: normals are exactly the
// test images of the target, anomalies come from other classes, no image twice.
func checkTestSet(t *testing.T, test *Dataset, ts TestSet, wantNormal, wantAnom int) {
	t.Helper()
	if ts.Len() != wantNormal+wantAnom || len(ts.IsNormal) != ts.Len() {
		t.Fatalf("target %d: %d images, %d flags, want %d", ts.Target, ts.Len(), len(ts.IsNormal), wantNormal+wantAnom)
	}
	seen := map[int]bool{}
	anomClasses := map[int]int{}
	normals := 0
	for i, idx := range ts.Indices {
		if seen[idx] {
			t.Fatalf("target %d: image %d twice", ts.Target, idx)
		}
		seen[idx] = true
		l := test.Labels[idx]
		if ts.IsNormal[i] != (l == ts.Target) {
			t.Fatalf("target %d: position %d label %d flagged normal=%v", ts.Target, i, l, ts.IsNormal[i])
		}
		if l == ts.Target {
			normals++
		} else {
			anomClasses[l]++
		}
	}
	if normals != wantNormal || ts.NumNormal() != wantNormal {
		t.Errorf("target %d: %d normals, want %d", ts.Target, normals, wantNormal)
	}
	// Anomalies come from every other class (420 draws from 9 classes).
	if wantAnom >= 100 && len(anomClasses) != test.NumClasses()-1 {
		t.Errorf("target %d: anomalies from classes %v, want all %d others", ts.Target, anomClasses, test.NumClasses()-1)
	}
	// Shuffled: the normals are not all at the front.
	if slices.Equal(ts.IsNormal[:wantNormal], slices.Repeat([]bool{true}, wantNormal)) {
		t.Errorf("target %d: normals not shuffled", ts.Target)
	}
}

func TestOneClassSplitMNIST(t *testing.T) {
	train, test := realMNIST(t)
	s, err := NewOneClassSplit(train, test, Protocol{Targets: []int{0}, Seed: 1})
	must(t, err)
	if s.Train.Len() != 5923 {
		t.Errorf("digit 0: %d training images, want 5923", s.Train.Len())
	}
	for _, l := range s.Train.Labels() {
		if l != 0 {
			t.Fatalf("training label %d, want 0", l)
		}
	}
	if len(s.Tests) != 1 || s.Tests[0].Target != 0 {
		t.Fatalf("tests %d", len(s.Tests))
	}
	checkTestSet(t, test, s.Tests[0], 980, 420)

	// Same seed: same split; another seed: another test set.
	again, err := NewOneClassSplit(train, test, Protocol{Targets: []int{0}, Seed: 1})
	must(t, err)
	if !slices.Equal(again.Tests[0].Indices, s.Tests[0].Indices) || !slices.Equal(again.Train.Indices, s.Train.Indices) {
		t.Error("seed 1 twice: different splits")
	}
	other, err := NewOneClassSplit(train, test, Protocol{Targets: []int{0}, Seed: 2})
	must(t, err)
	if slices.Equal(other.Tests[0].Indices, s.Tests[0].Indices) {
		t.Error("seeds 1 and 2: same test set")
	}
	checkTestSet(t, test, other.Tests[0], 980, 420)
}

func TestOneClassSplitFewShot(t *testing.T) {
	train, test := realMNIST(t)
	p := Protocol{Targets: []int{3}, NumTrainSamples: 10, Seed: 1}
	s, err := NewOneClassSplit(train, test, p)
	must(t, err)
	if s.Train.Len() != 10 {
		t.Fatalf("10 shots: %d images", s.Train.Len())
	}
	for _, l := range s.Train.Labels() {
		if l != 3 {
			t.Errorf("shot of class %d, want 3", l)
		}
	}
	idx := slices.Clone(s.Train.Indices)
	slices.Sort(idx)
	if len(slices.Compact(idx)) != 10 {
		t.Error("repeated shots")
	}
	// A seeded shuffle, not the first 10 images of the class.
	var first []int
	for i, l := range train.Labels {
		if l == 3 && len(first) < 10 {
			first = append(first, i)
		}
	}
	if slices.Equal(s.Train.Indices, first) {
		t.Error("shots are the first 10 images: not shuffled")
	}
	again, _ := NewOneClassSplit(train, test, p)
	p.Seed = 2
	other, _ := NewOneClassSplit(train, test, p)
	if !slices.Equal(again.Train.Indices, s.Train.Indices) || slices.Equal(other.Train.Indices, s.Train.Indices) {
		t.Error("few-shot choice is not determined by the seed")
	}
	// The test set does not depend on the number of shots.
	full, _ := NewOneClassSplit(train, test, Protocol{Targets: []int{3}, Seed: 1})
	if !slices.Equal(full.Tests[0].Indices, s.Tests[0].Indices) {
		t.Error("test set changes with num_train_samples")
	}
	checkTestSet(t, test, s.Tests[0], 1010, 432)
}

func TestOneClassSplitConditional(t *testing.T) {
	train, test := realMNIST(t)
	s, err := NewOneClassSplit(train, test, Protocol{Targets: []int{4, 5}, Seed: 1})
	must(t, err)
	if s.Train.Len() != 5842+5421 {
		t.Errorf("targets 4, 5: %d training images, want %d", s.Train.Len(), 5842+5421)
	}
	if len(s.Tests) != 2 || s.Tests[0].Target != 4 || s.Tests[1].Target != 5 {
		t.Fatalf("tests in wrong order")
	}
	checkTestSet(t, test, s.Tests[0], 982, 420)
	checkTestSet(t, test, s.Tests[1], 892, 382)
	// The other trained class counts as an anomaly.
	found := false
	for i, idx := range s.Tests[0].Indices {
		if test.Labels[idx] == 5 && !s.Tests[0].IsNormal[i] {
			found = true
		}
	}
	if !found {
		t.Error("no image of class 5 among the anomalies of class 4")
	}
	// A target's test set is the same as in a run with that target alone.
	alone, _ := NewOneClassSplit(train, test, Protocol{Targets: []int{5}, Seed: 1})
	if !slices.Equal(alone.Tests[0].Indices, s.Tests[1].Indices) {
		t.Error("test set of class 5 depends on the other targets")
	}
	// Configurable fraction: half anomalies.
	half, err := NewOneClassSplit(train, test, Protocol{Targets: []int{4}, AnomalyFraction: 0.5, Seed: 1})
	must(t, err)
	checkTestSet(t, test, half.Tests[0], 982, 982)
}

func TestOneClassSplitErrors(t *testing.T) {
	train, test := tinyDataset(50), tinyDataset(50)
	other := tinyDataset(50)
	other.Name = "cifar"
	for _, tc := range []struct {
		name  string
		train *Dataset
		p     Protocol
		want  string
	}{
		{"no target", train, Protocol{}, "no target"},
		{"class 10", train, Protocol{Targets: []int{10}}, "target class 10 is outside"},
		{"class -1", train, Protocol{Targets: []int{-1}}, "target class -1 is outside"},
		{"twice", train, Protocol{Targets: []int{1, 1}}, "twice"},
		{"too many shots", train, Protocol{Targets: []int{1}, NumTrainSamples: 6}, "num_train_samples 6 is more than the 5"},
		{"negative shots", train, Protocol{Targets: []int{1}, NumTrainSamples: -1}, "negative"},
		{"fraction 1", train, Protocol{Targets: []int{1}, AnomalyFraction: 1}, "anomaly fraction"},
		{"fraction -0.3", train, Protocol{Targets: []int{1}, AnomalyFraction: -0.3}, "anomaly fraction"},
		{"too many anomalies", train, Protocol{Targets: []int{1}, AnomalyFraction: 0.95}, "needs 95 anomalies"},
		{"datasets differ", other, Protocol{Targets: []int{1}}, "do not match"},
	} {
		_, err := NewOneClassSplit(tc.train, test, tc.p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	badLabel := tinyDataset(50)
	badLabel.Labels[7] = 12
	short := tinyDataset(50)
	short.Images = short.Images[:10]
	for name, ds := range map[string]*Dataset{"label 12": badLabel, "short images": short} {
		if _, err := NewOneClassSplit(ds, test, Protocol{Targets: []int{1}}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := NewOneClassSplit(nil, test, Protocol{Targets: []int{1}}); err == nil {
		t.Error("nil dataset: no error")
	}
	if _, err := NewOneClassSplit(train, test, Protocol{Targets: []int{1}, NumTrainSamples: 5}); err != nil {
		t.Errorf("5 shots of 5 images: %v", err)
	}
}

// tinyDataset has n 2×2×1 images, image i filled with the value i and label
// i mod 10.
func tinyDataset(n int) *Dataset {
	ds := &Dataset{Name: "mnist", N: n, H: 2, W: 2, C: 1, ClassNames: mnistClasses,
		Mean: []float64{0}, Std: []float64{1}}
	for i := range n {
		ds.Images = append(ds.Images, float32(i), float32(i), float32(i), float32(i))
		ds.Labels = append(ds.Labels, i%10)
	}
	return ds
}

func TestBatches(t *testing.T) {
	ds := tinyDataset(100)
	sub := &Subset{Source: ds, Indices: []int{5, 17, 3, 99, 42, 8, 61}}
	// Evaluation: fixed order, last partial batch kept.
	var sizes []int
	var order []int
	for b := range sub.Batches(3, false, nil) {
		sizes = append(sizes, b.Size)
		for i, pos := range b.Positions {
			idx := sub.Indices[pos]
			order = append(order, idx)
			if b.Labels[i] != int32(idx%10) || b.Images[4*i] != float32(idx) || b.Images[4*i+3] != float32(idx) {
				t.Errorf("batch item %d: label %d image %v, want dataset image %d", i, b.Labels[i], b.Images[4*i:4*i+4], idx)
			}
		}
		if len(b.Images) != 4*b.Size || len(b.Labels) != b.Size {
			t.Errorf("batch of %d has %d values, %d labels", b.Size, len(b.Images), len(b.Labels))
		}
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) || !slices.Equal(order, sub.Indices) {
		t.Errorf("evaluation batches: sizes %v order %v", sizes, order)
	}

	// Training: each epoch a permutation of all images, different per epoch,
	// reproducible for a seed.
	epochs := func(seed uint64) [][]int {
		rng := rand.New(rand.NewPCG(seed, 0))
		var out [][]int
		for range 3 {
			var o []int
			for b := range sub.Batches(2, true, rng) {
				o = append(o, b.Positions...)
			}
			out = append(out, o)
		}
		return out
	}
	a, b := epochs(1), epochs(1)
	for e := range a {
		if !slices.Equal(a[e], b[e]) {
			t.Errorf("epoch %d differs for the same seed: %v vs %v", e, a[e], b[e])
		}
		sorted := slices.Sorted(slices.Values(a[e]))
		if !slices.Equal(sorted, []int{0, 1, 2, 3, 4, 5, 6}) {
			t.Errorf("epoch %d is not a permutation: %v", e, a[e])
		}
	}
	if slices.Equal(a[0], a[1]) && slices.Equal(a[1], a[2]) {
		t.Error("same order in every epoch")
	}
	if c := epochs(2); slices.Equal(c[0], a[0]) && slices.Equal(c[1], a[1]) {
		t.Error("seeds 1 and 2 give the same orders")
	}

	// Stopping early, one batch of everything, an empty subset.
	n := 0
	for range sub.Batches(1, false, nil) {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("break after 2 batches: %d", n)
	}
	for b := range sub.Batches(0, true, nil) {
		if b.Size != 7 {
			t.Errorf("batch size 0: batch of %d, want 7", b.Size)
		}
	}
	for range (&Subset{Source: ds}).Batches(4, true, nil) {
		t.Error("empty subset yields a batch")
	}
}

func BenchmarkBatchesMNIST(b *testing.B) {
	ds := &Dataset{Name: "mnist", N: 6000, H: 28, W: 28, C: 1, ClassNames: mnistClasses,
		Images: make([]float32, 6000*784), Labels: make([]int, 6000)}
	sub := &Subset{Source: ds, Indices: make([]int, 6000)}
	for i := range sub.Indices {
		sub.Indices[i] = i
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		for batch := range sub.Batches(64, true, rng) {
			_ = batch
		}
	}
}
