package notebook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/experiment"
	"github.com/cmemae/cmemae/pkg/plots"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

// fakeShipped writes a shipped cpu-budget tree for exps: one metrics.csv per
// run with 5 epochs whose AUROC is auroc(run)+epoch/100, and a config.yaml.
func fakeShipped(t *testing.T, root string, exps []experiment.Run, auroc func(experiment.Run) float64) {
	t.Helper()
	for _, run := range exps {
		e := run.Experiment
		rel, err := filepath.Rel(e.ResultsDir, run.Dir)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, rel)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var rows []results.Row
		for ep := 1; ep <= e.Trainer.MaxEpochs; ep++ {
			for _, c := range run.Targets {
				rows = append(rows, results.Row{Experiment: e.Name, Params: e.ParamsSlug(), Seed: e.Seed,
					Target: results.TargetString(run.Targets), Condition: c, Epoch: ep, TrainLoss: 0.1,
					AUROC: auroc(run) + float64(ep)/100, MeanErrNormal: 0.01, MeanErrAnomalous: 0.03})
			}
		}
		if err := results.WriteCSV(filepath.Join(dir, results.MetricsFile), rows); err != nil {
			t.Fatal(err)
		}
		y, err := e.YAML()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "config.yaml"), y, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestShippedResults: with shipped cpu-budget results, a notebook opens on
// them without training (nothing is written to the results directory), the
// figures of notebook 01 render from them, a run missing from the shipped
// tree is the only one left to train, and a quick re-run is overlaid.
func TestShippedResults(t *testing.T) {
	shippedRoot, own := t.TempDir(), t.TempDir()
	t.Setenv(ShippedEnv, shippedRoot)
	t.Setenv(ResultsEnv, own)
	shipped := filepath.Join(shippedRoot, "results-cpu-budget")
	args := []string{"experiment=baseline_mnist", "datamodule.targets=[0,1]"}
	exps, err := Experiments(CPU, args, []string{"datamodule.targets=[9]"})
	if err != nil {
		t.Fatal(err)
	}
	runs := experiment.Plan(exps)
	if len(runs) != 2*2*2 {
		t.Fatalf("%d runs, want 8 (AE/MemAE × 2 archs × 2 classes, one seed; quick's cuts not applied)", len(runs))
	}
	if exps[0].Trainer.MaxEpochs != 5 || exps[0].Model.LearningRate != 1e-4 {
		t.Fatalf("cpu budget: %d epochs, lr %g", exps[0].Trainer.MaxEpochs, exps[0].Model.LearningRate)
	}
	fakeShipped(t, shipped, runs, func(r experiment.Run) float64 {
		if r.Experiment.Model.Name == "memae" {
			return 0.90
		}
		return 0.80
	})

	r := &Runner{Budget: CPU, driver: &experiment.Driver{}}
	var out bytes.Buffer
	r.Out = &out
	tab, err := r.RunAll(context.Background(), exps)
	if err != nil {
		t.Fatal(err)
	}
	if want := "baseline_mnist: 8 runs, 8 loaded from the shipped results"; !strings.Contains(out.String(), want) {
		t.Errorf("RunAll printed %q, want %q", out.String(), want)
	}
	if tab.Len() != 8*5 {
		t.Errorf("%d rows, want 40", tab.Len())
	}
	// A runner of another budget counts the runs by the budget they were
	// composed with.
	out.Reset()
	fullRunner := &Runner{Budget: Full, driver: &experiment.Driver{}, Out: &out}
	if _, err := fullRunner.RunAll(context.Background(), exps); err != nil {
		t.Fatal(err)
	}
	if want := "baseline_mnist: 8 runs, 8 loaded from the shipped results"; !strings.Contains(out.String(), want) {
		t.Errorf("RunAll of a full-budget runner printed %q, want %q", out.String(), want)
	}
	if ents, _ := os.ReadDir(own); len(ents) != 0 {
		t.Errorf("opening shipped results wrote %d entries to the results directory", len(ents))
	}
	if !Complete(exps) {
		t.Error("Complete of fully shipped experiments: want true")
	}
	loaded, err := Load(exps)
	if err != nil || loaded.Len() != 40 {
		t.Fatalf("Load: %d rows, %v", loaded.Len(), err)
	}

	// The max-over-epochs pivot: MemAE 0.95, AE 0.85 (epoch 5 adds 0.05).
	pivot, err := loaded.MaxOverEpochs(results.AUROC).MeanOverSeeds().Pivot(results.ByCondition,
		func(row results.Row) string { return ModelLabel(row, "memae", "") }, results.AUROC)
	if err != nil {
		t.Fatal(err)
	}
	if len(pivot.ColLabels) != 4 || len(pivot.RowLabels) != 2 {
		t.Fatalf("pivot %v × %v, want 2 classes × 4 configurations", pivot.RowLabels, pivot.ColLabels)
	}
	for i, c := range pivot.ColLabels {
		want := 0.85
		if strings.Contains(c, "MemAE") {
			want = 0.95
		}
		if got := pivot.Values[0][i]; got < want-1e-9 || got > want+1e-9 {
			t.Errorf("pivot %s class 0 = %v, want %v", c, got, want)
		}
	}
	heat, err := plots.PivotHeatmap(pivot, plots.HeatmapChart{Title: "max-over-epochs AUROC", Annotate: true})
	if err != nil {
		t.Fatal(err)
	}
	series, err := plots.EpochSeries(loaded.Filter(func(row results.Row) bool { return row.Params == exps[0].ParamsSlug() }),
		results.ByCondition, results.AUROC, func(c string) string { return "class " + c })
	if err != nil {
		t.Fatal(err)
	}
	lines, err := plots.Lines(plots.LineChart{Title: "AUROC", Series: series, Points: true, YMin: 0, YMax: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []*plots.Figure{heat, lines} {
		png, err := f.PNG()
		if err != nil || len(png) < 1000 {
			t.Errorf("figure renders %d bytes, %v", len(png), err)
		}
	}

	// A quick re-run's curves are overlaid beside the shipped ones.
	quick := results.Table{Rows: []results.Row{{Experiment: "baseline_mnist", Params: exps[0].ParamsSlug(), Seed: 1, Target: "0", Epoch: 1, AUROC: 0.5}}}
	both := Overlay(loaded, quick, Quick)
	if got := both.Unique(results.ByExperiment); len(got) != 2 || got[1] != "baseline_mnist (quick)" {
		t.Errorf("overlay experiments %v", got)
	}
	if b, q := OverlaidBudget(both.Rows[0]), OverlaidBudget(both.Rows[both.Len()-1]); b != "" || q != Quick {
		t.Errorf("OverlaidBudget: base row %q, overlaid row %q; want \"\" and %q", b, q, Quick)
	}

	// A run missing from the shipped tree is read from (trained into) the
	// notebook's own results directory; one without checkpoints too when
	// they are needed.
	missing := runs[0]
	rel, _ := filepath.Rel(missing.Experiment.ResultsDir, missing.Dir)
	if err := os.RemoveAll(filepath.Join(shipped, rel)); err != nil {
		t.Fatal(err)
	}
	if got := RunDir(missing.Experiment, missing.Targets, false); got != missing.Dir {
		t.Errorf("missing shipped run: RunDir %s, want %s", got, missing.Dir)
	}
	if Complete(exps) {
		t.Error("Complete with a shipped run missing: want false")
	}
	// With CMEMAE_NO_TRAIN set, RunAll refuses to train it and names it.
	t.Setenv(NoTrainEnv, "1")
	if _, err := r.RunAll(context.Background(), exps); err == nil ||
		!strings.Contains(err.Error(), "1 of 8 runs would be trained") || !strings.Contains(err.Error(), missing.Dir) {
		t.Errorf("RunAll with %s and a run missing: %v", NoTrainEnv, err)
	}
	if ents, _ := os.ReadDir(own); len(ents) != 0 {
		t.Errorf("RunAll with %s wrote %d entries to the results directory", NoTrainEnv, len(ents))
	}
	t.Setenv(NoTrainEnv, "")
	other := runs[1]
	if got := RunDir(other.Experiment, other.Targets, true); got != other.Dir {
		t.Errorf("shipped run without checkpoints, needed: RunDir %s, want %s", got, other.Dir)
	}
	if got := RunDir(other.Experiment, other.Targets, false); !IsShipped(CPU, got) {
		t.Errorf("shipped run: RunDir %s is not in the shipped tree %s", got, shipped)
	}
	// With an exported epoch checkpoint (no "last", as export -checkpoints
	// ships them) the shipped run serves a notebook that needs checkpoints.
	otherRel, _ := filepath.Rel(other.Experiment.ResultsDir, other.Dir)
	ck := filepath.Join(shipped, otherRel, "checkpoints", "epoch_0005")
	if err := os.MkdirAll(ck, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ck, "state.json"), []byte(`{"format":1,"epoch":5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := RunDir(other.Experiment, other.Targets, true); !IsShipped(CPU, got) {
		t.Errorf("shipped run with epoch checkpoints, needed: RunDir %s is not in the shipped tree", got)
	}
	// The quick budget never reads the shipped tree.
	q, err := Experiments(Quick, args, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := RunDir(q[0], []int{0}, false); IsShipped(CPU, got) || !strings.HasPrefix(got, filepath.Join(own, "quick")) {
		t.Errorf("quick RunDir %s", got)
	}

	// A notebook's own results_dir (the budget's folder below it) still
	// reads the cpu budget's shipped runs.
	mine := t.TempDir()
	ownExps, err := Experiments(CPU, append([]string{"results_dir=" + mine + "/"}, args...), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := RunDir(ownExps[0], other.Targets, false); !IsShipped(CPU, got) {
		t.Errorf("results_dir=%s/: RunDir %s is not in the shipped tree", mine, got)
	}

	// The full budget writes to the results root itself (as the command
	// line does) and reads its own shipped tree, results-full-budget: a
	// shipped flat run is read from there, the spatial one trained.
	full, err := Experiments(Full, []string{"experiment=baseline_mnist", "datamodule.targets=[0]", "seed=1", "model=memae"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fullRuns := experiment.Plan(full)
	if len(fullRuns) != 2 || full[0].Trainer.MaxEpochs != 100 || full[0].ResultsDir != own {
		t.Fatalf("full: %d runs, %d epochs, results_dir %s; want 2, 100, %s", len(fullRuns), full[0].Trainer.MaxEpochs, full[0].ResultsDir, own)
	}
	flat := fullRuns[1]
	if flat.Experiment.Model.Arch != "mnist-flat" {
		t.Fatalf("second full run is %s, want mnist-flat", flat.Experiment.Model.Arch)
	}
	fakeShipped(t, filepath.Join(shippedRoot, "results-full-budget"), fullRuns[1:], func(experiment.Run) float64 { return 0.9 })
	if got := RunDir(flat.Experiment, flat.Targets, false); !IsShipped(Full, got) || IsShipped(CPU, got) {
		t.Errorf("shipped full run: RunDir %s, want inside %s", got, ShippedDir(Full))
	}
	if got := RunDir(fullRuns[0].Experiment, fullRuns[0].Targets, false); got != fullRuns[0].Dir {
		t.Errorf("full run not shipped: RunDir %s, want %s", got, fullRuns[0].Dir)
	}
	if fl, err := Load(full); err != nil || fl.Len() != 100 {
		t.Errorf("Load of the full budget: %d rows (want the shipped run's 100 epochs), %v", fl.Len(), err)
	}
	// So does the full budget under a notebook's own results_dir, which it
	// writes to directly (no budget folder below it).
	ownFull, err := Experiments(Full, []string{"results_dir=" + mine, "experiment=baseline_mnist", "datamodule.targets=[0]", "seed=1", "model=memae", "model.arch=mnist-flat"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := RunDir(ownFull[0], flat.Targets, false); !IsShipped(Full, got) {
		t.Errorf("full budget, results_dir=%s: RunDir %s, want inside %s", mine, got, ShippedDir(Full))
	}
	// Without a budget (the command line's default, the thesis's scale) no
	// shipped tree is read.
	none, err := experiment.Parse("results_dir="+own, "experiment=baseline_mnist", "datamodule.targets=[0]", "seed=1", "model=memae", "model.arch=mnist-flat")
	if err != nil {
		t.Fatal(err)
	}
	if none[0].Budget != "" || full[0].Budget != Full || ownExps[0].Budget != CPU {
		t.Errorf("Budget: none %q, full %q, cpu %q", none[0].Budget, full[0].Budget, ownExps[0].Budget)
	}
	if got := RunDir(none[0], flat.Targets, false); got != flat.Dir {
		t.Errorf("no budget: RunDir %s, want %s", got, flat.Dir)
	}
}

// TestTrained: a run's epochs and seeds survive MaxOverEpochs and
// MeanOverSeeds; runs of the same configuration with other budgets (Overlay),
// fewer epochs, fewer seeds or seeds at different epochs keep their own label.
func TestTrained(t *testing.T) {
	var full, short results.Table
	add := func(tab *results.Table, params string, seed int64, target string, epochs int, auroc float64) {
		for ep := 1; ep <= epochs; ep++ {
			tab.Rows = append(tab.Rows, results.Row{Experiment: "baseline_mnist", Params: params, Seed: seed, Target: target, Epoch: ep, AUROC: auroc})
		}
	}
	add(&full, "model=memae", 2, "3", 100, 0.9)
	add(&full, "model=memae", 1, "3", 100, 0.9)
	add(&full, "model=memae", 1, "4", 5, 0.7)
	add(&full, "model=memae", 1, "5", 100, 0.9)
	add(&full, "model=memae", 2, "5", 30, 0.8)
	add(&full, "model=ae", 3, "3", 100, 0.9)
	add(&short, "model=memae", 1, "3", 5, 0.8)
	both := Overlay(full, short, CPU)
	trained := Trained(both)
	got := map[string]string{}
	for _, r := range both.MaxOverEpochs(results.AUROC).MeanOverSeeds().Rows {
		got[results.ByConfiguration(r)+" "+r.Target] = trained(r)
	}
	want := map[string]string{
		"baseline_mnist/model=memae 3":       "100 epochs · seeds 1, 2",
		"baseline_mnist/model=memae 4":       "5 epochs · seed 1",
		"baseline_mnist/model=memae 5":       "epochs 100, 30 · seeds 1, 2",
		"baseline_mnist/model=ae 3":          "100 epochs · seed 3",
		"baseline_mnist (cpu)/model=memae 3": "5 epochs · seed 1",
	}
	if len(got) != len(want) {
		t.Fatalf("labels %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
}

// TestComparable keeps the classes that every seed of the configuration
// finished, so that per-seed means average the same classes.
func TestComparable(t *testing.T) {
	var tab results.Table
	add := func(params string, seed int64, target string, epochs int) {
		for ep := 1; ep <= epochs; ep++ {
			tab.Rows = append(tab.Rows, results.Row{Experiment: "baseline_mnist", Params: params, Seed: seed, Target: target, Epoch: ep})
		}
	}
	add("model=memae", 1, "0", 10)
	add("model=memae", 2, "0", 10) // both seeds finished: kept
	add("model=memae", 1, "1", 10)
	add("model=memae", 2, "1", 4)  // seed 2 still training: class 1 left out
	add("model=memae", 1, "2", 10) // seed 2 missing: class 2 left out
	add("model=ae", 1, "2", 3)     // another configuration: its own seeds and epochs
	got := map[string]int{}
	for _, r := range Comparable(tab).Rows {
		got[r.Params+" "+r.Target]++
	}
	want := map[string]int{"model=memae 0": 20, "model=ae 2": 3}
	if len(got) != len(want) || got["model=memae 0"] != 20 || got["model=ae 2"] != 3 {
		t.Errorf("Comparable kept %v, want %v", got, want)
	}
	if n := Comparable(results.Table{}).Len(); n != 0 {
		t.Errorf("Comparable of an empty table: %d rows", n)
	}
}

// TestPerSeed: a row per seed, the mean over the classes every seed
// finished of each class's best epoch (hand-computed below).
func TestPerSeed(t *testing.T) {
	var tab results.Table
	add := func(params string, seed int64, target string, cond int, aurocs ...float64) {
		for i, a := range aurocs {
			tab.Rows = append(tab.Rows, results.Row{Experiment: "conditional_mnist", Params: params, Seed: seed,
				Target: target, Condition: cond, Epoch: i + 1, AUROC: a})
		}
	}
	add("model=memae", 1, "1-7", 1, 0.5, 0.9, 0.8) // best 0.9
	add("model=memae", 1, "1-7", 7, 0.6, 0.7, 0.7) // best 0.7
	add("model=memae", 2, "1-7", 1, 0.95, 0.9, 0.9)
	add("model=memae", 2, "1-7", 7, 0.5, 0.5, 0.55)
	add("model=memae", 1, "4-5", 4, 0.1, 0.2, 0.3) // seed 2 stopped at epoch 2: the pair 4-5 does not count
	add("model=memae", 2, "4-5", 4, 0.9, 0.9)
	add("model=ae", 1, "1-7", 1, 0.4)
	p, err := PerSeed(tab, func(r results.Row) string { return r.Params })
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p.RowLabels, p.ColLabels) != "[seed 1 seed 2 mean sd] [model=ae model=memae]" {
		t.Fatalf("labels %v × %v", p.RowLabels, p.ColLabels)
	}
	// memae: seed 1 0.8, seed 2 0.75; mean 0.775, sd √((0.025² + 0.025²)/1).
	want := [][]float64{{0.4, (0.9 + 0.7) / 2}, {math.NaN(), (0.95 + 0.55) / 2}, {0.4, 0.775}, {math.NaN(), math.Sqrt(2 * 0.025 * 0.025)}}
	for i := range want {
		for j, w := range want[i] {
			if got := p.Values[i][j]; !(math.Abs(got-w) < 1e-12 || math.IsNaN(w) && math.IsNaN(got)) {
				t.Errorf("%s, %s: %v, want %v", p.RowLabels[i], p.ColLabels[j], got, w)
			}
		}
	}
	if _, err := PerSeed(results.Table{}, results.ByConfiguration); !errors.Is(err, results.ErrNoRows) {
		t.Errorf("PerSeed of an empty table: %v, want ErrNoRows", err)
	}
}

// TestColorBy: a name keeps its colour whichever names a panel holds.
func TestColorBy(t *testing.T) {
	order := []string{"from scratch", "[transfer]", "[freeze]"}
	a := ColorBy([]plots.Series{{Name: "from scratch"}, {Name: "[freeze]"}}, order)
	b := ColorBy([]plots.Series{{Name: "[freeze]"}, {Name: "[transfer]"}, {Name: "other"}}, order)
	if a[1].Color != plots.Palette10[2] || b[0].Color != plots.Palette10[2] || b[1].Color != plots.Palette10[1] || a[0].Color != plots.Palette10[0] {
		t.Errorf("colours: %v %v / %v %v", a[0].Color, a[1].Color, b[0].Color, b[1].Color)
	}
	if a[1].Marker != plots.Glyphs[2] || b[0].Marker != plots.Glyphs[2] {
		t.Errorf("markers of [freeze]: %v, %v; want %v in both panels", a[1].Marker, b[0].Marker, plots.Glyphs[2])
	}
	if b[2].Color != nil {
		t.Errorf("a name outside the order got colour %v", b[2].Color)
	}
}

// TestAnchorRows: the project's mean over classes beside the paper's AUROC
// for the configuration's model, NaN cells left out.
func TestAnchorRows(t *testing.T) {
	p := results.Pivot{RowLabels: []string{"0", "1"}, ColLabels: []string{"AE flat", "MemAE spatial"},
		Values: [][]float64{{0.90, 0.95}, {0.80, math.NaN()}}}
	h, rows := AnchorRows("mnist", p)
	if len(h) != 4 || len(rows) != 2 {
		t.Fatalf("header %v rows %v", h, rows)
	}
	want := [][]string{{"AE flat", "0.8500 (2 classes)", "0.9619", "-0.1119"}, {"MemAE spatial", "0.9500 (1 classes)", "0.9751", "-0.0251"}}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %v, want %v", i, rows[i], want[i])
		}
	}
	if _, rows := AnchorRows("fashion-mnist", p); rows != nil {
		t.Errorf("fashion-mnist has no anchors, got %v", rows)
	}
	if !strings.Contains(BudgetSummary(CPU), "5 epochs instead of 100") || !strings.Contains(BudgetSummary(Quick), "`seed=1 model.learning_rate=0.001") {
		t.Errorf("budget summaries:\n%s\n%s", BudgetSummary(CPU), BudgetSummary(Quick))
	}
}

// TestShrinkSummary: zeroed weights are counted and the smallest softmax
// weight reported.
func TestShrinkSummary(t *testing.T) {
	got := ShrinkSummary([]float64{0.001, 0.299, 0.7}, []float64{0, 0.3, 0.7})
	if want := "1 of 3 zeroed; smallest softmax weight 0.0010"; got != want {
		t.Errorf("ShrinkSummary = %q, want %q", got, want)
	}
}

// TestShippedTree checks the results shipped with the repository
// (notebooks/results-<budget>-budget; cpu's must be there): a README.md naming the
// commit and command, every run with its config.yaml and a metrics.csv that
// loads, and a heatmap per experiment rendering from them without training.
func TestShippedTree(t *testing.T) {
	t.Setenv(ShippedEnv, "")
	if ShippedDir(CPU) == "" {
		t.Error("no shipped cpu-budget results (notebooks/results-cpu-budget), which notebooks 01–04 open on: restore them with git checkout -- notebooks/results-cpu-budget")
	}
	for _, budget := range []string{CPU, Full} {
		if dir := ShippedDir(budget); dir != "" {
			t.Run(budget, func(t *testing.T) { checkShippedTree(t, dir) })
		}
	}
}

func checkShippedTree(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Errorf("shipped results without a README.md (commit and command): %v", err)
	}
	tab, err := results.Load(dir)
	if err != nil {
		t.Fatalf("loading the shipped results: %v", err)
	}
	if tab.Len() == 0 {
		t.Fatal("the shipped results hold no metrics")
	}
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != results.MetricsFile {
			return err
		}
		run := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(run, "config.yaml")); err != nil {
			t.Errorf("%s: no config.yaml beside it", p)
		}
		// A run shipped with some of its checkpoints keeps the memory change
		// between all of them: from init to its last epoch, one row per epoch,
		// through every shipped checkpoint.
		if _, err := os.Stat(filepath.Join(run, train.MemoryChangeFile)); err == nil {
			epochs, _, err := train.MemoryChanges(run)
			if err != nil {
				t.Error(err)
				return nil
			}
			progress, err := results.LoadProgress(run)
			if err != nil || len(progress) != 1 {
				t.Errorf("%s: progress of %d runs, %v", run, len(progress), err)
				return nil
			}
			last := progress[0].LastEpoch
			if len(epochs) != last+1 || epochs[0] != 0 || epochs[len(epochs)-1] != last {
				t.Errorf("%s: memory change over epochs %v, want 0…%d one by one", run, epochs, last)
			}
			cps, err := train.ListCheckpoints(run)
			if err != nil || len(cps) == 0 {
				t.Errorf("%s: %d checkpoints beside %s, %v", run, len(cps), train.MemoryChangeFile, err)
			}
			for _, cp := range cps {
				if !slices.Contains(epochs, cp.Epoch) {
					t.Errorf("%s: checkpoint %s outside the memory change's epochs", run, cp.Name)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range tab.Unique(results.ByExperiment) {
		runs := tab.Filter(func(row results.Row) bool { return row.Experiment == ds })
		pivot, err := runs.MaxOverEpochs(results.AUROC).MeanOverSeeds().Pivot(results.ByCondition,
			func(row results.Row) string { return row.Params }, results.AUROC)
		if err != nil {
			t.Errorf("%s: %v", ds, err)
			continue
		}
		f, err := plots.PivotHeatmap(pivot, plots.HeatmapChart{Title: ds, Annotate: true})
		if err != nil {
			t.Errorf("%s: heatmap: %v", ds, err)
			continue
		}
		if png, err := f.PNG(); err != nil || len(png) < 1000 {
			t.Errorf("%s: heatmap renders %d bytes, %v", ds, len(png), err)
		}
	}
}

// Notebook 02's runs (selection_conditional_mnist) at the cpu budget: 8
// configurations × 3 pairs = 24 runs, but one training per model and pair
// (C-MemAE known, sum, max, recon share one; so do the conditional AEs and the
// multiple AEs): 9.
func TestNumTrainings(t *testing.T) {
	exps, err := Experiments("cpu", []string{"experiment=selection_conditional_mnist"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if runs, trainings := NumRuns(exps), NumTrainings(exps); runs != 24 || trainings != 9 {
		t.Errorf("%d runs in %d trainings, want 24 in 9", runs, trainings)
	}
}

// TestRunAllCopiesShippedTwin: a sweep's run that the shipped baseline holds
// under another name (sweep_cosine's cosine_similarity=true is the
// baseline's flat MemAE) is copied into the results directory, not trained;
// a notebook that analyses checkpoints does not take a twin without them.
func TestRunAllCopiesShippedTwin(t *testing.T) {
	shippedRoot, own := t.TempDir(), t.TempDir()
	t.Setenv(ShippedEnv, shippedRoot)
	t.Setenv(ResultsEnv, own)
	base, err := Experiments(CPU, []string{"experiment=baseline_mnist", "datamodule.targets=[0]"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fakeShipped(t, filepath.Join(shippedRoot, "results-cpu-budget"), experiment.Plan(base), func(r experiment.Run) float64 {
		if r.Experiment.Model.Name == "memae" && r.Experiment.Model.Arch == "mnist-flat" {
			return 0.90
		}
		return 0.80
	})
	sweep, err := Experiments(CPU, []string{"experiment=sweep_cosine", "model.cosine_similarity=true", "datamodule.targets=[0]"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	twins, err := experiment.FindTwins(ShippedDir(CPU))
	if err != nil {
		t.Fatal(err)
	}
	twins.NeedCheckpoints = true
	if src, ok := twins.Of(experiment.Plan(sweep)[0], 0); ok {
		t.Errorf("NeedCheckpoints: offered %s, which has none", src)
	}

	outlook := func(r *Runner, want string) {
		t.Helper()
		if o, err := r.Outlook(sweep); err != nil || o.String() != want {
			t.Errorf("Outlook = %q (%v), want %q", o, err, want)
		}
	}
	outlook(&Runner{Budget: CPU, NeedCheckpoints: true}, "1 runs: 0 finished, 1 to train")
	outlook(&Runner{Budget: CPU, MaxTestImages: 300}, "1 runs: 0 finished, 1 to train")
	outlook(&Runner{Budget: CPU}, "1 runs: 0 finished, 1 to copy from finished twins, 0 to train")

	var out bytes.Buffer
	r := &Runner{Budget: CPU, driver: &experiment.Driver{}, Out: &out}
	tab, err := r.RunAll(context.Background(), sweep)
	if err != nil {
		t.Fatal(err)
	}
	if want := "sweep_cosine: 1 runs, 1 copied from finished runs of other experiments that trained alike"; !strings.Contains(out.String(), want) {
		t.Errorf("RunAll printed %q, want %q", out.String(), want)
	}
	if tab.Len() != 5 || math.Abs(tab.Rows[4].AUROC-0.95) > 1e-12 || tab.Rows[4].Experiment != "sweep_cosine" {
		t.Errorf("rows %v, want the shipped MemAE's 5 epochs (0.91 … 0.95) as sweep_cosine's", tab.Rows)
	}
	outlook(&Runner{Budget: CPU}, "1 runs: 1 finished, 0 to train")
	run := experiment.Plan(sweep)[0]
	if rel, _ := filepath.Rel(own, run.Dir); strings.HasPrefix(rel, "..") || !run.Complete() {
		t.Errorf("the copy %s is not a complete run in the results directory %s", run.Dir, own)
	}
}
