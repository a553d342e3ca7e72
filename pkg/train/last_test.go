package train

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cmemae/cmemae/pkg/results"
)

// writeState writes a state.json (only) for checkpoint name of runDir.
func writeState(t *testing.T, runDir, name, content string) {
	t.Helper()
	dir := filepath.Join(runDir, results.CheckpointsDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, StateFile), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLatestCheckpoint(t *testing.T) {
	run := t.TempDir()
	if _, ok, err := LatestCheckpoint(run); ok || err != nil {
		t.Fatalf("empty run: ok %v, err %v", ok, err)
	}
	writeState(t, run, "init", `{"format":1,"epoch":0,"targets":[0],"conditional":"none","model":{"Arch":"mnist-flat","Kind":"memae","MemorySize":10,"ShrinkThreshold":0.0025,"CosineSimilarity":true,"EntropyLoss":"thesis","EntropyLossWeight":0.0002,"NumConditions":1,"SelectionMetric":"sum"}}`)
	writeState(t, run, "epoch_0005", `{"format":1,"epoch":5,"targets":[0],"conditional":"none","model":{"Arch":"mnist-flat","Kind":"memae","MemorySize":10,"ShrinkThreshold":0.0025,"CosineSimilarity":true,"EntropyLoss":"thesis","EntropyLossWeight":0.0002,"NumConditions":1,"SelectionMetric":"sum"}}`)
	check := func(wantName string, wantEpoch int) {
		t.Helper()
		got, ok, err := LatestCheckpoint(run)
		if err != nil || !ok || got.Name != wantName || got.Epoch != wantEpoch ||
			got.Dir != filepath.Join(run, results.CheckpointsDir, wantName) {
			t.Errorf("LatestCheckpoint = %+v, %v, %v; want %s (epoch %d)", got, ok, err, wantName, wantEpoch)
		}
	}
	check("epoch_0005", 5)
	// "last" of epoch 7 (epochs 6 and 7 finished after epoch_0005) wins.
	writeState(t, run, LastCheckpoint, `{"format":1,"epoch":7,"targets":[0],"conditional":"none","model":{"Arch":"mnist-flat","Kind":"memae","MemorySize":10,"ShrinkThreshold":0.0025,"CosineSimilarity":true,"EntropyLoss":"thesis","EntropyLossWeight":0.0002,"NumConditions":1,"SelectionMetric":"sum"}}`)
	check(LastCheckpoint, 7)
	if cps, _ := ListCheckpoints(run); len(cps) != 2 {
		t.Errorf("ListCheckpoints lists %v; want init and epoch_0005 only", cps)
	}
	if dir, err := ResolveCheckpoint(run); err != nil || filepath.Base(dir) != LastCheckpoint {
		t.Errorf("ResolveCheckpoint(run dir) = %q, %v; want the last checkpoint", dir, err)
	}
	// Same epoch as an epoch checkpoint: either holds the same weights; "last".
	writeState(t, run, LastCheckpoint, `{"format":1,"epoch":5,"targets":[0],"conditional":"none","model":{"Arch":"mnist-flat","Kind":"memae","MemorySize":10,"ShrinkThreshold":0.0025,"CosineSimilarity":true,"EntropyLoss":"thesis","EntropyLossWeight":0.0002,"NumConditions":1,"SelectionMetric":"sum"}}`)
	check(LastCheckpoint, 5)
	// An older "last" (its rewrite failed) loses to the newer epoch checkpoint.
	writeState(t, run, LastCheckpoint, `{"format":1,"epoch":4,"targets":[0],"conditional":"none","model":{"Arch":"mnist-flat","Kind":"memae","MemorySize":10,"ShrinkThreshold":0.0025,"CosineSimilarity":true,"EntropyLoss":"thesis","EntropyLossWeight":0.0002,"NumConditions":1,"SelectionMetric":"sum"}}`)
	check("epoch_0005", 5)
	// An unreadable "last" falls back to the newest epoch checkpoint.
	writeState(t, run, LastCheckpoint, `{"format":1,"epo`)
	check("epoch_0005", 5)
	if got := (CheckpointInfo{Name: LastCheckpoint, Epoch: 7}).describe(); got != "last (epoch 7)" {
		t.Errorf("describe = %q", got)
	}
	if got := (CheckpointInfo{Name: "epoch_0005", Epoch: 5}).describe(); got != "epoch_0005" {
		t.Errorf("describe = %q", got)
	}
}

// "last" is written like every checkpoint: a failed rewrite leaves the
// previous one in place and no half-written directory behind.
func TestLastCheckpointAtomic(t *testing.T) {
	dir := t.TempDir()
	res := mustRun(t, runOpts(t, tinyExperiment("memae", 16, 1), []int{0}, dir))
	if latest, ok, err := LatestCheckpoint(dir); err != nil || !ok || latest.Name != LastCheckpoint || latest.Epoch != 1 {
		t.Fatalf("after one epoch: %+v, %v, %v; want last of epoch 1", latest, ok, err)
	}
	state := CheckpointState{Epoch: 2, Seed: 1, Target: []int{0}, Model: res.Model.Config(), Conditional: "none"}
	for _, stage := range []string{"variables-written", "before-rename"} {
		failpoint = func(s string) error {
			if s == stage {
				return errInjected
			}
			return nil
		}
		err := SaveLastCheckpoint(dir, res.Store, state)
		failpoint = nil
		if err == nil {
			t.Fatalf("%s: failing write returned no error", stage)
		}
		if latest, ok, _ := LatestCheckpoint(dir); !ok || latest.Name != LastCheckpoint || latest.Epoch != 1 {
			t.Errorf("%s: latest checkpoint %+v, want last of epoch 1", stage, latest)
		}
		entries, _ := os.ReadDir(filepath.Join(dir, results.CheckpointsDir))
		for _, e := range entries {
			if e.Name()[0] == '.' {
				t.Errorf("%s: leftover %s", stage, e.Name())
			}
		}
	}
	if err := SaveLastCheckpoint(dir, res.Store, state); err != nil {
		t.Fatal(err)
	}
	if latest, ok, _ := LatestCheckpoint(dir); !ok || latest.Epoch != 2 {
		t.Errorf("after a successful rewrite: %+v", latest)
	}
}
