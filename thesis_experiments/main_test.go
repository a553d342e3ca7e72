package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/data"
	"github.com/cmemae/cmemae/pkg/experiment"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

func runCmd(t *testing.T, ctx context.Context, args ...string) (stdout string, err error) {
	t.Helper()
	var out bytes.Buffer
	err = run(ctx, args, &out, io.Discard)
	return out.String(), err
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"--help"}} {
		out, err := runCmd(t, context.Background(), args...)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		for _, want := range []string{"Usage: go run ./thesis_experiments", "model=       ae | memae | cond-ae | multi-ae",
			"model.memory_size", "datamodule.targets", "save_checkpoints_every_n_epochs", "baseline_mnist", "conditional_mnist", "fewshot_mnist",
			"Budgets (budget=<name>", "cpu    seed=1 trainer.max_epochs=5"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q: usage lacks %q", args, want)
			}
		}
	}
	out, err := runCmd(t, context.Background(), "bench", "-h")
	if err != nil || !strings.Contains(out, "Models: mnist-flat, mnist-flat-ae") || !strings.Contains(out, "-seconds") {
		t.Errorf("bench -h: %v\n%s", err, out)
	}
}

func TestParseFlagsAnywhere(t *testing.T) {
	fset := flag.NewFlagSet("x", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	n := fset.Bool("n", false, "")
	k := fset.Int("max-test-images", 0, "")
	pos, err := parseFlags("x", []string{"seed=1", "-n", "model=ae", "-max-test-images", "7", "datamodule.targets=[1]"}, fset)
	if err != nil || !*n || *k != 7 || strings.Join(pos, " ") != "seed=1 model=ae datamodule.targets=[1]" {
		t.Errorf("parseFlags = %q, %v (n=%v k=%d)", pos, err, *n, *k)
	}
	if _, err := parseFlags("x", []string{"-nope"}, fset); !errors.As(err, new(usageError)) {
		t.Errorf("unknown flag: %v", err)
	}
}

// Configuration mistakes fail before anything is trained or written, with
// exit status 2 and a message naming the key.
func TestConfigErrorsBeforeTraining(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"model.memory_sise=3"}, `unknown key "model.memory_sise" (did you mean "model.memory_size"?)`},
		{[]string{"trainer.max_epochs=-1"}, "trainer.max_epochs: must be >= 1, got -1"},
		{[]string{"model.shrink_threshold=-0.5"}, "model.shrink_threshold"},
		{[]string{"model=memea"}, `did you mean "memae"?`},
		{[]string{"experiment=baseline_mnsit"}, `did you mean "baseline_mnist"?`},
		{[]string{"datamodule=cifar", "model.arch=mnist-flat"}, "does not fit dataset cifar"},
		{[]string{"memae"}, "did you mean model=memae?"},
	} {
		_, err := runCmd(t, context.Background(), append(c.args, "results_dir="+dir)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want containing %q", c.args, err, c.want)
			continue
		}
		var stderr bytes.Buffer
		if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), "Run with -h") {
			t.Errorf("%q: exit code %d, stderr %q", c.args, code, stderr.String())
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("results written despite errors: %v", entries)
	}
}

// Every thesis experiment file parses; the run counts are those of the
// thesis's grids (configurations × seeds × target groups).
func TestEmbeddedExperiments(t *testing.T) {
	p := experiment.NewParser()
	infos, err := p.ExperimentList()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"baseline_mnist": 2 * 2 * 3 * 10, "baseline_cifar": 2 * 2 * 3 * 10, "conditional_mnist": 3 * 2 * 3 * 3,
		"fewshot_mnist": 4 * 4 * 4 * 10, "fewshot_conditional_mnist": 2 * 4 * 3 * 10, "memory_analysis_mnist": 10,
		"memory_analysis_conditional_mnist": 3, "smoke": 1, "sweep_cosine": 2 * 3 * 10, "sweep_entropy_weight": 5 * 3 * 10,
		"sweep_learning_rate": 2 * 3 * 3 * 10, "sweep_memory_size": 8 * 3 * 10, "sweep_shrink_threshold": 7 * 3 * 10,
		"fewshot_scratch_mnist": 4 * 10, "selection_conditional_mnist": (3*2 + 2) * 3 * 3,
	}
	if len(infos) != len(want) {
		t.Errorf("%d experiment files, want %d", len(infos), len(want))
	}
	for _, in := range infos {
		if in.Description == "" {
			t.Errorf("%s has no description", in.Name)
		}
		exps, err := p.Parse("experiment=" + in.Name)
		if err != nil {
			t.Errorf("%s: %v", in.Name, err)
			continue
		}
		jobs := planJobs(exps)
		if len(jobs) != want[in.Name] {
			t.Errorf("%s: %d runs, want %d", in.Name, len(jobs), want[in.Name])
		}
		dirs := map[string]bool{}
		for _, j := range jobs {
			dirs[j.Dir] = true
		}
		if len(dirs) != len(jobs) {
			t.Errorf("%s: %d distinct run directories for %d runs", in.Name, len(dirs), len(jobs))
		}
	}
	// Few-shot runs start from the baseline's MemAE runs of the same seed.
	exps, _ := p.Parse("experiment=fewshot_mnist", "seed=2", "results_dir=/r")
	if got := exps[0].FromCheckpoint; got != "/r/baseline_mnist/model=memae,model.arch=mnist-flat/seed_2/target_0" {
		t.Errorf("fewshot from_checkpoint = %s", got)
	}
	base, _ := p.Parse("experiment=baseline_mnist", "seed=2", "results_dir=/r", "model=memae", "model.arch=mnist-flat", "datamodule.targets=[0]")
	if got := base[0].RunDir([]int{0}); got != exps[0].FromCheckpoint {
		t.Errorf("baseline run dir %s != fewshot from_checkpoint %s", got, exps[0].FromCheckpoint)
	}
}

func TestDryRunAndCfg(t *testing.T) {
	out, err := runCmd(t, context.Background(), "-n", "-estimate=false", "experiment=conditional_mnist", "seed=1", "results_dir=/r", "-m")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 19 || lines[18] != "18 run(s), 1800 of 1800 epochs to train; 9 trainings (runs that differ only in how they are evaluated, e.g. conditional known and unknown, share one)" {
		t.Fatalf("%d lines, want 18 runs and the total:\n%s", len(lines), out)
	}
	if want := "run 1/18: conditional_mnist/model=memae,conditional=known seed=1 model=memae arch=mnist-flat datamodule=mnist conditional=known target=[0 1] epochs=100 → /r/conditional_mnist/model=memae,conditional=known/seed_1/target_0-1"; lines[0] != want {
		t.Errorf("first line\n got %s\nwant %s", lines[0], want)
	}
	if want := "run 4/18: conditional_mnist/model=memae,conditional=unknown seed=1 model=memae arch=mnist-flat datamodule=mnist conditional=unknown target=[0 1] epochs=100 → /r/conditional_mnist/model=memae,conditional=unknown/seed_1/target_0-1 (trained along with run 1)"; lines[3] != want {
		t.Errorf("fourth line\n got %s\nwant %s", lines[3], want)
	}
	out, err = runCmd(t, context.Background(), "-cfg", "conditional=unknown", "datamodule.targets=[[1,7]]")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"targets: [[1, 7]]", "conditional: unknown", "memory_size: 10", "max_epochs: 100", "learning_rate: 0.0001"} {
		if !strings.Contains(out, want) {
			t.Errorf("-cfg output lacks %q:\n%s", want, out)
		}
	}
}

func TestEpochLine(t *testing.T) {
	er := train.EpochResult{Epoch: 7, TrainLoss: 0.125, MeanAUROC: 0.9,
		PerTarget: []train.TargetMetrics{{Target: 1, AUROC: 0.95, SelectionAccuracy: 0.875}, {Target: 7, AUROC: 0.85, SelectionAccuracy: 0.5}}}
	if got, want := epochLine(er, 100), "epoch   7/100  loss 0.125000  AUROC 0.9000  (1: 0.9500 sel 0.875, 7: 0.8500 sel 0.500)"; got != want {
		t.Errorf("epochLine\n got %q\nwant %q", got, want)
	}
	er = train.EpochResult{Epoch: 2, TrainLoss: 1, MeanAUROC: 0.5, PerTarget: []train.TargetMetrics{{Target: 3, AUROC: 0.5, SelectionAccuracy: math.NaN()}}}
	if got, want := epochLine(er, 9), "epoch 2/9  loss 1.000000  AUROC 0.5000"; got != want {
		t.Errorf("epochLine %q, want %q", got, want)
	}
}

func TestInterruptedExitCode(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := runCmd(t, ctx, "results_dir="+t.TempDir(), "datamodule.targets=[0]")
	var stderr bytes.Buffer
	if code := exitCode(err, &stderr); code != 130 || !strings.Contains(stderr.String(), "resume") {
		t.Errorf("cancelled: err %v, exit %d, stderr %q", err, code, stderr.String())
	}
	if code := exitCode(errors.New("boom"), io.Discard); code != 1 {
		t.Errorf("failure exit code %d", code)
	}
}

// cancelWriter cancels a context when its output contains a marker.
type cancelWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.cancel()
	}
	return len(p), nil
}

// A tiny end-to-end run through the command line: interrupted after its
// first epoch (exit 130, checkpoint epoch_0001 kept), then resumed by the same
// command, which trains only epoch 2.
func TestEndToEndInterruptAndResume(t *testing.T) {
	t.Setenv(data.EnvOffline, "1")
	t.Setenv("GOMLX_BACKEND", "go")
	root := t.TempDir()
	args := []string{"datamodule.targets=[1]", "datamodule.num_train_samples=64", "datamodule.batch_size=32",
		"trainer.max_epochs=2", "save_checkpoints_every_n_epochs=1", "results_dir=" + root, "-max-test-images", "300"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelWriter{marker: "epoch 1/2", cancel: cancel}
	err := run(ctx, args, w, io.Discard)
	if exitCode(err, io.Discard) != 130 {
		t.Fatalf("first run: want an interruption, got %v\n%s", err, w.buf.String())
	}
	dir := filepath.Join(root, "memae_mnist", "datamodule.num_train_samples=64,datamodule.batch_size=32", "seed_1", "target_1")
	for _, p := range []string{"config.yaml", "metrics.csv", "checkpoints/init/state.json", "checkpoints/epoch_0001/state.json"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("after interruption: %v", err)
		}
	}

	out, err := runCmd(t, context.Background(), args...)
	if err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	if strings.Contains(out, "epoch 1/2") || !strings.Contains(out, "epoch 2/2  loss ") || !strings.Contains(out, "best AUROC") {
		t.Errorf("resumed output:\n%s", out)
	}
	rows, err := results.ReadCSV(filepath.Join(dir, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Epoch != 1 || rows[1].Epoch != 2 {
		t.Fatalf("metrics rows: %+v", rows)
	}
	for _, r := range rows {
		if r.Experiment != "memae_mnist" || r.Params != "datamodule.num_train_samples=64,datamodule.batch_size=32" ||
			r.Seed != 1 || r.Target != "1" || r.Condition != 1 || !(r.AUROC > 0 && r.AUROC <= 1) || !(r.TrainLoss > 0) {
			t.Errorf("row %+v", r)
		}
	}
	e, err := config.ReadExperiment(filepath.Join(dir, results.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if e.Model.Name != "memae" || e.Trainer.MaxEpochs != 2 || e.Datamodule.NumTrainSamples != 64 {
		t.Errorf("config.yaml: %+v", e)
	}
	// A third invocation finds the run complete.
	if out, err = runCmd(t, context.Background(), args...); err != nil || !strings.Contains(out, "already complete (2 epochs)") {
		t.Errorf("complete run: %v\n%s", err, out)
	}
	// Without its checkpoints (exported results, or deleted to save space)
	// the run is still complete: nothing to train, its metrics untouched.
	before, err := os.ReadFile(filepath.Join(dir, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "checkpoints")); err != nil {
		t.Fatal(err)
	}
	if out, err = runCmd(t, context.Background(), append(args, "-n")...); err != nil || !strings.Contains(out, "1 run(s), 0 of 2 epochs to train") {
		t.Errorf("-n on a complete run without checkpoints: %v\n%s", err, out)
	}
	if out, err = runCmd(t, context.Background(), args...); err != nil || !strings.Contains(out, "already complete (2 epochs)") || strings.Contains(out, "epoch 1/2") {
		t.Errorf("complete run without checkpoints: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, results.MetricsFile)); !bytes.Equal(after, before) {
		t.Errorf("metrics.csv of a complete run without checkpoints changed:\n%s\nwas\n%s", after, before)
	}
	// One more epoch for it, beside a new digit: it cannot resume without a
	// checkpoint, so -n says it will not train; the command trains the other
	// run, leaves its metrics as they were, and fails naming it.
	more := make([]string, 0, len(args)+2)
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "datamodule.targets="):
			a = "datamodule.targets=[1,2]"
		case strings.HasPrefix(a, "trainer.max_epochs="):
			a = "trainer.max_epochs=3"
		}
		more = append(more, a)
	}
	out, err = runCmd(t, context.Background(), append(more, "-n")...)
	if err != nil || !strings.Contains(out, "target_1 (will not train: its metrics.csv holds trained epochs but it has no checkpoint") ||
		!strings.Contains(out, "2 run(s), 3 of 6 epochs to train") {
		t.Errorf("-n with a run that cannot resume: %v\n%s", err, out)
	}
	out, err = runCmd(t, context.Background(), more...)
	if err == nil || !strings.Contains(err.Error(), "1 run(s) not trained") || !strings.Contains(err.Error(), dir) ||
		!strings.Contains(out, "epoch 3/3") || !strings.Contains(out, "target_2") || !strings.Contains(out, "finished 1 of 2 run(s) in ") ||
		!strings.Contains(out, "; 1 not trained (below)") {
		t.Errorf("a run that cannot resume beside one to train: err = %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, results.MetricsFile)); !bytes.Equal(after, before) {
		t.Errorf("metrics.csv of a run that cannot resume changed:\n%s\nwas\n%s", after, before)
	}
}

func TestBenchTiny(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	if _, err := runCmd(t, context.Background(), "bench", "mnist-flatt"); err == nil || !strings.Contains(err.Error(), `unknown model "mnist-flatt"`) {
		t.Errorf("unknown model: %v", err)
	}
	out, err := runCmd(t, context.Background(), "bench", "mnist-flat-ae", "-seconds", "0.01", "-batch", "4", "-eval-batch", "8", "-torch", "off")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Go train img/s") || !strings.Contains(out, "mnist-flat-ae      4") {
		t.Errorf("bench output:\n%s", out)
	}
	out, err = runCmd(t, context.Background(), "bench", "mnist-ae", "-json", "-seconds", "0.01", "-batch", "2", "-eval-batch", "3", "-torch", "off")
	if err != nil {
		t.Fatal(err)
	}
	var r benchResult
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Model != "mnist-ae" || r.Batch != 2 || !(r.TrainIPS > 0) || !(r.EvalIPS > 0) || r.TrainSteps < 3 {
		t.Errorf("bench -json: %v %+v\n%s", err, r, out)
	}
}

func TestTable(t *testing.T) {
	root := t.TempDir()
	// Two configurations × two seeds × classes 0 and 1, epochs 1..2.
	auroc := map[string]map[int64]map[int][2]float64{
		"model=ae":    {1: {0: {0.90, 0.94}, 1: {0.80, 0.70}}, 2: {0: {0.96, 0.92}, 1: {0.75, 0.78}}},
		"model=memae": {1: {0: {0.91, 0.99}, 1: {0.85, 0.86}}, 2: {0: {0.97, 0.95}, 1: {0.90, 0.84}}},
	}
	for params, bySeed := range auroc {
		for seed, byClass := range bySeed {
			for class, vals := range byClass {
				dir := results.RunDir(root, "base", params, seed, []int{class})
				var rows []results.Row
				for e, v := range vals {
					rows = append(rows, results.Row{Experiment: "base", Params: params, Seed: seed, Target: fmt.Sprint(class),
						Condition: class, Epoch: e + 1, AUROC: v, SelectionAccuracy: math.NaN()})
				}
				if err := results.AppendCSV(filepath.Join(dir, results.MetricsFile), rows); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// A third seed of ae for class 0 only, at its mean (0.95): the means stay,
	// the seeds row says seed 3 covers 1 of the 2 classes, and the sd row
	// leaves it out.
	third := results.RunDir(root, "base", "model=ae", 3, []int{0})
	if err := results.AppendCSV(filepath.Join(third, results.MetricsFile), []results.Row{
		{Experiment: "base", Params: "model=ae", Seed: 3, Target: "0", Condition: 0, Epoch: 1, AUROC: 0.95, SelectionAccuracy: math.NaN()}}); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, context.Background(), "table", filepath.Join(root, "base"))
	if err != nil {
		t.Fatal(err)
	}
	// ae: class 0 (0.94+0.96+0.95)/3 = 0.95, class 1 (0.80+0.78)/2 = 0.79, mean 0.87;
	// memae: class 0 (0.99+0.97)/2 = 0.98, class 1 (0.86+0.90)/2 = 0.88, mean 0.93.
	// sd over the complete seeds' means: ae 0.87 and 0.87 (seed 3, one class,
	// left out), 0; memae 0.925 and 0.935, 0.01/√2 = 0.0071.
	want := "  class      model=ae  model=memae\n" +
		"      0        0.9500       0.9800\n" +
		"      1        0.7900       0.8800\n" +
		"   mean        0.8700       0.9300\n" +
		"     sd        0.0000       0.0071\n" +
		"  seeds  1,2 (3: 1/2)          1,2\n"
	if out != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}
	// -transpose: the same cells, a line per configuration.
	out, err = runCmd(t, context.Background(), "table", "-transpose", filepath.Join(root, "base"))
	if err != nil {
		t.Fatal(err)
	}
	want = "  params            0       1    mean      sd         seeds\n" +
		"  model=ae     0.9500  0.7900  0.8700  0.0000  1,2 (3: 1/2)\n" +
		"  model=memae  0.9800  0.8800  0.9300  0.0071           1,2\n"
	if out != want {
		t.Errorf("table -transpose:\n%s\nwant:\n%s", out, want)
	}
	if _, err := runCmd(t, context.Background(), "table", "-transpose", "-latex", root); err == nil || !strings.Contains(err.Error(), "-transpose applies to the text table only") {
		t.Errorf("table -transpose -latex: %v, want an error naming -transpose", err)
	}
	out, err = runCmd(t, context.Background(), "table", "-latex", "-caption", "Baseline", root)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"\\caption{Baseline}", "Class & model=ae & model=memae \\\\", "0 & 0.9500 & \\textbf{0.9800} \\\\", "Mean & 0.8700 & \\textbf{0.9300} \\\\", "\\bottomrule"} {
		if !strings.Contains(out, w) {
			t.Errorf("LaTeX lacks %q:\n%s", w, out)
		}
	}
}

// table marks the cells of runs whose last epoch is below their
// trainer.max_epochs and lists those runs.
func TestTableMarksUnfinished(t *testing.T) {
	root := t.TempDir()
	write := func(params string, class, epochs, maxEpochs int) string {
		dir := results.RunDir(root, "base", params, 1, []int{class})
		var rows []results.Row
		for e := 1; e <= epochs; e++ {
			rows = append(rows, results.Row{Experiment: "base", Params: params, Seed: 1, Target: fmt.Sprint(class),
				Condition: class, Epoch: e, AUROC: 0.5 + 0.1*float64(e), SelectionAccuracy: math.NaN()})
		}
		if err := results.AppendCSV(filepath.Join(dir, results.MetricsFile), rows); err != nil {
			t.Fatal(err)
		}
		cfg := fmt.Sprintf("name: base\ntrainer:\n  max_epochs: %d\n", maxEpochs)
		if err := os.WriteFile(filepath.Join(dir, results.ConfigFile), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	write("model=ae", 0, 2, 2)
	write("model=ae", 1, 2, 2)
	write("model=memae", 0, 3, 3)
	stopped := write("model=memae", 1, 2, 100) // interrupted after epoch 2 of 100
	out, err := runCmd(t, context.Background(), "table", filepath.Join(root, "base"))
	if err != nil {
		t.Fatal(err)
	}
	// model=ae: 0.7, 0.7; model=memae: class 0 best 0.8, class 1 best 0.7 (unfinished).
	want := "  class  model=ae  model=memae\n" +
		"      0    0.7000       0.8000\n" +
		"      1    0.7000      0.7000*\n" +
		"   mean    0.7000      0.7500*\n" +
		"  seeds         1            1\n" +
		"\n* includes 1 of 4 runs stopped before trainer.max_epochs (interrupted or still training; the same training command resumes them):\n" +
		"  epoch 2 of 100  " + stopped + "\n"
	if out != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}
	out, err = runCmd(t, context.Background(), "table", "-latex", filepath.Join(root, "base"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"1 & \\textbf{0.7000} & \\textbf{0.7000}\\textsuperscript{*} \\\\", "Mean & 0.7000 & \\textbf{0.7500}\\textsuperscript{*} \\\\",
		"\\par\\footnotesize\\textsuperscript{*}includes 1 of 4 runs stopped before trainer.max\\_epochs"} {
		if !strings.Contains(out, w) {
			t.Errorf("LaTeX lacks %q:\n%s", w, out)
		}
	}
}

// experiment=smoke shows the method working within its half minute: the
// MemAE trained on digit 0 separates 0s from other digits (measured: AUROC
// 0.9722 after epoch 2; 0.5 is chance, the previous smoke configuration ended
// at 0.277).
func TestSmokeLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about 20 s")
	}
	t.Setenv(data.EnvOffline, "1")
	t.Setenv("GOMLX_BACKEND", "go")
	root := t.TempDir()
	out, err := runCmd(t, context.Background(), "experiment=smoke", "results_dir="+root)
	if err != nil {
		t.Fatalf("smoke: %v\n%s", err, out)
	}
	rows, err := results.ReadCSV(filepath.Join(root, "smoke", "default", "seed_1", "target_0", results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1].Epoch != 2 || !(rows[1].AUROC > 0.9) {
		t.Errorf("smoke metrics: %+v\nwant 2 epochs ending with AUROC > 0.9\n%s", rows, out)
	}
}

// TestBudgetArgument: budget=<name> on the command line plans the budget's
// runs in <results_dir>/<budget>, and an unknown budget is a configuration
// error naming the valid ones.
func TestBudgetArgument(t *testing.T) {
	root := t.TempDir()
	out, err := runCmd(t, context.Background(), "-n", "-estimate=false", "experiment=baseline_mnist", "budget=cpu", "results_dir="+root)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "40 run(s), 200 of 200 epochs to train") ||
		!strings.Contains(out, filepath.Join(root, "cpu", "baseline_mnist", "model=ae,model.arch=mnist", "seed_1", "target_0")) {
		t.Errorf("budget=cpu -n:\n%s", out)
	}
	_, err = runCmd(t, context.Background(), "budget=tiny")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "cpu, full, quick") {
		t.Errorf("budget=tiny: %v, want a configuration error naming cpu, full, quick", err)
	}
}

// Known and unknown runs of one pair train once: the command says so, their
// epoch lines alternate, and the unknown run is complete when its turn comes.
func TestRunTrainsAlong(t *testing.T) {
	root := t.TempDir()
	out, err := runCmd(t, context.Background(), "experiment=conditional_mnist", "model=memae", "seed=1", "datamodule.targets=[[1,7]]",
		"datamodule.num_train_samples=64", "trainer.max_epochs=2", "results_dir="+root, "-max-test-images", "50")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	epochLine := regexp.MustCompile(`^epoch (\d+)/2 .*· run (\d)/2`)
	alongLine := regexp.MustCompile(`^  (along with|trained along with) run (\d)`)
	var order []string
	for _, l := range strings.Split(out, "\n") {
		if m := epochLine.FindStringSubmatch(l); m != nil {
			order = append(order, "run "+m[2]+" epoch "+m[1])
		} else if m := alongLine.FindStringSubmatch(l); m != nil {
			order = append(order, m[1]+" "+m[2])
		}
	}
	want := "[along with 2 run 1 epoch 1 run 2 epoch 1 run 1 epoch 2 run 2 epoch 2 trained along with 1]"
	if got := fmt.Sprint(order); got != want {
		t.Errorf("along and epoch lines\n got %s\nwant %s\n%s", got, want, out)
	}
	for _, c := range []string{"known", "unknown"} {
		dir := filepath.Join(root, "conditional_mnist", "model=memae,datamodule.num_train_samples=64,conditional="+c, "seed_1", "target_1-7")
		if done, err := train.Completed(dir, 2); !done || err != nil {
			t.Errorf("%s: complete %v (%v)", dir, done, err)
		}
	}
}

// A conditional experiment's table has a row per pair and tested class:
// class 1 of the pairs 0-1 and 1-7 are two results, and the mean is over the
// rows.
func TestTableConditionalPairs(t *testing.T) {
	root := t.TempDir()
	for _, run := range []struct {
		pair  []int
		auroc []float64 // per class of the pair, at epochs 1 and 2
	}{{[]int{0, 1}, []float64{0.90, 0.80, 0.60, 0.70}}, {[]int{1, 7}, []float64{0.50, 0.55, 0.96, 0.94}}} {
		target := results.TargetString(run.pair)
		dir := results.RunDir(root, "cond", "model=memae", 1, run.pair)
		var rows []results.Row
		for e := range 2 {
			for i, c := range run.pair {
				rows = append(rows, results.Row{Experiment: "cond", Params: "model=memae", Seed: 1, Target: target,
					Condition: c, Epoch: e + 1, AUROC: run.auroc[2*i+e], SelectionAccuracy: math.NaN()})
			}
		}
		if err := results.AppendCSV(filepath.Join(dir, results.MetricsFile), rows); err != nil {
			t.Fatal(err)
		}
	}
	out, err := runCmd(t, context.Background(), "table", filepath.Join(root, "cond"))
	if err != nil {
		t.Fatal(err)
	}
	// Best epochs: 0-1: 0 0.90, 0-1: 1 0.70, 1-7: 1 0.55, 1-7: 7 0.96; mean 0.7775.
	want := "   class  model=memae\n" +
		"  0-1: 0       0.9000\n" +
		"  0-1: 1       0.7000\n" +
		"  1-7: 1       0.5500\n" +
		"  1-7: 7       0.9600\n" +
		"    mean       0.7775\n" +
		"   seeds            1\n"
	if out != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}
}

// TestCopyTwins: once the baseline's MemAE run has finished, the cosine
// sweep's run of the same configuration is copied, not trained: -n says so
// and prices it at nothing, the command says where it came from, and
// -copy-twins=false trains it.
func TestCopyTwins(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	tiny := []string{"seed=1", "datamodule.targets=[1]", "datamodule.num_train_samples=64", "trainer.max_epochs=2",
		"results_dir=" + root, "-max-test-images=50"}
	if out, err := runCmd(t, ctx, append([]string{"model=memae", "datamodule=mnist"}, tiny...)...); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	twin := filepath.Join(root, "memae_mnist", "datamodule.num_train_samples=64", "seed_1", "target_1")
	sweep := append([]string{"experiment=sweep_cosine", "model.cosine_similarity=true"}, tiny...)
	out, err := runCmd(t, ctx, append([]string{"-n", "-estimate=false"}, sweep...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "(copied from its finished twin "+twin+")") || !strings.Contains(out, "0 of 2 epochs to train; 1 run(s) copied from finished twins instead") {
		t.Errorf("-n does not show the copy:\n%s", out)
	}
	if out, err = runCmd(t, ctx, append([]string{"-n", "-estimate=false"}, slices.Replace(slices.Clone(sweep), len(sweep)-1, len(sweep), "-max-test-images=60")...)...); err != nil || strings.Contains(out, "copied") {
		t.Errorf("-n with other test images offers the twin evaluated on 50 (%v):\n%s", err, out)
	}
	out, err = runCmd(t, ctx, sweep...)
	if err != nil || !strings.Contains(out, "  copied from "+twin+": a finished run") || strings.Contains(out, "epoch 1/2") {
		t.Errorf("the sweep's run is not copied (%v):\n%s", err, out)
	}
	if err := os.RemoveAll(filepath.Join(root, "sweep_cosine")); err != nil {
		t.Fatal(err)
	}
	out, err = runCmd(t, ctx, append([]string{"-copy-twins=false"}, sweep...)...)
	if err != nil || !strings.Contains(out, "epoch 2/2") {
		t.Errorf("-copy-twins=false does not train (%v):\n%s", err, out)
	}
}
