package train

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// ExportWeights writes the checkpoint at src (a checkpoint directory, or a
// run directory for its latest checkpoint) into the run directory dstRun,
// under the name of its epoch (init, epoch_0005), with the model's variables
// only: the optimiser's state (Adam's moments, step counters, learning rate)
// is left out, which makes it about a third of the size. An exported
// checkpoint serves analyses (LoadCheckpoint) and transfers
// (from_checkpoint); it cannot resume a run's training.
func ExportWeights(src, dstRun string) error {
	ck, err := LoadCheckpoint(src)
	if err != nil {
		return err
	}
	slim := model.NewStore()
	for v := range ck.Store.IterVariables() {
		if optimizerVariable(v.Path()) {
			continue
		}
		value, err := v.Value()
		if err != nil {
			return fmt.Errorf("train: exporting %s: variable %s: %w", ck.Dir, v.Path(), err)
		}
		if err := setVariable(slim, v.Path(), value, v.Trainable); err != nil {
			return fmt.Errorf("train: exporting %s: %w", ck.Dir, err)
		}
	}
	if err := saveCheckpointAs(dstRun, CheckpointName(ck.State.Epoch), slim, ck.State); err != nil {
		return fmt.Errorf("train: exporting %s to %s: %w", ck.Dir, filepath.Clean(dstRun), err)
	}
	return nil
}

// optimizerVariable reports whether a variable path belongs to the
// optimiser (GoMLX's optimizer scope, Adam's scope, the global step).
func optimizerVariable(path string) bool {
	for _, scope := range []string{optimizer.Scope, optimizer.AdamDefaultScope} {
		if strings.HasPrefix(path, "/"+scope+"/") {
			return true
		}
	}
	return path == "/"+optimizer.GlobalStepVariableName
}
