package experiment_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/experiment"
)

// TestBudgetCPU: budget=cpu keeps the thesis's hyper-parameters, trains 5
// epochs of seed 1 only, writes to <results_dir>/cpu, and leaves the params
// directories as the thesis names them.
func TestBudgetCPU(t *testing.T) {
	root := t.TempDir()
	exps, err := experiment.Parse("experiment=baseline_mnist", "budget=cpu", "results_dir="+root)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(experiment.Plan(exps)); got != 2*2*10 {
		t.Errorf("baseline_mnist budget=cpu plans %d runs, want 40 (one seed)", got)
	}
	e := exps[0]
	if e.Seed != 1 || e.Trainer.MaxEpochs != 5 || e.Model.LearningRate != 1e-4 || e.Datamodule.BatchSize != 64 || e.Datamodule.NumTrainSamples != 0 {
		t.Errorf("cpu budget: seed %d, %d epochs, lr %g, batch %d, %d samples; want 1, 5, 1e-4, 64, 0 (all)",
			e.Seed, e.Trainer.MaxEpochs, e.Model.LearningRate, e.Datamodule.BatchSize, e.Datamodule.NumTrainSamples)
	}
	want := filepath.Join(root, "cpu", "baseline_mnist", "model=ae,model.arch=mnist", "seed_1", "target_0")
	if got := e.RunDir([]int{0}); got != want {
		t.Errorf("run dir %s, want %s", got, want)
	}
}

// TestBudgetQuick: the quick overlay applies its values, the user's own
// arguments win, the experiment's sweeps are kept (num_train_samples in
// fewshot_mnist), and ${results_dir} in from_checkpoint resolves within the
// budget's directory to the baseline's thesis-named run.
func TestBudgetQuick(t *testing.T) {
	root := t.TempDir()
	exps, err := experiment.Parse("experiment=baseline_mnist", "budget=quick", "results_dir="+root, "trainer.max_epochs=2")
	if err != nil {
		t.Fatal(err)
	}
	e := exps[0]
	if e.Trainer.MaxEpochs != 2 || e.Model.LearningRate != 1e-3 || e.Datamodule.BatchSize != 16 || e.Datamodule.NumTrainSamples != 300 || e.Seed != 1 {
		t.Errorf("quick: %d epochs, lr %g, batch %d, %d samples, seed %d; want 2 (user's), 1e-3, 16, 300, 1",
			e.Trainer.MaxEpochs, e.Model.LearningRate, e.Datamodule.BatchSize, e.Datamodule.NumTrainSamples, e.Seed)
	}
	if got := e.ParamsSlug(); got != "model=ae,model.arch=mnist" {
		t.Errorf("params %q: budget keys must stay out of it", got)
	}
	few, err := experiment.Parse("experiment=fewshot_mnist", "budget=quick", "results_dir="+root, "datamodule.targets=[7]")
	if err != nil {
		t.Fatal(err)
	}
	shots := map[int]bool{}
	for _, e := range few {
		shots[e.Datamodule.NumTrainSamples] = true
	}
	if len(shots) != 4 || !shots[1] || !shots[50] {
		t.Errorf("fewshot_mnist quick: shots %v, want the sweep 1, 5, 10, 50", shots)
	}
	wantFrom := filepath.Join(root, "quick", "baseline_mnist", "model=memae,model.arch=mnist-flat", "seed_1", "target_0")
	if few[0].FromCheckpoint != wantFrom {
		t.Errorf("from_checkpoint %s, want %s", few[0].FromCheckpoint, wantFrom)
	}
	if few[0].Trainer.MaxEpochs != 3 {
		t.Errorf("fewshot quick epochs %d, want 3", few[0].Trainer.MaxEpochs)
	}
}

// TestBudgetFull: budget=full changes nothing.
func TestBudgetFull(t *testing.T) {
	a, err := experiment.Parse("experiment=sweep_cosine", "budget=full")
	if err != nil {
		t.Fatal(err)
	}
	b, err := experiment.Parse("experiment=sweep_cosine")
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) || len(a) != 6 || a[0].RunDir([]int{0}) != b[0].RunDir([]int{0}) || a[0].Trainer.MaxEpochs != 100 {
		t.Errorf("budget=full: %d configurations (%s), without: %d (%s)", len(a), a[0].RunDir([]int{0}), len(b), b[0].RunDir([]int{0}))
	}
}

// TestBudgetErrors: unknown, empty and repeated budgets are refused with the
// valid names.
func TestBudgetErrors(t *testing.T) {
	for _, args := range [][]string{
		{"budget=tiny"}, {"budget="}, {"budget=quick", "budget=cpu"}, {"budget=../x"},
		{"experiment=budget/quick"}, {"budget=quick", "results_dir=choice(/a,/b)"},
	} {
		_, err := experiment.Parse(args...)
		if err == nil {
			t.Errorf("%v: no error", args)
			continue
		}
		if !strings.Contains(err.Error(), "budget") {
			t.Errorf("%v: %v does not name the budget", args, err)
		}
	}
	if _, err := experiment.Parse("budget=tiny"); err == nil || !strings.Contains(err.Error(), "cpu, full, quick") {
		t.Errorf("unknown budget: %v, want the names cpu, full, quick", err)
	}
}

// TestBudgets: every overlay reads, with a description.
func TestBudgets(t *testing.T) {
	bs, err := experiment.Budgets()
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 3 {
		t.Fatalf("%d budgets, want cpu, full, quick", len(bs))
	}
	for _, b := range bs {
		if b.Description == "" {
			t.Errorf("budget %s has no description", b.Name)
		}
	}
}
