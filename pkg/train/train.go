package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/cmemae/cmemae/pkg/atomicfile"
	"github.com/cmemae/cmemae/pkg/backend"
	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/models"
	"github.com/cmemae/cmemae/pkg/results"
)

// Seed streams (second PCG word) so that the random streams of a run are
// independent of each other.
const (
	streamShuffle = 1 << 20 // + epoch
	streamMemory  = 7
)

// TargetMetrics are the test metrics of one target class after one epoch.
type TargetMetrics struct {
	Target int // the class tested (normal class of this test set)
	// AUROC of the normal confidence 1 − (e − min)/(max − min) against "is normal".
	AUROC float64
	// MeanErrNormal and MeanErrAnomalous are the mean per-image reconstruction
	// errors of the normal and the anomalous test images.
	MeanErrNormal, MeanErrAnomalous float64
	// SelectionAccuracy, for conditional "unknown" runs, is the fraction of the
	// target's normal test images whose self-selected memory (or AE) is the
	// target's own (index of the target in the run's targets). NaN otherwise.
	SelectionAccuracy float64
	// NumNormal and NumAnomalous are the sizes of the test set's two groups.
	NumNormal, NumAnomalous int
}

// EpochResult is everything measured after one epoch.
type EpochResult struct {
	Epoch     int             // 1-based; 0 is the evaluation before training (Options.EvaluateInit)
	Target    []int           // the run's targets
	TrainLoss float64         // mean training loss of the epoch; NaN for epoch 0
	PerTarget []TargetMetrics // in Target order
	MeanAUROC float64         // mean of PerTarget AUROCs
	Duration  time.Duration   // training + evaluation time of the epoch; a Sibling's: its evaluation only
}

// Options are everything a single run needs.
type Options struct {
	// Experiment is the resolved configuration (config.Parse): every value
	// set, its defaults included; Run checks it with the configuration's rules
	// (config.Experiment.ValidateRun), with Targets as its target group.
	Experiment config.Experiment
	// Targets are the normal classes of this run (one, or several for a
	// conditional run).
	Targets []int
	// Dir is the run directory,
	// <results>/<name>/<params>/seed_<s>/target_<t…> (see results.RunDir).
	Dir string
	// Params is the params slug written to metrics.csv; "" takes it from Dir
	// when Dir follows the results layout, else results.DefaultParams.
	Params string
	// Backend to use; nil chooses one with backend.New(trainer.backend), and
	// the notice of a fallback goes to Progress.
	Backend compute.Backend
	// OnEpoch, if set, is called after every epoch's evaluation.
	OnEpoch func(EpochResult)
	// OnStep, if set, is called after every training step (1-based step
	// within the epoch); cancelling the run's context from it stops the run
	// before the next step.
	OnStep func(epoch, step int)
	// Progress receives messages (resuming, interruption) and, when it is a
	// terminal (see IsTerminal), a progress bar of the current epoch that is
	// cleared when the epoch ends: the epoch's one line is OnEpoch's to print
	// (without OnEpoch, Run prints it to Progress). nil is silent.
	Progress io.Writer
	// ProgressLabel, if set, is called at the start of every epoch; its result
	// prefixes the progress bar (e.g. "run 3/60 · job ETA 2h10m ·").
	ProgressLabel func() string

	// TrainData and TestData, if set, are used instead of loading
	// datamodule.name (tests and sweeps reuse loaded data).
	TrainData, TestData *data.Dataset
	// EvaluateInit also evaluates the model before training (after
	// from_checkpoint and the transformers) and writes its metrics as epoch 0
	// (useful for few-shot curves; the thesis logged from epoch 1).
	EvaluateInit bool
	// MaxTestImages, if > 0, keeps only the first MaxTestImages images of
	// each target's (shuffled) test set: a random subset, for quick runs.
	MaxTestImages int
	// WaitForLock makes Run wait while another process (or another Run)
	// trains in Dir, instead of failing at once with a *LockedError
	// (errors.Is(err, ErrLocked)). See LockFile.
	WaitForLock bool
	// Siblings are runs that train exactly like this one and are trained
	// along with it (see Sibling).
	Siblings []Sibling
}

// Sibling is a run that trains exactly like the run of Options (the same
// targets, and an experiment that config.Experiment.TrainsLike: it differs
// only in how it is evaluated, e.g. conditional=unknown beside known) and that
// Run trains along with it: one training per epoch, then each run's own
// evaluation, metrics.csv, config.yaml and checkpoints in its own directory,
// which holds a complete run as if it had been trained on its own.
//
// A sibling is trained along only when it starts where the run does (both
// fresh, or both resuming from the same epoch) and its directory is free;
// otherwise Run leaves it alone (RunResult.Siblings says which), and it
// trains on its own when its turn comes.
type Sibling struct {
	Experiment config.Experiment
	Dir        string
	Params     string            // as Options.Params
	OnEpoch    func(EpochResult) // as Options.OnEpoch, for this sibling
}

// RunResult is what a finished run returns.
type RunResult struct {
	Dir string
	// Epochs are the epochs trained by this call (after ResumedFrom),
	// preceded by epoch 0 with Options.EvaluateInit.
	Epochs []EpochResult
	// ResumedFrom is the epoch of the checkpoint the run continued from
	// (0 = init), or -1 for a run started from scratch.
	ResumedFrom int
	// MissingEpochs lists the epochs up to ResumedFrom whose rows were
	// missing from metrics.csv on resuming (deleted or edited by hand); they
	// stay missing, and a warning goes to Options.Progress.
	MissingEpochs []int
	// Model is the model with its effective configuration (memory size and
	// number of memories after the few-shot transformers); Store holds its
	// trained variables.
	Model   *models.Model
	Store   *model.Store
	Backend compute.Backend
	// Frozen reports the freeze transformer: no weights were changed.
	Frozen bool
	// Siblings are the results of Options.Siblings, in their order: nil for
	// a sibling that was not trained along (its directory was in use, it did
	// not start at the same epoch, or it could not be resumed: its own run
	// reports why).
	Siblings []*RunResult
	// CopiedFrom is the run directory CopyRun copied the run from; "" for a
	// run trained here.
	CopiedFrom string
}

// Last returns the result of the last epoch trained by this call, or nil.
func (r *RunResult) Last() *EpochResult {
	if r == nil || len(r.Epochs) == 0 {
		return nil
	}
	return &r.Epochs[len(r.Epochs)-1]
}

// settings are the validated values Run uses.
type settings struct {
	targets       []int
	conditional   models.Conditional
	numConditions int
	modelCfg      models.Config
	lr            float64
	batchSize     int
	shuffle       bool
	testBatchSize int
	maxEpochs     int
	every         int
	seed          int64
	transformers  []config.Transformer
	fromCkpt      string
	experiment    string
	params        string
}

// resolve checks opts with the configuration's own rules
// (config.Experiment.ValidateRun: the defaults and rules live in package
// config) and collects the values of the run.
func resolve(opts Options) (*settings, error) {
	e := opts.Experiment
	if opts.Dir == "" {
		return nil, errors.New("train: no run directory given (Options.Dir)")
	}
	if err := e.ValidateRun(opts.Targets); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	s := &settings{
		targets:       slices.Clone(opts.Targets),
		conditional:   e.Conditional,
		numConditions: e.NumConditions(opts.Targets),
		lr:            e.Model.LearningRate,
		batchSize:     e.Datamodule.BatchSize,
		shuffle:       e.Datamodule.Shuffle,
		testBatchSize: e.Datamodule.TestBatchSize,
		maxEpochs:     e.Trainer.MaxEpochs,
		every:         e.SaveCheckpointsEveryNEpochs,
		seed:          e.Seed,
		transformers:  slices.Clone(e.Model.ModelTransformers),
		fromCkpt:      e.FromCheckpoint,
		experiment:    e.Name,
		params:        opts.Params,
	}
	s.modelCfg = e.ModelConfig(s.numConditions)
	if s.params == "" && len(e.Params) > 0 {
		s.params = e.ParamsSlug()
	}
	if s.params == "" {
		s.params = paramsFromDir(opts.Dir)
	}
	return s, nil
}

// paramsFromDir extracts <params> from <…>/<params>/seed_<s>/target_<t>.
func paramsFromDir(dir string) string {
	clean := filepath.Clean(dir)
	tdir, sdir := filepath.Base(clean), filepath.Base(filepath.Dir(clean))
	if strings.HasPrefix(tdir, "target_") && strings.HasPrefix(sdir, "seed_") {
		return filepath.Base(filepath.Dir(filepath.Dir(clean)))
	}
	return results.DefaultParams
}

// Run trains one model as configured, evaluating it after every epoch,
// writing metrics.csv, config.yaml and checkpoints into opts.Dir (and the
// same for each of opts.Siblings into its own directory), and resuming
// from the latest checkpoint there if any (see the package documentation).
// Cancelling ctx stops the run after the current training step with an error
// wrapping ctx.Err(). While it trains, Run holds the run directory's lock
// (LockFile): a second Run on the same directory, in this or another process
// or machine, fails with an error wrapping ErrLocked, or waits with
// Options.WaitForLock.
func Run(ctx context.Context, opts Options) (res *RunResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("train: run %s: %v", opts.Dir, r)
		}
	}()
	s, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	sibSettings, err := resolveSiblings(opts, s)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("train: not started: %w", err)
	}
	b := opts.Backend
	if b == nil {
		var notice string
		b, notice, err = backend.New(opts.Experiment.Trainer.Backend)
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		if notice != "" && opts.Progress != nil {
			fmt.Fprintln(opts.Progress, notice)
		}
	}
	split, err := loadSplit(opts, s)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: creating run directory: %w", err)
	}
	// The run owns its directory from here on (see LockFile): leftovers,
	// checkpoints and metrics.csv are only touched under the lock.
	lock, err := claimRunDir(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()

	r := &runner{opts: opts, s: s, backend: b, split: split, res: &RunResult{Dir: opts.Dir, ResumedFrom: -1, Backend: b}}
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	r.res.Siblings = make([]*RunResult, len(opts.Siblings))
	for i, sib := range opts.Siblings {
		sr, unlock, err := r.sibling(ctx, sib, sibSettings[i])
		if err != nil {
			// Its own run, when its turn comes, reports what is wrong with it
			// (e.g. a corrupt checkpoint); this run does not fail for it.
			if opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "train: %s trains on its own, not along with %s: %v\n", sib.Dir, opts.Dir, err)
			}
			continue
		}
		if sr != nil {
			defer unlock()
			r.siblings = append(r.siblings, sr)
			r.res.Siblings[i] = sr.res
		}
	}
	if err := r.loop(ctx); err != nil {
		return r.res, err
	}
	return r.res, nil
}

// siblingOptions are the Options of a sibling's own run.
func siblingOptions(opts Options, sib Sibling) Options {
	o := opts
	o.Experiment, o.Dir, o.Params, o.OnEpoch = sib.Experiment, sib.Dir, sib.Params, sib.OnEpoch
	o.OnStep, o.Siblings, o.WaitForLock = nil, nil, false
	return o
}

// resolveSiblings checks that every sibling trains like the run of opts.
func resolveSiblings(opts Options, s *settings) ([]*settings, error) {
	var out []*settings
	for _, sib := range opts.Siblings {
		ss, err := resolve(siblingOptions(opts, sib))
		if err != nil {
			return nil, fmt.Errorf("train: sibling %s: %w", sib.Dir, err)
		}
		if filepath.Clean(sib.Dir) == filepath.Clean(opts.Dir) {
			return nil, fmt.Errorf("train: sibling %s is the run itself", sib.Dir)
		}
		if !opts.Experiment.TrainsLike(sib.Experiment) || !slices.Equal(ss.targets, s.targets) {
			return nil, fmt.Errorf("train: sibling %s (%s, targets %v) does not train like %s (%s, targets %v): only how a run is evaluated may differ",
				sib.Dir, sib.Experiment, ss.targets, opts.Dir, opts.Experiment, s.targets)
		}
		out = append(out, ss)
	}
	return out, nil
}

// sibling prepares a sibling to be trained along with r: it locks its
// directory and resumes or initialises it like a run of its own. It returns
// nil (and no error) for a sibling left alone: its directory is in use, or it
// does not start at r's epoch, or its metrics hold trained epochs but it has
// no checkpoint ([ErrMetricsWithoutCheckpoint]); and an error for one that cannot be prepared
// (its directory holds another run, a corrupt checkpoint). The sibling
// evaluates r's weights (r's store).
func (r *runner) sibling(ctx context.Context, sib Sibling, s *settings) (*runner, func(), error) {
	opts := siblingOptions(r.opts, sib)
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("train: creating run directory: %w", err)
	}
	lock, err := TryLockRun(opts.Dir)
	if errors.Is(err, ErrLocked) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	cleanCheckpointLeftovers(opts.Dir)
	sr := &runner{opts: opts, s: s, backend: r.backend, split: r.split, evalOnly: true,
		res: &RunResult{Dir: opts.Dir, ResumedFrom: -1, Backend: r.backend}}
	if err := sr.prepare(ctx); err != nil {
		lock.Unlock()
		if errors.Is(err, ErrMetricsWithoutCheckpoint) {
			return nil, nil, nil // left to its own run, which refuses it
		}
		return nil, nil, err
	}
	if sr.startEpoch != r.startEpoch || sr.frozen != r.frozen {
		lock.Unlock()
		return nil, nil, nil
	}
	sr.store = r.store
	sr.res.Store = r.store
	return sr, func() { _ = lock.Unlock() }, nil
}

func loadSplit(opts Options, s *settings) (*data.OneClassSplit, error) {
	dm := opts.Experiment.Datamodule
	train, test := opts.TrainData, opts.TestData
	var err error
	if train == nil {
		if train, err = data.LoadCached(dm.Name, data.Train, data.LoadOptions{DataDir: dm.DataDir}); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	if test == nil {
		if test, err = data.LoadCached(dm.Name, data.Test, data.LoadOptions{DataDir: dm.DataDir}); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	split, err := data.NewOneClassSplit(train, test, data.Protocol{
		Targets: s.targets, NumTrainSamples: dm.NumTrainSamples, AnomalyFraction: dm.AnomalyFraction, Seed: s.seed,
	})
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if n := opts.MaxTestImages; n > 0 {
		for i := range split.Tests {
			ts := &split.Tests[i]
			if ts.Len() > n {
				ts.Indices = ts.Indices[:n]
				ts.IsNormal = ts.IsNormal[:n]
			}
		}
	}
	return split, nil
}

// writeConfig writes the resolved configuration of the run (config.yaml,
// see runConfig) with eff, the effective model configuration.
func writeConfig(dir string, e config.Experiment, eff models.Config, s *settings, maxTestImages int) error {
	doc, err := runConfig(e, s.targets, fmt.Sprintf("%skind=%s arch=%s memories=%d memory_size=%d",
		effectiveModelComment, eff.Kind, eff.Arch, eff.NumConditions, eff.MemorySize), maxTestImages)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	path := filepath.Join(dir, results.ConfigFile)
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { _, err := w.Write(doc); return err }); err != nil {
		return fmt.Errorf("train: writing %s: %w", path, err)
	}
	return nil
}

// effectiveModelComment starts config.yaml's line on the effective model.
const effectiveModelComment = "# effective model: "

// runConfig is a run's config.yaml: the experiment with datamodule.targets
// narrowed to the run's target group, followed by the comment line
// effective (the effective model configuration) and, for a run evaluated on
// test subsets (Options.MaxTestImages > 0), a line saying so.
func runConfig(e config.Experiment, targets []int, effective string, maxTestImages int) ([]byte, error) {
	e.Datamodule.Targets = config.Targets{slices.Clone(targets)}
	doc, err := e.YAML()
	if err != nil {
		return nil, err
	}
	doc = append(doc, effective+"\n"...)
	if maxTestImages > 0 {
		doc = append(doc, fmt.Sprintf("%s%d (each test set evaluated on a random subset)\n", maxTestImagesComment, maxTestImages)...)
	}
	return doc, nil
}

func newRNG(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}
