package notebook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gomlx/compute"

	"github.com/cmemae/cmemae/pkg/backend"
	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

// Experiments composes experiments from command-line style arguments (as
// `go run ./thesis_experiments <args>`), appending quick's overrides when the
// budget is quick, and puts their results under ResultsDir(budget).
func Experiments(budget string, args, quick []string) ([]config.Experiment, error) {
	// results_dir first, so that ${results_dir} in from_checkpoint resolves
	// to it and an explicit results_dir in args still wins.
	all := append([]string{"results_dir=" + ResultsDir(budget)}, args...)
	if budget != Full {
		all = append(all, quick...)
	}
	exps, err := config.Parse(all...)
	if err != nil {
		return nil, fmt.Errorf("notebook: %w", err)
	}
	return exps, nil
}

// Available reports whether a dataset's test split is present locally (in the
// data directory or a built-in copy), without downloading it. Notebooks use it to
// run CIFAR-10 experiments only where its data is present.
func Available(name string) bool {
	old, had := os.LookupEnv(data.EnvOffline)
	os.Setenv(data.EnvOffline, "1")
	defer func() {
		if had {
			os.Setenv(data.EnvOffline, old)
		} else {
			os.Unsetenv(data.EnvOffline)
		}
	}()
	_, err := data.Load(name, data.Test, data.LoadOptions{})
	return err == nil
}

// Runner trains or loads experiments for a notebook.
type Runner struct {
	// Budget is Quick or Full.
	Budget string
	// MaxTestImages limits each test set (a random subset) when > 0; the
	// default for the quick budget is 400.
	MaxTestImages int
	// Out receives one line per run (nil → os.Stdout).
	Out io.Writer
	// Progress, if set, receives training messages and one line per epoch
	// (a progress bar as well when it is a terminal, see train.IsTerminal).
	Progress io.Writer

	backend compute.Backend
	data    map[string][2]*data.Dataset
}

// NewRunner returns a Runner for the budget, on the backend chosen by
// GOMLX_BACKEND (XLA when usable, else the pure-Go backend).
func NewRunner(budget string) (*Runner, error) {
	b, notice, err := backend.New("")
	if err != nil {
		return nil, fmt.Errorf("notebook: %w", err)
	}
	r := &Runner{Budget: budget, Out: os.Stdout, backend: b, data: map[string][2]*data.Dataset{}}
	if notice != "" {
		fmt.Fprintln(r.Out, notice)
	}
	if budget != Full {
		r.MaxTestImages = 400
	}
	return r, nil
}

// Backend is the runner's backend, for analyses of trained models.
func (r *Runner) Backend() compute.Backend { return r.backend }

// Dataset returns the training and test split of a dataset, loaded once.
func (r *Runner) Dataset(name, dataDir string) (trainSet, testSet *data.Dataset, err error) {
	if d, ok := r.data[name]; ok {
		return d[0], d[1], nil
	}
	opts := data.LoadOptions{DataDir: dataDir}
	if trainSet, err = data.Load(name, data.Train, opts); err != nil {
		return nil, nil, err
	}
	if testSet, err = data.Load(name, data.Test, opts); err != nil {
		return nil, nil, err
	}
	r.data[name] = [2]*data.Dataset{trainSet, testSet}
	return trainSet, testSet, nil
}

// Complete reports whether the run directory's metrics.csv holds the given
// last epoch for each of the targets.
func Complete(runDir string, lastEpoch int, targets []int) bool {
	rows, err := results.ReadCSV(filepath.Join(runDir, results.MetricsFile))
	if err != nil {
		return false
	}
	seen := map[int]bool{}
	for _, r := range rows {
		if r.Epoch == lastEpoch {
			seen[r.Condition] = true
		}
	}
	for _, t := range targets {
		if !seen[t] {
			return false
		}
	}
	return true
}

// RunAll trains every run (experiment × target group) of exps that is not
// complete yet and returns the rows of all of them. Runs interrupted earlier
// resume from their last checkpoint.
func (r *Runner) RunAll(ctx context.Context, exps []config.Experiment) (results.Table, error) {
	var t results.Table
	if len(exps) == 0 {
		return t, errors.New("notebook: no experiments")
	}
	out := r.Out
	if out == nil {
		out = io.Discard
	}
	trained, loaded := 0, 0
	start := time.Now()
	for _, e := range exps {
		for _, targets := range e.TargetGroups() {
			dir := e.RunDir(targets)
			what := fmt.Sprintf("%s [%s] seed %d target %s", e.Name, e.ParamsSlug(), e.Seed, results.TargetString(targets))
			if Complete(dir, e.Trainer.MaxEpochs, targets) {
				loaded++
			} else {
				trainSet, testSet, err := r.Dataset(e.Datamodule.Name, e.Datamodule.DataDir)
				if err != nil {
					return t, fmt.Errorf("notebook: %s: %w", what, err)
				}
				t0 := time.Now()
				res, err := train.Run(ctx, train.Options{
					Experiment: e, Targets: targets, Dir: dir, Backend: r.backend,
					TrainData: trainSet, TestData: testSet, MaxTestImages: r.MaxTestImages,
					Progress: r.Progress,
				})
				if err != nil {
					return t, fmt.Errorf("notebook: %s: %w", what, err)
				}
				trained++
				if last := res.Last(); last != nil {
					fmt.Fprintf(out, "trained %s: %d epochs, AUROC %.4f (%.1fs)\n", what, last.Epoch, last.MeanAUROC, time.Since(t0).Seconds())
				}
			}
			rows, err := results.ReadCSV(filepath.Join(dir, results.MetricsFile))
			if err != nil {
				return t, fmt.Errorf("notebook: %s: %w", what, err)
			}
			t.Rows = append(t.Rows, rows...)
		}
	}
	fmt.Fprintf(out, "%d runs trained, %d loaded from %s (%.1fs)\n", trained, loaded, ResultsDir(r.Budget), time.Since(start).Seconds())
	return t, nil
}

// Load returns the rows of every run of exps that has a metrics.csv, without
// training (for cells that only plot what an earlier cell computed).
func Load(exps []config.Experiment) (results.Table, error) {
	var t results.Table
	for _, e := range exps {
		for _, targets := range e.TargetGroups() {
			rows, err := results.ReadCSV(filepath.Join(e.RunDir(targets), results.MetricsFile))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return t, fmt.Errorf("notebook: %w", err)
			}
			t.Rows = append(t.Rows, rows...)
		}
	}
	if t.Len() == 0 {
		return t, errors.New("notebook: no results yet: run the training cell first")
	}
	return t, nil
}
