package experiment

import (
	"fmt"
	"path/filepath"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

// Run is one training run: a configuration and one of its target groups, with
// its results directory.
type Run struct {
	Experiment config.Experiment
	Targets    []int  // the normal classes (several for a conditional run)
	Dir        string // <results_dir>/<name>/<params>/seed_<s>/target_<t…>
}

// Plan lists the runs of exps in order: per configuration, one run per target
// group.
func Plan(exps []config.Experiment) []Run {
	var runs []Run
	for _, e := range exps {
		for _, g := range e.TargetGroups() {
			runs = append(runs, Run{Experiment: e, Targets: g, Dir: e.RunDir(g)})
		}
	}
	return runs
}

// CheckDistinct refuses runs of which two share a run directory (e.g. a
// value given twice in a sweep, seed=1,1): they would be the same run.
func CheckDistinct(runs []Run) error {
	first := map[string]int{}
	for i, r := range runs {
		if k, ok := first[r.Dir]; ok {
			return fmt.Errorf("experiment: runs %d and %d are the same run (%s): e.g. a value given twice in a sweep; remove the duplicate", k+1, i+1, r.Dir)
		}
		first[r.Dir] = i
	}
	return nil
}

// Complete reports whether the run has nothing left to train: its
// metrics.csv holds its last epoch (trainer.max_epochs) for each of its
// targets, and its newest checkpoint, when it has any, is of that epoch. A
// run without checkpoints (exported results, or checkpoints deleted to save
// space) is complete by its metrics; a run stopped after writing its last
// epoch's metrics but before its checkpoint is not (it trains that epoch
// again, so that its checkpoint holds the final weights).
func (r Run) Complete() bool {
	rows, err := r.Metrics()
	return err == nil && r.completeIn(rows)
}

// completeIn is Complete with rows, the run's metrics, already read.
func (r Run) completeIn(rows []results.Row) bool {
	last := r.Experiment.Trainer.MaxEpochs
	seen := map[int]bool{}
	for _, row := range rows {
		if row.Epoch == last {
			seen[row.Condition] = true
		}
	}
	for _, t := range r.Targets {
		if !seen[t] {
			return false
		}
	}
	cp, ok, err := train.LatestCheckpoint(r.Dir)
	return err == nil && (!ok || cp.Epoch >= last)
}

// Metrics reads the run's metrics.csv.
func (r Run) Metrics() ([]results.Row, error) {
	return results.ReadCSV(filepath.Join(r.Dir, results.MetricsFile))
}
