package experiment_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/experiment"
	"github.com/cmemae/cmemae/pkg/train"
)

// TestCatalogue: every experiment of the catalogue parses, and the thesis's
// grids have the sizes its README states.
func TestCatalogue(t *testing.T) {
	names, err := experiment.NewParser().ExperimentNames()
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 10 {
		t.Fatalf("catalogue has %d experiments: %v", len(names), names)
	}
	for _, n := range names {
		exps, err := experiment.Parse("experiment="+n, "results_dir="+t.TempDir())
		if err != nil {
			t.Errorf("experiment=%s: %v", n, err)
			continue
		}
		if len(experiment.Plan(exps)) == 0 {
			t.Errorf("experiment=%s plans no run", n)
		}
	}
	// baseline_mnist: AE/MemAE × spatial/flat × 3 seeds × 10 digits.
	exps, err := experiment.Parse("experiment=baseline_mnist")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(experiment.Plan(exps)); got != 2*2*3*10 {
		t.Errorf("baseline_mnist plans %d runs, want 120", got)
	}
}

// TestDriverRunAll: the first RunAll trains, the second only reads the
// complete runs; both return the same metrics.
func TestDriverRunAll(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	root := t.TempDir()
	exps, err := experiment.Parse("model=memae", "datamodule=mnist", "datamodule.targets=[1,7]",
		"datamodule.num_train_samples=64", "trainer.max_epochs=2", "results_dir="+root)
	if err != nil {
		t.Fatal(err)
	}
	runs := experiment.Plan(exps)
	if len(runs) != 2 || runs[1].Dir != filepath.Join(root, "memae_mnist", "datamodule.num_train_samples=64", "seed_1", "target_7") {
		t.Fatalf("plan: %+v", runs)
	}
	d := &experiment.Driver{MaxTestImages: 50}
	var epochs, trained int
	d.OnEpoch = func(experiment.Run, train.EpochResult) { epochs++ }
	first, err := d.RunAll(context.Background(), runs, func(_ int, _ experiment.Run, res *train.RunResult) {
		if res != nil {
			trained++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if trained != 2 || epochs != 4 || first.Len() != 4 {
		t.Errorf("first RunAll: %d runs trained, %d epochs, %d rows; want 2, 4, 4", trained, epochs, first.Len())
	}
	for _, r := range runs {
		if !r.Complete() {
			t.Errorf("%s not complete after RunAll", r.Dir)
		}
	}
	trained, epochs = 0, 0
	second, err := d.RunAll(context.Background(), runs, func(_ int, _ experiment.Run, res *train.RunResult) {
		if res != nil {
			trained++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if trained != 0 || epochs != 0 || fmt.Sprint(second.Rows) != fmt.Sprint(first.Rows) {
		t.Errorf("second RunAll trained %d runs (%d epochs); rows equal: %v", trained, epochs, fmt.Sprint(second.Rows) == fmt.Sprint(first.Rows))
	}
}

// TestDriverRefusesDuplicateRuns: a value given twice in a sweep plans the
// same run twice; RunAll refuses the plan before anything trains.
func TestDriverRefusesDuplicateRuns(t *testing.T) {
	root := t.TempDir()
	exps, err := experiment.Parse("experiment=smoke", "seed=3,3", "results_dir="+root)
	if err != nil {
		t.Fatal(err)
	}
	runs := experiment.Plan(exps)
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2", len(runs))
	}
	want := "runs 1 and 2 are the same run (" + runs[0].Dir + ")"
	if err := experiment.CheckDistinct(runs); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("CheckDistinct: %v; want %q", err, want)
	}
	if err := experiment.CheckDistinct(runs[:1]); err != nil {
		t.Errorf("CheckDistinct of one run: %v", err)
	}
	d := &experiment.Driver{}
	d.OnEpoch = func(experiment.Run, train.EpochResult) { t.Error("RunAll trained a duplicated plan") }
	if _, err := d.RunAll(context.Background(), runs, nil); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("RunAll: %v; want %q", err, want)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 {
		t.Errorf("RunAll of a duplicated plan wrote %d entries", len(ents))
	}
}

// ExamplePlan lists the runs of a command line, as `thesis_experiments -n` does.
func ExamplePlan() {
	exps, err := experiment.Parse("model=ae,memae", "datamodule=mnist", "datamodule.targets=[0,1]", "results_dir=results")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range experiment.Plan(exps) {
		fmt.Println(r.Experiment.Model.Name, r.Targets, filepath.ToSlash(r.Dir))
	}
	// Output:
	// ae [0] results/ae_mnist/default/seed_1/target_0
	// ae [1] results/ae_mnist/default/seed_1/target_1
	// memae [0] results/memae_mnist/default/seed_1/target_0
	// memae [1] results/memae_mnist/default/seed_1/target_1
}
