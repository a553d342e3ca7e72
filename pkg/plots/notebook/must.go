package notebook

import (
	"os"
	"slices"
	"strings"

	"github.com/cmemae/cmemae/pkg/experiment"

	"github.com/cmemae/cmemae/pkg/data"
)

// BudgetOr is Budget with def ("quick", "cpu" or "full") as the default when
// CMEMAE_BUDGET is unset: the notebooks' budget switch.
func BudgetOr(def string) string {
	if strings.TrimSpace(os.Getenv(BudgetEnv)) == "" {
		if d := strings.ToLower(def); slices.Contains(experiment.BudgetNames(), d) {
			return d
		}
		return Quick
	}
	return Budget()
}

// Must panics with err if it is not nil: a notebook cell stops at its first
// failure and shows the message (and headless execution fails).
func Must(err error) {
	if err != nil {
		panic(err)
	}
}

// Must1 returns v, or panics with err if it is not nil.
func Must1[T any](v T, err error) T {
	Must(err)
	return v
}

// PickImages returns the first n images of d whose label satisfies keep, as one
// flat channels-last slice, with their labels (fewer when d has fewer).
func PickImages(d *data.Dataset, keep func(label int) bool, n int) (images []float32, labels []int) {
	size := d.H * d.W * d.C
	for i := 0; i < d.N && len(labels) < n; i++ {
		if keep(d.Labels[i]) {
			images = append(images, d.Images[i*size:(i+1)*size]...)
			labels = append(labels, d.Labels[i])
		}
	}
	return images, labels
}
