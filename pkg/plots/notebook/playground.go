package notebook

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gomlx/compute"

	"github.com/cmemae/cmemae/pkg/backend"
	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/models"
	"github.com/cmemae/cmemae/pkg/plots"
	"github.com/cmemae/cmemae/pkg/train"
)

// The playground (notebooks/05_playground) trains a small mnist-flat MemAE with
// settings picked in GoNB widgets and redraws its AUROC curve and
// reconstructions after every epoch. This file holds the training and the
// figures; playground_ui.go the widgets.

// Fixed settings of every playground run: small enough that an epoch takes
// seconds on 2 CPU cores.
const (
	PlaygroundArch         = "mnist-flat"
	PlaygroundLearningRate = 1e-3
	PlaygroundTestImages   = 300 // test images per run (a seeded random subset, 30 % anomalies)
	PlaygroundShowImages   = 8   // normal and anomalous images shown with their reconstructions
	PlaygroundMaxEpochs    = 30  // most epochs a run may ask for
	PlaygroundHistory      = 4   // earlier runs kept as curves for comparison
)

// PlaygroundSettings are what a user changes in the playground.
type PlaygroundSettings struct {
	Digit           int     // the normal class, 0–9
	MemorySize      int     // memory items N
	ShrinkThreshold float64 // hard-shrinkage threshold λ (0 = none)
	EntropyWeight   float64 // weight of the entropy loss
	Epochs          int     // training epochs
	TrainImages     int     // training images of the digit
	BatchSize       int     // training batch size
}

// DefaultPlaygroundSettings are the thesis's memory settings (N = 10, λ =
// 0.0025, entropy weight 0.0002) on digit 0, with 1000 training images in
// batches of 16 for 5 epochs: about a second per epoch on 2 CPU cores, and
// AUROC from 0.27 before training to about 0.97 (with the thesis's batch of 64,
// 16 steps per epoch leave it near 0.8 after 5 epochs).
func DefaultPlaygroundSettings() PlaygroundSettings {
	return PlaygroundSettings{Digit: 0, MemorySize: 10, ShrinkThreshold: 0.0025, EntropyWeight: 0.0002, Epochs: 5, TrainImages: 1000, BatchSize: 16}
}

// Validate reports the first setting out of range, saying what is allowed.
func (s PlaygroundSettings) Validate() error {
	switch {
	case s.Digit < 0 || s.Digit > 9:
		return fmt.Errorf("playground: digit %d: pick a normal class from 0 to 9", s.Digit)
	case s.MemorySize < 1:
		return fmt.Errorf("playground: memory size %d: the memory needs at least 1 item", s.MemorySize)
	case !(s.ShrinkThreshold >= 0 && s.ShrinkThreshold < 1):
		return fmt.Errorf("playground: shrinkage threshold λ = %g: use 0 (no shrinkage) up to below 1 (weights are at most 1)", s.ShrinkThreshold)
	case !(s.EntropyWeight >= 0) || math.IsInf(s.EntropyWeight, 0):
		return fmt.Errorf("playground: entropy loss weight %g: use a finite value ≥ 0", s.EntropyWeight)
	case s.Epochs < 1 || s.Epochs > PlaygroundMaxEpochs:
		return fmt.Errorf("playground: %d epochs: use 1 to %d", s.Epochs, PlaygroundMaxEpochs)
	case s.TrainImages < 1:
		return fmt.Errorf("playground: %d training images: use at least 1", s.TrainImages)
	case s.BatchSize < 1:
		return fmt.Errorf("playground: batch size %d: use at least 1", s.BatchSize)
	}
	return nil
}

// Overrides are the command-line overrides (as `go run ./thesis_experiments
// <overrides>`) of a run with these settings, its results under resultsDir.
func (s PlaygroundSettings) Overrides(resultsDir string) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return []string{
		"name=playground", "results_dir=" + resultsDir, "seed=1",
		"model=memae", "datamodule=mnist", "model.arch=" + PlaygroundArch,
		"datamodule.targets=[" + strconv.Itoa(s.Digit) + "]",
		"model.memory_size=" + strconv.Itoa(s.MemorySize),
		"model.shrink_threshold=" + f(s.ShrinkThreshold),
		"model.entropy_loss_weight=" + f(s.EntropyWeight),
		"trainer.max_epochs=" + strconv.Itoa(s.Epochs),
		"datamodule.num_train_samples=" + strconv.Itoa(s.TrainImages),
		"datamodule.batch_size=" + strconv.Itoa(s.BatchSize),
		"model.learning_rate=" + f(PlaygroundLearningRate),
		"save_checkpoints_every_n_epochs=1",
	}
}

// Experiment validates the settings and resolves them into the one experiment
// they describe.
func (s PlaygroundSettings) Experiment(resultsDir string) (config.Experiment, error) {
	if err := s.Validate(); err != nil {
		return config.Experiment{}, err
	}
	exps, err := config.Parse(s.Overrides(resultsDir)...)
	if err != nil {
		return config.Experiment{}, fmt.Errorf("playground: %w", err)
	}
	if len(exps) != 1 {
		return config.Experiment{}, fmt.Errorf("playground: the settings resolve to %d experiments, want 1", len(exps))
	}
	return exps[0], nil
}

// Label is a short description of the settings, for legends and status lines.
func (s PlaygroundSettings) Label() string {
	return fmt.Sprintf("digit %d · N=%d · λ=%g · entropy %g · %d img · batch %d",
		s.Digit, s.MemorySize, s.ShrinkThreshold, s.EntropyWeight, s.TrainImages, s.BatchSize)
}

// PlaygroundRun is the history of one playground training run.
type PlaygroundRun struct {
	Settings PlaygroundSettings
	// Epochs (0 = before training), with the AUROC, the mean training loss
	// (NaN for epoch 0) and the mean reconstruction errors of the normal and
	// anomalous test images after each.
	Epochs                  []int
	AUROC, Loss             []float64
	ErrNormal, ErrAnomalous []float64
	// EpochTime is the mean duration of a training epoch with its evaluation.
	EpochTime time.Duration
}

// Last returns the index of the last epoch recorded, or -1.
func (r *PlaygroundRun) Last() int { return len(r.Epochs) - 1 }

// PlaygroundSnapshot is the state shown after an epoch.
type PlaygroundSnapshot struct {
	Run   *PlaygroundRun // the run so far
	Epoch int
	// Inputs and Recon hold PlaygroundShowImages normal test images followed
	// by as many anomalous ones (28×28×1, normalised), and their
	// reconstructions; Errors and Labels are per image.
	Inputs, Recon []float32
	Errors        []float32
	Labels        []int
	NumNormal     int
}

// Playground trains playground runs on one backend and data set and keeps the
// curves of the last few for comparison.
type Playground struct {
	Backend     compute.Backend
	Train, Test *data.Dataset
	// TestImages is the size of each run's test subset (default PlaygroundTestImages).
	TestImages int
	// History holds the last PlaygroundHistory finished runs, oldest first.
	History []*PlaygroundRun
}

// NewPlayground loads MNIST and chooses the backend (GOMLX_BACKEND, else XLA
// where usable, else pure Go).
func NewPlayground() (*Playground, error) {
	b, notice, err := backend.New("")
	if err != nil {
		return nil, fmt.Errorf("playground: %w", err)
	}
	if notice != "" {
		fmt.Println(notice)
	}
	tr, err := data.LoadCached("mnist", data.Train, data.LoadOptions{})
	if err != nil {
		return nil, fmt.Errorf("playground: %w", err)
	}
	te, err := data.LoadCached("mnist", data.Test, data.LoadOptions{})
	if err != nil {
		return nil, fmt.Errorf("playground: %w", err)
	}
	return &Playground{Backend: b, Train: tr, Test: te, TestImages: PlaygroundTestImages}, nil
}

// Run trains a fresh model with settings s in a temporary directory (removed
// afterwards) and calls show, if not nil, after the evaluation before training
// (epoch 0) and after every epoch. An error from show stops the run and is
// returned; so is ctx's cancellation. A finished run is added to History.
func (p *Playground) Run(ctx context.Context, s PlaygroundSettings, show func(*PlaygroundSnapshot) error) (*PlaygroundRun, error) {
	if p.Train == nil || p.Test == nil {
		return nil, errors.New("playground: no data: create the playground with NewPlayground")
	}
	dir, err := os.MkdirTemp("", "cmemae-playground-")
	if err != nil {
		return nil, fmt.Errorf("playground: %w", err)
	}
	defer os.RemoveAll(dir)
	e, err := s.Experiment(dir)
	if err != nil {
		return nil, err
	}
	size := p.Test.H * p.Test.W * p.Test.C
	normal, nl := PickImages(p.Test, func(l int) bool { return l == s.Digit }, PlaygroundShowImages)
	anomalous, al := PickImages(p.Test, func(l int) bool { return l != s.Digit }, PlaygroundShowImages)
	inputs := append(normal, anomalous...)
	labels := append(nl, al...)
	n := len(inputs) / size

	run := &PlaygroundRun{Settings: s}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var showErr error
	var trained time.Duration
	onEpoch := func(er train.EpochResult) {
		if showErr != nil || len(er.PerTarget) != 1 {
			return
		}
		m := er.PerTarget[0]
		run.Epochs = append(run.Epochs, er.Epoch)
		run.AUROC = append(run.AUROC, m.AUROC)
		run.Loss = append(run.Loss, er.TrainLoss)
		run.ErrNormal = append(run.ErrNormal, m.MeanErrNormal)
		run.ErrAnomalous = append(run.ErrAnomalous, m.MeanErrAnomalous)
		if er.Epoch > 0 {
			trained += er.Duration
			run.EpochTime = trained / time.Duration(er.Epoch)
		}
		if show == nil {
			return
		}
		snap := &PlaygroundSnapshot{Run: run, Epoch: er.Epoch, Inputs: inputs, Labels: labels, NumNormal: len(nl)}
		ck, err := train.LoadCheckpoint(filepath.Join(dir, "checkpoints", train.CheckpointName(er.Epoch)))
		if err == nil {
			var a *Analysis
			if a, err = Analyse(p.Backend, ck, inputs, n, nil, models.CondNone); err == nil {
				snap.Recon, snap.Errors = a.Recon, a.Errors
			}
		}
		if err == nil {
			err = show(snap)
		}
		if err != nil {
			showErr = err
			cancel()
		}
	}
	testImages := p.TestImages
	if testImages <= 0 {
		testImages = PlaygroundTestImages
	}
	_, err = train.Run(ctx, train.Options{
		Experiment: e, Targets: []int{s.Digit}, Dir: dir, Params: "playground", Backend: p.Backend,
		TrainData: p.Train, TestData: p.Test, MaxTestImages: testImages,
		EvaluateInit: true, OnEpoch: onEpoch,
	})
	if showErr != nil {
		return run, fmt.Errorf("playground: %w", showErr)
	}
	if err != nil {
		return run, fmt.Errorf("playground: %w", err)
	}
	p.History = append(p.History, run)
	if len(p.History) > PlaygroundHistory {
		p.History = p.History[len(p.History)-PlaygroundHistory:]
	}
	return run, nil
}

// CurveFigure draws the AUROC over epochs of the earlier runs in History and of
// run (the one training, drawn last; nil for none), on a fixed 0–1 axis so the
// live curve does not jump.
func (p *Playground) CurveFigure(run *PlaygroundRun) (*plots.Figure, error) {
	var series []plots.Series
	add := func(r *PlaygroundRun, name string) {
		s := plots.Series{Name: name}
		for i, e := range r.Epochs {
			s.X = append(s.X, float64(e))
			s.Y = append(s.Y, r.AUROC[i])
		}
		series = append(series, s)
	}
	for i, r := range p.History {
		if r != run {
			add(r, fmt.Sprintf("run %d: %s", i+1, r.Settings.Label()))
		}
	}
	if run != nil && len(run.Epochs) > 0 {
		add(run, "now: "+run.Settings.Label())
	}
	if len(series) == 0 {
		return nil, errors.New("playground: no AUROC to draw yet")
	}
	return plots.Lines(plots.LineChart{
		Title: "AUROC on the test set (epoch 0 = before training)", XLabel: "epoch", YLabel: "AUROC",
		Series: series, YMin: 0, YMax: 1, Points: true, LegendInside: true, LegendBottom: true,
	})
}

// ReconFigure draws the snapshot's normal and anomalous test images above
// their reconstructions, one panel each; the column labels give each image's
// digit and reconstruction error (the anomaly score).
func ReconFigure(s *PlaygroundSnapshot) (*plots.Figure, error) {
	if s == nil || len(s.Labels) == 0 || len(s.Recon) != len(s.Inputs) || len(s.Errors) != len(s.Labels) ||
		s.NumNormal < 0 || s.NumNormal > len(s.Labels) {
		return nil, errors.New("playground: no reconstructions in the snapshot")
	}
	size := len(s.Inputs) / len(s.Labels)
	when := fmt.Sprintf("epoch %d", s.Epoch)
	if s.Epoch == 0 {
		when = "before training"
	}
	var figs []*plots.Figure
	for _, g := range []struct {
		what     string
		from, to int
	}{{"normal", 0, s.NumNormal}, {"anomalous", s.NumNormal, len(s.Labels)}} {
		k := g.to - g.from
		if k == 0 {
			continue
		}
		cols := make([]string, k)
		for j := range k {
			cols[j] = fmt.Sprintf("%d: %.2f", s.Labels[g.from+j], s.Errors[g.from+j])
		}
		imgs := append(append([]float32(nil), s.Inputs[g.from*size:g.to*size]...), s.Recon[g.from*size:g.to*size]...)
		f, err := plots.ImageGrid(plots.ImageGridChart{
			Title:  fmt.Sprintf("%s test images (digit: error) and reconstructions, %s", g.what, when),
			Images: imgs, N: 2 * k, H: 28, W: 28, C: 1, Cols: k,
			Norm: plots.MNISTNorm, RowLabels: []string{"input", "reconstruction"}, ColLabels: cols,
		})
		if err != nil {
			return nil, fmt.Errorf("playground: %w", err)
		}
		figs = append(figs, f)
	}
	return plots.Tile(1, figs...)
}

// Status is a one-line summary of the snapshot: settings, epoch, loss, AUROC,
// time per epoch.
func (s *PlaygroundSnapshot) Status() string {
	r := s.Run
	i := r.Last()
	if i < 0 {
		return r.Settings.Label()
	}
	msg := fmt.Sprintf("%s — epoch %d/%d: AUROC %.3f, mean error normal %.3f / anomalous %.3f",
		r.Settings.Label(), r.Epochs[i], r.Settings.Epochs, r.AUROC[i], r.ErrNormal[i], r.ErrAnomalous[i])
	if !math.IsNaN(r.Loss[i]) {
		msg += fmt.Sprintf(", training loss %.4f", r.Loss[i])
	}
	if r.EpochTime > 0 {
		msg += fmt.Sprintf(", %.1f s/epoch", r.EpochTime.Seconds())
	}
	return msg
}
