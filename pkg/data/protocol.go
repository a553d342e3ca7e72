package data

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
)

// DefaultAnomalyFraction is the share of anomalies in every test set (30%).
const DefaultAnomalyFraction = 0.3

// Protocol configures the one-class protocol of the thesis.
type Protocol struct {
	// Targets are the normal classes. One target: a one-class model; several:
	// a conditional model with one condition per target.
	Targets []int
	// NumTrainSamples k > 0 keeps k training images (few-shot): all images of
	// the targets are shuffled (seeded) and the first k kept. 0 keeps all.
	NumTrainSamples int
	// AnomalyFraction is the share of anomalies in each test set, in (0, 1);
	// 0 means DefaultAnomalyFraction (0.3).
	AnomalyFraction float64
	// Seed makes the few-shot choice and the test sets reproducible.
	Seed int64
}

// Subset is a view of some images of a dataset, in a given order.
type Subset struct {
	Source  *Dataset
	Indices []int // indices into Source
}

// Len is the number of images in the subset.
func (s *Subset) Len() int { return len(s.Indices) }

// Labels returns the class labels of the subset's images, in order.
func (s *Subset) Labels() []int {
	out := make([]int, len(s.Indices))
	for i, idx := range s.Indices {
		out[i] = s.Source.Labels[idx]
	}
	return out
}

// Batch is a mini-batch of images copied out of a [Subset].
type Batch struct {
	Images []float32 // Size*H*W*C, channels-last
	Labels []int32   // Size class labels
	Size   int
	// Positions are the positions within the Subset of the batch's images
	// (s.Indices[Positions[i]] is the dataset index).
	Positions []int
}

// Batches iterates over the subset in mini-batches of batchSize images; the
// last, partial batch is kept. With shuffle, the order is a fresh permutation
// drawn from rng (call once per epoch with the same rng for a reproducible
// sequence of epochs; a nil rng is a fixed-seed generator); without, it is the
// subset's order (evaluation). batchSize ≤ 0 yields one batch with everything.
// Every batch has its own, newly allocated slices.
func (s *Subset) Batches(batchSize int, shuffle bool, rng *rand.Rand) iter.Seq[Batch] {
	n := s.Len()
	if batchSize <= 0 {
		batchSize = max(n, 1)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if shuffle {
		if rng == nil {
			rng = rand.New(rand.NewPCG(0, 0))
		}
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	return func(yield func(Batch) bool) {
		size := s.Source.ImageSize()
		for start := 0; start < n; start += batchSize {
			end := min(start+batchSize, n)
			b := Batch{
				Images:    make([]float32, (end-start)*size),
				Labels:    make([]int32, end-start),
				Size:      end - start,
				Positions: slices.Clone(order[start:end]),
			}
			for i, pos := range b.Positions {
				idx := s.Indices[pos]
				copy(b.Images[i*size:(i+1)*size], s.Source.Images[idx*size:(idx+1)*size])
				b.Labels[i] = int32(s.Source.Labels[idx])
			}
			if !yield(b) {
				return
			}
		}
	}
}

// TestSet is the test set of one target class: its normal images and the
// anomalies drawn from the other classes, shuffled.
type TestSet struct {
	Target int
	Subset
	IsNormal []bool // per position of the subset: label == Target
}

// NumNormal is the number of normal images of the test set.
func (t *TestSet) NumNormal() int {
	n := 0
	for _, ok := range t.IsNormal {
		if ok {
			n++
		}
	}
	return n
}

// OneClassSplit is the data of one run of the protocol: the training images of
// the targets and one test set per target.
type OneClassSplit struct {
	Train *Subset
	Tests []TestSet // in Protocol.Targets order
}

// Seed offsets of the independent random streams of a split: one for the
// few-shot choice, one per target for its test set (so that the test set of a
// class does not depend on the other targets of the run).
const (
	streamFewShot = 1
	streamTest    = 1000
)

// NewOneClassSplit builds the thesis's one-class protocol (spec section 4)
// from the training and test split of one dataset:
//   - training set: every training image whose label is a target, in dataset
//     order; with NumTrainSamples k > 0 they are shuffled (seeded) and the
//     first k kept;
//   - test set per target t: every test image of class t (normal) plus
//     int(n_normal·f/(1−f)) images of the other classes (anomalies, f the
//     anomaly fraction; other targets count as anomalies too), drawn without
//     replacement (seeded), all shuffled (seeded).
//
// Invalid protocols (no target, a class outside the dataset, a repeated
// target, more shots than images, a fraction outside (0, 1), not enough
// anomalies) are errors.
func NewOneClassSplit(train, test *Dataset, p Protocol) (*OneClassSplit, error) {
	if train == nil || test == nil {
		return nil, fmt.Errorf("data: NewOneClassSplit needs a training and a test dataset")
	}
	if err := train.Validate(); err != nil {
		return nil, fmt.Errorf("data: training set: %w", err)
	}
	if err := test.Validate(); err != nil {
		return nil, fmt.Errorf("data: test set: %w", err)
	}
	if train.Name != test.Name || train.ImageSize() != test.ImageSize() || train.NumClasses() != test.NumClasses() {
		return nil, fmt.Errorf("data: training set %q (%dx%dx%d, %d classes) and test set %q (%dx%dx%d, %d classes) do not match",
			train.Name, train.H, train.W, train.C, train.NumClasses(), test.Name, test.H, test.W, test.C, test.NumClasses())
	}
	numClasses := train.NumClasses()
	if len(p.Targets) == 0 {
		return nil, fmt.Errorf("data: no target class given (want one or more of 0..%d)", numClasses-1)
	}
	for i, t := range p.Targets {
		if t < 0 || t >= numClasses {
			return nil, fmt.Errorf("data: target class %d is outside %s's classes 0..%d", t, train.Name, numClasses-1)
		}
		if slices.Contains(p.Targets[:i], t) {
			return nil, fmt.Errorf("data: target class %d is given twice in %v", t, p.Targets)
		}
	}
	if p.NumTrainSamples < 0 {
		return nil, fmt.Errorf("data: num_train_samples %d is negative (0 means all)", p.NumTrainSamples)
	}
	frac := p.AnomalyFraction
	if frac == 0 {
		frac = DefaultAnomalyFraction
	}
	if !(frac > 0 && frac < 1) {
		return nil, fmt.Errorf("data: anomaly fraction %v is outside (0, 1)", p.AnomalyFraction)
	}
	seed := uint64(p.Seed)

	isTarget := make([]bool, numClasses)
	for _, t := range p.Targets {
		isTarget[t] = true
	}
	var trainIdx []int
	for i, l := range train.Labels {
		if isTarget[l] {
			trainIdx = append(trainIdx, i)
		}
	}
	if len(trainIdx) == 0 {
		return nil, fmt.Errorf("data: %s training set has no image of classes %v", train.Name, p.Targets)
	}
	if k := p.NumTrainSamples; k > 0 {
		if k > len(trainIdx) {
			return nil, fmt.Errorf("data: num_train_samples %d is more than the %d training images of classes %v",
				k, len(trainIdx), p.Targets)
		}
		rng := rand.New(rand.NewPCG(seed, streamFewShot))
		rng.Shuffle(len(trainIdx), func(i, j int) { trainIdx[i], trainIdx[j] = trainIdx[j], trainIdx[i] })
		trainIdx = slices.Clip(trainIdx[:k])
	}

	split := &OneClassSplit{Train: &Subset{Source: train, Indices: trainIdx}}
	for _, t := range p.Targets {
		ts, err := newTestSet(test, t, frac, rand.New(rand.NewPCG(seed, streamTest+uint64(t))))
		if err != nil {
			return nil, err
		}
		split.Tests = append(split.Tests, ts)
	}
	return split, nil
}

// NumAnomalies is the number of anomalies the protocol adds to nNormal normal
// images for an anomaly fraction frac: int(nNormal·frac/(1−frac)), e.g. 420
// for 980 normals and 0.3.
func NumAnomalies(nNormal int, frac float64) int {
	// The small epsilon keeps values like 419.99999999999994 (rounding error
	// of an exact 420) from losing one image.
	return int(math.Floor(float64(nNormal)*frac/(1-frac) + 1e-9))
}

func newTestSet(test *Dataset, target int, frac float64, rng *rand.Rand) (TestSet, error) {
	var normals, others []int
	for i, l := range test.Labels {
		if l == target {
			normals = append(normals, i)
		} else {
			others = append(others, i)
		}
	}
	if len(normals) == 0 {
		return TestSet{}, fmt.Errorf("data: %s test set has no image of class %d", test.Name, target)
	}
	nAnom := NumAnomalies(len(normals), frac)
	if nAnom > len(others) {
		return TestSet{}, fmt.Errorf("data: class %d needs %d anomalies for fraction %v but the %s test set has only %d images of other classes",
			target, nAnom, frac, test.Name, len(others))
	}
	// Partial Fisher–Yates: the first nAnom entries become a uniform sample
	// without replacement.
	for i := range nAnom {
		j := i + rng.IntN(len(others)-i)
		others[i], others[j] = others[j], others[i]
	}
	idx := append(normals, others[:nAnom]...)
	rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	isNormal := make([]bool, len(idx))
	for i, k := range idx {
		isNormal[i] = test.Labels[k] == target
	}
	return TestSet{Target: target, Subset: Subset{Source: test, Indices: idx}, IsNormal: isNormal}, nil
}
