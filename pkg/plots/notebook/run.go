package notebook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/experiment"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

// Experiments composes experiments from command-line style arguments, as
// `go run ./thesis_experiments <args> budget=<budget>` (usually
// experiment=<name> plus a few keys; see experiment.Parse for the budget
// overlay). cuts are added in the quick budget only: the fewer classes,
// seeds or values a notebook's quick run uses. Results go to
// ResultsDir(budget); runs are read from the budget's shipped results where
// those hold them (see RunDir).
func Experiments(budget string, args, cuts []string) ([]config.Experiment, error) {
	var all []string
	if !slices.ContainsFunc(args, func(a string) bool { k, _, _ := config.SplitArg(a); return k == config.KeyResultsDir }) {
		all = append(all, "results_dir="+ResultsRoot())
	}
	all = append(all, args...)
	if budget == Quick {
		all = append(all, cuts...)
	}
	all = append(all, experiment.KeyBudget+"="+budget)
	exps, err := experiment.Parse(all...)
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
	_, err := data.LoadCached(name, data.Test, data.LoadOptions{})
	return err == nil
}

// NoTrainEnv, when set (to anything), makes RunAll fail instead of training:
// CI opens the notebooks on the shipped results this way, proving they need
// no training.
const NoTrainEnv = "CMEMAE_NO_TRAIN"

// Runner trains or loads experiments for a notebook, on the driver the
// command line uses (experiment.Driver).
type Runner struct {
	// Budget is Quick, CPU or Full.
	Budget string
	// NeedCheckpoints reads a shipped run only when it holds its
	// checkpoints (the memory analysis needs them); otherwise it is trained.
	NeedCheckpoints bool
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
	r.driver.Messages = sessionNotices{r.Out}
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

// RunAll trains every run (experiment × target group) of exps that is not
// complete yet and returns the rows of all of them. Complete runs are read
// from the budget's shipped results first (RunDir), then from
// ResultsDir(budget); runs interrupted earlier resume from their last
// checkpoint; a run not started whose finished twin (experiment.Twins: a
// run of another experiment that trained alike) is in either is copied from
// it. Outlook tells beforehand. It prints a compact summary: per
// experiment, how many runs were loaded (and from where), copied and
// trained, and the mean AUROC of the last epoch of the runs trained.
func (r *Runner) RunAll(ctx context.Context, exps []config.Experiment) (results.Table, error) {
	out := r.Out
	if out == nil {
		out = io.Discard
	}
	p, err := r.plan(exps)
	if err != nil {
		return results.Table{}, err
	}
	runs := p.runs
	if len(p.left) > 0 && os.Getenv(NoTrainEnv) != "" {
		var missing []string
		for _, i := range p.left {
			missing = append(missing, runs[i].Dir)
		}
		if n := len(missing); n > 3 {
			missing = append(missing[:3], "…")
		}
		return results.Table{}, fmt.Errorf("notebook: %s is set, but %d of %d runs would be trained (not in the shipped results nor finished in %s): %s",
			NoTrainEnv, len(p.left), len(runs), ResultsRoot(), strings.Join(missing, ", "))
	}
	r.driver.MaxTestImages, r.driver.Progress, r.driver.Twins = r.MaxTestImages, r.Progress, p.twins
	type tally struct {
		shipped, loaded, copied, trained int
		aurocs                           []float64
	}
	var names []string
	tallies := map[string]*tally{}
	start := time.Now()
	t, err := r.driver.RunAll(ctx, runs, func(_ int, run experiment.Run, res *train.RunResult) {
		name := run.Experiment.Name
		tl := tallies[name]
		if tl == nil {
			tl = &tally{}
			tallies[name] = tl
			names = append(names, name)
		}
		switch {
		case res != nil && res.CopiedFrom != "":
			tl.copied++
		case res != nil:
			tl.trained++
			if last := res.Last(); last != nil {
				tl.aurocs = append(tl.aurocs, last.MeanAUROC)
			}
		case IsShipped(run.Experiment.Budget, run.Dir):
			tl.shipped++
		default:
			tl.loaded++
		}
	})
	for _, name := range names {
		tl := tallies[name]
		var parts []string
		if tl.shipped > 0 {
			parts = append(parts, fmt.Sprintf("%d loaded from the shipped results", tl.shipped))
		}
		if tl.loaded > 0 {
			parts = append(parts, fmt.Sprintf("%d loaded", tl.loaded))
		}
		if tl.copied > 0 {
			parts = append(parts, fmt.Sprintf("%d copied from finished runs of other experiments that trained alike", tl.copied))
		}
		if tl.trained > 0 {
			parts = append(parts, fmt.Sprintf("%d trained (mean last-epoch AUROC %.3f)", tl.trained, results.Mean(tl.aurocs)))
		}
		fmt.Fprintf(out, "%s: %d runs, %s\n", name, tl.shipped+tl.loaded+tl.copied+tl.trained, strings.Join(parts, ", "))
	}
	if err != nil {
		return t, fmt.Errorf("notebook: %w", err)
	}
	fmt.Fprintf(out, "budget %s: %d runs in %.0fs\n", r.Budget, len(runs), time.Since(start).Seconds())
	return t, nil
}

// planned are the runs of some experiments as RunAll finds them.
type planned struct {
	runs  []experiment.Run  // all of them, each with the directory to read it from (RunDir)
	left  []int             // the runs not complete
	twins *experiment.Twins // finished runs to copy left ones from; nil when none is left
}

// plan lists the runs of exps, those left to do and, if any, the finished
// runs they may be copied from: in the budget's shipped results and in the
// results directory.
func (r *Runner) plan(exps []config.Experiment) (planned, error) {
	p := planned{runs: experiment.Plan(exps)}
	var roots []string
	for i, run := range p.runs {
		p.runs[i].Dir = RunDir(run.Experiment, run.Targets, r.NeedCheckpoints)
		if !p.runs[i].Complete() {
			p.left = append(p.left, i)
			roots = append(roots, ShippedDir(run.Experiment.Budget), run.Experiment.ResultsDir)
		}
	}
	if len(p.left) == 0 {
		return p, nil
	}
	twins, err := experiment.FindTwins(roots...)
	if err != nil {
		return p, fmt.Errorf("notebook: %w", err)
	}
	twins.NeedCheckpoints = r.NeedCheckpoints
	p.twins = twins
	return p, nil
}

// Outlook is what RunAll will do with the runs of some experiments.
type Outlook struct {
	Runs     int // all of them (configurations × target groups)
	Finished int // complete, shipped or in the results directory: loaded
	Copies   int // not started, with a finished twin to copy (experiment.Twins)
	Train    int // the others: trained, or resumed from their last checkpoint
}

// String is e.g. "280 runs: 40 finished, 50 to copy from finished twins, 190 to train".
func (o Outlook) String() string {
	parts := []string{fmt.Sprintf("%d finished", o.Finished)}
	if o.Copies > 0 {
		parts = append(parts, fmt.Sprintf("%d to copy from finished twins", o.Copies))
	}
	parts = append(parts, fmt.Sprintf("%d to train", o.Train))
	return fmt.Sprintf("%d runs: %s", o.Runs, strings.Join(parts, ", "))
}

// Outlook tells, without training or writing anything, what RunAll will do
// with the runs of exps: a cell can print it before the training cell (the
// Runner needs only its Budget, MaxTestImages and NeedCheckpoints set).
func (r *Runner) Outlook(exps []config.Experiment) (Outlook, error) {
	p, err := r.plan(exps)
	if err != nil {
		return Outlook{}, err
	}
	o := Outlook{Runs: len(p.runs), Finished: len(p.runs) - len(p.left)}
	for _, i := range p.left {
		if _, ok := p.twins.Of(p.runs[i], r.MaxTestImages); ok {
			o.Copies++
		} else {
			o.Train++
		}
	}
	return o, nil
}

// Complete reports whether every run of exps is finished, in the budget's
// shipped results or in its results directory (RunDir): a notebook then
// needs to train nothing for them, not even the runs they start from.
func Complete(exps []config.Experiment) bool {
	for _, run := range experiment.Plan(exps) {
		run.Dir = RunDir(run.Experiment, run.Targets, false)
		if !run.Complete() {
			return false
		}
	}
	return true
}

// Load returns the rows of every run of exps that has a metrics.csv (its
// shipped copy first, see RunDir), without training (for cells that only
// plot what an earlier cell computed).
func Load(exps []config.Experiment) (results.Table, error) {
	var t results.Table
	for _, e := range exps {
		for _, targets := range e.TargetGroups() {
			rows, err := results.ReadCSV(filepath.Join(RunDir(e, targets, false), results.MetricsFile))
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
		return t, ErrNoResults
	}
	return t, nil
}

// ErrNoResults is Load's error when none of the runs has results yet.
var ErrNoResults = errors.New("notebook: no results yet: run the training cell first")
