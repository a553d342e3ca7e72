package experiment_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/config"
	"github.com/cmemae/cmemae/pkg/experiment"
	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

// tiny are the overrides that make the twin tests' runs train in seconds.
var tiny = []string{"seed=1", "datamodule.targets=[1]", "datamodule.num_train_samples=64", "trainer.max_epochs=2"}

// planTiny plans a tiny experiment's runs under root.
func planTiny(t *testing.T, root string, args ...string) []experiment.Run {
	t.Helper()
	exps, err := experiment.Parse(append(append(args, tiny...), "results_dir="+root)...)
	if err != nil {
		t.Fatal(err)
	}
	return experiment.Plan(exps)
}

// runAll runs RunAll and counts the runs it trained and copied.
func runAll(t *testing.T, d *experiment.Driver, runs []experiment.Run) (trained, copied []string) {
	t.Helper()
	if _, err := d.RunAll(context.Background(), runs, func(_ int, run experiment.Run, res *train.RunResult) {
		switch {
		case res != nil && res.CopiedFrom != "":
			copied = append(copied, run.Experiment.ParamsSlug())
		case res != nil:
			trained = append(trained, run.Experiment.ParamsSlug())
		}
	}); err != nil {
		t.Fatal(err)
	}
	return trained, copied
}

// metricsOf reads a run's metrics with the experiment name and params
// cleared, the columns a copy rewrites.
func metricsOf(t *testing.T, dir string) []results.Row {
	t.Helper()
	rows, err := results.ReadCSV(filepath.Join(dir, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		rows[i].Experiment, rows[i].Params = "", ""
	}
	return rows
}

// TestDriverCopiesTwin: sweep_cosine's cosine_similarity=true run is the
// baseline's MemAE run (the same configuration under another name). Once
// the baseline's has finished, the sweep's is copied, not trained, and the
// copy holds what training it gives: the same metrics in every column, and
// the same checkpoints. Runs evaluated on other test images, runs of other
// configurations and runs that have started are not copied.
func TestDriverCopiesTwin(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "go")
	root := t.TempDir()
	ctx := context.Background()
	base := planTiny(t, root, "model=memae", "datamodule=mnist")
	if trained, _ := runAll(t, &experiment.Driver{MaxTestImages: 50}, base); len(trained) != 1 {
		t.Fatalf("baseline: trained %v, want its one run", trained)
	}

	sweep := planTiny(t, root, "experiment=sweep_cosine", "model.cosine_similarity=true,false")
	twins, err := experiment.FindTwins(root)
	if err != nil {
		t.Fatal(err)
	}
	if src, ok := twins.Of(sweep[0], 0); ok {
		t.Errorf("a twin evaluated on 50 test images was offered for whole test sets: %s", src)
	}
	if src, ok := twins.Of(sweep[1], 50); ok {
		t.Errorf("the dot-product run has no twin, but Of offered %s", src)
	}
	d := &experiment.Driver{MaxTestImages: 50, Twins: twins}
	var epochs []string
	d.OnEpoch = func(r experiment.Run, _ train.EpochResult) { epochs = append(epochs, r.Experiment.ParamsSlug()) }
	trained, copied := runAll(t, d, sweep)
	want := sweep[1].Experiment.ParamsSlug()
	if !slices.Equal(trained, []string{want}) || !slices.Equal(copied, []string{sweep[0].Experiment.ParamsSlug()}) {
		t.Fatalf("trained %v and copied %v; want the dot-product run trained and the cosine one copied", trained, copied)
	}
	for _, p := range epochs {
		if p != want {
			t.Errorf("an epoch of %s was evaluated: a copied run trains nothing", p)
		}
	}

	// The copy: its own names, the twin's numbers and checkpoints.
	got := sweep[0]
	rows, err := results.ReadCSV(filepath.Join(got.Dir, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Experiment != "sweep_cosine" || r.Params != got.Experiment.ParamsSlug() {
			t.Fatalf("copied metrics.csv row names %s/%s, want sweep_cosine/%s", r.Experiment, r.Params, got.Experiment.ParamsSlug())
		}
	}
	if a, b := metricsOf(t, got.Dir), metricsOf(t, base[0].Dir); fmt.Sprint(a) != fmt.Sprint(b) || len(a) != 2 {
		t.Errorf("copied metrics differ from the twin's:\n%v\n%v", a, b)
	}
	e, err := config.ReadExperiment(filepath.Join(got.Dir, results.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(got.Dir, results.ConfigFile))
	if e.Name != "sweep_cosine" || train.ConfigMaxTestImages(raw) != 50 || !strings.Contains(string(raw), "# effective model: kind=memae") {
		t.Errorf("copied config.yaml: name %q, max_test_images %d, want sweep_cosine and 50:\n%s", e.Name, train.ConfigMaxTestImages(raw), raw)
	}
	var files []string
	twinCkpts := filepath.Join(base[0].Dir, results.CheckpointsDir)
	if err := filepath.WalkDir(twinCkpts, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(twinCkpts, path)
		files = append(files, rel)
		a, errA := os.ReadFile(filepath.Join(got.Dir, results.CheckpointsDir, rel))
		b, errB := os.ReadFile(path)
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("checkpoints/%s differs from the twin's (%v, %v)", rel, errA, errB)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(files) != 3*2 { // init, epoch_0002 and last: variables.bin and state.json each
		t.Errorf("the twin's checkpoints hold %v, want 6 files", files)
	}

	// What the copy stands for: training the run gives the same metrics.
	fresh := planTiny(t, t.TempDir(), "experiment=sweep_cosine", "model.cosine_similarity=true")
	if trained, _ := runAll(t, &experiment.Driver{MaxTestImages: 50}, fresh); len(trained) != 1 {
		t.Fatalf("fresh: trained %v", trained)
	}
	if a, b := metricsOf(t, fresh[0].Dir), metricsOf(t, got.Dir); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("training the run gives\n%v\nbut its copy holds\n%v", a, b)
	}

	// An interrupted copy (staging left, metrics.csv not yet moved) is
	// finished by the next command; a started run resumes instead.
	if err := os.Remove(filepath.Join(got.Dir, results.MetricsFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(got.Dir, ".copying"), 0o755); err != nil {
		t.Fatal(err)
	}
	twins, _ = experiment.FindTwins(root)
	d = &experiment.Driver{MaxTestImages: 50, Twins: twins}
	if trained, copied := runAll(t, d, sweep[:1]); len(trained) != 0 || len(copied) != 1 || !got.Complete() {
		t.Errorf("after an interrupted copy: trained %v, copied %v, complete %v; want it copied again", trained, copied, got.Complete())
	}
	if _, err := os.Stat(filepath.Join(got.Dir, ".copying")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the staging directory is left: %v", err)
	}
	// Interrupted again, and then trained instead (no twins): the copy's
	// leftovers go, and the run trains from scratch to the same numbers.
	if err := os.Remove(filepath.Join(got.Dir, results.MetricsFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(got.Dir, ".copying"), 0o755); err != nil {
		t.Fatal(err)
	}
	d = &experiment.Driver{MaxTestImages: 50}
	epochs = nil
	d.OnEpoch = func(r experiment.Run, _ train.EpochResult) { epochs = append(epochs, r.Experiment.ParamsSlug()) }
	if trained, _ := runAll(t, d, sweep[:1]); len(trained) != 1 || len(epochs) != 2 {
		t.Errorf("training over an interrupted copy: trained %v, %d epochs; want it trained from scratch (2 epochs)", trained, len(epochs))
	}
	if a, b := metricsOf(t, got.Dir), metricsOf(t, base[0].Dir); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("trained over an interrupted copy:\n%v\nthe twin:\n%v", a, b)
	}
	// A twin that cannot be copied (here a symbolic link among its
	// checkpoint files) leaves nothing behind, and the run trains instead.
	if err := os.RemoveAll(got.Dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("variables.bin", filepath.Join(base[0].Dir, results.CheckpointsDir, "init", "link")); err != nil {
		t.Fatal(err)
	}
	var msgs strings.Builder
	twins, _ = experiment.FindTwins(root)
	d = &experiment.Driver{MaxTestImages: 50, Twins: twins, Messages: &msgs}
	if trained, copied := runAll(t, d, sweep[:1]); len(trained) != 1 || len(copied) != 0 || !got.Complete() {
		t.Errorf("a twin that cannot be copied: trained %v, copied %v, complete %v; want it trained", trained, copied, got.Complete())
	}
	if !strings.Contains(msgs.String(), "not copied from its finished twin, trained instead: ") || !strings.Contains(msgs.String(), "is not a regular file") {
		t.Errorf("messages %q do not say why the twin was not copied", msgs.String())
	}
	if _, err := os.Stat(filepath.Join(got.Dir, ".copying")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed copy left its staging directory: %v", err)
	}
	_, err = train.CopyRun(ctx, base[0].Dir, train.Options{Experiment: got.Experiment, Targets: got.Targets, Dir: got.Dir})
	if !errors.Is(err, train.ErrNotFresh) {
		t.Errorf("CopyRun onto a run with metrics: %v, want ErrNotFresh", err)
	}
}
