package train

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cmemae/cmemae/pkg/results"
)

// warnMissingMetrics compares the metrics rows kept on resuming with the
// epochs that checkpoint cp (after epoch) has already trained. Rows can be
// missing only if metrics.csv was deleted or edited: they cannot be
// recomputed (the weights of earlier epochs are gone, except in the sparse
// epoch checkpoints), so the run continues and says clearly which epochs
// its metrics.csv will lack and how to get a complete one.
func (r *runner) warnMissingMetrics(cp CheckpointInfo, epoch int, kept []results.Row) {
	have := map[int]bool{}
	for _, row := range kept {
		have[row.Epoch] = true
	}
	first := 1
	if r.opts.EvaluateInit && epoch > 0 {
		first = 0
	}
	var missing []int
	for e := first; e <= epoch; e++ {
		if !have[e] {
			missing = append(missing, e)
		}
	}
	if len(missing) == 0 {
		return
	}
	r.res.MissingEpochs = missing
	if r.opts.Progress == nil {
		return
	}
	fmt.Fprintf(r.opts.Progress, "train: WARNING: %s lacks the rows of epoch(s) %s, which checkpoint %s has already trained (metrics.csv deleted or edited?). "+
		"Training continues after epoch %d, so these epochs stay missing from the metrics; for complete metrics delete %s and run again.\n",
		filepath.Join(r.opts.Dir, results.MetricsFile), epochRanges(missing), cp.Name, epoch, r.opts.Dir)
}

// epochRanges writes sorted epochs compactly: "0-3, 5".
func epochRanges(epochs []int) string {
	var parts []string
	for i := 0; i < len(epochs); {
		j := i
		for j+1 < len(epochs) && epochs[j+1] == epochs[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", epochs[i], epochs[j]))
		} else {
			parts = append(parts, fmt.Sprint(epochs[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
