package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrOneClass is returned by [AUROC] when only normal or only anomalous
// samples are given, where the ROC curve is not defined (scikit-learn raises
// "Only one class present in y_true").
var ErrOneClass = errors.New("metrics: only one class present, AUROC is not defined")

// AUROC returns the area under the ROC curve of scores against the binary
// ground truth positive (higher scores should mean positive), with the same
// semantics as scikit-learn's roc_auc_score: the ROC curve has one point per
// distinct score, so tied scores form a diagonal segment and a tie between a
// positive and a negative counts one half. It is computed from average ranks
// (the Mann–Whitney U statistic), which equals the trapezoidal area.
//
// It is an error if the lengths differ, if there are no samples, if a score is
// NaN, or if only one class is present ([ErrOneClass]).
func AUROC(scores []float64, positive []bool) (float64, error) {
	if len(scores) != len(positive) {
		return math.NaN(), fmt.Errorf("metrics: AUROC got %d scores but %d labels", len(scores), len(positive))
	}
	if len(scores) == 0 {
		return math.NaN(), fmt.Errorf("metrics: AUROC of no samples: %w", ErrOneClass)
	}
	nPos := 0
	for i, s := range scores {
		if math.IsNaN(s) {
			return math.NaN(), fmt.Errorf("metrics: AUROC: score %d is NaN", i)
		}
		if positive[i] {
			nPos++
		}
	}
	nNeg := len(scores) - nPos
	if nPos == 0 || nNeg == 0 {
		return math.NaN(), ErrOneClass
	}
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		switch {
		case scores[a] < scores[b]:
			return -1
		case scores[a] > scores[b]:
			return 1
		}
		return 0
	})
	// Sum of the (1-based, tie-averaged) ranks of the positives.
	var rankSum float64
	for i := 0; i < len(order); {
		j := i + 1
		for j < len(order) && scores[order[j]] == scores[order[i]] {
			j++
		}
		avgRank := float64(i+1+j) / 2 // mean of ranks i+1 .. j
		for _, k := range order[i:j] {
			if positive[k] {
				rankSum += avgRank
			}
		}
		i = j
	}
	p, n := float64(nPos), float64(nNeg)
	return (rankSum - p*(p+1)/2) / (p * n), nil
}

// NormalConfidence turns anomaly scores (reconstruction errors) into the
// thesis's confidence of being normal: 1 − (e − min e)/(max e − min e), in
// [0, 1], 1 for the smallest error. If all errors are equal (or there is only
// one) every confidence is 1.
func NormalConfidence(errs []float64) []float64 {
	out := make([]float64, len(errs))
	if len(errs) == 0 {
		return out
	}
	lo, hi := slices.Min(errs), slices.Max(errs)
	for i, e := range errs {
		if hi > lo {
			out[i] = 1 - (e-lo)/(hi-lo)
		} else {
			out[i] = 1
		}
	}
	return out
}

// MeanErrors returns the mean error of the normal and of the anomalous
// samples (NaN for a group without samples, both NaN if the lengths differ).
func MeanErrors(errs []float64, isNormal []bool) (normal, anomalous float64) {
	if len(errs) != len(isNormal) {
		return math.NaN(), math.NaN()
	}
	var sumN, sumA float64
	var nN, nA int
	for i, e := range errs {
		if isNormal[i] {
			sumN += e
			nN++
		} else {
			sumA += e
			nA++
		}
	}
	return sumN / float64(nN), sumA / float64(nA)
}

// cosineEps is the lower bound of the norm product in the cosine similarity,
// as in PyTorch's F.cosine_similarity (eps 1e-8).
const cosineEps = 1e-8

// MemoryChange measures how much a memory of n items of size c (row-major
// n×c) changed from prev to cur (spec §7.4):
// 1 − mean over items i of (cos(cur_i, prev_i) + 1)/2. It is 0 for an
// unchanged memory, 0.5 for orthogonal items on average and 1 when every item
// flipped sign. It returns NaN if the slices do not hold n×c values or n ≤ 0.
func MemoryChange(prev, cur []float32, n, c int) float64 {
	if n <= 0 || c <= 0 || len(prev) != n*c || len(cur) != n*c {
		return math.NaN()
	}
	var sum float64
	for i := range n {
		a, b := prev[i*c:(i+1)*c], cur[i*c:(i+1)*c]
		var dot, na, nb float64
		for j := range c {
			x, y := float64(a[j]), float64(b[j])
			dot += x * y
			na += x * x
			nb += y * y
		}
		cos := dot / math.Max(math.Sqrt(na)*math.Sqrt(nb), cosineEps)
		sum += (cos + 1) / 2
	}
	return 1 - sum/float64(n)
}
