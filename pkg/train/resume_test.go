package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/cmemae/cmemae/pkg/results"
)

// TestResumeAfterCancel cancels a run in the middle of epoch 4 (the newest
// every-N checkpoint is epoch_0002; epoch 3 is finished and its metrics are
// written), restarts it, and checks that it resumes from the "last" checkpoint
// of epoch 3 — re-training no finished epoch —, ends after the same 5 epochs
// without duplicated metrics, and reaches the same weights as an uninterrupted
// run.
func TestResumeAfterCancel(t *testing.T) {
	e := tinyExperiment("memae", 64, 5)
	e.Datamodule.BatchSize = 16
	e.SaveCheckpointsEveryNEpochs = 2

	// Uninterrupted reference run.
	refDir := t.TempDir()
	refOpts := runOpts(t, e, []int{7}, refDir)
	refOpts.MaxTestImages = 100
	ref := mustRun(t, refOpts)

	dir := t.TempDir()
	opts := runOpts(t, e, []int{7}, dir)
	opts.MaxTestImages = 100
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts.OnStep = func(epoch, step int) {
		if epoch == 4 && step == 2 {
			cancel()
		}
	}
	res, err := Run(ctx, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "resumes from checkpoint last (epoch 3)") {
		t.Errorf("interruption error does not name the checkpoint to resume from: %v", err)
	}
	if cps, _ := ListCheckpoints(dir); len(cps) != 2 || cps[1].Name != "epoch_0002" {
		t.Errorf("every-N checkpoints after the interruption: %v, want init and epoch_0002", cps)
	}
	if n := len(res.Epochs); n != 3 {
		t.Errorf("interrupted run finished %d epochs, want 3", n)
	}
	rows, _ := results.ReadCSV(filepath.Join(dir, results.MetricsFile))
	if len(rows) != 3 {
		t.Fatalf("metrics rows after interruption = %d, want 3", len(rows))
	}

	opts.OnStep = nil
	res, err = Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("resumed run: %v", err)
	}
	if res.ResumedFrom != 3 {
		t.Errorf("resumed from epoch %d, want 3 (the last finished epoch)", res.ResumedFrom)
	}
	var epochs []int
	for _, er := range res.Epochs {
		epochs = append(epochs, er.Epoch)
	}
	if !slices.Equal(epochs, []int{4, 5}) {
		t.Errorf("resumed run trained epochs %v, want [4 5]", epochs)
	}
	rows, err = results.ReadCSV(filepath.Join(dir, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var rowEpochs []int
	for _, r := range rows {
		rowEpochs = append(rowEpochs, r.Epoch)
	}
	if !slices.Equal(rowEpochs, []int{1, 2, 3, 4, 5}) {
		t.Errorf("metrics.csv epochs %v, want [1 2 3 4 5]", rowEpochs)
	}
	// Same batches, same optimizer state: same result as the uninterrupted run.
	for i, r := range rows {
		want := ref.Epochs[i]
		if diff := r.AUROC - want.MeanAUROC; diff > 1e-6 || diff < -1e-6 {
			t.Errorf("epoch %d AUROC %.6f, uninterrupted run %.6f", r.Epoch, r.AUROC, want.MeanAUROC)
		}
		if diff := r.TrainLoss - want.TrainLoss; diff > 1e-5 || diff < -1e-5 {
			t.Errorf("epoch %d loss %.6f, uninterrupted run %.6f", r.Epoch, r.TrainLoss, want.TrainLoss)
		}
	}
	got, _ := res.Model.Memories(res.Store)
	wantMem, _ := ref.Model.Memories(ref.Store)
	a, _ := tensors.CopyFlatData[float32](got[0])
	b, _ := tensors.CopyFlatData[float32](wantMem[0])
	for i := range a {
		if d := a[i] - b[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("memory after resume differs from the uninterrupted run at %d: %v vs %v", i, a[i], b[i])
		}
	}

	// A finished run started again does nothing.
	res, err = Run(context.Background(), opts)
	if err != nil || len(res.Epochs) != 0 || res.ResumedFrom != 5 {
		t.Errorf("rerun of a finished run: err %v, %d epochs, resumed from %d", err, len(res.Epochs), res.ResumedFrom)
	}
}

// TestCheckpointAtomic simulates failures while writing checkpoints.
func TestCheckpointAtomic(t *testing.T) {
	e := tinyExperiment("memae", 16, 1)
	dir := t.TempDir()
	res := mustRun(t, runOpts(t, e, []int{0}, dir))
	store, m := res.Store, res.Model
	memBefore, _ := m.Memories(store)
	before, _ := tensors.CopyFlatData[float32](memBefore[0])
	state := CheckpointState{Epoch: 1, Seed: 1, Target: []int{0}, Model: m.Config(), Conditional: "none"}

	// Change the memory, then fail while overwriting epoch_0001.
	changed := make([]float32, len(before))
	for i := range changed {
		changed[i] = 42
	}
	if err := m.SetMemories(store, []*tensors.Tensor{tensors.FromFlatDataAndDimensions(changed, 10, 64)}); err != nil {
		t.Fatal(err)
	}
	for _, stage := range []string{"variables-written", "before-rename"} {
		failpoint = func(s string) error {
			if s == stage {
				return errInjected
			}
			return nil
		}
		err := SaveCheckpoint(dir, store, state)
		failpoint = nil
		if !errors.Is(err, errInjected) {
			t.Fatalf("%s: err = %v, want the injected failure", stage, err)
		}
		cp, err := LoadCheckpoint(filepath.Join(dir, results.CheckpointsDir, "epoch_0001"))
		if err != nil {
			t.Fatalf("%s: previous checkpoint unreadable: %v", stage, err)
		}
		mem, _ := cp.Model.Memories(cp.Store)
		got, _ := tensors.CopyFlatData[float32](mem[0])
		if !slices.Equal(got, before) {
			t.Errorf("%s: previous checkpoint was modified", stage)
		}
		entries, _ := os.ReadDir(filepath.Join(dir, results.CheckpointsDir))
		for _, en := range entries {
			if strings.HasPrefix(en.Name(), ".") {
				t.Errorf("%s: leftover %s", stage, en.Name())
			}
		}
	}
	// A new checkpoint whose write fails does not appear.
	failpoint = func(s string) error { return errInjected }
	state.Epoch = 2
	err := SaveCheckpoint(dir, store, state)
	failpoint = nil
	if err == nil {
		t.Fatal("failing write returned no error")
	}
	cps, _ := ListCheckpoints(dir)
	if last := cps[len(cps)-1]; last.Epoch != 1 {
		t.Errorf("latest checkpoint after a failed write is %s", last.Name)
	}
	// A crash leaves a temporary directory: it is ignored and cleaned up.
	crash := filepath.Join(dir, results.CheckpointsDir, ".tmp-epoch_0002-123")
	if err := os.MkdirAll(crash, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(crash, VariablesFile), []byte("half"), 0o644)
	if cps, _ := ListCheckpoints(dir); cps[len(cps)-1].Epoch != 1 {
		t.Errorf("half-written checkpoint listed")
	}
	cleanCheckpointLeftovers(dir)
	if _, err := os.Stat(crash); !os.IsNotExist(err) {
		t.Errorf("temporary directory not cleaned: %v", err)
	}
	// A crash between the two renames of an overwrite leaves the previous
	// checkpoint under .old-…: it is put back.
	cpDir := filepath.Join(dir, results.CheckpointsDir, "epoch_0001")
	oldDir := filepath.Join(dir, results.CheckpointsDir, ".old-epoch_0001-99")
	if err := os.Rename(cpDir, oldDir); err != nil {
		t.Fatal(err)
	}
	cleanCheckpointLeftovers(dir)
	if cps, _ := ListCheckpoints(dir); cps[len(cps)-1].Name != "epoch_0001" {
		t.Errorf("checkpoint not restored from %s: %v", oldDir, cps)
	}
	// A successful overwrite replaces the checkpoint.
	state.Epoch = 1
	if err := SaveCheckpoint(dir, store, state); err != nil {
		t.Fatal(err)
	}
	cp, err := LoadCheckpoint(filepath.Join(dir, results.CheckpointsDir, "epoch_0001"))
	if err != nil {
		t.Fatal(err)
	}
	mem, _ := cp.Model.Memories(cp.Store)
	got, _ := tensors.CopyFlatData[float32](mem[0])
	if !slices.Equal(got, changed) {
		t.Errorf("overwritten checkpoint does not hold the new memory")
	}
}
