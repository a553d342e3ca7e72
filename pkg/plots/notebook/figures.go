package notebook

import (
	"fmt"
	"math"

	"github.com/cmemae/cmemae/pkg/plots"
)

// AddressingFigures draws image i's memory addressing at latent position p as
// four bar charts: the latent vector, the pre-softmax similarities, the
// post-softmax weights and the post-shrinkage weights (the addressing steps of
// package memory; experiment 4 in the README's "What the thesis code does").
func AddressingFigures(a *Analysis, i, p int, what string) ([]*plots.Figure, error) {
	if a == nil || a.Similarities == nil {
		return nil, fmt.Errorf("notebook: AddressingFigures: no memory addressing (not a memory model)")
	}
	if i < 0 || i >= a.N || p < 0 || p >= a.P {
		return nil, fmt.Errorf("notebook: AddressingFigures: image %d position %d out of range (%d images, %d positions)", i, p, a.N, a.P)
	}
	pre := a.Vector(a.Similarities, i, p)
	post := a.Vector(a.Weights, i, p)
	charts := []plots.BarChart{
		{Title: what + ": latent", XLabel: "feature", YLabel: "value", Values: a.LatentVector(i, p)},
		{Title: what + ": pre-softmax addressing", XLabel: "memory item", YLabel: "similarity", Values: pre},
		{Title: what + ": post-softmax addressing", XLabel: "memory item", YLabel: "weight", Values: Softmax(pre)},
		{Title: what + ": post-shrinkage addressing", XLabel: "memory item (" + ShrinkSummary(Softmax(pre), post) + ")", YLabel: "weight", Values: post},
	}
	figs := make([]*plots.Figure, len(charts))
	for k, c := range charts {
		c.Width, c.Height = 12*plots.Cm, 7*plots.Cm
		f, err := plots.Bars(c)
		if err != nil {
			return nil, err
		}
		figs[k] = f
	}
	return figs, nil
}

// ShrinkSummary says what hard shrinkage did to one addressing vector: how
// many weights it zeroed, and the smallest post-softmax weight (shrinkage
// zeroes the weights below λ, so none when the smallest is above it).
func ShrinkSummary(softmax, post []float64) string {
	zeroed := 0
	for _, w := range post {
		if w == 0 {
			zeroed++
		}
	}
	lo := math.Inf(1)
	for _, w := range softmax {
		lo = min(lo, w)
	}
	return fmt.Sprintf("%d of %d zeroed; smallest softmax weight %.4f", zeroed, len(post), lo)
}
