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
	writeState(t, run, "init", `{"format":1,"epoch":0}`)
	writeState(t, run, "epoch_0005", `{"format":1,"epoch":5}`)
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
	writeState(t, run, LastCheckpoint, `{"format":1,"epoch":7}`)
	check(LastCheckpoint, 7)
	if cps, _ := ListCheckpoints(run); len(cps) != 2 {
		t.Errorf("ListCheckpoints lists %v; want init and epoch_0005 only", cps)
	}
	if dir, err := ResolveCheckpoint(run); err != nil || filepath.Base(dir) != LastCheckpoint {
		t.Errorf("ResolveCheckpoint(run dir) = %q, %v; want the last checkpoint", dir, err)
	}
	// Same epoch as an epoch checkpoint: either holds the same weights; "last".
	writeState(t, run, LastCheckpoint, `{"format":1,"epoch":5}`)
	check(LastCheckpoint, 5)
	// An older "last" (its rewrite failed) loses to the newer epoch checkpoint.
	writeState(t, run, LastCheckpoint, `{"format":1,"epoch":4}`)
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
