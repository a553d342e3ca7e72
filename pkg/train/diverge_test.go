package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cmemae/cmemae/pkg/results"
)

// A run whose weights diverge fails with an error saying so, and keeps
// nothing of the diverged epoch: no metrics row, no checkpoint after init.
func TestDivergedWeights(t *testing.T) {
	dir := t.TempDir()
	e := tinyExperiment("memae", 32, 2) // one step per epoch
	e.Model.LearningRate = 1e30
	opts := runOpts(t, e, []int{3}, dir)
	_, err := Run(context.Background(), opts)
	if err == nil {
		t.Fatal("a learning rate of 1e30 trained without an error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "non-finite in epoch 1") || !strings.Contains(msg, "learning rate 1e+30 too high?") {
		t.Errorf("error %q: want the epoch whose update diverged and the learning rate", msg)
	}
	rows, err := results.ReadCSV(filepath.Join(dir, results.MetricsFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Epoch > 0 {
			t.Errorf("metrics row of epoch %d written for a diverged epoch", r.Epoch)
		}
	}
	cps, err := ListCheckpoints(dir)
	if err != nil || len(cps) != 1 || cps[0].Name != InitCheckpoint {
		t.Errorf("checkpoints %+v (%v), want init only", cps, err)
	}
	if latest, ok, _ := LatestCheckpoint(dir); !ok || latest.Epoch != 0 {
		t.Errorf("latest checkpoint %+v, want init (the run resumes from before the divergence)", latest)
	}
}
