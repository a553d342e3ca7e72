package notebook

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/data"
)

func TestPlaygroundSettingsExperiment(t *testing.T) {
	s := PlaygroundSettings{Digit: 3, MemorySize: 20, ShrinkThreshold: 0.01, EntropyWeight: 0.002, Epochs: 2, TrainImages: 100, BatchSize: 32}
	want := []string{"name=playground", "results_dir=/r", "seed=1", "model=memae", "datamodule=mnist", "model.arch=mnist-flat",
		"datamodule.targets=[3]", "model.memory_size=20", "model.shrink_threshold=0.01", "model.entropy_loss_weight=0.002",
		"trainer.max_epochs=2", "datamodule.num_train_samples=100", "datamodule.batch_size=32", "model.learning_rate=0.001",
		"save_checkpoints_every_n_epochs=1"}
	if got := s.Overrides("/r"); !reflect.DeepEqual(got, want) {
		t.Errorf("Overrides =\n%q\nwant\n%q", got, want)
	}
	e, err := s.Experiment("/r")
	if err != nil {
		t.Fatal(err)
	}
	m, d := e.Model, e.Datamodule
	if m.Name != "memae" || m.Arch != "mnist-flat" || m.MemorySize != 20 || m.ShrinkThreshold != 0.01 ||
		m.EntropyLossWeight != 0.002 || m.LearningRate != 0.001 || !m.CosineSimilarity {
		t.Errorf("model config %+v", m)
	}
	if d.Name != "mnist" || d.NumTrainSamples != 100 || d.BatchSize != 32 || !reflect.DeepEqual(e.TargetGroups(), [][]int{{3}}) {
		t.Errorf("datamodule config %+v, groups %v", d, e.TargetGroups())
	}
	if e.Trainer.MaxEpochs != 2 || e.SaveCheckpointsEveryNEpochs != 1 || e.Seed != 1 || e.ResultsDir != "/r" {
		t.Errorf("experiment %+v", e)
	}
	// λ = 0 (no shrinkage) and entropy weight 0 are valid settings and pass through.
	s.ShrinkThreshold, s.EntropyWeight = 0, 0
	if e, err = s.Experiment("/r"); err != nil || e.Model.ShrinkThreshold != 0 || e.Model.EntropyLossWeight != 0 {
		t.Errorf("zero λ and entropy weight: %v, %+v", err, e.Model)
	}
}

func TestPlaygroundSettingsValidate(t *testing.T) {
	if err := DefaultPlaygroundSettings().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []struct {
		change func(*PlaygroundSettings)
		want   string
	}{
		{func(s *PlaygroundSettings) { s.Digit = 10 }, "digit 10"},
		{func(s *PlaygroundSettings) { s.Digit = -1 }, "digit -1"},
		{func(s *PlaygroundSettings) { s.MemorySize = 0 }, "at least 1 item"},
		{func(s *PlaygroundSettings) { s.ShrinkThreshold = 1 }, "λ = 1"},
		{func(s *PlaygroundSettings) { s.ShrinkThreshold = -0.1 }, "λ = -0.1"},
		{func(s *PlaygroundSettings) { s.EntropyWeight = math.NaN() }, "entropy loss weight NaN"},
		{func(s *PlaygroundSettings) { s.EntropyWeight = math.Inf(1) }, "entropy loss weight +Inf"},
		{func(s *PlaygroundSettings) { s.Epochs = 0 }, "0 epochs: use 1 to 30"},
		{func(s *PlaygroundSettings) { s.Epochs = 31 }, "31 epochs"},
		{func(s *PlaygroundSettings) { s.TrainImages = 0 }, "0 training images"},
		{func(s *PlaygroundSettings) { s.BatchSize = 0 }, "batch size 0"},
	} {
		s := DefaultPlaygroundSettings()
		c.change(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", s, err, c.want)
		}
		if _, err := s.Experiment(t.TempDir()); err == nil {
			t.Errorf("%+v: Experiment accepted invalid settings", s)
		}
	}
}

func TestPlaygroundChoices(t *testing.T) {
	c := DefaultPlaygroundChoices
	ix, err := c.Indices(DefaultPlaygroundSettings())
	if err != nil {
		t.Fatal(err)
	}
	// Defaults: digit 0, N = 10 (index 3), λ = 0.0025 (index 2), entropy 0.0002 (index 1), 1000 images (index 3),
	// batch 16 (index 0), 5 epochs.
	if want := (PlaygroundIndices{Digit: 0, Memory: 3, Shrink: 2, Entropy: 1, Images: 3, Batch: 0, Epochs: 5}); ix != want {
		t.Errorf("Indices(defaults) = %+v, want %+v", ix, want)
	}
	s, err := c.Settings(ix)
	if err != nil || s != DefaultPlaygroundSettings() {
		t.Errorf("Settings(Indices(defaults)) = %+v, %v", s, err)
	}
	s, err = c.Settings(PlaygroundIndices{Digit: 7, Memory: 7, Shrink: 0, Entropy: 3, Images: 0, Batch: 2, Epochs: 20})
	want := PlaygroundSettings{Digit: 7, MemorySize: 500, ShrinkThreshold: 0, EntropyWeight: 0.02, Epochs: 20, TrainImages: 100, BatchSize: 64}
	if err != nil || s != want {
		t.Errorf("Settings = %+v, %v; want %+v", s, err, want)
	}
	for _, c2 := range []struct {
		ix   PlaygroundIndices
		want string
	}{
		{PlaygroundIndices{Digit: 10, Epochs: 1}, "digit option 10 out of range (10 options)"},
		{PlaygroundIndices{Memory: 8, Epochs: 1}, "memory size option 8 out of range (8 options)"},
		{PlaygroundIndices{Shrink: -1, Epochs: 1}, "shrinkage threshold option -1"},
		{PlaygroundIndices{Entropy: 4, Epochs: 1}, "entropy weight option 4"},
		{PlaygroundIndices{Images: 6, Epochs: 1}, "training images option 6"},
		{PlaygroundIndices{Batch: 3, Epochs: 1}, "batch size option 3 out of range (3 options)"},
		{PlaygroundIndices{Epochs: 21}, "epochs slider at 21, outside 1..20"},
		{PlaygroundIndices{Epochs: 0}, "epochs slider at 0"},
	} {
		if _, err := c.Settings(c2.ix); err == nil || !strings.Contains(err.Error(), c2.want) {
			t.Errorf("Settings(%+v): %v, want an error containing %q", c2.ix, err, c2.want)
		}
	}
	bad := DefaultPlaygroundSettings()
	bad.MemorySize, bad.ShrinkThreshold, bad.BatchSize = 7, 0.003, 20
	if _, err := c.Indices(bad); err == nil || !strings.Contains(err.Error(), "memory size 7 is not one of [1 2 5 10 20 50 100 500]") ||
		!strings.Contains(err.Error(), "shrinkage threshold 0.003 is not one of") ||
		!strings.Contains(err.Error(), "batch size 20 is not one of [16 32 64]") {
		t.Errorf("Indices(%+v): %v", bad, err)
	}
	if got := labels([]float64{0, 0.0025}, 0.0025); !reflect.DeepEqual(got, []string{"0", "0.0025 (thesis)"}) {
		t.Errorf("labels = %q", got)
	}
}

// TestPlaygroundRun trains one tiny playground run and checks what each epoch
// shows: the curve so far, the reconstructions of 8 normal and 8 anomalous
// test images with their errors, and the figures drawn from them.
func TestPlaygroundRun(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	if _, err := data.Load("mnist", data.Test, data.LoadOptions{}); err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	p, err := NewPlayground()
	if err != nil {
		t.Fatal(err)
	}
	p.TestImages = 100
	s := PlaygroundSettings{Digit: 1, MemorySize: 5, ShrinkThreshold: 0.0025, EntropyWeight: 0.0002, Epochs: 2, TrainImages: 128, BatchSize: 16}
	var epochs []int
	run, err := p.Run(context.Background(), s, func(snap *PlaygroundSnapshot) error {
		epochs = append(epochs, snap.Epoch)
		if len(snap.Run.Epochs) != snap.Epoch+1 || snap.Run.Epochs[snap.Epoch] != snap.Epoch {
			t.Errorf("epoch %d: run holds epochs %v", snap.Epoch, snap.Run.Epochs)
		}
		const n, size = 2 * PlaygroundShowImages, 28 * 28
		if len(snap.Inputs) != n*size || len(snap.Recon) != n*size || len(snap.Errors) != n || len(snap.Labels) != n ||
			snap.NumNormal != PlaygroundShowImages {
			t.Fatalf("epoch %d: %d inputs, %d recon, %d errors, %d labels, %d normal", snap.Epoch,
				len(snap.Inputs), len(snap.Recon), len(snap.Errors), len(snap.Labels), snap.NumNormal)
		}
		for i, l := range snap.Labels {
			if (i < PlaygroundShowImages) != (l == 1) {
				t.Errorf("image %d has label %d: the first %d must be the digit 1, the rest others", i, l, PlaygroundShowImages)
			}
			mse := 0.0
			for j := range size {
				d := float64(snap.Recon[i*size+j] - snap.Inputs[i*size+j])
				mse += d * d
			}
			if mse /= size; math.Abs(mse-float64(snap.Errors[i])) > 1e-4*mse {
				t.Errorf("epoch %d image %d: error %v, recomputed %v", snap.Epoch, i, snap.Errors[i], mse)
			}
		}
		if !strings.Contains(snap.Status(), "digit 1 · N=5") || !strings.Contains(snap.Status(), "AUROC") {
			t.Errorf("status %q", snap.Status())
		}
		for _, draw := range []func() error{
			func() error { f, err := p.CurveFigure(snap.Run); return pngOf(f, err) },
			func() error { f, err := ReconFigure(snap); return pngOf(f, err) },
		} {
			if err := draw(); err != nil {
				t.Errorf("epoch %d: %v", snap.Epoch, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(epochs, []int{0, 1, 2}) || !reflect.DeepEqual(run.Epochs, []int{0, 1, 2}) {
		t.Fatalf("shown epochs %v, run epochs %v; want 0, 1, 2", epochs, run.Epochs)
	}
	for i := range run.Epochs {
		if !(run.AUROC[i] >= 0 && run.AUROC[i] <= 1) || !(run.ErrNormal[i] > 0) || !(run.ErrAnomalous[i] > 0) {
			t.Errorf("epoch %d: AUROC %v, errors %v / %v", i, run.AUROC[i], run.ErrNormal[i], run.ErrAnomalous[i])
		}
	}
	if !math.IsNaN(run.Loss[0]) || !(run.Loss[2] > 0) || run.EpochTime <= 0 {
		t.Errorf("losses %v, epoch time %v", run.Loss, run.EpochTime)
	}
	// It learns: the training loss falls (1.32 → 0.73 here).
	if !(run.Loss[2] < 0.8*run.Loss[1]) {
		t.Errorf("no learning: training losses %v", run.Loss)
	}
	if len(p.History) != 1 || p.History[0] != run {
		t.Errorf("history has %d runs", len(p.History))
	}
	t.Logf("playground run: AUROC %.3v, %.2f s/epoch", run.AUROC, run.EpochTime.Seconds())

	// An error from show stops the run after the first snapshot, is returned,
	// and the run is not added to the history.
	stop := errors.New("enough")
	calls := 0
	s.Epochs = 3
	if _, err := p.Run(context.Background(), s, func(*PlaygroundSnapshot) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("stopping run: %v after %d calls", err, calls)
	}
	// A cancelled context stops a run too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Run(ctx, s, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
	// Invalid settings fail before training.
	s.Digit = 12
	if _, err := p.Run(context.Background(), s, nil); err == nil || !strings.Contains(err.Error(), "digit 12") {
		t.Errorf("invalid settings: %v", err)
	}
	if len(p.History) != 1 {
		t.Errorf("history has %d runs after failed ones, want 1", len(p.History))
	}
	// The curve of the history alone (nothing training) still draws.
	if f, err := p.CurveFigure(nil); pngOf(f, err) != nil {
		t.Errorf("history curve: %v", err)
	}
	if _, err := (&Playground{}).CurveFigure(nil); err == nil {
		t.Error("CurveFigure with no runs: no error")
	}
	if _, err := ReconFigure(&PlaygroundSnapshot{}); err == nil {
		t.Error("ReconFigure of an empty snapshot: no error")
	}
}

// TestRunPlaygroundOutsideNotebook runs the playground entry point as a plain
// program does: one run of the given settings, no widgets.
func TestRunPlaygroundOutsideNotebook(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	if _, err := data.Load("mnist", data.Test, data.LoadOptions{}); err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	s := PlaygroundSettings{Digit: 0, MemorySize: 10, ShrinkThreshold: 0.0025, EntropyWeight: 0.0002, Epochs: 1, TrainImages: 100, BatchSize: 16}
	if err := RunPlayground(s, DefaultPlaygroundChoices); err != nil {
		t.Fatal(err)
	}
	s.MemorySize = 7
	if err := RunPlayground(s, DefaultPlaygroundChoices); err == nil || !strings.Contains(err.Error(), "memory size 7") {
		t.Errorf("settings outside the choices: %v", err)
	}
}

func pngOf(f interface{ PNG() ([]byte, error) }, err error) error {
	if err != nil {
		return err
	}
	b, err := f.PNG()
	if err == nil && len(b) < 1000 {
		err = errors.New("PNG suspiciously small")
	}
	return err
}
