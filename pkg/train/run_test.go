package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/models"
	"github.com/cmemae/cmemae/pkg/results"
)

// TestRunMemAEOneDigit trains the thesis's default model (mnist-flat MemAE) on
// 256 images of digit 1 for 5 epochs and checks the AUROC it reaches and the
// files of the run directory.
func TestRunMemAEOneDigit(t *testing.T) {
	e := tinyExperiment("memae", 256, 5)
	e.Datamodule.BatchSize = 16
	e.Model.LearningRate = 3e-3
	e.SaveCheckpointsEveryNEpochs = 2
	dir := filepath.Join(t.TempDir(), "test", "default", "seed_1", "target_1")
	opts := runOpts(t, e, []int{1}, dir)
	progress := &fakeTerminal{} // the bar is drawn on terminals only
	opts.Progress = progress
	var seen []int
	opts.OnEpoch = func(er EpochResult) { seen = append(seen, er.Epoch) }
	res := mustRun(t, opts)

	if len(res.Epochs) != 5 || len(seen) != 5 || seen[4] != 5 {
		t.Fatalf("trained epochs %d, OnEpoch saw %v; want 5 epochs", len(res.Epochs), seen)
	}
	for _, er := range res.Epochs {
		t.Logf("epoch %d: loss %.4f AUROC %.4f err normal %.4f anomalous %.4f (%s)", er.Epoch, er.TrainLoss,
			er.MeanAUROC, er.PerTarget[0].MeanErrNormal, er.PerTarget[0].MeanErrAnomalous, er.Duration)
	}
	last := res.Last()
	// Measured 0.9955 (Go backend, seed 1); the bound leaves margin.
	if last.MeanAUROC < 0.95 {
		t.Errorf("AUROC after 5 epochs = %.4f, want >= 0.95", last.MeanAUROC)
	}
	if tm := last.PerTarget[0]; !(tm.MeanErrNormal < tm.MeanErrAnomalous) {
		t.Errorf("mean error of normals %.4f not below anomalies %.4f", tm.MeanErrNormal, tm.MeanErrAnomalous)
	}
	if !math.IsNaN(last.PerTarget[0].SelectionAccuracy) {
		t.Errorf("selection accuracy of a non-conditional run = %v, want NaN", last.PerTarget[0].SelectionAccuracy)
	}
	if first := res.Epochs[0]; !(last.TrainLoss < first.TrainLoss) {
		t.Errorf("training loss did not decrease: %.4f → %.4f", first.TrainLoss, last.TrainLoss)
	}

	rows, err := results.ReadCSV(filepath.Join(dir, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("metrics.csv has %d rows, want 5", len(rows))
	}
	for i, r := range rows {
		if r.Epoch != i+1 || r.Target != "1" || r.Condition != 1 || r.Seed != 1 || r.Experiment != "test" || r.Params != "default" {
			t.Errorf("row %d = %+v", i, r)
		}
		if math.Abs(r.AUROC-res.Epochs[i].MeanAUROC) > 1e-12 {
			t.Errorf("row %d AUROC %v, result %v", i, r.AUROC, res.Epochs[i].MeanAUROC)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(dir, results.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "arch: mnist-flat") || !strings.Contains(string(cfg), "memory_size=10") {
		t.Errorf("config.yaml lacks the resolved configuration:\n%s", cfg)
	}
	cps, err := ListCheckpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cps {
		names = append(names, c.Name)
	}
	if got, want := strings.Join(names, ","), "init,epoch_0002,epoch_0004,epoch_0005"; got != want {
		t.Errorf("checkpoints %s, want %s", got, want)
	}
	if latest, ok, err := LatestCheckpoint(dir); err != nil || !ok || latest.Name != LastCheckpoint || latest.Epoch != 5 {
		t.Errorf("latest checkpoint %+v, %v, %v; want last of epoch 5", latest, ok, err)
	}
	// The last checkpoint reloads into a model that evaluates like the run.
	cp, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cp.State.Epoch != 5 || cp.Model.Config().MemorySize != 10 {
		t.Errorf("latest checkpoint: epoch %d memory size %d", cp.State.Epoch, cp.Model.Config().MemorySize)
	}
	// The bar shows the epoch and is cleared when the epoch ends: the AUROC is
	// in the one line per epoch (OnEpoch's; TestOneLinePerEpoch).
	if out := progress.buf.String(); !strings.Contains(out, "epoch 5/5") || !strings.HasSuffix(out, "\r") || strings.Contains(out, "\n") {
		t.Errorf("progress output lacks epoch 5/5 or is not cleared:\n%q", out)
	}
}

// TestRunConditional trains a C-MemAE on digits 0 and 1 with known and with
// unknown condition at test time.
func TestRunConditional(t *testing.T) {
	for _, cond := range []models.Conditional{models.CondKnown, models.CondUnknown} {
		t.Run(string(cond), func(t *testing.T) {
			e := tinyExperiment("memae", 128, 2)
			e.Conditional = cond
			e.Datamodule.BatchSize = 16
			e.Model.LearningRate = 3e-3
			dir := t.TempDir()
			res := mustRun(t, runOpts(t, e, []int{0, 1}, dir))
			if got := res.Model.Config().NumConditions; got != 2 {
				t.Errorf("memories = %d, want 2", got)
			}
			last := res.Last()
			if len(last.PerTarget) != 2 || last.PerTarget[0].Target != 0 || last.PerTarget[1].Target != 1 {
				t.Fatalf("per-target metrics %+v", last.PerTarget)
			}
			mean := (last.PerTarget[0].AUROC + last.PerTarget[1].AUROC) / 2
			if math.Abs(mean-last.MeanAUROC) > 1e-12 {
				t.Errorf("mean AUROC %v, want %v", last.MeanAUROC, mean)
			}
			for _, tm := range last.PerTarget {
				t.Logf("%s: target %d AUROC %.4f selection accuracy %.4f", cond, tm.Target, tm.AUROC, tm.SelectionAccuracy)
				if tm.AUROC < 0 || tm.AUROC > 1 {
					t.Errorf("AUROC %v out of range", tm.AUROC)
				}
				sel := tm.SelectionAccuracy
				if cond == models.CondKnown && !math.IsNaN(sel) {
					t.Errorf("known condition: selection accuracy %v, want NaN", sel)
				}
				if cond == models.CondUnknown && !(sel >= 0 && sel <= 1) {
					t.Errorf("unknown condition: selection accuracy %v, want in [0,1]", sel)
				}
			}
			rows, err := results.ReadCSV(filepath.Join(dir, results.MetricsFile))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 4 || rows[0].Target != "0-1" || rows[1].Condition != 1 {
				t.Errorf("metrics.csv rows %+v, want 2 epochs × 2 conditions of target 0-1", rows)
			}
		})
	}
}

// TestRunNaNLoss checks that a diverging run stops with a clear error and
// keeps its checkpoints.
func TestRunNaNLoss(t *testing.T) {
	e := tinyExperiment("ae", 64, 3)
	e.Model.LearningRate = 1e30
	dir := t.TempDir()
	_, err := Run(context.Background(), runOpts(t, e, []int{3}, dir))
	if err == nil || !strings.Contains(err.Error(), "loss is") {
		t.Fatalf("err = %v, want a NaN/Inf loss error", err)
	}
	t.Log(err)
	cps, _ := ListCheckpoints(dir)
	if len(cps) == 0 || cps[0].Name != InitCheckpoint {
		t.Errorf("checkpoints %v, want init kept", cps)
	}
}

// TestRunBadConfig checks errors before any training.
func TestRunBadConfig(t *testing.T) {
	cases := map[string]func(*Options){
		"transformer": func(o *Options) { o.Experiment.Model.ModelTransformers = []config.Transformer{"copy_sample"} },
		"conditional": func(o *Options) { o.Experiment.Conditional = "maybe" },
		"arch":        func(o *Options) { o.Experiment.Model.Arch = "mnist-flat3" },
		"targets":     func(o *Options) { o.Targets = nil },
		"class":       func(o *Options) { o.Targets = []int{12} },
		"transfer":    func(o *Options) { o.Experiment.Model.ModelTransformers = []config.Transformer{"transfer"} },
	}
	want := map[string]string{
		"transformer": "valid: transfer, delete_memory, copy_samples, copy_best_fitting, conditional_to_deleted, freeze",
		"conditional": `value for conditional: "maybe"`,
		"arch":        "mnist-flat3",
		"targets":     "no target",
		"class":       "12",
		"transfer":    "needs from_checkpoint",
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			opts := runOpts(t, tinyExperiment("memae", 16, 1), []int{0}, t.TempDir())
			mutate(&opts)
			_, err := Run(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), want[name]) {
				t.Errorf("err = %v, want it to contain %q", err, want[name])
			}
		})
	}
}
