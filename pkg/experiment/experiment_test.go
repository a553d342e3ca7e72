package experiment_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/experiment"
	"github.com/cmemae/cmemae/pkg/results"
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

	// Run 1 stopped after its last epoch's metrics, before that epoch's
	// checkpoints (its newest is init): it trains again. Run 2 without any
	// checkpoint (exported, or deleted to save space): complete by its metrics.
	for _, name := range []string{train.LastCheckpoint, "epoch_0002"} {
		if err := os.RemoveAll(filepath.Join(runs[0].Dir, results.CheckpointsDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if cp, ok, err := train.LatestCheckpoint(runs[0].Dir); err != nil || !ok || cp.Epoch != 0 {
		t.Fatalf("run 1's newest checkpoint after removing epoch 2's: %+v %v %v", cp, ok, err)
	}
	if err := os.RemoveAll(filepath.Join(runs[1].Dir, results.CheckpointsDir)); err != nil {
		t.Fatal(err)
	}
	if runs[0].Complete() || !runs[1].Complete() {
		t.Errorf("Complete: run 1 (last epoch not checkpointed) %v, want false; run 2 (no checkpoints) %v, want true", runs[0].Complete(), runs[1].Complete())
	}
	trained, epochs = 0, 0
	if _, err := d.RunAll(context.Background(), runs, func(_ int, _ experiment.Run, res *train.RunResult) {
		if res != nil {
			trained++
		}
	}); err != nil {
		t.Fatal(err)
	}
	if trained != 1 || epochs != 2 || !runs[0].Complete() {
		t.Errorf("third RunAll trained %d runs (%d epochs), run 1 complete %v; want 1 run, 2 epochs, true", trained, epochs, runs[0].Complete())
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

// TestGroups: conditional known and unknown runs of the same model, seed and
// digit pair train alike and form a group; nothing else does.
func TestGroups(t *testing.T) {
	exps, err := experiment.Parse("experiment=conditional_mnist")
	if err != nil {
		t.Fatal(err)
	}
	runs := experiment.Plan(exps)
	groups := experiment.Groups(runs)
	if len(runs) != 3*2*3*3 || len(groups) != len(runs)/2 {
		t.Fatalf("conditional_mnist: %d runs in %d groups, want 54 in 27", len(runs), len(groups))
	}
	seen := map[int]bool{}
	for _, g := range groups {
		if len(g) != 2 {
			t.Fatalf("group %v, want a known and an unknown run", g)
		}
		a, b := runs[g[0]], runs[g[1]]
		if a.Experiment.Conditional != "known" || b.Experiment.Conditional != "unknown" || g[0] >= g[1] ||
			a.Experiment.Model.Name != b.Experiment.Model.Name || a.Experiment.Seed != b.Experiment.Seed ||
			fmt.Sprint(a.Targets) != fmt.Sprint(b.Targets) {
			t.Errorf("group %v: %s %v and %s %v", g, a.Experiment, a.Targets, b.Experiment, b.Targets)
		}
		seen[g[0]], seen[g[1]] = true, true
	}
	if len(seen) != len(runs) {
		t.Errorf("the groups hold %d of %d runs", len(seen), len(runs))
	}
	exps, err = experiment.Parse("experiment=baseline_mnist")
	if err != nil {
		t.Fatal(err)
	}
	if runs, groups := experiment.Plan(exps), experiment.Groups(experiment.Plan(exps)); len(groups) != len(runs) {
		t.Errorf("baseline_mnist: %d runs in %d groups, want a group per run", len(runs), len(groups))
	}
}

// TestSelectionConditional: selection_conditional_mnist is conditional_mnist
// (the same run directories, so the two share results) plus C-MemAE's
// self-selection by max and recon, which train along with C-MemAE's known
// run: 72 runs in 27 trainings, C-MemAE's four runs of a pair and seed in one.
func TestSelectionConditional(t *testing.T) {
	plan := func(name string) []experiment.Run {
		t.Helper()
		exps, err := experiment.Parse("experiment="+name, "results_dir=/r")
		if err != nil {
			t.Fatal(err)
		}
		return experiment.Plan(exps)
	}
	thesis, all := plan("conditional_mnist"), plan("selection_conditional_mnist")
	dirs := map[string]string{}
	for _, r := range all {
		dirs[r.Dir] = r.Experiment.ParamsSlug()
	}
	if len(all) != 72 || len(dirs) != 72 {
		t.Fatalf("%d runs in %d directories, want 72 (conditional_mnist's 54 and 2 metrics × 3 pairs × 3 seeds)", len(all), len(dirs))
	}
	for _, r := range thesis {
		if _, ok := dirs[r.Dir]; !ok {
			t.Errorf("conditional_mnist's run %s is not in selection_conditional_mnist", r.Dir)
		}
		delete(dirs, r.Dir)
	}
	extra := map[string]int{}
	for dir, params := range dirs {
		if !strings.HasPrefix(dir, "/r/conditional_mnist/") {
			t.Errorf("extra run %s outside conditional_mnist's directory", dir)
		}
		extra[params]++
	}
	if want := map[string]int{
		"model=memae,model.selection_metric=max,conditional=unknown":   9,
		"model=memae,model.selection_metric=recon,conditional=unknown": 9,
	}; fmt.Sprint(extra) != fmt.Sprint(want) {
		t.Errorf("extra runs %v, want %v", extra, want)
	}
	// A command-line value narrows the list to the sweep blocks that offer it.
	for _, c := range []struct {
		arg  string
		runs int
	}{
		{"model=cond-ae", 2 * 3 * 3}, // known, unknown × pairs × seeds
		{"conditional=known", 3 * 3 * 3},
		{"model=memae", 4 * 3 * 3},
		{"model.selection_metric=recon", 3 * 3},
		{"conditional=unknown", (3 + 2) * 3 * 3},
	} {
		exps, err := experiment.Parse("experiment=selection_conditional_mnist", c.arg, "results_dir=/r")
		if err != nil {
			t.Errorf("%s: %v", c.arg, err)
		} else if n := len(experiment.Plan(exps)); n != c.runs {
			t.Errorf("%s: %d runs, want %d", c.arg, n, c.runs)
		}
	}
	groups := experiment.Groups(all)
	if len(groups) != 27 {
		t.Errorf("%d trainings, want 27", len(groups))
	}
	for _, g := range groups {
		want := map[string]int{"memae": 4, "cond-ae": 2, "multi-ae": 2}[all[g[0]].Experiment.Model.Name]
		if len(g) != want {
			t.Errorf("%s %v: %d runs share the training, want %d", all[g[0]].Experiment.Model.Name, all[g[0]].Targets, len(g), want)
		}
	}
}

// TestDriverRunAllSharesTraining: RunAll trains a known and an unknown run
// once, together: their epochs alternate, and both are complete.
func TestDriverRunAllSharesTraining(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	exps, err := experiment.Parse("experiment=conditional_mnist", "model=memae", "seed=1", "datamodule.targets=[[0,1]]",
		"datamodule.num_train_samples=64", "trainer.max_epochs=2", "results_dir="+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	runs := experiment.Plan(exps)
	if len(runs) != 2 || len(experiment.Groups(runs)) != 1 {
		t.Fatalf("plan: %d runs in %d groups, want 2 in 1", len(runs), len(experiment.Groups(runs)))
	}
	d := &experiment.Driver{MaxTestImages: 50}
	var order []string
	d.OnEpoch = func(r experiment.Run, er train.EpochResult) {
		order = append(order, fmt.Sprintf("%s%d", r.Experiment.Conditional, er.Epoch))
	}
	var results []*train.RunResult
	tab, err := d.RunAll(context.Background(), runs, func(_ int, _ experiment.Run, res *train.RunResult) {
		results = append(results, res)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(order, " "), "known1 unknown1 known2 unknown2"; got != want {
		t.Errorf("epochs in the order %q, want %q (one training for both)", got, want)
	}
	if len(results) != 2 || results[0] == nil || results[1] == nil || results[0].Siblings[0] != results[1] {
		t.Errorf("after got %v, want the run's result and its sibling's", results)
	}
	if tab.Len() != 2*2*2 {
		t.Errorf("%d rows, want 2 runs × 2 epochs × 2 conditions", tab.Len())
	}
	for _, r := range runs {
		if !r.Complete() {
			t.Errorf("%s not complete", r.Dir)
		}
	}
}

// ExampleGroups finds the runs that share a training: C-MemAE's known and
// unknown runs of each class pair.
func ExampleGroups() {
	exps, err := experiment.Parse("experiment=conditional_mnist", "model=memae", "seed=1", "results_dir=results")
	if err != nil {
		fmt.Println(err)
		return
	}
	runs := experiment.Plan(exps)
	for _, g := range experiment.Groups(runs) {
		var members []string
		for _, i := range g {
			members = append(members, fmt.Sprintf("%s %v", runs[i].Experiment.Conditional, runs[i].Targets))
		}
		fmt.Println(strings.Join(members, ", "))
	}
	// Output:
	// known [0 1], unknown [0 1]
	// known [1 7], unknown [1 7]
	// known [4 5], unknown [4 5]
}
