package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gomlx/compute"

	"github.com/cmemae/cmemae/pkg/backend"
	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/experiment"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

// runOptions are the runner's flags.
type runOptions struct {
	help, dryRun, printCfg bool
	maxTestImages          int
	estimate               bool // with -n: measure and print the estimated duration
	copyTwins              bool // copy a finished twin instead of training (experiment.Twins)
}

// parseFlags separates flags (anywhere on the command line) from key=value
// arguments.
func parseFlags(name string, args []string, fset *flag.FlagSet) (positional []string, err error) {
	for {
		if err := fset.Parse(args); err != nil {
			return nil, usageError{fmt.Errorf("%s: %w", name, err)}
		}
		args = fset.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// job is one run: an experiment and one of its target groups (with its
// results directory).
type job = experiment.Run

func planJobs(exps []config.Experiment) []job { return experiment.Plan(exps) }

func runExperiments(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var opts runOptions
	fset := flag.NewFlagSet("thesis_experiments", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	fset.BoolVar(&opts.help, "h", false, "")
	fset.BoolVar(&opts.help, "help", false, "")
	fset.BoolVar(&opts.dryRun, "n", false, "")
	fset.BoolVar(&opts.dryRun, "dry-run", false, "")
	fset.BoolVar(&opts.printCfg, "cfg", false, "")
	fset.IntVar(&opts.maxTestImages, "max-test-images", 0, "")
	fset.BoolVar(&opts.estimate, "estimate", true, "")
	fset.BoolVar(&opts.copyTwins, "copy-twins", true, "")
	var multirun bool // Hydra's -m/--multirun: sweeps need no flag here
	fset.BoolVar(&multirun, "m", false, "")
	fset.BoolVar(&multirun, "multirun", false, "")
	parser := experiment.NewParser()
	overrides, err := parseFlags("thesis_experiments", args, fset)
	if err != nil {
		return err
	}
	if opts.help || (len(overrides) > 0 && overrides[0] == "help") {
		printUsage(stdout, parser)
		return nil
	}
	overrides, sh, err := takeShard(overrides, os.Getenv)
	if err != nil {
		return err
	}
	exps, err := experiment.Parse(overrides...)
	if err != nil {
		return usageError{err}
	}
	jobs := planJobs(exps)
	if err := experiment.CheckDistinct(jobs); err != nil {
		return usageError{err}
	}
	jobs = selectShard(jobs, sh, stdout)
	if opts.printCfg {
		for i, j := range jobs {
			e := j.Experiment
			e.Datamodule.Targets = config.Targets{j.Targets}
			doc, err := e.YAML()
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "# run %d/%d: %s\n%s---\n", i+1, len(jobs), j.Dir, doc)
		}
		return nil
	}
	var twins *experiment.Twins
	if opts.copyTwins {
		if twins, err = findTwins(jobs); err != nil {
			return err
		}
	}
	if opts.dryRun {
		trainings := experiment.NewTrainings(jobs)
		for i, j := range jobs {
			fmt.Fprintf(stdout, "run %d/%d: %s target=%v epochs=%d → %s", i+1, len(jobs), j.Experiment, j.Targets, j.Experiment.Trainer.MaxEpochs, j.Dir)
			if src, ok := twins.Of(j, opts.maxTestImages); ok {
				fmt.Fprintf(stdout, " (copied from its finished twin %s)", src)
			} else if first := trainings.First(i); first != i {
				fmt.Fprintf(stdout, " (trained along with run %d)", first+1)
			}
			if unresumable(j) {
				fmt.Fprint(stdout, " (will not train: its metrics.csv holds trained epochs but it has no checkpoint to resume from; move metrics.csv away to retrain it)")
			}
			fmt.Fprintln(stdout)
		}
	}

	r := &runner{stdout: stdout, stderr: stderr, opts: opts}
	r.driver = &experiment.Driver{
		Messages:      stderr,
		Progress:      stderr,
		MaxTestImages: opts.maxTestImages,
		Twins:         twins,
		ProgressLabel: func() string { return r.job.label() },
		OnEpoch: func(j job, er train.EpochResult) {
			i := r.index[j.Dir]
			r.announceAlong()
			if er.Epoch > 0 {
				r.job.epochDone(i, er.Duration)
			}
			fmt.Fprintln(r.stdout, epochLine(er, j.Experiment.Trainer.MaxEpochs)+r.job.suffix(i))
		},
	}
	r.shard = sh
	if opts.dryRun {
		return r.printEstimate(ctx, jobs, opts.estimate)
	}
	r.job = newJobProgress(jobs, opts.maxTestImages)
	r.planGroups(jobs)
	start := time.Now()
	for i, j := range jobs {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("before run %d/%d: %w", i+1, len(jobs), err)
		}
		fmt.Fprintf(stdout, "run %d/%d: %s target=%v → %s\n", i+1, len(jobs), j.Experiment, j.Targets, j.Dir)
		if first, _, ok := r.trainings.TrainedAlong(i); ok {
			fmt.Fprintf(stdout, "  trained along with run %d (one training, evaluated for each)\n", first+1)
			if line := bestLine(j); line != "" {
				fmt.Fprintln(stdout, "  "+line)
			}
			continue
		}
		along := r.trainings.Along(i)
		r.job.startRun(i, along...)
		if err := r.runJob(ctx, j, along...); err != nil {
			return err
		}
	}
	left := 0 // runs a shard leaves to the processes that hold them
	if r.shard != nil {
		left = len(r.locked)
	}
	if err := r.finishLocked(ctx); err != nil {
		return err
	}
	notTrained := len(r.unresumable)
	switch took := time.Since(start).Round(time.Second); {
	case left > 0 || notTrained > 0:
		var why []string
		if left > 0 {
			why = append(why, fmt.Sprintf("%d left to other processes", left))
		}
		if notTrained > 0 {
			why = append(why, fmt.Sprintf("%d not trained (below)", notTrained))
		}
		fmt.Fprintf(stdout, "finished %d of %d run(s) in %s; %s\n", len(jobs)-left-notTrained, len(jobs), took, strings.Join(why, ", "))
	default:
		fmt.Fprintf(stdout, "finished %d run(s) in %s\n", len(jobs), took)
	}
	if len(jobs) > 1 {
		printSummary(stdout, jobs)
	}
	if n := len(r.unresumable); n > 0 {
		return fmt.Errorf("%d run(s) not trained: their metrics.csv holds trained epochs but they have no checkpoint to resume from (move metrics.csv away to retrain, or restore the checkpoints):\n  %s",
			n, strings.Join(r.unresumable, "\n  "))
	}
	return nil
}

// runner runs the jobs of one command on the driver shared with the notebooks.
type runner struct {
	stdout, stderr io.Writer
	opts           runOptions
	driver         *experiment.Driver
	shardState
	job *jobProgress // the whole job: run i of n, ETA

	jobs         []job
	index        map[string]int        // run directory → job index
	trainings    *experiment.Trainings // the jobs that share a training, and those trained along
	pendingAlong []int                 // jobs along with the training being started, not announced yet
	unresumable  []string              // run directories refused: trained epochs' metrics, no checkpoint
}

// planGroups finds the jobs that share a training (experiment.Groups).
func (r *runner) planGroups(jobs []job) {
	r.jobs, r.index, r.trainings = jobs, map[string]int{}, experiment.NewTrainings(jobs)
	for i, j := range jobs {
		r.index[j.Dir] = i
	}
}

// announceAlong says, once, which runs the training that has just started
// trains along (the jobs of pendingAlong).
func (r *runner) announceAlong() {
	for _, k := range r.pendingAlong {
		a := r.jobs[k]
		fmt.Fprintf(r.stdout, "  along with run %d/%d: %s target=%v → %s (the same training)\n", k+1, len(r.jobs), a.Experiment, a.Targets, a.Dir)
	}
	r.pendingAlong = nil
}

func (r *runner) backend(name string) (compute.Backend, error) {
	b, err := r.driver.BackendFor(name)
	if errors.Is(err, backend.ErrUnknown) {
		return nil, usageError{err}
	}
	if err != nil {
		return nil, err // the backend exists but does not start: not a usage error
	}
	return b, nil
}

// runJob trains job j, and along with it the jobs of along (indices of
// r.jobs: runs of its group that share its training).
func (r *runner) runJob(ctx context.Context, j job, along ...int) error {
	if r.skipCompleted(j) {
		return nil
	}
	if _, err := r.backend(j.Experiment.Trainer.Backend); err != nil {
		return err
	}
	var alongRuns []job
	for _, k := range along {
		alongRuns = append(alongRuns, r.jobs[k])
	}
	r.pendingAlong = along // announced when the training starts (not for a run another process holds)
	r.driver.WaitForLock = r.waitLocks
	res, err := r.driver.Train(ctx, j, alongRuns...)
	r.pendingAlong = nil
	if len(along) > 0 {
		r.trainings.Record(r.index[j.Dir], along, res)
	}
	if errors.Is(err, train.ErrLocked) && !r.waitLocks {
		r.lockedElsewhere(j, err)
		return nil
	}
	if errors.Is(err, train.ErrMetricsWithoutCheckpoint) {
		// One such directory must not stop a sweep: the others train, and
		// the command fails at the end, naming it.
		fmt.Fprintf(r.stdout, "  not trained: %v\n", err)
		r.unresumable = append(r.unresumable, j.Dir)
		return nil
	}
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return fmt.Errorf("run %s target %v: %w", j.Dir, j.Targets, err)
	}
	switch {
	case res.CopiedFrom != "":
		fmt.Fprintf(r.stdout, "  copied from %s: a finished run that trained and was evaluated alike (-copy-twins=false trains it instead)\n", res.CopiedFrom)
	case len(res.Epochs) == 0 && res.ResumedFrom >= 0:
		fmt.Fprintf(r.stdout, "  already complete (%d epochs)\n", res.ResumedFrom)
	}
	if line := bestLine(j); line != "" {
		fmt.Fprintln(r.stdout, "  "+line)
	}
	return nil
}

// findTwins indexes the finished runs under the jobs' results directories
// (experiment.Twins).
func findTwins(jobs []job) (*experiment.Twins, error) {
	var roots []string
	for _, j := range jobs {
		roots = append(roots, j.Experiment.ResultsDir)
	}
	return experiment.FindTwins(roots...)
}

// epochLine is the per-epoch report: mean AUROC, and per target for
// conditional runs (with the self-selection accuracy where measured).
func epochLine(er train.EpochResult, maxEpochs int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %*d/%d  loss %.6f  AUROC %.4f", len(fmt.Sprint(maxEpochs)), er.Epoch, maxEpochs, er.TrainLoss, er.MeanAUROC)
	if len(er.PerTarget) > 1 || (len(er.PerTarget) == 1 && !math.IsNaN(er.PerTarget[0].SelectionAccuracy)) {
		var parts []string
		for _, t := range er.PerTarget {
			s := fmt.Sprintf("%d: %.4f", t.Target, t.AUROC)
			if !math.IsNaN(t.SelectionAccuracy) {
				s += fmt.Sprintf(" sel %.3f", t.SelectionAccuracy)
			}
			parts = append(parts, s)
		}
		b.WriteString("  (" + strings.Join(parts, ", ") + ")")
	}
	return b.String()
}

// bestLine summarises a run's metrics.csv: best mean AUROC over targets and its epoch.
func bestLine(j job) string {
	dir := j.Dir
	rows, err := j.Metrics()
	if err != nil || len(rows) == 0 {
		return ""
	}
	t := results.Table{Rows: rows}
	byEpoch := t.Filter(func(r results.Row) bool { return r.Epoch > 0 })
	epochs, groups := byEpoch.GroupBy(results.ByEpoch)
	best, bestEpoch, last := math.Inf(-1), "", math.NaN()
	for _, ep := range epochs {
		m := results.Mean(groups[ep].Values(results.AUROC))
		if m > best {
			best, bestEpoch = m, ep
		}
		last = m
	}
	if bestEpoch == "" {
		return ""
	}
	return fmt.Sprintf("best AUROC %.4f at epoch %s, last %.4f (%s)", best, bestEpoch, last, filepath.Join(dir, results.MetricsFile))
}

// printSummary prints, per configuration and seed, the mean over targets of
// each target's best AUROC (the thesis's max-over-epochs).
func printSummary(w io.Writer, jobs []job) {
	var tab results.Table
	for _, j := range jobs {
		rows, err := j.Metrics()
		if err == nil {
			tab.Rows = append(tab.Rows, rows...)
		}
	}
	if tab.Len() == 0 {
		return
	}
	best := tab.MaxOverEpochs(results.AUROC)
	keys, groups := best.GroupBy(func(r results.Row) string {
		return fmt.Sprintf("%s/%s\tseed %d", r.Experiment, r.Params, r.Seed)
	})
	fmt.Fprintln(w, "\nmax-over-epochs AUROC, mean over target classes:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, k := range keys {
		g := groups[k]
		fmt.Fprintf(tw, "  %s\t%.4f\t(%d classes)\n", k, results.Mean(g.Values(results.AUROC)), g.Len())
	}
	tw.Flush()
}
