package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/gomlx/compute"

	"github.com/cmemae/cmemae/pkg/backend"
	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

// Driver trains runs. The zero value is ready: each run's trainer.backend
// chooses its backend (once per name), datasets are loaded once per process
// (data.LoadCached), and nothing is printed.
type Driver struct {
	// Backend, if set, is used for every run instead of trainer.backend.
	Backend compute.Backend
	// Messages receives one-line notices (a backend fallback, dataset
	// downloads); nil discards them.
	Messages io.Writer
	// Progress receives each run's progress bar (drawn on terminals only; see
	// train.Options.Progress); nil is silent.
	Progress io.Writer
	// ProgressLabel, if set, prefixes the progress bar (e.g. "run 3/40").
	ProgressLabel func() string
	// MaxTestImages, if > 0, evaluates on a random subset of that many images
	// per test set (quick checks).
	MaxTestImages int
	// WaitForLock waits for a run another process is training instead of
	// failing with train.ErrLocked.
	WaitForLock bool
	// OnEpoch, if set, is called after every evaluated epoch of a run.
	OnEpoch func(Run, train.EpochResult)
	// Twins, if set, are finished runs to copy instead of training a run
	// that has not started (see Twins).
	Twins *Twins

	mu       sync.Mutex
	backends map[string]compute.Backend
}

// BackendFor returns the backend for a trainer.backend value ("" = automatic,
// see package backend), created on first use. Names that no backend knows
// are reported as errors wrapping backend.New's.
func (d *Driver) BackendFor(name string) (compute.Backend, error) {
	if d.Backend != nil {
		return d.Backend, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if b, ok := d.backends[name]; ok {
		return b, nil
	}
	b, notice, err := backend.New(name)
	if err != nil {
		return nil, fmt.Errorf("trainer.backend: %w", err)
	}
	if notice != "" && d.Messages != nil {
		fmt.Fprintln(d.Messages, notice)
	}
	if d.backends == nil {
		d.backends = map[string]compute.Backend{}
	}
	d.backends[name] = b
	return b, nil
}

// Train trains one run, resuming it from its last checkpoint (a complete
// run trains no epoch), and along with it the runs of along: runs of its
// group (see Groups) that share its training. The result's Siblings are
// along's, nil for a run left to train on its own (see train.Sibling). A
// run that has not started and has a finished twin (Driver.Twins) is copied
// from it instead (train.CopyRun).
func (d *Driver) Train(ctx context.Context, run Run, along ...Run) (*train.RunResult, error) {
	e := run.Experiment
	var onEpoch func(train.EpochResult)
	if d.OnEpoch != nil {
		onEpoch = func(er train.EpochResult) { d.OnEpoch(run, er) }
	}
	opts := train.Options{
		Experiment:    e,
		Targets:       run.Targets,
		Dir:           run.Dir,
		Params:        e.ParamsSlug(),
		Progress:      d.Progress,
		ProgressLabel: d.ProgressLabel,
		MaxTestImages: d.MaxTestImages,
		OnEpoch:       onEpoch,
		WaitForLock:   d.WaitForLock,
		Siblings:      d.siblings(along),
	}
	if res, err := d.copyTwin(ctx, run, opts); res != nil || err != nil {
		return res, err
	}
	b, err := d.BackendFor(e.Trainer.Backend)
	if err != nil {
		return nil, err
	}
	dm := e.Datamodule
	load := data.LoadOptions{DataDir: dm.DataDir, Progress: d.Messages}
	if opts.TrainData, err = data.LoadCached(dm.Name, data.Train, load); err != nil {
		return nil, err
	}
	if opts.TestData, err = data.LoadCached(dm.Name, data.Test, load); err != nil {
		return nil, err
	}
	opts.Backend = b
	return train.Run(ctx, opts)
}

// copyTwin copies a finished twin of run (Driver.Twins) into its directory
// if it has not started: the result says so (train.RunResult.CopiedFrom),
// and the runs along with it are left to train on their own. It returns
// nil, nil when there is nothing to copy, or when the copy failed (said on
// Messages): the run then trains.
func (d *Driver) copyTwin(ctx context.Context, run Run, opts train.Options) (*train.RunResult, error) {
	src, ok := d.Twins.Of(run, d.MaxTestImages)
	if !ok {
		return nil, nil
	}
	along := len(opts.Siblings)
	opts.Siblings = nil
	res, err := train.CopyRun(ctx, src, opts)
	switch {
	case errors.Is(err, train.ErrNotFresh):
		return nil, nil
	case ctx.Err() != nil || errors.Is(err, train.ErrLocked):
		return nil, err
	case err != nil:
		// The run trains instead (train.Run removes what the copy left).
		if d.Messages != nil {
			fmt.Fprintf(d.Messages, "experiment: %s not copied from its finished twin, trained instead: %v\n", run.Dir, err)
		}
		return nil, nil
	}
	res.Siblings = make([]*train.RunResult, along)
	return res, nil
}

// RunAll trains every run that is not complete yet (or copies its twin, see
// Train) and returns the metrics of all of them (the finished ones are only
// read). Runs that train alike (see Groups) share one training. after, if
// set, is called after each run, in order, with its result (nil for a run
// that was already complete). Runs sharing a directory are refused
// (CheckDistinct).
func (d *Driver) RunAll(ctx context.Context, runs []Run, after func(i int, run Run, res *train.RunResult)) (results.Table, error) {
	var t results.Table
	if len(runs) == 0 {
		return t, errors.New("experiment: no runs")
	}
	if err := CheckDistinct(runs); err != nil {
		return t, err
	}
	trainings := NewTrainings(runs)
	for i, run := range runs {
		_, res, alongDone := trainings.TrainedAlong(i)
		rows, err := run.Metrics()
		if !alongDone && (err != nil || !run.completeIn(rows)) {
			along := trainings.Along(i)
			alongRuns := make([]Run, len(along))
			for k, j := range along {
				alongRuns[k] = runs[j]
			}
			if res, err = d.Train(ctx, run, alongRuns...); err != nil {
				return t, fmt.Errorf("experiment: run %d/%d (%s): %w", i+1, len(runs), run.Dir, err)
			}
			trainings.Record(i, along, res)
		}
		if rows, err = run.Metrics(); err != nil {
			return t, fmt.Errorf("experiment: run %d/%d: %w", i+1, len(runs), err)
		}
		if after != nil {
			after(i, run, res)
		}
		t.Rows = append(t.Rows, rows...)
	}
	return t, nil
}
