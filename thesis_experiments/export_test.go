package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/results"
	"github.com/cmemae/cmemae/pkg/train"
)

// export copies finished runs (config, metrics and, with -checkpoints, the
// weights of every epoch checkpoint), lists and skips unfinished ones, and
// refuses a destination inside the source.
func TestExport(t *testing.T) {
	src := t.TempDir()
	if _, err := runCmd(t, context.Background(), "results_dir="+src, "model=memae", "datamodule.targets=[3]",
		"datamodule.num_train_samples=32", "trainer.max_epochs=2", "save_checkpoints_every_n_epochs=1"); err != nil {
		t.Fatal(err)
	}
	finished, err := filepath.Glob(filepath.Join(src, "*", "*", "seed_1", "target_3"))
	if err != nil || len(finished) != 1 {
		t.Fatalf("trained run: %v %v", finished, err)
	}
	stopped := results.RunDir(src, "other", "default", 1, []int{0})
	if err := results.AppendCSV(filepath.Join(stopped, results.MetricsFile), []results.Row{{Experiment: "other", Params: "default",
		Seed: 1, Target: "0", Condition: 0, Epoch: 1, AUROC: 0.5, SelectionAccuracy: math.NaN()}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stopped, results.ConfigFile), []byte("trainer:\n  max_epochs: 100\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	dst := filepath.Join(t.TempDir(), "shipped")
	out, err := runCmd(t, context.Background(), "export", "-checkpoints", src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "exported 1 runs (3 checkpoints)") || !strings.Contains(out, "skipped 1 unfinished runs:\n  epoch 1 of 100  "+stopped) {
		t.Errorf("export output:\n%s", out)
	}
	rel, _ := filepath.Rel(src, finished[0])
	copied := filepath.Join(dst, rel)
	for _, name := range []string{results.ConfigFile, results.MetricsFile} {
		a, _ := os.ReadFile(filepath.Join(finished[0], name))
		b, err := os.ReadFile(filepath.Join(copied, name))
		if err != nil || len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: copied %d bytes (%v), source %d", name, len(b), err, len(a))
		}
	}
	cps, err := train.ListCheckpoints(copied)
	if err != nil || len(cps) != 3 || cps[0].Name != "init" || cps[2].Name != "epoch_0002" {
		t.Fatalf("exported checkpoints %+v, %v; want init, epoch_0001, epoch_0002", cps, err)
	}
	if _, err := train.LoadCheckpoint(copied); err != nil {
		t.Errorf("exported run does not load: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dst, "other")); !os.IsNotExist(err) {
		t.Errorf("the unfinished run was exported (%v)", err)
	}

	// -checkpoints=last exports the last epoch's weights only.
	last := filepath.Join(t.TempDir(), "last")
	if out, err := runCmd(t, context.Background(), "export", "-checkpoints=last", src, last); err != nil || !strings.Contains(out, "exported 1 runs (1 checkpoints)") {
		t.Errorf("export -checkpoints=last: %v\n%s", err, out)
	}
	if cps, err := train.ListCheckpoints(filepath.Join(last, rel)); err != nil || len(cps) != 1 || cps[0].Name != "epoch_0002" {
		t.Errorf("export -checkpoints=last exported %+v, %v; want epoch_0002 alone", cps, err)
	}

	// A list of epochs exports those; the memory change between all the
	// source's checkpoints goes along, the same as computed from them.
	// Exporting all checkpoints writes none.
	if _, err := os.Stat(filepath.Join(copied, train.MemoryChangeFile)); !os.IsNotExist(err) {
		t.Errorf("export -checkpoints (all) wrote %s (%v)", train.MemoryChangeFile, err)
	}
	some := filepath.Join(t.TempDir(), "some")
	out, err = runCmd(t, context.Background(), "export", "-checkpoints=0,last", src, some)
	if err != nil || !strings.Contains(out, "exported 1 runs (2 checkpoints)") || !strings.Contains(out, "1 runs keep the memory change between all their checkpoints in memory_change.csv") {
		t.Errorf("export -checkpoints=0,last: %v\n%s", err, out)
	}
	if cps, err := train.ListCheckpoints(filepath.Join(some, rel)); err != nil || len(cps) != 2 || cps[0].Name != "init" || cps[1].Name != "epoch_0002" {
		t.Errorf("export -checkpoints=0,last exported %+v, %v; want init and epoch_0002", cps, err)
	}
	wantEpochs, wantChanges, err := train.MemoryChanges(finished[0])
	if err != nil {
		t.Fatal(err)
	}
	gotEpochs, gotChanges, err := train.MemoryChanges(filepath.Join(some, rel))
	if err != nil || !slices.Equal(gotEpochs, wantEpochs) || !slices.EqualFunc(gotChanges, wantChanges, slices.Equal) || len(gotChanges) != 2 {
		t.Errorf("exported memory change %v %v (%v), want the source's %v %v", gotEpochs, gotChanges, err, wantEpochs, wantChanges)
	}
	// Exporting all of them over that export drops its memory_change.csv.
	if _, err := runCmd(t, context.Background(), "export", "-checkpoints", src, some); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(some, rel, train.MemoryChangeFile)); !os.IsNotExist(err) {
		t.Errorf("export -checkpoints over an export with %s left it (%v)", train.MemoryChangeFile, err)
	}
	// An epoch the run lacks stops the export before anything is written.
	none := filepath.Join(t.TempDir(), "none")
	if _, err := runCmd(t, context.Background(), "export", "-checkpoints=0,7", src, none); err == nil ||
		!strings.Contains(err.Error(), finished[0]+": no checkpoint of epoch 7 (it has init, epoch_0001, epoch_0002)") {
		t.Errorf("export -checkpoints=0,7: %v", err)
	}
	if _, err := os.Stat(none); !os.IsNotExist(err) {
		t.Errorf("the refused export wrote %s (%v)", none, err)
	}
	// So does a damaged checkpoint that the memory change needs, though it
	// is not exported itself.
	damaged := filepath.Join(finished[0], results.CheckpointsDir, "epoch_0001", train.VariablesFile)
	if err := os.WriteFile(damaged, []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, context.Background(), "export", "-checkpoints=0,last", src, none); err == nil || !strings.Contains(err.Error(), "epoch_0001") {
		t.Errorf("export -checkpoints=0,last with a damaged epoch_0001: %v", err)
	}
	if _, err := os.Stat(none); !os.IsNotExist(err) {
		t.Errorf("the export that failed on a damaged checkpoint wrote %s (%v)", none, err)
	}

	// A finished run without checkpoints is exported and named.
	if err := os.RemoveAll(filepath.Join(finished[0], results.CheckpointsDir)); err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(t.TempDir(), "bare")
	if out, err := runCmd(t, context.Background(), "export", "-checkpoints", src, bare); err != nil ||
		!strings.Contains(out, "exported 1 runs (0 checkpoints)") || !strings.Contains(out, "1 runs have no checkpoint to export (their config.yaml and metrics.csv were):\n  "+finished[0]) {
		t.Errorf("export -checkpoints of a run without checkpoints: %v\n%s", err, out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{src, filepath.Join(src, "inside")}, "lies inside the results directory"},
		{[]string{src}, "a results directory and a destination expected"},
		{[]string{filepath.Join(src, "missing"), dst}, "missing"},
		{[]string{"-checkpoints=every", src, dst}, `-checkpoints=every: "every" is not an epoch; give -checkpoints`},
		{[]string{"-checkpoints=0,-1", src, dst}, `"-1" is not an epoch`},
	} {
		_, err := runCmd(t, context.Background(), append([]string{"export"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("export %q: %v, want an error containing %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(src, "inside")); !os.IsNotExist(err) {
		t.Error(fmt.Errorf("export into the source wrote %s", filepath.Join(src, "inside")))
	}
}
