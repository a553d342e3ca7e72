package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/cmemae/cmemae/pkg/results"
)

// LastCheckpoint is the name of the checkpoint rewritten (atomically, like every
// checkpoint) after each finished epoch: PyTorch Lightning's save_last. A run
// interrupted by Ctrl-C or a crash resumes from it, so no finished epoch is
// trained again; the every-N epoch checkpoints (epoch_0005, …) are kept besides it
// for analysis. ListCheckpoints does not list it (its epoch is also an epoch
// checkpoint's, or newer than all of them); LatestCheckpoint does.
const LastCheckpoint = "last"

// SaveLastCheckpoint writes store and state as the run's "last" checkpoint,
// replacing the previous one only once the new one is complete.
func SaveLastCheckpoint(runDir string, store *model.Store, state CheckpointState) error {
	return saveCheckpointAs(runDir, LastCheckpoint, store, state)
}

// LatestCheckpoint returns the newest checkpoint of a run directory: "last" when
// its epoch is at least that of every listed checkpoint (init, epoch_…), else the
// listed one with the highest epoch. ok is false when the run has no checkpoint. A
// "last" checkpoint whose state cannot be read is passed over, so the run falls
// back to its newest epoch checkpoint.
func LatestCheckpoint(runDir string) (latest CheckpointInfo, ok bool, err error) {
	cps, err := ListCheckpoints(runDir)
	if err != nil {
		return CheckpointInfo{}, false, err
	}
	if len(cps) > 0 {
		latest, ok = cps[len(cps)-1], true
	}
	dir := filepath.Join(runDir, results.CheckpointsDir, LastCheckpoint)
	if _, statErr := os.Stat(filepath.Join(dir, StateFile)); errors.Is(statErr, os.ErrNotExist) {
		return latest, ok, nil
	}
	st, stateErr := readState(dir)
	if stateErr != nil {
		return latest, ok, nil
	}
	if !ok || st.Epoch >= latest.Epoch {
		return CheckpointInfo{Name: LastCheckpoint, Dir: dir, Epoch: st.Epoch}, true, nil
	}
	return latest, ok, nil
}

// describe names a checkpoint for messages: "epoch_0005", "last (epoch 7)".
func (c CheckpointInfo) describe() string {
	if c.Name == LastCheckpoint {
		return fmt.Sprintf("%s (epoch %d)", c.Name, c.Epoch)
	}
	return c.Name
}
