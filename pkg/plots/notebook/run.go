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

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/experiment"
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

// Runner trains or loads experiments for a notebook, on the driver the
// command line uses (experiment.Driver).
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

	driver *experiment.Driver
}

// NewRunner returns a Runner for the budget. Each run's trainer.backend picks
// its backend, as on the command line: "" (the default) means GOMLX_BACKEND,
// else XLA when usable, else the pure-Go backend.
func NewRunner(budget string) (*Runner, error) {
	r := &Runner{Budget: budget, Out: os.Stdout, driver: &experiment.Driver{}}
	r.driver.Messages = r.Out
	// The default backend now, so that its fallback notice shows up front.
	if _, err := r.driver.BackendFor(""); err != nil {
		return nil, fmt.Errorf("notebook: %w", err)
	}
	if budget != Full {
		r.MaxTestImages = 400
	}
	return r, nil
}

// Backend is the default backend (trainer.backend ""), for analyses of
// trained models.
func (r *Runner) Backend() compute.Backend {
	b, _ := r.driver.BackendFor("") // created by NewRunner
	return b
}

// Dataset returns the training and test split of a dataset, loaded once per
// process (data.LoadCached).
func (r *Runner) Dataset(name, dataDir string) (trainSet, testSet *data.Dataset, err error) {
	opts := data.LoadOptions{DataDir: dataDir}
	if trainSet, err = data.LoadCached(name, data.Train, opts); err != nil {
		return nil, nil, err
	}
	if testSet, err = data.LoadCached(name, data.Test, opts); err != nil {
		return nil, nil, err
	}
	return trainSet, testSet, nil
}

// Complete reports whether the run directory's metrics.csv holds the given
// last epoch for each of the targets.
func Complete(runDir string, lastEpoch int, targets []int) bool {
	var e config.Experiment
	e.Trainer.MaxEpochs = lastEpoch
	return experiment.Run{Experiment: e, Targets: targets, Dir: runDir}.Complete()
}

// RunAll trains every run (experiment × target group) of exps that is not
// complete yet and returns the rows of all of them. Runs interrupted earlier
// resume from their last checkpoint.
func (r *Runner) RunAll(ctx context.Context, exps []config.Experiment) (results.Table, error) {
	out := r.Out
	if out == nil {
		out = io.Discard
	}
	r.driver.MaxTestImages, r.driver.Progress = r.MaxTestImages, r.Progress
	trained, loaded := 0, 0
	start, runStart := time.Now(), time.Now()
	t, err := r.driver.RunAll(ctx, experiment.Plan(exps), func(_ int, run experiment.Run, res *train.RunResult) {
		if res == nil {
			loaded++
		} else {
			trained++
			e := run.Experiment
			what := fmt.Sprintf("%s [%s] seed %d target %s", e.Name, e.ParamsSlug(), e.Seed, results.TargetString(run.Targets))
			if last := res.Last(); last != nil {
				fmt.Fprintf(out, "trained %s: %d epochs, AUROC %.4f (%.1fs)\n", what, last.Epoch, last.MeanAUROC, time.Since(runStart).Seconds())
			}
		}
		runStart = time.Now()
	})
	if err != nil {
		return t, fmt.Errorf("notebook: %w", err)
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
