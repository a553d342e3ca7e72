package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/schollz/progressbar/v3"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/metrics"
	"github.com/cmemae/cmemae/pkg/models"
	"github.com/cmemae/cmemae/pkg/results"
)

// Adam hyperparameters: PyTorch's torch.optim.Adam defaults (GoMLX's own
// default epsilon is 1e-7).
const (
	AdamBeta1   = 0.9
	AdamBeta2   = 0.999
	AdamEpsilon = 1e-8
)

// NewAdam is the optimiser of the thesis: torch.optim.Adam(lr) with its
// default betas and epsilon and no weight decay.
func NewAdam(lr float64) optimizer.Interface {
	return optimizer.Adam().LearningRate(lr).Betas(AdamBeta1, AdamBeta2).Epsilon(AdamEpsilon).WeightDecay(0).Done()
}

// StepGraph returns the graph function of one training step of m: the
// forward pass with batch normalisation in training mode, the loss of the
// spec (MSE + weighted entropy) and an Adam update (NewAdam(lr)) of every
// trainable variable. It returns the loss. Run trains with it; the bench
// command measures it. cond is the [B] int32 condition index (the label's
// index among the targets), used when mode is models.CondKnown.
func StepGraph(m *models.Model, lr float64, mode models.Conditional) func(scope *model.Scope, x, cond *graph.Node) *graph.Node {
	opt := NewAdam(lr)
	return func(scope *model.Scope, x, cond *graph.Node) *graph.Node {
		g := x.Graph()
		scope.Store().SetTraining(g, true)
		out := m.Forward(scope, x, cond, mode)
		opt.UpdateGraph(scope, g, out.Loss)
		return out.Loss
	}
}

// runner holds the state of one Run.
type runner struct {
	opts    Options
	s       *settings
	backend compute.Backend
	split   *data.OneClassSplit
	res     *RunResult

	model      *models.Model
	store      *model.Store
	frozen     bool
	startEpoch int // first epoch to train

	bar     *progressbar.ProgressBar // the current epoch's bar (see newBar)
	barEval bool                     // evaluation batches advance the bar
	label   string                   // Options.ProgressLabel of the current epoch

	condIndex map[int]int // class → condition index
	trainExec *model.Exec
	evalExec  *model.Exec
	evalBatch int

	// siblings are trained along (Options.Siblings): after each epoch's
	// training, each evaluates the shared weights into its own directory.
	siblings []*runner
	evalOnly bool // a sibling: no training graph of its own
}

// members are the runs r trains: itself and its siblings.
func (r *runner) members() []*runner { return append([]*runner{r}, r.siblings...) }

// prepare resumes from the latest checkpoint in the run directory, or builds
// a fresh model (with from_checkpoint and the transformers) and writes the
// init checkpoint.
func (r *runner) prepare(ctx context.Context) error {
	r.condIndex = map[int]int{}
	for i, t := range r.s.targets {
		r.condIndex[t] = i
	}
	h, w, c := 0, 0, 0
	if latest, ok, err := LatestCheckpoint(r.opts.Dir); err != nil {
		return err
	} else if ok {
		if err := r.resume(latest); err != nil {
			return err
		}
	} else if err := r.fresh(); err != nil {
		return err
	}
	h, w, c = r.model.InputShape()
	d := r.split.Train.Source
	if d.H != h || d.W != w || d.C != c {
		return fmt.Errorf("train: %s images are %dx%dx%d but model arch %q expects %dx%dx%d",
			d.Name, d.H, d.W, d.C, r.model.Config().Arch, h, w, c)
	}
	r.res.Model, r.res.Store, r.res.Frozen = r.model, r.store, r.frozen
	return r.buildExecs()
}

func (r *runner) fresh() error {
	if err := removeStaleMetrics(r.opts.Dir); err != nil {
		return err
	}
	m, err := models.New(r.s.modelCfg)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(r.s.seed); err != nil {
		return fmt.Errorf("train: seeding: %w", err)
	}
	d := r.split.Train.Source
	if h, w, c := m.InputShape(); d.H != h || d.W != w || d.C != c {
		return fmt.Errorf("train: %s images are %dx%dx%d but model arch %q expects %dx%dx%d",
			d.Name, d.H, d.W, d.C, m.Config().Arch, h, w, c)
	}
	if err := m.InitializeVariables(r.backend, store); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	fs := &fewShot{backend: r.backend, model: m, store: store, train: r.split.Train,
		rng: newRNG(r.s.seed, streamMemory), batchSize: r.s.testBatchSize}
	if r.s.fromCkpt != "" {
		src, err := LoadCheckpoint(r.s.fromCkpt)
		if err != nil {
			return fmt.Errorf("train: from_checkpoint: %w", err)
		}
		fs.src = src
		if err := fs.loadSource(); err != nil {
			return err
		}
	}
	for _, name := range r.s.transformers {
		if err := fs.apply(name); err != nil {
			return fmt.Errorf("train: model transformer %q: %w", name, err)
		}
	}
	eff := m.Config()
	if eff.NumConditions != r.s.numConditions {
		return fmt.Errorf("train: the model has %d memories after from_checkpoint and model_transformers %v, but conditional=%s with targets %v needs %d (use %s to turn a conditional model into one memory)",
			eff.NumConditions, r.s.transformers, r.s.conditional, r.s.targets, r.s.numConditions, config.TransformConditionalToDeleted)
	}
	// Rebuild the model from its effective configuration so that the graphs
	// match the (possibly resized) memory.
	if m, err = models.New(eff); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	r.model, r.store, r.frozen, r.startEpoch = m, store, fs.frozen, 1
	if err := writeConfig(r.opts.Dir, r.opts.Experiment, eff, r.s, r.opts.MaxTestImages); err != nil {
		return err
	}
	return SaveCheckpoint(r.opts.Dir, store, r.state(0, nil))
}

// ErrMetricsWithoutCheckpoint is the error (wrapped) of Run for a run
// directory whose metrics.csv holds trained epochs but which has no
// checkpoint to resume from: Run does not replace such metrics.
var ErrMetricsWithoutCheckpoint = errors.New("its metrics.csv holds trained epochs but it has no checkpoint to resume from")

// removeStaleMetrics removes the metrics.csv of a run directory that has no
// checkpoint, before the run starts from scratch: the evaluation of an
// initialisation whose checkpoint was never written. Metrics of trained epochs
// are never removed: a directory holding them without checkpoints (exported
// results, or checkpoints deleted to save space) is refused, so that they are
// not replaced by a new training's.
func removeStaleMetrics(dir string) error {
	path := filepath.Join(dir, results.MetricsFile)
	rows, err := results.ReadCSV(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("train: %s has no checkpoint to resume from, and its metrics.csv cannot be read (%w); move it away (or pick another results_dir) to train the run from scratch", dir, err)
	}
	last := 0
	for _, row := range rows {
		last = max(last, row.Epoch)
	}
	if last > 0 {
		return fmt.Errorf("train: %s: %w (epochs up to %d): exported results, or a run whose checkpoints were deleted; training from scratch would replace them, so move metrics.csv away (or pick another results_dir) to retrain it", dir, ErrMetricsWithoutCheckpoint, last)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("train: removing the stale metrics of %s: %w", dir, err)
	}
	return nil
}

func (r *runner) state(epoch int, loss *float64) CheckpointState {
	return CheckpointState{Epoch: epoch, Seed: r.s.seed, Target: r.s.targets, Model: r.model.Config(),
		Conditional: r.s.conditional, Frozen: r.frozen, TrainLoss: loss}
}

func (r *runner) resume(cp CheckpointInfo) error {
	ck, err := loadCheckpointDir(cp.Dir)
	if err != nil {
		return err
	}
	st, m, store := ck.State, ck.Model, ck.Store
	if !slices.Equal(st.Target, r.s.targets) || st.Seed != r.s.seed {
		return fmt.Errorf("train: run directory %s holds a run of targets %v seed %d, not targets %v seed %d",
			r.opts.Dir, st.Target, st.Seed, r.s.targets, r.s.seed)
	}
	if st.Model.Arch != r.s.modelCfg.Arch || st.Model.Kind != r.s.modelCfg.Kind {
		return fmt.Errorf("train: run directory %s holds a %s/%s model, the configuration asks for %s/%s",
			r.opts.Dir, st.Model.Arch, st.Model.Kind, r.s.modelCfg.Arch, r.s.modelCfg.Kind)
	}
	// The learning rate is a variable of the store: use the configured one.
	if v := store.GetVariable(model.JoinPath("/", optimizer.Scope, optimizer.ParamLearningRate)); v != nil {
		if err := v.SetValue(tensors.FromScalar(float32(r.s.lr))); err != nil {
			return fmt.Errorf("train: resuming: setting the learning rate: %w", err)
		}
	}
	r.model, r.store, r.frozen = m, store, st.Frozen
	r.startEpoch = st.Epoch + 1
	r.res.ResumedFrom = st.Epoch
	// Drop the metrics of epochs after the checkpoint: they are trained again.
	path := filepath.Join(r.opts.Dir, results.MetricsFile)
	var kept []results.Row
	if _, err := os.Stat(path); err == nil {
		rows, err := results.ReadCSV(path)
		if err != nil {
			return fmt.Errorf("train: resuming: %w", err)
		}
		// Epoch-0 rows of a run resumed from init are evaluated again, too.
		redoInit := st.Epoch == 0 && r.opts.EvaluateInit
		kept = slices.DeleteFunc(slices.Clone(rows), func(row results.Row) bool {
			return row.Epoch > st.Epoch || (redoInit && row.Epoch == 0)
		})
		if len(kept) != len(rows) {
			if err := results.WriteCSV(path, kept); err != nil {
				return fmt.Errorf("train: resuming: %w", err)
			}
		}
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("train: resuming: %w", err)
	}
	r.warnMissingMetrics(cp, st.Epoch, kept)
	if r.opts.Progress != nil {
		fmt.Fprintf(r.opts.Progress, "train: resuming %s from checkpoint %s\n", r.opts.Dir, cp.describe())
	}
	return nil
}

// trainMode is the condition mode used in training: the label for
// conditional models, none otherwise.
func (r *runner) trainMode() models.Conditional {
	if r.model.Conditional() {
		return models.CondKnown
	}
	return models.CondNone
}

// evalMode is the condition mode of the evaluation: the run's conditional.
func (r *runner) evalMode() models.Conditional {
	if r.s.conditional == "" {
		return models.CondNone
	}
	return r.s.conditional
}

func (r *runner) buildExecs() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("train: building the training graph: %v", p)
		}
	}()
	m := r.model
	if !r.frozen && !r.evalOnly {
		r.trainExec, err = model.NewExec(r.backend, r.store, StepGraph(m, r.s.lr, r.trainMode()))
		if err != nil {
			return fmt.Errorf("train: building the training graph: %w", err)
		}
		r.trainExec.WithName("train_step")
	}
	maxLen := 1
	for _, ts := range r.split.Tests {
		maxLen = max(maxLen, ts.Len())
	}
	r.evalBatch = min(r.s.testBatchSize, maxLen)
	return nil
}

// evaluation returns the evaluation executable for the model's current
// weights. Evaluation graphs run batch normalisation on running statistics,
// so the store does not mark them as training; on a backend whose
// capabilities prefer constants for variables (the Go backend since compute
// v0.1.14), GoMLX then embeds every variable of the graph as a constant with
// the value it had when the graph was built. Such an executable must not
// outlive a weight update: weightsChanged drops it, and the next evaluation
// builds (and compiles) it again, once per epoch. On other backends variables
// stay parameters and the executable is built once.
func (r *runner) evaluation() (exec *model.Exec, err error) {
	if r.evalExec != nil {
		return r.evalExec, nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("train: building the evaluation graph: %v", p)
		}
	}()
	m := r.model
	mode := r.evalMode()
	r.evalExec, err = model.NewExec(r.backend, r.store, func(scope *model.Scope, x, cond *graph.Node) []*graph.Node {
		out := m.Forward(scope, x, cond, mode)
		chosen := out.Chosen
		if chosen == nil {
			chosen = graph.Zeros(x.Graph(), shapes.Make(dtypes.Int32, x.Shape().Dim(0)))
		} else {
			chosen = graph.ConvertDType(chosen, dtypes.Int32)
		}
		return []*graph.Node{out.PerImageErr, chosen, out.Loss}
	})
	if err != nil {
		return nil, fmt.Errorf("train: building the evaluation graph: %w", err)
	}
	r.evalExec.WithName("eval")
	return r.evalExec, nil
}

// weightsChanged is called after training steps: it drops an evaluation
// executable that embeds the previous weights as constants (see evaluation).
func (r *runner) weightsChanged() {
	if r.evalExec != nil && r.backend.Capabilities().PreferConstantsForVariables {
		r.evalExec.Finalize()
		r.evalExec = nil
	}
}

func (r *runner) condTensor(labels []int32, size int) (*tensors.Tensor, error) {
	cond := make([]int32, size)
	for i, l := range labels {
		ci, ok := r.condIndex[int(l)]
		if !ok {
			return nil, fmt.Errorf("train: training image of class %d is not a target %v", l, r.s.targets)
		}
		cond[i] = int32(ci)
	}
	return tensors.FromFlatDataAndDimensions(cond, size), nil
}

func (r *runner) loop(ctx context.Context) error {
	s := r.s
	if r.startEpoch > s.maxEpochs {
		return nil
	}
	if r.startEpoch == 1 && r.opts.EvaluateInit {
		for _, m := range r.members() {
			er, err := m.evaluate(ctx, 0, math.NaN())
			if err != nil {
				if ctxErr := ctx.Err(); ctxErr != nil {
					return r.interrupted(0, ctxErr)
				}
				return err
			}
			if err := m.appendRows(er); err != nil {
				return err
			}
			m.res.Epochs = append(m.res.Epochs, er)
			if m.opts.OnEpoch != nil {
				m.opts.OnEpoch(er)
			}
		}
	}
	d := r.split.Train.Source
	stepsPerEpoch := (r.split.Train.Len() + s.batchSize - 1) / s.batchSize
	defer r.clearBar() // an error return must not leave a bar on the line of its message
	for epoch := r.startEpoch; epoch <= s.maxEpochs; epoch++ {
		start := time.Now()
		if r.opts.ProgressLabel != nil {
			r.label = r.opts.ProgressLabel()
		}
		bar := r.newBar(epoch, stepsPerEpoch+r.evalBatchCount()*len(r.members()))
		var lossSum float64
		var seen int
		if r.frozen {
			loss, err := r.frozenLoss(ctx)
			if err != nil {
				if ctxErr := ctx.Err(); ctxErr != nil {
					return r.interrupted(epoch, ctxErr)
				}
				return err
			}
			lossSum, seen = loss, 1
			_ = bar.Add(stepsPerEpoch)
		} else {
			rng := newRNG(s.seed, streamShuffle+uint64(epoch))
			step := 0
			for b := range r.split.Train.Batches(s.batchSize, s.shuffle, rng) {
				if err := ctx.Err(); err != nil {
					return r.interrupted(epoch, err)
				}
				step++
				x := tensors.FromFlatDataAndDimensions(b.Images, b.Size, d.H, d.W, d.C)
				cond, err := r.condTensor(b.Labels, b.Size)
				if err != nil {
					return err
				}
				out, err := r.trainExec.Call(x, cond)
				if err != nil {
					return fmt.Errorf("train: epoch %d step %d: %w", epoch, step, err)
				}
				loss := float64(tensors.ToScalar[float32](out[0]))
				if math.IsNaN(loss) || math.IsInf(loss, 0) {
					return fmt.Errorf("train: loss is %v at epoch %d step %d (learning rate %g too high?); checkpoints up to the previous one are kept",
						loss, epoch, step, s.lr)
				}
				lossSum += loss * float64(b.Size)
				seen += b.Size
				_ = bar.Add(1)
				if r.opts.OnStep != nil {
					r.opts.OnStep(epoch, step)
				}
			}
			for _, m := range r.members() {
				m.weightsChanged() // a frozen run keeps its weights, and its evaluation executable
			}
		}
		trainLoss := lossSum / float64(max(seen, 1))
		if err := ctx.Err(); err != nil {
			return r.interrupted(epoch, err)
		}
		bar.Describe(r.barLabel(epoch, fmt.Sprintf("loss %.5f evaluating", trainLoss)))
		trained := time.Since(start)
		var ers []EpochResult
		for i, m := range r.members() {
			er, err := m.finishEpoch(ctx, epoch, trainLoss, bar)
			if err != nil {
				if ctxErr := ctx.Err(); ctxErr != nil {
					return r.interrupted(epoch, ctxErr)
				}
				return err
			}
			if i == 0 { // the training is the run's; a sibling's epoch is its evaluation
				er.Duration += trained
			}
			ers = append(ers, er)
		}
		_ = bar.Finish() // complete (it is already, unless a test set was empty): the bar clears itself
		r.bar = nil
		for i, m := range r.members() {
			er := ers[i]
			m.res.Epochs = append(m.res.Epochs, er)
			if m.opts.OnEpoch != nil {
				m.opts.OnEpoch(er)
			} else if m.opts.Progress != nil {
				fmt.Fprintf(m.opts.Progress, "epoch %d/%d  loss %.6f  AUROC %.4f\n", epoch, s.maxEpochs, trainLoss, er.MeanAUROC)
			}
		}
	}
	return nil
}

// finishEpoch evaluates the epoch's weights, advancing bar, and saves the
// epoch: its rows of metrics.csv and its checkpoints. The result's Duration
// is the evaluation's and the saving's.
func (r *runner) finishEpoch(ctx context.Context, epoch int, trainLoss float64, bar *progressbar.ProgressBar) (EpochResult, error) {
	start := time.Now()
	r.bar, r.barEval = bar, true // each evaluation batch advances the bar; the last one completes it
	er, err := r.evaluate(ctx, epoch, trainLoss)
	r.barEval = false
	if err != nil {
		return er, err
	}
	if bad := nonFinite(er); bad != "" {
		return er, fmt.Errorf("train: the weights became non-finite in epoch %d: the training loss was %g, but %s (the epoch's last update diverged; learning rate %g too high?); checkpoints up to the previous epoch are kept",
			epoch, trainLoss, bad, r.s.lr)
	}
	if err := r.appendRows(er); err != nil {
		return er, err
	}
	loss := trainLoss
	if epoch%r.s.every == 0 || epoch == r.s.maxEpochs {
		if err := SaveCheckpoint(r.opts.Dir, r.store, r.state(epoch, &loss)); err != nil {
			return er, err
		}
	}
	// "last" after every epoch: an interruption from here on loses no finished epoch.
	if err := SaveLastCheckpoint(r.opts.Dir, r.store, r.state(epoch, &loss)); err != nil {
		return er, err
	}
	er.Duration = time.Since(start)
	return er, nil
}

// nonFinite describes the first non-finite mean test error of an epoch's
// evaluation (a model whose weights diverged), or returns "".
func nonFinite(er EpochResult) string {
	for _, m := range er.PerTarget {
		for _, e := range []struct {
			what  string
			n     int
			value float64
		}{{"normal", m.NumNormal, m.MeanErrNormal}, {"anomalous", m.NumAnomalous, m.MeanErrAnomalous}} {
			if e.n > 0 && (math.IsNaN(e.value) || math.IsInf(e.value, 0)) {
				return fmt.Sprintf("the mean reconstruction error of class %d's %s test images is %v", m.Target, e.what, e.value)
			}
		}
	}
	return ""
}

func (r *runner) interrupted(epoch int, cause error) error {
	last := "none"
	if cp, ok, err := LatestCheckpoint(r.opts.Dir); err == nil && ok {
		last = cp.describe()
	}
	r.clearBar()
	return fmt.Errorf("train: interrupted in epoch %d; the run resumes from checkpoint %s: %w", epoch, last, cause)
}

// evalBatches runs the evaluation graph over a subset in fixed order, padding
// the last batch to the compiled batch size (inference is per image, so the
// padding does not change the results). It returns per-image errors, chosen
// condition indices, and the batch-size-weighted mean loss.
func (r *runner) evalBatches(ctx context.Context, sub *data.Subset, cond int32) (errs []float64, chosen []int32, meanLoss float64, err error) {
	d := sub.Source
	size := d.H * d.W * d.C
	bs := r.evalBatch
	condT := make([]int32, bs)
	for i := range condT {
		condT[i] = cond
	}
	exec, err := r.evaluation()
	if err != nil {
		return nil, nil, 0, err
	}
	var lossSum float64
	for b := range sub.Batches(bs, false, nil) {
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		imgs := b.Images
		if b.Size < bs {
			imgs = append(imgs, make([]float32, (bs-b.Size)*size)...)
		}
		out, err := exec.Call(tensors.FromFlatDataAndDimensions(imgs, bs, d.H, d.W, d.C),
			tensors.FromFlatDataAndDimensions(slices.Clone(condT), bs))
		if err != nil {
			return nil, nil, 0, fmt.Errorf("train: evaluation: %w", err)
		}
		e, err := tensors.CopyFlatData[float32](out[0])
		if err != nil {
			return nil, nil, 0, fmt.Errorf("train: evaluation: %w", err)
		}
		c, err := tensors.CopyFlatData[int32](out[1])
		if err != nil {
			return nil, nil, 0, fmt.Errorf("train: evaluation: %w", err)
		}
		for i := range b.Size {
			errs = append(errs, float64(e[i]))
		}
		if r.barEval && r.bar != nil {
			_ = r.bar.Add(1)
		}
		chosen = append(chosen, c[:b.Size]...)
		if b.Size == bs {
			lossSum += float64(tensors.ToScalar[float32](out[2])) * float64(bs)
		} else {
			// The padded batch's loss is not the loss of its real images:
			// use their mean error (the entropy term is negligible).
			for i := range b.Size {
				lossSum += float64(e[i])
			}
		}
		for _, t := range out {
			_ = t.FinalizeAll()
		}
	}
	return errs, chosen, lossSum / float64(max(sub.Len(), 1)), nil
}

// frozenLoss is the mean loss over the training set without any update.
func (r *runner) frozenLoss(ctx context.Context) (float64, error) {
	var sum float64
	var n int
	// Evaluate every condition's images with its own condition.
	for ci, t := range r.s.targets {
		var idx []int
		for _, i := range r.split.Train.Indices {
			if r.split.Train.Source.Labels[i] == t {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			continue
		}
		_, _, loss, err := r.evalBatches(ctx, &data.Subset{Source: r.split.Train.Source, Indices: idx}, int32(ci))
		if err != nil {
			return 0, err
		}
		sum += loss * float64(len(idx))
		n += len(idx)
	}
	return sum / float64(max(n, 1)), nil
}

// evaluate computes the test metrics of every target.
func (r *runner) evaluate(ctx context.Context, epoch int, trainLoss float64) (EpochResult, error) {
	er := EpochResult{Epoch: epoch, Target: slices.Clone(r.s.targets), TrainLoss: trainLoss}
	var sum float64
	for ti, ts := range r.split.Tests {
		errs, chosen, _, err := r.evalBatches(ctx, &ts.Subset, int32(ti))
		if err != nil {
			return er, err
		}
		tm, err := targetMetrics(ts.Target, ti, errs, chosen, ts.IsNormal, r.s.conditional == models.CondUnknown)
		if err != nil {
			return er, fmt.Errorf("train: epoch %d target %d: %w", epoch, ts.Target, err)
		}
		er.PerTarget = append(er.PerTarget, tm)
		sum += tm.AUROC
	}
	er.MeanAUROC = sum / float64(len(er.PerTarget))
	return er, nil
}

// targetMetrics computes the metrics of one test set from its per-image
// errors; condIdx is the index of target among the run's targets.
func targetMetrics(target, condIdx int, errs []float64, chosen []int32, isNormal []bool, selection bool) (TargetMetrics, error) {
	tm := TargetMetrics{Target: target, SelectionAccuracy: math.NaN()}
	auroc, err := metrics.AUROC(metrics.NormalConfidence(errs), isNormal)
	if err != nil {
		return tm, err
	}
	tm.AUROC = auroc
	tm.MeanErrNormal, tm.MeanErrAnomalous = metrics.MeanErrors(errs, isNormal)
	right := 0
	for i, ok := range isNormal {
		if ok {
			tm.NumNormal++
			if int(chosen[i]) == condIdx {
				right++
			}
		} else {
			tm.NumAnomalous++
		}
	}
	if selection && tm.NumNormal > 0 {
		tm.SelectionAccuracy = float64(right) / float64(tm.NumNormal)
	}
	return tm, nil
}

func (r *runner) appendRows(er EpochResult) error {
	rows := make([]results.Row, len(er.PerTarget))
	for i, tm := range er.PerTarget {
		rows[i] = results.Row{
			Experiment: r.s.experiment, Params: r.s.params, Seed: r.s.seed,
			Target: results.TargetString(r.s.targets), Condition: tm.Target, Epoch: er.Epoch,
			TrainLoss: er.TrainLoss, AUROC: tm.AUROC, MeanErrNormal: tm.MeanErrNormal,
			MeanErrAnomalous: tm.MeanErrAnomalous, SelectionAccuracy: tm.SelectionAccuracy,
		}
	}
	if err := results.AppendCSV(filepath.Join(r.opts.Dir, results.MetricsFile), rows); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}
